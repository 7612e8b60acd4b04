package v2

import (
	"encoding/json"

	"github.com/danielgtaylor/huma/v2"
)

// JSONObject is a JSON object carried byte for byte (session metadata, spawn context, timeline
// metadata): what a client sends is stored and served exactly, member order included. Its schema is an
// object (huma refuses anything else with 422 before a handler runs) or null, which means absent.
type JSONObject json.RawMessage

// MarshalJSON implements json.Marshaler: the object as stored, or null when there is none.
func (o JSONObject) MarshalJSON() ([]byte, error) {
	if len(o) == 0 {
		return []byte("null"), nil
	}
	return o, nil
}

// UnmarshalJSON implements json.Unmarshaler: it keeps the bytes.
func (o *JSONObject) UnmarshalJSON(b []byte) error {
	*o = append((*o)[:0], b...)
	return nil
}

// Schema implements huma.SchemaProvider.
func (JSONObject) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeObject, AdditionalProperties: true, Nullable: true,
		Description: "Any JSON object, kept exactly as sent; null when there is none."}
}

// Entry is one entry of a session's timeline or event log, as stored: a JSON object.
type Entry json.RawMessage

// MarshalJSON implements json.Marshaler.
func (e Entry) MarshalJSON() ([]byte, error) {
	if len(e) == 0 {
		return []byte("{}"), nil
	}
	return e, nil
}

// UnmarshalJSON implements json.Unmarshaler: it keeps the bytes.
func (e *Entry) UnmarshalJSON(b []byte) error {
	*e = append((*e)[:0], b...)
	return nil
}

// Schema implements huma.SchemaProvider.
func (Entry) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeObject, AdditionalProperties: true,
		Description: "A timeline entry ({id, type, timestamp, message, taskId?, metadata?}) or an event-log entry " +
			"({id, timestamp, type, data?}). Entries the server or v2 wrote always have id, type and timestamp; " +
			"entries appended through v1's PATCH are served exactly as their client sent them."}
}

func rawEntries(in []json.RawMessage) []Entry {
	out := make([]Entry, len(in))
	for i, e := range in {
		out[i] = Entry(e)
	}
	return out
}

func domainEntries(in []Entry) []json.RawMessage {
	out := make([]json.RawMessage, len(in))
	for i, e := range in {
		out[i] = json.RawMessage(e)
	}
	return out
}
