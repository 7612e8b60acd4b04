package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// eventsSchema is the events catalogue turned into JSON Schema.
type eventsSchema struct {
	events      []eventEntry
	payloadDefs map[string]*huma.Schema
	doc         map[string]any
}

type eventEntry struct {
	maestro.EventSpec
	payload string // the $defs name of the payload schema
}

// envelopeDefPrefix names the per-event envelope schemas in $defs ("event.task:created").
const envelopeDefPrefix = "event."

// buildEventsSchema generates one JSON Schema (draft 2020-12) per event type from the Go payload types
// of maestro.EventCatalog, with the same schema generator as the OpenAPI documents (huma's registry),
// so the events and the REST API describe a Task the same way. The document validates one v2 stream
// message: it is oneOf the per-event envelopes, each fixing `type` and giving `data` its payload schema.
func buildEventsSchema() (*eventsSchema, error) {
	reg := huma.NewMapRegistry("#/$defs/", huma.DefaultSchemaNamer)
	out := &eventsSchema{}
	defs := map[string]any{}
	oneOf := make([]any, 0, len(maestro.EventCatalog))
	seen := map[string]bool{}
	for _, spec := range maestro.EventCatalog {
		if seen[spec.Type] {
			return nil, fmt.Errorf("event type %q is listed twice in maestro.EventCatalog", spec.Type)
		}
		seen[spec.Type] = true
		t := reflect.TypeOf(spec.Payload)
		if t == nil {
			return nil, fmt.Errorf("event %q has no payload type", spec.Type)
		}
		ref := reg.Schema(t, true, "")
		name := strings.TrimPrefix(ref.Ref, "#/$defs/")
		if ref.Ref == "" {
			return nil, fmt.Errorf("event %q: payload %s is not a named struct", spec.Type, t)
		}
		out.events = append(out.events, eventEntry{EventSpec: spec, payload: name})
		key := envelopeDefPrefix + spec.Type
		defs[key] = map[string]any{
			"title":       spec.Type,
			"description": "Emitted by: " + spec.EmittedBy,
			"type":        "object",
			"properties": map[string]any{
				"seq":       map[string]any{"type": "integer", "minimum": 1, "description": "Durable, strictly increasing position in the event log."},
				"type":      map[string]any{"const": spec.Type},
				"data":      map[string]any{"$ref": "#/$defs/" + name},
				"timestamp": map[string]any{"type": "integer", "description": "When the event was recorded, ms since the epoch."},
			},
			"required": []string{"seq", "type", "data", "timestamp"},
		}
		oneOf = append(oneOf, map[string]any{"$ref": "#/$defs/" + key})
	}
	out.payloadDefs = reg.Map()
	if err := describeMembers(out.payloadDefs, memberDocs); err != nil {
		return nil, err
	}
	for n, s := range out.payloadDefs {
		defs[n] = s
	}
	out.doc = map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"title":   "Maestro Server WebSocket events",
		"description": "One message of the v2 event stream: {seq, type, data, timestamp}. The v1 socket sends the " +
			"same payload as {\"type\":\"event\",\"event\":TYPE,\"data\":PAYLOAD,\"timestamp\":MS,\"seq\":N}. " +
			"$defs holds one schema per event type (event.TYPE) and the payload schemas they reference. " +
			"Generated from maestro.EventCatalog by `maestro-server events-schema`; do not edit.",
		"oneOf": oneOf,
		"$defs": defs,
	}
	return out, nil
}

// memberDocs describes payload members whose meaning their name does not say. The domain types carry
// no schema tags (maestro knows no wire format), so the descriptions are added here, by schema name and
// member.
var memberDocs = map[string]map[string]string{
	"FlagUpdatedPayload": {"source": "Where the value comes from: db (set) or default (unset)."},
	"LeaseExpiredPayload": {
		"sessionId": "The session whose lease expired.",
		"token":     "The fencing token of the expired lease; it is stale from now on.",
		"expiresAt": "When the lease expired, ms since the epoch.",
		"task":      "The task as it now is (back to todo).",
	},
}

// describeMembers sets the descriptions of docs (memberDocs) on the payload schemas; a schema or member
// that no longer exists is an error, so that a description cannot silently go stale.
func describeMembers(defs map[string]*huma.Schema, docs map[string]map[string]string) error {
	for name, members := range docs {
		s, ok := defs[name]
		if !ok {
			return fmt.Errorf("events schema: no payload schema %q to describe", name)
		}
		for member, doc := range members {
			p, ok := s.Properties[member]
			if !ok {
				return fmt.Errorf("events schema: payload %s has no member %q", name, member)
			}
			p.Description = doc
		}
	}
	return nil
}

var eventsSchemaOnce = sync.OnceValues(func() ([]byte, error) {
	s, err := buildEventsSchema()
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(s.doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
})

// EventsSchema returns api/events.schema.json: the JSON Schema of every WebSocket event, generated from
// maestro.EventCatalog (deterministic, so `make check` can compare it with the committed file).
func EventsSchema() ([]byte, error) { return eventsSchemaOnce() }
