package ws

import (
	"encoding/json"
	"strconv"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Encoding slots of events.Entry, one per wire format.
const (
	slotLegacy = 0
	slotStream = 1
)

// legacyEnvelope is the v1 socket message (SPEC §3): type and event are the same name (the UI reads
// event), seq is the durable position clients resume from.
type legacyEnvelope struct {
	Type      string          `json:"type"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Timestamp int64           `json:"timestamp"`
	Seq       int64           `json:"seq"`
}

// streamEnvelope is the v2 stream message (DESIGN §5), with the request ID of the write that caused the
// event when there was one.
type streamEnvelope struct {
	Seq       int64           `json:"seq"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	Timestamp int64           `json:"timestamp"`
	RequestID string          `json:"requestId,omitempty"`
}

func encodeLegacy(ev *maestro.Event) []byte {
	return mustJSON(legacyEnvelope{Type: ev.Type, Event: ev.Type, Data: payload(ev), Timestamp: ev.Timestamp, Seq: ev.Seq})
}

func encodeStream(ev *maestro.Event) []byte {
	return mustJSON(streamEnvelope{Seq: ev.Seq, Type: ev.Type, Data: payload(ev), Timestamp: ev.Timestamp, RequestID: ev.RequestID})
}

// payload returns the event's data, or null when it is not valid JSON. The outbox enforces json_valid,
// so that never happens with stored events; the check keeps one bad event from breaking every socket.
func payload(ev *maestro.Event) json.RawMessage {
	if !json.Valid(ev.Data) {
		return json.RawMessage("null")
	}
	return ev.Data
}

// mustJSON marshals an envelope: strings, integers and a valid RawMessage, which cannot fail.
func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// resyncMessage tells the client that it cannot resume where it asked: it refetches its state; live
// events follow.
var resyncMessage = []byte(`{"type":"resync"}`)

// pongMessage answers the client's {"type":"ping"}.
func pongMessage(nowMs int64) []byte {
	return []byte(`{"type":"pong","timestamp":` + strconv.FormatInt(nowMs, 10) + `}`)
}

// isPing reports whether a client message is the JSON ping. Anything else, JSON or not, is ignored.
func isPing(msg []byte) bool {
	var m struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(msg, &m) == nil && m.Type == "ping"
}
