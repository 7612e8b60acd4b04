package v2

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// EventReader reads the durable event log (the events hub implements it): up to limit retained events
// with seq > after. resync reports that the caller cannot continue from after (events after it were
// pruned, or after is beyond the newest event); it must refetch its state and continue from newest.
type EventReader interface {
	ReadEvents(ctx context.Context, after int64, limit int) (evs []maestro.Event, resync bool, newest int64, err error)
}

// EventItem is one event of the log: the v2 stream envelope.
type EventItem struct {
	Seq       int64           `json:"seq" doc:"Durable, strictly increasing position of the event."`
	Type      string          `json:"type" doc:"Event type, e.g. task:created (see the event catalogue)."`
	Data      json.RawMessage `json:"data" doc:"The payload: a snapshot of the entity when the event was recorded."`
	Timestamp int64           `json:"timestamp" doc:"When the event was recorded, ms since the epoch."`
	RequestID string          `json:"requestId,omitempty" doc:"X-Request-ID of the request that caused the event, when there was one."`
}

// EventPage is one page of the event log.
type EventPage struct {
	Items      []EventItem `json:"items" nullable:"false" doc:"Events after the requested position, oldest first."`
	NextCursor *string     `json:"nextCursor" nullable:"true" doc:"Pass as cursor for the next page; null when the log has no more events now (poll again later with since = the last seq received)."`
	Resync     bool        `json:"resync" doc:"True when events after the requested position were pruned (or it is beyond the newest event): refetch your state, then continue from nextCursor, which points at the newest event."`
}

type eventListInput struct {
	Since    int64  `query:"since" minimum:"0" doc:"Return events with seq greater than this (0: from the oldest retained)."`
	Cursor   string `query:"cursor" doc:"The nextCursor of the previous page (instead of since)."`
	Limit    int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size."`
	sinceSet bool
}

func (in *eventListInput) Resolve(ctx huma.Context) []error {
	u := ctx.URL()
	in.sinceSet = u.Query().Has("since")
	if in.sinceSet && in.Cursor != "" {
		return []error{&huma.ErrorDetail{Location: "query.cursor", Message: "give since or cursor, not both", Value: in.Cursor}}
	}
	return nil
}

type eventPageOutput struct{ Body EventPage }

// eventStreamInput documents the query parameters of the stream (the WebSocket handler reads them).
type eventStreamInput struct {
	Since     int64    `query:"since" minimum:"0" doc:"Replay every retained event with seq greater than this, then go live. When events after it were pruned, the first message is {\"type\":\"resync\"}."`
	Types     []string `query:"types" doc:"Only these event types (comma-separated and/or repeated)."`
	ProjectID []string `query:"projectId" doc:"Only events of these projects (comma-separated and/or repeated); events without a project are left out."`
}

// eventCursorPrefix versions the opaque cursor so that its format can change later.
const eventCursorPrefix = "ev1:"

func encodeEventCursor(seq int64) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(eventCursorPrefix + strconv.FormatInt(seq, 10)))
	return &c
}

func decodeEventCursor(c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if s, ok := strings.CutPrefix(string(raw), eventCursorPrefix); ok {
			if seq, err := strconv.ParseInt(s, 10, 64); err == nil && seq >= 0 {
				return seq, nil
			}
		}
	}
	return 0, maestro.InvalidField("cursor", "cursor is not one this server issued")
}

// eventsV2 holds what the Events operations need; each method serves one of them and is named
// after its operation ID.
type eventsV2 struct {
	events EventReader
}

func registerEvents(api huma.API, d Deps) {
	h := eventsV2{events: d.Events}
	const tag = "Events"
	huma.Register(api, op("list-events", http.MethodGet, Prefix+"/events", tag, "Read the event log",
		"The durable event log over HTTP: the same events, in the same envelope, as the WebSocket "+
			"stream at `/api/v2/events/stream`. Events are retained for EVENT_RETENTION (7 days by default), and "+
			"the newest 10,000 always are. Page with `cursor`; when `resync` is true, events after your "+
			"position are gone: refetch your state and continue from `nextCursor`.",
		http.StatusNotFound, http.StatusUnprocessableEntity),
		h.listEvents)

	stream := op("event-stream", http.MethodGet, Prefix+"/events/stream", tag, "Stream events (WebSocket)",
		"A WebSocket: connect with an `Upgrade: websocket` request. Each message is "+
			"`{\"seq\",\"type\",\"data\",\"timestamp\",\"requestId\"?}`, in seq order, each event once. Send "+
			"`{\"type\":\"ping\"}` to get `{\"type\":\"pong\",\"timestamp\"}` after every event published before "+
			"the ping. Reconnect with `since` = the last seq received to miss nothing. A client too slow to keep "+
			"up is closed with 1008; shutdown closes with 1001; switching streaming off (flag ws-streaming) "+
			"closes with 1013 and refuses new upgrades with 503. permessage-deflate is negotiated when offered. "+
			"A request without the upgrade gets 426.",
		http.StatusNotFound, http.StatusUpgradeRequired, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusServiceUnavailable)
	// Documents the handshake's success; this handler itself only ever answers 426.
	stream.DefaultStatus = http.StatusSwitchingProtocols
	huma.Register(api, stream, h.eventStream)
}

func (h eventsV2) listEvents(ctx context.Context, in *eventListInput) (*eventPageOutput, error) {
	if h.events == nil {
		return nil, maestro.Errorf(maestro.CodeNotImplemented, "the event log is not available in this server")
	}
	after := in.Since
	if in.Cursor != "" {
		var err error
		if after, err = decodeEventCursor(in.Cursor); err != nil {
			return nil, err
		}
	}
	evs, resync, newest, err := h.events.ReadEvents(ctx, after, in.Limit)
	if err != nil {
		return nil, err
	}
	page := EventPage{Items: make([]EventItem, len(evs)), Resync: resync}
	for i, ev := range evs {
		page.Items[i] = EventItem{Seq: ev.Seq, Type: ev.Type, Data: ev.Data, Timestamp: ev.Timestamp, RequestID: ev.RequestID}
	}
	switch {
	case resync:
		page.NextCursor = encodeEventCursor(newest)
	case len(evs) == in.Limit && evs[len(evs)-1].Seq < newest:
		page.NextCursor = encodeEventCursor(evs[len(evs)-1].Seq)
	}
	return &eventPageOutput{Body: page}, nil
}

func (h eventsV2) eventStream(ctx context.Context, _ *eventStreamInput) (*struct{}, error) {
	return nil, upgradeRequired{maestro.Errorf(maestro.CodeUpgradeRequired,
		"this endpoint is a WebSocket: send an Upgrade: websocket request")}
}

// upgradeRequired adds the Upgrade header that a 426 must carry (RFC 9110 §15.5.22) to the error.
type upgradeRequired struct{ error }

func (e upgradeRequired) Unwrap() error { return e.error }

// GetHeaders implements huma.HeadersError.
func (e upgradeRequired) GetHeaders() http.Header {
	return http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}
}
