package v1_test

import (
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

func TestSessionAPI_Create(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		p := env.Project("")
		t1 := env.Task(p.ID, maestro.TaskCreate{})
		t2 := env.Task(p.ID, maestro.TaskCreate{})
		var seq int64
		mark := func(t *testing.T, _ *apitest.Response) { seq = env.LastSeq() }
		noEvents := func(t *testing.T, _ *apitest.Response) {
			t.Helper()
			if got := env.OutboxTypesSince(seq); len(got) != 0 {
				t.Errorf("a refused create recorded events: %v", got)
			}
		}
		both := func(checks ...func(*testing.T, *apitest.Response)) func(*testing.T, *apitest.Response) {
			return func(t *testing.T, r *apitest.Response) {
				for _, c := range checks {
					c(t, r)
				}
			}
		}
		long := strings.Repeat("x", 129)
		env.Run(t, []apitest.Case{
			{Name: "mark", Method: "GET", Path: pre + "/sessions", Status: 200, Check: mark},
			{Name: "no taskIds", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"projectId": p.ID},
				Status: 400, Check: sessWantErr(maestro.CodeValidation, "taskIds is required")},
			{Name: "null taskIds", Method: "POST", Path: pre + "/sessions", Body: `{"projectId":"` + p.ID + `","taskIds":null}`,
				Status: 400, Check: sessWantErr(maestro.CodeValidation, "taskIds is required")},
			{Name: "taskIds before projectId", Method: "POST", Path: pre + "/sessions", Body: map[string]any{},
				Status: 400, Check: sessWantErr(maestro.CodeValidation, "taskIds is required")},
			{Name: "D10 taskIds not an array", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"projectId": p.ID, "taskIds": "abc"},
				Status: 400, Check: sessWantField("taskIds")},
			{Name: "D10 name not a string", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"projectId": p.ID, "taskIds": []string{}, "name": 5},
				Status: 400, Check: sessWantField("name")},
			{Name: "D10 env value not a string", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"projectId": p.ID, "taskIds": []string{}, "env": map[string]any{"A": 1}},
				Status: 400, Check: sessWantErr(maestro.CodeValidation, "")},
			{Name: "D10 metadata not an object", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"projectId": p.ID, "taskIds": []string{}, "metadata": "x"},
				Status: 400, Check: sessWantField("metadata")},
			{Name: "no projectId", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"taskIds": []string{}},
				Status: 400, Check: sessWantErr(maestro.CodeValidation, "Project ID is required")},
			{Name: "D4 id with a slash", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"id": "../etc", "projectId": p.ID, "taskIds": []string{}},
				Status: 400, Check: sessWantField("id")},
			{Name: "D4 id too long", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"id": long, "projectId": p.ID, "taskIds": []string{}},
				Status: 400, Check: sessWantField("id")},
			{Name: "D19 name too long", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"projectId": p.ID, "taskIds": []string{}, "name": strings.Repeat("n", 513)},
				Status: 400, Check: sessWantField("name")},
			{Name: "D11 status too long", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"projectId": p.ID, "taskIds": []string{}, "status": strings.Repeat("s", 65)},
				Status: 400, Check: sessWantField("status")},
			{Name: "project missing", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"projectId": "proj_nope", "taskIds": []string{"task_nope"}},
				Status: 404, Check: sessWantErr(maestro.CodeNotFound, "Project with id 'proj_nope' not found")},
			{Name: "first missing task", Method: "POST", Path: pre + "/sessions", Body: map[string]any{"projectId": p.ID, "taskIds": []string{t1.ID, "task_a", "task_b"}},
				Status: 404, Check: both(sessWantErr(maestro.CodeNotFound, "Task with id 'task_a' not found"), noEvents)},
		})
		if s := sessTask(t, env, t1.ID); len(s.SessionIDs) != 0 || s.UpdatedAt != t1.UpdatedAt {
			t.Fatalf("a refused create changed the task: %+v", s)
		}

		t.Run("defaults with taskIds []", func(t *testing.T) {
			seq := env.LastSeq()
			s := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{}})
			wantPlatform := runtime.GOOS
			if wantPlatform == "windows" {
				wantPlatform = "win32"
			}
			if !strings.HasPrefix(s.ID, "sess_") || s.Name != "Unnamed Session" || s.Strategy != "simple" ||
				s.Status != "idle" || len(s.Env) != 0 || s.Env == nil || len(s.TaskIDs) != 0 || s.TaskIDs == nil ||
				s.CompletedAt != nil || s.Hostname != "test-host" || s.Platform != wantPlatform ||
				s.AgentID != nil || s.Metadata != nil || len(s.Events) != 0 || s.StartedAt != s.LastActivity {
				t.Errorf("defaults: %+v", s)
			}
			tl := sessTimeline(t, s)
			if len(tl) != 1 || tl[0]["type"] != "session_started" || tl[0]["message"] != "Session created" ||
				!strings.HasPrefix(tl[0]["id"].(string), "evt_") || tl[0]["timestamp"] != float64(s.StartedAt) {
				t.Errorf("timeline = %v", tl)
			}
			r := env.Do("GET", pre+"/sessions/"+s.ID, nil)
			for _, absent := range []string{`"agentId"`, `"metadata"`} {
				if strings.Contains(string(r.Body), absent) {
					t.Errorf("unset optional %s must be omitted: %s", absent, r.Body)
				}
			}
			if !strings.Contains(string(r.Body), `"completedAt":null`) {
				t.Errorf("completedAt must be null: %s", r.Body)
			}
			evs := sessWantTypes(t, env, seq, maestro.EventSessionCreated)
			if got := sessPayload(t, evs[0]); got["id"] != s.ID || len(got["timeline"].([]any)) != 1 {
				t.Errorf("session:created payload = %v", got)
			}
		})

		t.Run("legacy taskId, D21 suppress flag ignored", func(t *testing.T) {
			seq := env.LastSeq()
			s := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskId": t1.ID, "_suppressCreatedEvent": true})
			if !slices.Equal(s.TaskIDs, []string{t1.ID}) {
				t.Errorf("taskIds = %v", s.TaskIDs)
			}
			task := sessTask(t, env, t1.ID)
			if !slices.Contains(task.SessionIDs, s.ID) || task.UpdatedAt <= t1.UpdatedAt {
				t.Errorf("task side: %+v", task)
			}
			tl := sessTimeline(t, s)
			if len(tl) != 2 || tl[1]["type"] != "task_started" || tl[1]["message"] != "Started working on task" || tl[1]["taskId"] != t1.ID {
				t.Errorf("timeline = %v", tl)
			}
			evs := sessWantTypes(t, env, seq, maestro.EventSessionCreated, maestro.EventTaskSessionAdded)
			if got := sessPayload(t, evs[1]); got["taskId"] != t1.ID || got["sessionId"] != s.ID {
				t.Errorf("task:session_added = %v", got)
			}
		})

		t.Run("D22 duplicate task ids", func(t *testing.T) {
			seq := env.LastSeq()
			s := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{t2.ID, t1.ID, t2.ID}})
			if !slices.Equal(s.TaskIDs, []string{t2.ID, t1.ID}) {
				t.Errorf("taskIds = %v", s.TaskIDs)
			}
			if n := len(sessTimeline(t, s)); n != 3 {
				t.Errorf("timeline has %d entries, want 3", n)
			}
			sessWantTypes(t, env, seq, maestro.EventSessionCreated, maestro.EventTaskSessionAdded, maestro.EventTaskSessionAdded)
		})

		t.Run("caller id, D4 conflict", func(t *testing.T) {
			body := map[string]any{
				"id": "cli-sess_1.a", "projectId": p.ID, "taskIds": []string{t1.ID}, "name": "Registered",
				"status": "running", "strategy": "queue", "agentId": "agent-7", "env": map[string]string{"K": "V"},
				"metadata": json.RawMessage(`{"z":1,"role":"worker","a":[1,2]}`),
			}
			s := sessCreate(t, env, pre, body)
			if s.ID != "cli-sess_1.a" || s.Name != "Registered" || s.Status != "running" || s.Strategy != "queue" ||
				s.AgentID == nil || *s.AgentID != "agent-7" || s.Env["K"] != "V" {
				t.Errorf("session = %+v", s)
			}
			r := env.Do("GET", pre+"/sessions/cli-sess_1.a", nil)
			if !strings.Contains(string(r.Body), `"metadata":{"z":1,"role":"worker","a":[1,2]}`) {
				t.Errorf("metadata not kept verbatim: %s", r.Body)
			}
			seq := env.LastSeq()
			r = env.Do("POST", pre+"/sessions", body)
			if r.Status != 409 {
				t.Fatalf("duplicate id: %d %s", r.Status, r.Body)
			}
			sessWantErr(maestro.CodeConflict, "Session with id 'cli-sess_1.a' already exists")(t, r)
			sessWantTypes(t, env, seq)
			if got := sessGet(t, env, "cli-sess_1.a"); got.Name != "Registered" || len(got.Timeline) != 2 {
				t.Errorf("the existing session changed: %+v", got)
			}
			// POST /sessions makes no queue, even with strategy queue (SPEC §6.1).
			env.Run(t, []apitest.Case{{Name: "no queue", Method: "GET", Path: pre + "/sessions/cli-sess_1.a/queue", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Queue with id 'cli-sess_1.a' not found")}})
		})
	})
}

func TestSessionAPI_List(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		p1, p2 := env.Project("one"), env.Project("two")
		ta := env.Task(p1.ID, maestro.TaskCreate{})
		tb := env.Task(p2.ID, maestro.TaskCreate{})
		s1 := sessCreate(t, env, pre, map[string]any{"projectId": p1.ID, "taskIds": []string{ta.ID}, "status": "working"})
		s2 := sessCreate(t, env, pre, map[string]any{"projectId": p1.ID, "taskIds": []string{}, "status": "completed"})
		s3 := sessCreate(t, env, pre, map[string]any{"projectId": p2.ID, "taskIds": []string{ta.ID, tb.ID}, "status": "completed"})
		s4 := sessCreate(t, env, pre, map[string]any{"projectId": p2.ID, "taskIds": []string{tb.ID}, "status": "running"})
		// A caller id that sorts before the others but starts later: order is startedAt first (D24).
		s5 := sessCreate(t, env, pre, map[string]any{"id": "aaa", "projectId": p1.ID, "taskIds": []string{ta.ID}})
		ids := func(ss ...maestro.Session) []string {
			out := []string{}
			for _, s := range ss {
				out = append(out, s.ID)
			}
			return out
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", ids(s1, s2, s3, s4, s5)},
			{"?projectId=" + p1.ID, ids(s1, s2, s5)},
			{"?taskId=" + ta.ID, ids(s1, s3, s5)},
			{"?status=completed", ids(s2, s3)},
			{"?active=true", ids(s1, s4, s5)},
			{"?active=false", ids(s1, s2, s3, s4, s5)},
			{"?active=1", ids(s1, s2, s3, s4, s5)},
			{"?status=completed&active=true", ids()},
			{"?status=running&active=true", ids(s4)},
			{"?projectId=" + p1.ID + "&active=true", ids(s1, s5)},
			{"?projectId=" + p2.ID + "&status=running", ids(s4)},
			{"?taskId=" + ta.ID + "&active=true", ids(s1, s5)},
			{"?taskId=" + ta.ID + "&projectId=" + p2.ID, ids(s3)},
			{"?taskId=" + tb.ID + "&status=running", ids(s4)},
			{"?projectId=&status=", ids(s1, s2, s3, s4, s5)},
			{"?projectId=proj_nope", ids()},
			{"?taskId=task_nope", ids()},
		} {
			r := env.Do("GET", pre+"/sessions"+tc.query, nil)
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", tc.query, r.Status, r.Body)
			}
			var got []maestro.Session
			r.Decode(t, &got)
			if !slices.Equal(ids(got...), tc.want) {
				t.Errorf("GET /sessions%s = %v, want %v", tc.query, ids(got...), tc.want)
			}
			if tc.query == "" && (len(got[2].TaskIDs) != 2 || len(got[2].Timeline) != 3) {
				t.Errorf("list entries must be whole sessions: %+v", got[2])
			}
		}
		if r := env.Do("GET", pre+"/sessions?taskId="+ta.ID, nil); !strings.HasPrefix(string(r.Body), "[") {
			t.Errorf("list is not an array: %s", r.Body)
		}
	})
}

func TestSessionAPI_GetAndRouting(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		p := env.Project("")
		s := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{}})
		env.Run(t, []apitest.Case{
			{Name: "get", Method: "GET", Path: pre + "/sessions/" + s.ID, Status: 200, Check: func(t *testing.T, r *apitest.Response) {
				if r.Object(t)["id"] != s.ID {
					t.Errorf("body = %s", r.Body)
				}
			}},
			{Name: "get trailing slash", Method: "GET", Path: pre + "/sessions/" + s.ID + "/", Status: 200},
			{Name: "missing", Method: "GET", Path: pre + "/sessions/sess_nope", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id 'sess_nope' not found")},
			{Name: "GET spawn is a session id", Method: "GET", Path: pre + "/sessions/spawn", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id 'spawn' not found")},
			{Name: "PATCH spawn is a session id", Method: "PATCH", Path: pre + "/sessions/spawn", Body: map[string]any{}, Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id 'spawn' not found")},
			{Name: "DELETE spawn is a session id", Method: "DELETE", Path: pre + "/sessions/spawn", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id 'spawn' not found")},
		})
	})
}

func TestSessionAPI_Patch(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		p := env.Project("")
		t1 := env.Task(p.ID, maestro.TaskCreate{})
		t2 := env.Task(p.ID, maestro.TaskCreate{})
		t3 := env.Task(p.ID, maestro.TaskCreate{})
		s := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{t1.ID, t2.ID}, "env": map[string]string{"A": "1"}})
		path := pre + "/sessions/" + s.ID
		patch := func(t *testing.T, body any) maestro.Session {
			t.Helper()
			r := env.Do("PATCH", path, body)
			if r.Status != 200 {
				t.Fatalf("PATCH %v: %d %s", body, r.Status, r.Body)
			}
			var out maestro.Session
			r.Decode(t, &out)
			return out
		}

		env.Run(t, []apitest.Case{
			{Name: "missing", Method: "PATCH", Path: pre + "/sessions/sess_nope", Body: map[string]any{"status": "idle"}, Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id 'sess_nope' not found")},
			{Name: "D10 events not an array", Method: "PATCH", Path: path, Body: map[string]any{"events": "abc"}, Status: 400,
				Check: sessWantField("events")},
			{Name: "D10 event not an object", Method: "PATCH", Path: path, Body: map[string]any{"events": []any{map[string]any{}, "x"}}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "events[1] must be a JSON object")},
			{Name: "D10 timeline entry not an object", Method: "PATCH", Path: path, Body: map[string]any{"timeline": []any{5}}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "timeline[0] must be a JSON object")},
			{Name: "D11 status too long", Method: "PATCH", Path: path, Body: map[string]any{"status": strings.Repeat("s", 65)}, Status: 400,
				Check: sessWantField("status")},
			{Name: "unknown task in taskIds", Method: "PATCH", Path: path, Body: map[string]any{"taskIds": []string{t1.ID, "task_nope"}}, Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Task with id 'task_nope' not found")},
		})
		if got := sessGet(t, env, s.ID); !slices.Equal(got.TaskIDs, []string{t1.ID, t2.ID}) || got.LastActivity != s.LastActivity {
			t.Fatalf("a refused PATCH changed the session: %+v", got)
		}

		t.Run("status, completedAt, agentId, env; others ignored", func(t *testing.T) {
			seq := env.LastSeq()
			got := patch(t, map[string]any{
				"status": "completed", "completedAt": 5, "agentId": "agent-1", "env": map[string]string{"B": "2"},
				"name": "renamed", "strategy": "queue", "metadata": map[string]any{"x": 1}, "startedAt": 1,
			})
			if got.Status != "completed" || got.CompletedAt == nil || *got.CompletedAt == 5 || *got.CompletedAt < s.StartedAt {
				t.Errorf("status/completedAt: %+v", got)
			}
			if got.AgentID == nil || *got.AgentID != "agent-1" || got.Env["A"] != "1" || got.Env["B"] != "2" {
				t.Errorf("agentId/env merge: %+v", got)
			}
			if got.Name != s.Name || got.Strategy != "simple" || got.Metadata != nil || got.StartedAt != s.StartedAt {
				t.Errorf("ignored fields changed: %+v", got)
			}
			if got.LastActivity <= s.LastActivity {
				t.Errorf("lastActivity did not move: %d -> %d", s.LastActivity, got.LastActivity)
			}
			evs := sessWantTypes(t, env, seq, maestro.EventSessionUpdated)
			if sessPayload(t, evs[0])["status"] != "completed" {
				t.Errorf("session:updated carries the old session")
			}
			first := *got.CompletedAt
			again := patch(t, map[string]any{"status": "stopped"})
			if again.CompletedAt == nil || *again.CompletedAt <= first {
				t.Errorf("completedAt must be stamped on every PATCH to a terminal status: %v then %v", first, again.CompletedAt)
			}
			working := patch(t, map[string]any{"status": "working", "env": map[string]string{"A": "one"}})
			if working.CompletedAt == nil || *working.CompletedAt != *again.CompletedAt {
				t.Errorf("completedAt must never be cleared: %v", working.CompletedAt)
			}
			if working.Env["A"] != "one" || working.Env["B"] != "2" {
				t.Errorf("env merge: %v", working.Env)
			}
			failed := patch(t, map[string]any{"status": "failed"})
			if *failed.CompletedAt <= *working.CompletedAt {
				t.Errorf("failed must stamp completedAt")
			}
		})

		t.Run("events and timeline appended verbatim", func(t *testing.T) {
			before := sessGet(t, env, s.ID)
			raw := `{"events":[{"type":"file_modified","data":{"file":"a.go","timestamp":"2026-01-01T00:00:00.000Z"}},{"zeta":1,"alpha":[true,null]}],` +
				`"timeline":[{"type":"task_status_changed","message":"m","zz":{"b":1,"a":2}}]}`
			got := patch(t, raw)
			if len(got.Events) != len(before.Events)+2 || len(got.Timeline) != len(before.Timeline)+1 {
				t.Fatalf("appended %d events, %d timeline entries", len(got.Events)-len(before.Events), len(got.Timeline)-len(before.Timeline))
			}
			n := len(got.Events)
			if string(got.Events[n-2]) != `{"type":"file_modified","data":{"file":"a.go","timestamp":"2026-01-01T00:00:00.000Z"}}` ||
				string(got.Events[n-1]) != `{"zeta":1,"alpha":[true,null]}` {
				t.Errorf("events not verbatim: %s / %s", got.Events[n-2], got.Events[n-1])
			}
			if last := got.Timeline[len(got.Timeline)-1]; string(last) != `{"type":"task_status_changed","message":"m","zz":{"b":1,"a":2}}` {
				t.Errorf("timeline entry not verbatim: %s", last)
			}
		})

		t.Run("D5 taskIds replace, the task side follows", func(t *testing.T) {
			before := map[string]maestro.Task{t1.ID: sessTask(t, env, t1.ID), t2.ID: sessTask(t, env, t2.ID), t3.ID: sessTask(t, env, t3.ID)}
			seq := env.LastSeq()
			got := patch(t, map[string]any{"taskIds": []string{t2.ID, t3.ID, t3.ID}})
			if !slices.Equal(got.TaskIDs, []string{t2.ID, t3.ID}) {
				t.Errorf("taskIds = %v", got.TaskIDs)
			}
			evs := sessWantTypes(t, env, seq, maestro.EventSessionUpdated, maestro.EventTaskUpdated, maestro.EventTaskUpdated)
			if len(evs) == 3 {
				if a, b := sessPayload(t, evs[1])["id"], sessPayload(t, evs[2])["id"]; a != t1.ID || b != t3.ID {
					t.Errorf("task:updated for %v, %v; want %s then %s", a, b, t1.ID, t3.ID)
				}
				if ids := sessPayload(t, evs[2])["sessionIds"].([]any); len(ids) != 1 || ids[0] != s.ID {
					t.Errorf("task:updated carries the old task: %v", ids)
				}
			}
			a1, a2, a3 := sessTask(t, env, t1.ID), sessTask(t, env, t2.ID), sessTask(t, env, t3.ID)
			if slices.Contains(a1.SessionIDs, s.ID) || !slices.Contains(a2.SessionIDs, s.ID) || !slices.Contains(a3.SessionIDs, s.ID) {
				t.Errorf("task sides: %v %v %v", a1.SessionIDs, a2.SessionIDs, a3.SessionIDs)
			}
			if a1.UpdatedAt <= before[t1.ID].UpdatedAt || a3.UpdatedAt <= before[t3.ID].UpdatedAt || a2.UpdatedAt != before[t2.ID].UpdatedAt {
				t.Errorf("updatedAt must move for changed tasks only")
			}
			if tl := sessTimeline(t, got); len(tl) != len(sessTimeline(t, sessGet(t, env, s.ID))) {
				t.Errorf("PATCH of taskIds must not add timeline entries")
			}
			// The same list again changes no task: only session:updated.
			seq = env.LastSeq()
			patch(t, map[string]any{"taskIds": []string{t2.ID, t3.ID}})
			sessWantTypes(t, env, seq, maestro.EventSessionUpdated)
			// Reordering keeps the links and changes no task either.
			got = patch(t, map[string]any{"taskIds": []string{t3.ID, t2.ID}})
			if !slices.Equal(got.TaskIDs, []string{t3.ID, t2.ID}) {
				t.Errorf("reordered taskIds = %v", got.TaskIDs)
			}
		})

		t.Run("D12 lastActivity strictly increases within one millisecond", func(t *testing.T) {
			env.Clock.Step = 0
			defer func() { env.Clock.Step = time.Millisecond }()
			last := sessGet(t, env, s.ID).LastActivity
			for i := 0; i < 3; i++ {
				got := patch(t, map[string]any{})
				if got.LastActivity <= last {
					t.Fatalf("lastActivity %d after %d", got.LastActivity, last)
				}
				last = got.LastActivity
			}
		})
	})
}

func TestSessionAPI_Delete(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		p := env.Project("")
		t1 := env.Task(p.ID, maestro.TaskCreate{})
		t2 := env.Task(p.ID, maestro.TaskCreate{})
		s := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{t1.ID, t2.ID}})
		other := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{t1.ID}})
		before := sessTask(t, env, t1.ID)
		seq := env.LastSeq()
		env.Run(t, []apitest.Case{
			{Name: "delete", Method: "DELETE", Path: pre + "/sessions/" + s.ID, Status: 200, Check: func(t *testing.T, r *apitest.Response) {
				if m := r.Object(t); m["success"] != true || m["id"] != s.ID || len(m) != 2 {
					t.Errorf("body = %s", r.Body)
				}
			}},
			{Name: "gone", Method: "GET", Path: pre + "/sessions/" + s.ID, Status: 404},
			{Name: "again", Method: "DELETE", Path: pre + "/sessions/" + s.ID, Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id '"+s.ID+"' not found")},
		})
		evs := sessWantTypes(t, env, seq, maestro.EventSessionDeleted)
		if got := sessPayload(t, evs[0]); got["id"] != s.ID || len(got) != 1 {
			t.Errorf("session:deleted payload = %v", got)
		}
		a1, a2 := sessTask(t, env, t1.ID), sessTask(t, env, t2.ID)
		if !slices.Equal(a1.SessionIDs, []string{other.ID}) || len(a2.SessionIDs) != 0 {
			t.Errorf("task sides after delete: %v %v", a1.SessionIDs, a2.SessionIDs)
		}
		if a1.UpdatedAt <= before.UpdatedAt {
			t.Errorf("task updatedAt must move on session delete")
		}
		if got := sessGet(t, env, other.ID); !slices.Equal(got.TaskIDs, []string{t1.ID}) {
			t.Errorf("other session changed: %v", got.TaskIDs)
		}
	})
}

func TestSessionAPI_EventsAndTimeline(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		p := env.Project("")
		tk := env.Task(p.ID, maestro.TaskCreate{})
		s := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{}})
		path := pre + "/sessions/" + s.ID
		var seq int64
		env.Run(t, []apitest.Case{
			{Name: "events: type checked before the lookup", Method: "POST", Path: pre + "/sessions/sess_nope/events", Body: map[string]any{}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "type is required")},
			{Name: "events: empty body", Method: "POST", Path: path + "/events", Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "type is required")},
			{Name: "events: missing session", Method: "POST", Path: pre + "/sessions/sess_nope/events", Body: map[string]any{"type": "x"}, Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id 'sess_nope' not found")},
			{Name: "events: D11 type too long", Method: "POST", Path: path + "/events", Body: map[string]any{"type": strings.Repeat("t", 65)}, Status: 400,
				Check: sessWantField("type")},
			{Name: "events: mark", Method: "GET", Path: path, Status: 200, Check: func(*testing.T, *apitest.Response) { seq = env.LastSeq() }},
			{Name: "events: append with data", Method: "POST", Path: path + "/events",
				Body: `{"type":"file_modified","data":{"file":"a.go","n":[1,2]}}`, Status: 200,
				Check: func(t *testing.T, r *apitest.Response) {
					var got maestro.Session
					r.Decode(t, &got)
					var e map[string]any
					_ = json.Unmarshal(got.Events[len(got.Events)-1], &e)
					if !strings.HasPrefix(e["id"].(string), "evt_") || e["type"] != "file_modified" || e["timestamp"] == nil ||
						e["data"].(map[string]any)["file"] != "a.go" || len(e) != 4 {
						t.Errorf("event = %v", e)
					}
					if got.LastActivity <= s.LastActivity {
						t.Errorf("lastActivity did not move")
					}
					sessWantTypes(t, env, seq, maestro.EventSessionUpdated)
				}},
			{Name: "events: no data key when absent", Method: "POST", Path: path + "/events", Body: map[string]any{"type": "ping"}, Status: 200,
				Check: func(t *testing.T, r *apitest.Response) {
					var got maestro.Session
					r.Decode(t, &got)
					if strings.Contains(string(got.Events[len(got.Events)-1]), `"data"`) {
						t.Errorf("event without data has a data key: %s", got.Events[len(got.Events)-1])
					}
				}},
			{Name: "timeline: message checked before the lookup", Method: "POST", Path: pre + "/sessions/sess_nope/timeline", Body: map[string]any{"type": "x"}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "message is required")},
			{Name: "timeline: missing session", Method: "POST", Path: pre + "/sessions/sess_nope/timeline", Body: map[string]any{"message": "m"}, Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id 'sess_nope' not found")},
			{Name: "timeline: D10 metadata not an object", Method: "POST", Path: path + "/timeline", Body: map[string]any{"message": "m", "metadata": []int{1}}, Status: 400,
				Check: sessWantField("metadata")},
			{Name: "timeline: D10 message not a string", Method: "POST", Path: path + "/timeline", Body: map[string]any{"message": 5}, Status: 400,
				Check: sessWantField("message")},
			{Name: "timeline: defaults to progress", Method: "POST", Path: path + "/timeline", Body: map[string]any{"message": "halfway"}, Status: 200,
				Check: func(t *testing.T, r *apitest.Response) {
					var got maestro.Session
					r.Decode(t, &got)
					tl := sessTimeline(t, got)
					e := tl[len(tl)-1]
					if e["type"] != "progress" || e["message"] != "halfway" || !strings.HasPrefix(e["id"].(string), "evt_") || e["timestamp"] == nil || len(e) != 4 {
						t.Errorf("entry = %v", e)
					}
				}},
			{Name: "timeline: with taskId and metadata, unknown type kept", Method: "POST", Path: path + "/timeline",
				Body: map[string]any{"message": "m", "type": "task_status_changed", "taskId": tk.ID, "metadata": map[string]any{"k": "v"}}, Status: 200,
				Check: func(t *testing.T, r *apitest.Response) {
					var got maestro.Session
					r.Decode(t, &got)
					raw := string(got.Timeline[len(got.Timeline)-1])
					if !strings.Contains(raw, `"type":"task_status_changed"`) || !strings.Contains(raw, `"taskId":"`+tk.ID+`"`) ||
						!strings.Contains(raw, `"metadata":{"k":"v"}`) {
						t.Errorf("entry = %s", raw)
					}
				}},
		})
	})
}

func TestTaskAPI_Timeline(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		p := env.Project("")
		tk := env.Task(p.ID, maestro.TaskCreate{})
		s := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{tk.ID}})
		path := pre + "/tasks/" + tk.ID + "/timeline"
		var seq int64
		env.Run(t, []apitest.Case{
			{Name: "no message first", Method: "POST", Path: pre + "/tasks/task_nope/timeline", Body: map[string]any{}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "message is required")},
			{Name: "then no sessionId", Method: "POST", Path: pre + "/tasks/task_nope/timeline", Body: map[string]any{"message": "m"}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "sessionId is required")},
			{Name: "then the task", Method: "POST", Path: pre + "/tasks/task_nope/timeline", Body: map[string]any{"message": "m", "sessionId": "sess_nope"}, Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Task with id 'task_nope' not found")},
			{Name: "then the session", Method: "POST", Path: path, Body: map[string]any{"message": "m", "sessionId": "sess_nope"}, Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id 'sess_nope' not found")},
			{Name: "mark", Method: "GET", Path: pre + "/sessions", Status: 200, Check: func(*testing.T, *apitest.Response) { seq = env.LastSeq() }},
			{Name: "ok", Method: "POST", Path: path, Body: map[string]any{"message": "did it", "sessionId": s.ID}, Status: 200,
				Check: func(t *testing.T, r *apitest.Response) {
					want := map[string]any{"success": true, "taskId": tk.ID, "sessionId": s.ID, "message": "did it", "type": "progress"}
					got := r.Object(t)
					if len(got) != len(want) {
						t.Errorf("body = %s", r.Body)
					}
					for k, v := range want {
						if got[k] != v {
							t.Errorf("%s = %v, want %v", k, got[k], v)
						}
					}
					tl := sessTimeline(t, sessGet(t, env, s.ID))
					e := tl[len(tl)-1]
					if e["type"] != "progress" || e["message"] != "did it" || e["taskId"] != tk.ID || !strings.HasPrefix(e["id"].(string), "evt_") {
						t.Errorf("entry = %v", e)
					}
					evs := sessWantTypes(t, env, seq, maestro.EventSessionUpdated)
					if sessPayload(t, evs[0])["id"] != s.ID {
						t.Errorf("session:updated is not about the session")
					}
					if got := sessGet(t, env, s.ID); got.LastActivity <= s.LastActivity {
						t.Errorf("lastActivity did not move")
					}
				}},
			{Name: "custom type", Method: "POST", Path: path, Body: map[string]any{"message": "m", "sessionId": s.ID, "type": "milestone"}, Status: 200,
				Check: func(t *testing.T, r *apitest.Response) {
					if r.Object(t)["type"] != "milestone" {
						t.Errorf("body = %s", r.Body)
					}
				}},
		})
	})
}

func TestSessionAPI_LinkUnlink(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		p := env.Project("")
		t1 := env.Task(p.ID, maestro.TaskCreate{})
		t2 := env.Task(p.ID, maestro.TaskCreate{})
		s := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{t1.ID}})
		link := pre + "/sessions/" + s.ID + "/tasks/" + t2.ID
		env.Run(t, []apitest.Case{
			{Name: "link: session first", Method: "POST", Path: pre + "/sessions/sess_nope/tasks/task_nope", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id 'sess_nope' not found")},
			{Name: "link: then task", Method: "POST", Path: pre + "/sessions/" + s.ID + "/tasks/task_nope", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Task with id 'task_nope' not found")},
			{Name: "unlink: session first", Method: "DELETE", Path: pre + "/sessions/sess_nope/tasks/task_nope", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Session with id 'sess_nope' not found")},
			{Name: "unlink: then task", Method: "DELETE", Path: pre + "/sessions/" + s.ID + "/tasks/task_nope", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Task with id 'task_nope' not found")},
		})
		if got := sessGet(t, env, s.ID); len(got.Timeline) != 2 {
			t.Fatalf("refused link/unlink wrote the timeline: %d entries", len(got.Timeline))
		}

		step := func(t *testing.T, method string, wantTaskIDs []string, entryType, entryMsg string, events ...string) maestro.Session {
			t.Helper()
			seq := env.LastSeq()
			before := sessGet(t, env, s.ID)
			r := env.Do(method, link, nil)
			if r.Status != 200 {
				t.Fatalf("%s %s: %d %s", method, link, r.Status, r.Body)
			}
			var got maestro.Session
			r.Decode(t, &got)
			if !slices.Equal(got.TaskIDs, wantTaskIDs) {
				t.Errorf("taskIds = %v, want %v", got.TaskIDs, wantTaskIDs)
			}
			tl := sessTimeline(t, got)
			if len(tl) != len(before.Timeline)+1 {
				t.Fatalf("timeline grew by %d", len(tl)-len(before.Timeline))
			}
			if e := tl[len(tl)-1]; e["type"] != entryType || e["message"] != entryMsg || e["taskId"] != t2.ID {
				t.Errorf("entry = %v", e)
			}
			if got.LastActivity <= before.LastActivity {
				t.Errorf("lastActivity did not move")
			}
			evs := sessWantTypes(t, env, seq, events...)
			if len(evs) == 2 {
				a, b := sessPayload(t, evs[0]), sessPayload(t, evs[1])
				if a["sessionId"] != s.ID || a["taskId"] != t2.ID || b["taskId"] != t2.ID || b["sessionId"] != s.ID || len(a) != 2 || len(b) != 2 {
					t.Errorf("payloads = %v, %v", a, b)
				}
				if !strings.HasPrefix(string(evs[0].Data), `{"sessionId"`) || !strings.HasPrefix(string(evs[1].Data), `{"taskId"`) {
					t.Errorf("payload key order: %s, %s", evs[0].Data, evs[1].Data)
				}
			}
			return got
		}

		t.Run("link", func(t *testing.T) {
			before := sessTask(t, env, t2.ID)
			step(t, "POST", []string{t1.ID, t2.ID}, "task_started", "Added task to session",
				maestro.EventSessionTaskAdded, maestro.EventTaskSessionAdded)
			after := sessTask(t, env, t2.ID)
			if !slices.Equal(after.SessionIDs, []string{s.ID}) || after.UpdatedAt <= before.UpdatedAt {
				t.Errorf("task side: %+v", after)
			}
			// Linking again adds the entry again but never a second link, and leaves the task alone.
			step(t, "POST", []string{t1.ID, t2.ID}, "task_started", "Added task to session",
				maestro.EventSessionTaskAdded, maestro.EventTaskSessionAdded)
			if again := sessTask(t, env, t2.ID); !slices.Equal(again.SessionIDs, []string{s.ID}) || again.UpdatedAt != after.UpdatedAt {
				t.Errorf("re-link changed the task: %+v", again)
			}
		})
		t.Run("unlink", func(t *testing.T) {
			before := sessTask(t, env, t2.ID)
			step(t, "DELETE", []string{t1.ID}, "task_completed", "Removed task from session",
				maestro.EventSessionTaskRemoved, maestro.EventTaskSessionRemoved)
			after := sessTask(t, env, t2.ID)
			if len(after.SessionIDs) != 0 || after.UpdatedAt <= before.UpdatedAt {
				t.Errorf("task side: %+v", after)
			}
			// Not linked any more: still 200, still an entry.
			step(t, "DELETE", []string{t1.ID}, "task_completed", "Removed task from session",
				maestro.EventSessionTaskRemoved, maestro.EventTaskSessionRemoved)
		})
	})
}

// TestTaskAPI_SessionIDsPatchFollowedBySession checks D5 from the task side (the task service's part):
// a task PATCH of sessionIds changes the sessions' taskIds, and each changed session gets
// session:updated after task:updated.
func TestTaskAPI_SessionIDsPatchFollowedBySession(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("")
	tk := env.Task(p.ID, maestro.TaskCreate{})
	s1 := sessCreate(t, env, "/api", map[string]any{"projectId": p.ID, "taskIds": []string{tk.ID}})
	s2 := sessCreate(t, env, "/api", map[string]any{"projectId": p.ID, "taskIds": []string{}})
	seq := env.LastSeq()
	r := env.Do("PATCH", "/api/tasks/"+tk.ID, map[string]any{"sessionIds": []string{s2.ID}})
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	sessWantTypes(t, env, seq, maestro.EventTaskUpdated, maestro.EventSessionUpdated, maestro.EventSessionUpdated)
	if got := sessGet(t, env, s1.ID); len(got.TaskIDs) != 0 {
		t.Errorf("s1 still lists the task: %v", got.TaskIDs)
	}
	if got := sessGet(t, env, s2.ID); !slices.Equal(got.TaskIDs, []string{tk.ID}) {
		t.Errorf("s2 taskIds = %v", got.TaskIDs)
	}
}
