package v1_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// sessPrefixes are the two URL prefixes every v1 route answers on.
var sessPrefixes = []string{"/api", "/api/v1"}

// sessForEachPrefix runs fn as a subtest per URL prefix, each with a fresh server.
func sessForEachPrefix(t *testing.T, fn func(t *testing.T, env *apitest.Env, pre string)) {
	t.Helper()
	for _, pre := range sessPrefixes {
		t.Run(pre, func(t *testing.T) {
			t.Parallel()
			fn(t, apitest.New(t), pre)
		})
	}
}

// sessWantErr checks the v1 error body (D9): error true, the status repeated, the code, the exact
// message and a request id.
func sessWantErr(code maestro.Code, msg string) func(*testing.T, *apitest.Response) {
	return func(t *testing.T, r *apitest.Response) {
		t.Helper()
		var e struct {
			Error      bool           `json:"error"`
			StatusCode int            `json:"statusCode"`
			Code       string         `json:"code"`
			Message    string         `json:"message"`
			Details    map[string]any `json:"details"`
			RequestID  string         `json:"requestId"`
		}
		r.Decode(t, &e)
		if !e.Error || e.StatusCode != r.Status || e.RequestID == "" {
			t.Errorf("not a v1 error body: %s", r.Body)
		}
		if e.Code != string(code) {
			t.Errorf("code = %s, want %s (%s)", e.Code, code, r.Body)
		}
		if msg != "" && e.Message != msg {
			t.Errorf("message = %q, want %q", e.Message, msg)
		}
	}
}

// sessWantField checks a VALIDATION_ERROR that names the field (in details.field, or in the message of
// huma's own type checks).
func sessWantField(field string) func(*testing.T, *apitest.Response) {
	return func(t *testing.T, r *apitest.Response) {
		t.Helper()
		m := r.Object(t)
		if m["code"] != string(maestro.CodeValidation) {
			t.Errorf("code = %v, want VALIDATION_ERROR", m["code"])
		}
		d, _ := m["details"].(map[string]any)
		msg, _ := m["message"].(string)
		if d["field"] != field && !strings.Contains(msg, "body."+field) {
			t.Errorf("error does not name %s: %s", field, r.Body)
		}
	}
}

// sessSeed seeds the default templates, as serve does at start.
func sessSeed(t *testing.T, env *apitest.Env) {
	t.Helper()
	if err := env.Services.Templates.SeedDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// sessCreate creates a session through the API and returns it.
func sessCreate(t *testing.T, env *apitest.Env, pre string, body map[string]any) maestro.Session {
	t.Helper()
	r := env.Do("POST", pre+"/sessions", body)
	if r.Status != 201 {
		t.Fatalf("create session: %d %s", r.Status, r.Body)
	}
	var s maestro.Session
	r.Decode(t, &s)
	return s
}

// sessSpawn spawns through the API and returns the reply's session.
func sessSpawn(t *testing.T, env *apitest.Env, pre string, body map[string]any) maestro.Session {
	t.Helper()
	r := env.Do("POST", pre+"/sessions/spawn", body)
	if r.Status != 201 {
		t.Fatalf("spawn: %d %s", r.Status, r.Body)
	}
	var reply struct{ Session maestro.Session }
	r.Decode(t, &reply)
	return reply.Session
}

func sessGet(t *testing.T, env *apitest.Env, id string) maestro.Session {
	t.Helper()
	s, err := env.Services.Sessions.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get session %s: %v", id, err)
	}
	return s
}

func sessTask(t *testing.T, env *apitest.Env, id string) maestro.Task {
	t.Helper()
	tk, err := env.Services.Tasks.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get task %s: %v", id, err)
	}
	return tk
}

// sessEventsSince returns the outbox events after seq.
func sessEventsSince(env *apitest.Env, seq int64) []maestro.Event {
	var out []maestro.Event
	for _, e := range env.Outbox() {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out
}

// sessWantTypes checks the types of the events recorded after seq, in order, and that the same events
// were published after the commit.
func sessWantTypes(t *testing.T, env *apitest.Env, seq int64, want ...string) []maestro.Event {
	t.Helper()
	got := env.OutboxTypesSince(seq)
	if !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	var published []string
	for _, e := range env.Published.Events() {
		if e.Seq > seq {
			published = append(published, e.Type)
		}
	}
	if !slices.Equal(published, want) {
		t.Errorf("published = %v, want %v", published, want)
	}
	return sessEventsSince(env, seq)
}

// sessTimeline decodes a session's timeline entries.
func sessTimeline(t *testing.T, s maestro.Session) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(s.Timeline))
	for i, raw := range s.Timeline {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatalf("timeline entry %d: %v", i, err)
		}
	}
	return out
}

// sessPayload decodes an event's data.
func sessPayload(t *testing.T, e maestro.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatalf("payload of %s: %v", e.Type, err)
	}
	return m
}
