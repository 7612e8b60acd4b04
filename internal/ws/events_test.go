package ws_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// step is one write of the event scenario and the events it must broadcast, in order. path and body
// are functions so that later steps can use ids created by earlier ones. To cover more event types
// (sessions, spawn: session:updated → session:spawn → task:session_added…), add steps.
type step struct {
	name   string
	method string
	path   func(ids map[string]string) string
	body   func(ids map[string]string) any
	status int
	// save stores the response's id under this name.
	save string
	// before prepares fixtures the API cannot make yet (optional).
	before func(t *testing.T, e *env, ids map[string]string)
	want   []string
	// check inspects the event data (optional), by index into want.
	check func(t *testing.T, ids map[string]string, i int, data map[string]any)
}

func fixed(s string) func(map[string]string) string {
	return func(map[string]string) string { return s }
}

// scenario is every SPEC §3 event the server emits today: project:*, task:*, session:updated (through a
// task PATCH of sessionIds and a task delete).
func scenario() []step {
	idIs := func(key string) func(*testing.T, map[string]string, int, map[string]any) {
		return func(t *testing.T, ids map[string]string, _ int, d map[string]any) {
			if d["id"] != ids[key] {
				t.Errorf("data.id = %v, want %s", d["id"], ids[key])
			}
		}
	}
	return []step{
		{name: "create project", method: "POST", path: fixed("/api/projects"), status: 201, save: "p",
			body: func(map[string]string) any { return map[string]any{"name": "P", "workingDir": "/tmp/p"} },
			want: []string{"project:created"}, check: idIs("p")},
		{name: "update project", method: "PUT", path: func(ids map[string]string) string { return "/api/projects/" + ids["p"] },
			body: func(map[string]string) any { return map[string]any{"name": "P2"} }, status: 200,
			want: []string{"project:updated"},
			check: func(t *testing.T, _ map[string]string, _ int, d map[string]any) {
				if d["name"] != "P2" {
					t.Errorf("data.name = %v, want the snapshot after the update", d["name"])
				}
			}},
		{name: "create parent task", method: "POST", path: fixed("/api/tasks"), status: 201, save: "parent",
			body: func(ids map[string]string) any { return map[string]any{"projectId": ids["p"], "title": "Parent"} },
			want: []string{"task:created"}, check: idIs("parent")},
		{name: "create child task", method: "POST", path: fixed("/api/tasks"), status: 201, save: "child",
			body: func(ids map[string]string) any {
				return map[string]any{"projectId": ids["p"], "title": "Child", "parentId": ids["parent"]}
			},
			want: []string{"task:created"}, check: idIs("child")},
		{name: "link a session through task PATCH", method: "PATCH",
			before: func(t *testing.T, e *env, ids map[string]string) {
				// No session API on this branch yet: the session is a database fixture. With the sessions
				// API, make it with POST /api/sessions (session:created, task:session_added…) as a step.
				ids["s"] = "sess_1"
				if _, err := e.sql().Exec(`INSERT INTO sessions (id, project_id, name, started_at, last_activity)
					VALUES ('sess_1', ?, 'S', 1, 1)`, ids["p"]); err != nil {
					t.Fatal(err)
				}
			},
			path: func(ids map[string]string) string { return "/api/tasks/" + ids["parent"] },
			body: func(ids map[string]string) any { return map[string]any{"sessionIds": []string{ids["s"]}} }, status: 200,
			want: []string{"task:updated", "session:updated"},
			check: func(t *testing.T, ids map[string]string, i int, d map[string]any) {
				if i == 1 {
					if d["id"] != ids["s"] || fmt.Sprint(d["taskIds"]) != "["+ids["parent"]+"]" {
						t.Errorf("session:updated data = %v", d)
					}
				}
			}},
		{name: "delete parent task", method: "DELETE", path: func(ids map[string]string) string { return "/api/tasks/" + ids["parent"] },
			status: 200, want: []string{"task:updated", "session:updated", "task:deleted"},
			check: func(t *testing.T, ids map[string]string, i int, d map[string]any) {
				switch i {
				case 0:
					if d["id"] != ids["child"] || d["parentId"] != nil {
						t.Errorf("child made root: data = %v", d)
					}
				case 2:
					if d["id"] != ids["parent"] {
						t.Errorf("task:deleted data = %v", d)
					}
				}
			}},
		{name: "delete child task", method: "DELETE", path: func(ids map[string]string) string { return "/api/tasks/" + ids["child"] },
			status: 200, want: []string{"task:deleted"}},
		{name: "create second project", method: "POST", path: fixed("/api/projects"), status: 201, save: "p2",
			body: func(map[string]string) any { return map[string]any{"name": "Q", "workingDir": "/tmp/q"} },
			want: []string{"project:created"}},
		{name: "delete second project", method: "DELETE", path: func(ids map[string]string) string { return "/api/projects/" + ids["p2"] },
			status: 200, want: []string{"project:deleted"}, check: idIs("p2")},
	}
}

// TestSockets_EventScenario runs the scenario with a legacy socket and a v2 stream open. After each
// write's response it pings at once: the pong must come after exactly that write's events (events reach
// every socket's buffer before the HTTP reply is written), each in the endpoint's envelope, seqs
// consecutive.
func TestSockets_EventScenario(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	legacy := e.dial("/", nil)
	stream := e.dial("/api/v2/events/stream", nil)
	ids := map[string]string{}
	var lastSeq int64
	for _, s := range scenario() {
		if s.before != nil {
			s.before(t, e, ids)
		}
		var body any
		if s.body != nil {
			body = s.body(ids)
		}
		resp, raw := e.do(s.method, s.path(ids), body)
		if resp.StatusCode != s.status {
			t.Fatalf("%s: status %d, want %d: %s", s.name, resp.StatusCode, s.status, raw)
		}
		if s.save != "" {
			var r struct{ ID string }
			_ = json.Unmarshal(raw, &r)
			ids[s.save] = r.ID
		}
		reqID := resp.Header.Get("X-Request-ID")
		got := legacy.ping()
		gotStream := stream.ping()
		if len(got) != len(s.want) || len(gotStream) != len(s.want) {
			t.Fatalf("%s: legacy got %v, stream got %v before the pong, want %v", s.name, types(got), types(gotStream), s.want)
		}
		for i, want := range s.want {
			m, ms := got[i], gotStream[i]
			if m.Type != want || m.Event != want {
				t.Errorf("%s: legacy message %d type/event = %q/%q, want %q", s.name, i, m.Type, m.Event, want)
			}
			if keys := sortedKeys(m.raw); keys != "data,event,seq,timestamp,type" {
				t.Errorf("%s: legacy envelope keys %s", s.name, keys)
			}
			if ms.Type != want || ms.Seq != m.Seq || ms.RequestID != reqID || string(ms.Data) != string(m.Data) {
				t.Errorf("%s: stream message %d = %+v, want type %s seq %d requestId %s", s.name, i, ms, want, m.Seq, reqID)
			}
			if keys := sortedKeys(ms.raw); keys != "data,requestId,seq,timestamp,type" {
				t.Errorf("%s: stream envelope keys %s", s.name, keys)
			}
			if lastSeq != 0 && m.Seq != lastSeq+1 {
				t.Errorf("%s: seq %d after %d", s.name, m.Seq, lastSeq)
			}
			lastSeq = m.Seq
			if m.Timestamp < time.Now().Add(-time.Minute).UnixMilli() {
				t.Errorf("%s: timestamp %d", s.name, m.Timestamp)
			}
			if s.check != nil {
				var d map[string]any
				if err := json.Unmarshal(m.Data, &d); err != nil {
					t.Fatalf("%s: data %s: %v", s.name, m.Data, err)
				}
				s.check(t, ids, i, d)
			}
		}
	}
}

func types(ms []msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Type
	}
	return out
}

func sortedKeys(m map[string]json.RawMessage) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}
