package v2_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestSessionsV2_CRUD walks a session through create, get, PATCH and delete, with the error of each step
// (404, 409, 412, 304, 422 for strict enums and unknown members) in the problem+json shape, and checks
// the events recorded.
func TestSessionsV2_CRUD(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	proj := env.Project("P")
	t1 := env.Task(proj.ID, maestro.TaskCreate{Title: "one"})
	t2 := env.Task(proj.ID, maestro.TaskCreate{Title: "two"})
	seq := env.LastSeq()

	r := env.Do("POST", "/api/v2/sessions", fmt.Sprintf(`{"projectId": %q, "taskIds": [%q, %q, %q], "name": "Agent",
		"status": "running", "env": {"A": "1"}, "metadata": {"role": "worker", "z": 1, "a": 2}}`, proj.ID, t1.ID, t2.ID, t1.ID))
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	s := r.Object(t)
	id := s["id"].(string)
	etag := r.Header.Get("ETag")
	if !strings.HasPrefix(id, "sess_") || s["status"] != "running" || mustJSON(s["taskIds"]) != mustJSON([]string{t1.ID, t2.ID}) ||
		s["agentId"] != nil || s["completedAt"] != nil || s["strategy"] != "simple" || s["hostname"] != "test-host" ||
		r.Header.Get("Location") != "/api/v2/sessions/"+id || etag == "" {
		t.Fatalf("created %s %v", r.Body, r.Header)
	}
	if _, ok := s["timeline"]; ok {
		t.Fatalf("a v2 session carries its timeline: %s", r.Body)
	}
	if !strings.Contains(string(r.Body), `"metadata":{"role":"worker","z":1,"a":2}`) {
		t.Fatalf("metadata not kept as sent: %s", r.Body)
	}
	path := "/api/v2/sessions/" + id
	env.Run(t, []apitest.Case{
		{Name: "create: caller id", Method: "POST", Path: "/api/v2/sessions", Body: map[string]any{"id": "agent-1", "projectId": proj.ID}, Status: 201,
			Check: func(t *testing.T, r *apitest.Response) {
				if o := r.Object(t); o["id"] != "agent-1" || mustJSON(o["taskIds"]) != "[]" || o["status"] != "idle" || o["name"] != "Unnamed Session" {
					t.Fatalf("%s", r.Body)
				}
			}},
		{Name: "create: caller id taken", Method: "POST", Path: "/api/v2/sessions", Body: map[string]any{"id": "agent-1", "projectId": proj.ID}, Status: 409,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 409, "CONFLICT") }},
		{Name: "create: bad caller id", Method: "POST", Path: "/api/v2/sessions", Body: map[string]any{"id": "a/b", "projectId": proj.ID}, Status: 422,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 422, "VALIDATION_ERROR") }},
		{Name: "create: status outside the enum", Method: "POST", Path: "/api/v2/sessions", Body: map[string]any{"projectId": proj.ID, "status": "busy"}, Status: 422,
			Check: func(t *testing.T, r *apitest.Response) {
				if p := problem(t, r, 422, "VALIDATION_ERROR"); !strings.Contains(p["detail"].(string), "status") {
					t.Fatalf("%v", p)
				}
			}},
		{Name: "create: strategy tree", Method: "POST", Path: "/api/v2/sessions", Body: map[string]any{"projectId": proj.ID, "strategy": "tree"}, Status: 422},
		{Name: "create: v1 legacy taskId", Method: "POST", Path: "/api/v2/sessions", Body: map[string]any{"projectId": proj.ID, "taskId": t1.ID}, Status: 422},
		{Name: "create: metadata not an object", Method: "POST", Path: "/api/v2/sessions", Body: map[string]any{"projectId": proj.ID, "metadata": []int{1}}, Status: 422},
		{Name: "create: no project", Method: "POST", Path: "/api/v2/sessions", Body: map[string]any{"taskIds": []string{}}, Status: 422},
		{Name: "create: missing project", Method: "POST", Path: "/api/v2/sessions", Body: map[string]any{"projectId": "proj_x"}, Status: 404,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 404, "NOT_FOUND") }},
		{Name: "create: missing task", Method: "POST", Path: "/api/v2/sessions", Body: map[string]any{"projectId": proj.ID, "taskIds": []string{"task_x"}}, Status: 404},
		{Name: "get", Method: "GET", Path: path, Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			if r.Header.Get("ETag") != etag || r.Object(t)["id"] != id {
				t.Fatalf("%v %s", r.Header, r.Body)
			}
		}},
		{Name: "get: unchanged", Method: "GET", Path: path, Header: []string{"If-None-Match", etag}, Status: 304,
			Check: func(t *testing.T, r *apitest.Response) {
				if len(r.Body) != 0 || r.Header.Get("ETag") != etag {
					t.Fatalf("%v %q", r.Header, r.Body)
				}
			}},
		{Name: "get: missing", Method: "GET", Path: "/api/v2/sessions/sess_x", Status: 404,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 404, "NOT_FOUND") }},
		{Name: "patch: stale If-Match", Method: "PATCH", Path: path, Header: []string{"If-Match", `"stale"`}, Body: map[string]any{"status": "idle"}, Status: 412,
			Check: func(t *testing.T, r *apitest.Response) {
				if p := problem(t, r, 412, "PRECONDITION_FAILED"); p["details"].(map[string]any)["etag"] != etag {
					t.Fatalf("%v", p)
				}
			}},
		{Name: "patch: status completed, env merged, agent, current If-Match", Method: "PATCH", Path: path, Header: []string{"If-Match", etag},
			Body: map[string]any{"status": "completed", "env": map[string]string{"B": "2"}, "agentId": "claude"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				o := r.Object(t)
				if o["status"] != "completed" || o["completedAt"] == nil || o["agentId"] != "claude" ||
					mustJSON(o["env"]) != `{"A":"1","B":"2"}` || r.Header.Get("ETag") == etag {
					t.Fatalf("%s %v", r.Body, r.Header)
				}
			}},
		{Name: "patch: the old ETag is stale now", Method: "PATCH", Path: path, Header: []string{"If-Match", etag}, Body: map[string]any{}, Status: 412},
		{Name: "patch: taskIds replace, tasks follow", Method: "PATCH", Path: path, Body: map[string]any{"taskIds": []string{t2.ID}}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if mustJSON(r.Object(t)["taskIds"]) != mustJSON([]string{t2.ID}) {
					t.Fatalf("%s", r.Body)
				}
				got, err := env.Services.Tasks.Get(context.Background(), t1.ID)
				if err != nil || len(got.SessionIDs) != 0 {
					t.Fatalf("task side kept the link: %v %v", got.SessionIDs, err)
				}
			}},
		{Name: "patch: status outside the enum", Method: "PATCH", Path: path, Body: map[string]any{"status": "done"}, Status: 422},
		{Name: "patch: timeline is a sub-collection in v2", Method: "PATCH", Path: path, Body: map[string]any{"timeline": []any{map[string]any{"type": "x"}}}, Status: 422},
		{Name: "patch: completedAt is the server's", Method: "PATCH", Path: path, Body: map[string]any{"completedAt": 5}, Status: 422},
		{Name: "patch: missing task", Method: "PATCH", Path: path, Body: map[string]any{"taskIds": []string{"task_x"}}, Status: 404},
		{Name: "patch: missing session", Method: "PATCH", Path: "/api/v2/sessions/sess_x", Body: map[string]any{"status": "idle"}, Status: 404},
		{Name: "delete: stale If-Match", Method: "DELETE", Path: path, Header: []string{"If-Match", etag}, Status: 412},
		{Name: "delete", Method: "DELETE", Path: path, Status: 204, Check: func(t *testing.T, r *apitest.Response) {
			if len(r.Body) != 0 {
				t.Fatalf("%q", r.Body)
			}
		}},
		{Name: "delete: gone", Method: "DELETE", Path: path, Status: 404},
		{Name: "get: gone", Method: "GET", Path: path, Status: 404},
	})
	want := []string{"session:created", "task:session_added", "task:session_added", // create
		"session:created",                 // caller id
		"session:updated",                 // PATCH status/env/agent
		"session:updated", "task:updated", // PATCH taskIds: t1 unlinked
		"session:deleted"}
	if got := env.OutboxTypesSince(seq); mustJSON(got) != mustJSON(want) {
		t.Fatalf("events %v\nwant %v", got, want)
	}
}

// TestSessionsV2_Links: PUT makes sure a link exists (a new one records the timeline entry and both
// events; an existing one changes nothing, ETag included), DELETE makes sure it does not.
func TestSessionsV2_Links(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	proj := env.Project("P")
	task := env.Task(proj.ID, maestro.TaskCreate{})
	sess := create(t, env, "/api/v2/sessions", map[string]any{"projectId": proj.ID})
	path := "/api/v2/sessions/" + sess["id"].(string) + "/tasks/" + task.ID

	seq := env.LastSeq()
	r := env.Do("PUT", path, nil)
	if r.Status != 200 || mustJSON(r.Object(t)["taskIds"]) != mustJSON([]string{task.ID}) {
		t.Fatalf("link: %d %s", r.Status, r.Body)
	}
	etag := r.Header.Get("ETag")
	if got := env.OutboxTypesSince(seq); mustJSON(got) != `["session:task_added","task:session_added"]` {
		t.Fatalf("link events %v", got)
	}
	seq = env.LastSeq()
	r = env.Do("PUT", path, nil)
	if r.Status != 200 || r.Header.Get("ETag") != etag || env.LastSeq() != seq {
		t.Fatalf("a repeated PUT changed something: %d %v (etag was %s)", r.Status, r.Header, etag)
	}
	timeline := allPages(t, env, "/api/v2/sessions/"+sess["id"].(string)+"/timeline?limit=50")
	if len(timeline) != 2 || timeline[1]["type"] != "task_started" || timeline[1]["message"] != "Added task to session" {
		t.Fatalf("timeline %v", timeline)
	}
	env.Run(t, []apitest.Case{
		{Name: "unlink", Method: "DELETE", Path: path, Status: 204, Check: func(t *testing.T, _ *apitest.Response) {
			if got := env.OutboxTypesSince(seq); mustJSON(got) != `["session:task_removed","task:session_removed"]` {
				t.Fatalf("unlink events %v", got)
			}
			seq = env.LastSeq()
		}},
		{Name: "unlink again changes nothing", Method: "DELETE", Path: path, Status: 204, Check: func(t *testing.T, _ *apitest.Response) {
			if env.LastSeq() != seq {
				t.Fatal("a repeated unlink recorded events")
			}
		}},
		{Name: "missing task", Method: "PUT", Path: "/api/v2/sessions/" + sess["id"].(string) + "/tasks/task_x", Status: 404,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 404, "NOT_FOUND") }},
		{Name: "missing session", Method: "DELETE", Path: "/api/v2/sessions/sess_x/tasks/" + task.ID, Status: 404},
		{Name: "v1's POST is not v2", Method: "POST", Path: path, Status: 404},
	})
}

// TestSessionsV2_List checks each filter, each sort, totals, and the errors of the list.
func TestSessionsV2_List(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p1, p2 := env.Project("A"), env.Project("B")
	task := env.Task(p1.ID, maestro.TaskCreate{})
	statuses := []string{"idle", "running", "completed", "failed", "working", "completed"}
	var ids []string
	for i, st := range statuses {
		body := map[string]any{"projectId": p1.ID, "status": st}
		if i%2 == 1 {
			body["projectId"] = p2.ID
		}
		if i < 3 {
			body["taskIds"] = []string{task.ID}
		}
		ids = append(ids, create(t, env, "/api/v2/sessions", body)["id"].(string))
	}
	// Touch the first session last, so that lastActivity orders differently from startedAt.
	if r := env.Do("POST", "/api/v2/sessions/"+ids[0]+"/events", map[string]any{"type": "ping"}); r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	pick := func(idx ...int) []string {
		out := []string{}
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", pick(0, 1, 2, 3, 4, 5)},
		{"sort=-startedAt", pick(5, 4, 3, 2, 1, 0)},
		{"sort=lastActivity", pick(1, 2, 3, 4, 5, 0)},
		{"sort=-lastActivity", pick(0, 5, 4, 3, 2, 1)},
		{"projectId=" + p1.ID, pick(0, 2, 4)},
		{"projectId=" + p2.ID + "&sort=-startedAt", pick(5, 3, 1)},
		{"taskId=" + task.ID, pick(0, 1, 2)},
		{"taskId=" + task.ID + "&projectId=" + p2.ID, pick(1)},
		{"status=completed", pick(2, 5)},
		{"status=completed&status=running", pick(1, 2, 5)},
		{"active=true", pick(0, 1, 3, 4)},
		{"active=true&status=completed", []string{}},
		{"active=true&status=completed&status=idle", pick(0)},
		{"active=true&taskId=" + task.ID + "&sort=-lastActivity", pick(0, 1)},
		{"projectId=" + p1.ID + "&active=true&sort=lastActivity", pick(4, 0)},
		{"projectId=proj_none", []string{}},
	} {
		for _, limit := range []int{1, 2, 50} {
			items, total := allPagesTotal(t, env, fmt.Sprintf("/api/v2/sessions?limit=%d&total=true&%s", limit, c.query))
			if got := idsOf(items); mustJSON(got) != mustJSON(c.want) {
				t.Errorf("%s limit %d: %v\nwant %v", c.query, limit, got, c.want)
			}
			if total == nil || *total != int64(len(c.want)) {
				t.Errorf("%s: total %v, want %d", c.query, total, len(c.want))
			}
		}
	}
	first := getPage(t, env, "/api/v2/sessions?limit=2")
	if first.Total != nil || first.NextCursor == nil {
		t.Fatalf("total without total=true, or no cursor: %+v", first)
	}
	if _, ok := first.Items[0]["events"]; ok {
		t.Fatal("list items carry events")
	}
	for _, q := range []string{"status=busy", "sort=name", "limit=0", "limit=501", "active=maybe",
		"projectId=" + p1.ID + "&cursor=" + *first.NextCursor, "cursor=garbage"} {
		problem(t, env.Do("GET", "/api/v2/sessions?"+q, nil), 422, "VALIDATION_ERROR")
	}
}

// TestSessionsV2_PaginationUnderConcurrentInserts pages through the sessions, in every sort, while
// other requests create sessions: every session that existed when paging began is seen exactly once, and
// none twice.
func TestSessionsV2_PaginationUnderConcurrentInserts(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	proj := env.Project("P")
	var before []string
	for range 40 {
		before = append(before, create(t, env, "/api/v2/sessions", map[string]any{"projectId": proj.ID})["id"].(string))
	}
	for _, sort := range []string{"startedAt", "-startedAt", "lastActivity", "-lastActivity"} {
		items, inserted := pageWhileWriting(t, func(i int) bool {
			return env.Do("POST", "/api/v2/sessions", map[string]any{"projectId": proj.ID}).Status == 201
		}, func() []map[string]any {
			return allPages(t, env, "/api/v2/sessions?limit=7&projectId="+proj.ID+"&sort="+sort)
		})
		if inserted == 0 {
			t.Fatal("no insert ran while paging")
		}
		exactlyOnce(t, "sort "+sort, idsOf(items), before)
	}
}

// TestSessionsV2_Entries covers both sub-collections: appending (201 with the entry; strict types),
// paging in both orders with a type filter and totals, idempotent appends, and the session's ETag moving.
func TestSessionsV2_Entries(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	proj := env.Project("P")
	task := env.Task(proj.ID, maestro.TaskCreate{})
	sess := create(t, env, "/api/v2/sessions", map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}})
	base := "/api/v2/sessions/" + sess["id"].(string)
	etag := env.Do("GET", base, nil).Header.Get("ETag")

	seq := env.LastSeq()
	r := env.Do("POST", base+"/timeline", map[string]any{"message": "half way", "type": "milestone", "taskId": task.ID,
		"metadata": map[string]any{"pct": 50}})
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	e := r.Object(t)
	if !strings.HasPrefix(e["id"].(string), "evt_") || e["type"] != "milestone" || e["message"] != "half way" ||
		e["taskId"] != task.ID || e["timestamp"] == nil || mustJSON(e["metadata"]) != `{"pct":50}` {
		t.Fatalf("entry %s", r.Body)
	}
	if got := env.OutboxTypesSince(seq); mustJSON(got) != `["session:updated"]` {
		t.Fatalf("events %v", got)
	}
	if r := env.Do("GET", base, nil, "If-None-Match", etag); r.Status != 200 || r.Header.Get("ETag") == etag {
		t.Fatalf("the ETag did not move with the timeline: %d %v", r.Status, r.Header)
	}
	r = env.Do("POST", base+"/timeline", map[string]any{"message": "default type"})
	if r.Status != 201 || r.Object(t)["type"] != "progress" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r = env.Do("POST", base+"/events", map[string]any{"type": "file_modified", "data": map[string]any{"file": "a.go"}})
	if r.Status != 201 || mustJSON(r.Object(t)["data"]) != `{"file":"a.go"}` {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// An append with an Idempotency-Key is made once, whatever the retries.
	k1 := env.Do("POST", base+"/events", map[string]any{"type": "tool_use", "data": 1}, "Idempotency-Key", "ev-1")
	k2 := env.Do("POST", base+"/events", map[string]any{"type": "tool_use", "data": 1}, "Idempotency-Key", "ev-1")
	if k1.Status != 201 || k2.Status != 201 || string(k1.Body) != string(k2.Body) || k2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("idempotent append: %d %s / %d %s", k1.Status, k1.Body, k2.Status, k2.Body)
	}
	for i := range 9 {
		if r := env.Do("POST", base+"/events", map[string]any{"type": "step", "data": i}); r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}

	events, total := allPagesTotal(t, env, base+"/events?limit=4&total=true")
	if len(events) != 11 || *total != 11 || events[0]["type"] != "file_modified" || events[1]["type"] != "tool_use" {
		t.Fatalf("%d events (total %v): %v", len(events), total, events)
	}
	steps, total := allPagesTotal(t, env, base+"/events?limit=4&total=true&type=step&sort=-appended")
	if len(steps) != 9 || *total != 9 || steps[0]["data"] != float64(8) || steps[8]["data"] != float64(0) {
		t.Fatalf("steps newest first: %v", steps)
	}
	timeline := allPages(t, env, base+"/timeline?limit=1")
	var types []string
	for _, e := range timeline {
		types = append(types, e["type"].(string))
	}
	if mustJSON(types) != `["session_started","task_started","milestone","progress"]` {
		t.Fatalf("timeline %v", types)
	}
	env.Run(t, []apitest.Case{
		{Name: "timeline: type outside the pattern", Method: "POST", Path: base + "/timeline", Body: map[string]any{"message": "m", "type": "Task-Done"}, Status: 422,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 422, "VALIDATION_ERROR") }},
		{Name: "timeline: type too long", Method: "POST", Path: base + "/timeline", Body: map[string]any{"message": "m", "type": "a" + strings.Repeat("b", 64)}, Status: 422},
		{Name: "timeline: no message", Method: "POST", Path: base + "/timeline", Body: map[string]any{"type": "progress"}, Status: 422},
		{Name: "timeline: metadata not an object", Method: "POST", Path: base + "/timeline", Body: map[string]any{"message": "m", "metadata": "x"}, Status: 422},
		{Name: "timeline: unknown member", Method: "POST", Path: base + "/timeline", Body: map[string]any{"message": "m", "id": "evt_mine"}, Status: 422},
		{Name: "timeline: missing session", Method: "POST", Path: "/api/v2/sessions/sess_x/timeline", Body: map[string]any{"message": "m"}, Status: 404,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 404, "NOT_FOUND") }},
		{Name: "events: no type", Method: "POST", Path: base + "/events", Body: map[string]any{"data": 1}, Status: 422},
		{Name: "events: missing session", Method: "GET", Path: "/api/v2/sessions/sess_x/events", Status: 404},
		{Name: "timeline: bad sort", Method: "GET", Path: base + "/timeline?sort=seq", Status: 422},
		{Name: "timeline: cursor of the events", Method: "GET", Path: base + "/timeline?cursor=" + *getPage(t, env, base+"/events?limit=1").NextCursor, Status: 422},
	})
}

// TestSessionsV2_EntriesUnderConcurrentAppends pages through a timeline and an event log, in both
// orders, while other requests append to them: every entry that existed when paging began is seen
// exactly once, none twice, and the pages keep the append order.
func TestSessionsV2_EntriesUnderConcurrentAppends(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	proj := env.Project("P")
	base := "/api/v2/sessions/" + create(t, env, "/api/v2/sessions", map[string]any{"projectId": proj.ID})["id"].(string)
	for _, kind := range []string{"timeline", "events"} {
		body := func(i int) map[string]any {
			if kind == "timeline" {
				return map[string]any{"message": fmt.Sprint(i)}
			}
			return map[string]any{"type": "n", "data": i}
		}
		var before []string
		for i := range 30 {
			before = append(before, create(t, env, base+"/"+kind, body(i))["id"].(string))
		}
		for _, sort := range []string{"appended", "-appended"} {
			items, inserted := pageWhileWriting(t, func(i int) bool {
				return env.Do("POST", base+"/"+kind, body(100+i)).Status == 201
			}, func() []map[string]any {
				return allPages(t, env, base+"/"+kind+"?limit=4&sort="+sort)
			})
			if inserted == 0 {
				t.Fatal("no append ran while paging")
			}
			exactlyOnce(t, kind+" "+sort, idsOf(items), before)
			// Entries are stamped inside their (serialised) append transactions, so timestamps follow the
			// append order.
			for i := 1; i < len(items); i++ {
				a, b := items[i-1]["timestamp"].(float64), items[i]["timestamp"].(float64)
				if (sort == "appended" && a >= b) || (sort == "-appended" && a <= b) {
					t.Fatalf("%s %s out of order at %d: %v then %v", kind, sort, i, a, b)
				}
			}
			before = idsOf(items)
		}
	}
}

// pageWhileWriting runs page while two writers call write (at most 25 times each); paging starts once
// a write succeeded. It returns the pages and the number of writes that succeeded.
func pageWhileWriting(t *testing.T, write func(i int) bool, page func() []map[string]any) ([]map[string]any, int64) {
	t.Helper()
	type result struct{ n int64 }
	started := make(chan struct{})
	stop := make(chan struct{})
	done := make(chan result, 2)
	var once sync.Once
	for range 2 {
		go func() {
			var n int64
			defer func() { once.Do(func() { close(started) }); done <- result{n} }()
			for i := 0; i < 25; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if !write(i) {
					t.Errorf("concurrent write failed")
					return
				}
				n++
				once.Do(func() { close(started) })
			}
		}()
	}
	<-started
	items := page()
	close(stop)
	a, b := <-done, <-done
	return items, a.n + b.n
}

// exactlyOnce fails unless no id appears twice and every id of before appears.
func exactlyOnce(t *testing.T, what string, got, before []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
		if seen[id] == 2 {
			t.Errorf("%s: %s seen twice", what, id)
		}
	}
	for _, id := range before {
		if seen[id] != 1 {
			t.Errorf("%s: %s (there before paging) seen %d times", what, id, seen[id])
		}
	}
}
