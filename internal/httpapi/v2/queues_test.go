package v2_test

import (
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestQueuesV2 drives a queue through every step with the v2 responses (the item changed, what is next,
// the queue after the step, an ETag), the state machine's refusals (422), push with an Idempotency-Key,
// and the shared preamble (404 session, 422 not a queue session).
func TestQueuesV2(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	seedTemplates(t, env)
	proj := env.Project("P")
	var tasks []string
	for range 4 {
		tasks = append(tasks, env.Task(proj.ID, maestro.TaskCreate{}).ID)
	}
	sp := create(t, env, "/api/v2/sessions/spawn", map[string]any{"projectId": proj.ID, "taskIds": tasks[:3], "strategy": "queue"})
	sid := sp["sessionId"].(string)
	simple := create(t, env, "/api/v2/sessions", map[string]any{"projectId": proj.ID})["id"].(string)
	base := "/api/v2/sessions/" + sid + "/queue"

	r := env.Do("GET", base, nil)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	etag := r.Header.Get("ETag")
	var view struct {
		Queue struct {
			SessionID    string           `json:"sessionId"`
			Items        []map[string]any `json:"items"`
			CurrentIndex int              `json:"currentIndex"`
		} `json:"queue"`
		Stats map[string]int `json:"stats"`
		Next  map[string]any `json:"next"`
	}
	r.Decode(t, &view)
	if view.Queue.SessionID != sid || len(view.Queue.Items) != 3 || view.Queue.CurrentIndex != -1 || view.Stats["queued"] != 3 ||
		view.Next["taskId"] != tasks[0] || view.Queue.Items[0]["startedAt"] != nil {
		t.Fatalf("%s", r.Body)
	}
	step := func(t *testing.T, r *apitest.Response, item, next string, stats map[string]int) {
		t.Helper()
		var s struct {
			Item    map[string]any `json:"item"`
			Next    map[string]any `json:"next"`
			HasMore bool           `json:"hasMore"`
			Message string         `json:"message"`
			Queue   map[string]any `json:"queue"`
			Stats   map[string]int `json:"stats"`
		}
		r.Decode(t, &s)
		gotItem, gotNext := "", ""
		if s.Item != nil {
			gotItem = s.Item["taskId"].(string)
		}
		if s.Next != nil {
			gotNext = s.Next["taskId"].(string)
		}
		if gotItem != item || gotNext != next || s.HasMore != (next != "") || s.Message == "" || s.Queue["sessionId"] != sid ||
			r.Header.Get("ETag") == "" || r.Header.Get("ETag") == etag {
			t.Fatalf("step %s %v", r.Body, r.Header)
		}
		for k, v := range stats {
			if s.Stats[k] != v {
				t.Fatalf("stats %v, want %v", s.Stats, stats)
			}
		}
		etag = r.Header.Get("ETag")
	}
	seq := env.LastSeq()
	env.Run(t, []apitest.Case{
		{Name: "get: unchanged", Method: "GET", Path: base, Header: []string{"If-None-Match", etag}, Status: 304},
		{Name: "complete with nothing processing", Method: "POST", Path: base + "/complete", Status: 422,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 422, "VALIDATION_ERROR") }},
		{Name: "start", Method: "POST", Path: base + "/start", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			step(t, r, tasks[0], tasks[1], map[string]int{"processing": 1, "queued": 2})
			task, _ := env.Services.Tasks.Get(t.Context(), tasks[0])
			if task.SessionStatus == nil || *task.SessionStatus != "working" {
				t.Fatalf("task %+v", task)
			}
		}},
		{Name: "start while processing", Method: "POST", Path: base + "/start", Status: 422},
		{Name: "get: changed", Method: "GET", Path: base, Header: []string{"If-None-Match", etag}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if r.Object(t)["queue"].(map[string]any)["currentIndex"] != float64(0) {
					t.Fatalf("%s", r.Body)
				}
			}},
		{Name: "complete", Method: "POST", Path: base + "/complete", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			step(t, r, tasks[0], tasks[1], map[string]int{"completed": 1, "queued": 2})
		}},
		{Name: "start the second", Method: "POST", Path: base + "/start", Body: map[string]any{}, Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			step(t, r, tasks[1], tasks[2], nil)
		}},
		{Name: "fail it", Method: "POST", Path: base + "/fail", Body: map[string]any{"reason": "tests red"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				step(t, r, tasks[1], tasks[2], map[string]int{"failed": 1})
				if r.Object(t)["item"].(map[string]any)["failReason"] != "tests red" {
					t.Fatalf("%s", r.Body)
				}
			}},
		{Name: "fail: unknown member", Method: "POST", Path: base + "/fail", Body: map[string]any{"why": "x"}, Status: 422},
		{Name: "push", Method: "POST", Path: base + "/push", Body: map[string]any{"taskId": tasks[3]}, Header: []string{"Idempotency-Key", "push-1"}, Status: 201,
			Check: func(t *testing.T, r *apitest.Response) {
				step(t, r, tasks[3], tasks[2], map[string]int{"total": 4, "queued": 2})
			}},
		{Name: "push: retried with the key", Method: "POST", Path: base + "/push", Body: map[string]any{"taskId": tasks[3]}, Header: []string{"Idempotency-Key", "push-1"}, Status: 201,
			Check: func(t *testing.T, r *apitest.Response) {
				if r.Header.Get("Idempotent-Replayed") != "true" || r.Object(t)["stats"].(map[string]any)["total"] != float64(4) {
					t.Fatalf("%v %s", r.Header, r.Body)
				}
			}},
		{Name: "push: already in the queue", Method: "POST", Path: base + "/push", Body: map[string]any{"taskId": tasks[0]}, Status: 422},
		{Name: "push: missing task", Method: "POST", Path: base + "/push", Body: map[string]any{"taskId": "task_x"}, Status: 404},
		{Name: "push: no taskId", Method: "POST", Path: base + "/push", Body: map[string]any{}, Status: 422},
		{Name: "skip", Method: "POST", Path: base + "/skip", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			step(t, r, tasks[2], tasks[3], map[string]int{"skipped": 1})
		}},
		{Name: "items: queued and failed", Method: "GET", Path: base + "/items?status=queued&status=failed", Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				var l struct {
					Items      []map[string]any `json:"items"`
					NextCursor *string          `json:"nextCursor"`
					Stats      map[string]int   `json:"stats"`
				}
				r.Decode(t, &l)
				if len(l.Items) != 2 || l.Items[0]["taskId"] != tasks[1] || l.Items[1]["taskId"] != tasks[3] || l.NextCursor != nil || l.Stats["total"] != 4 {
					t.Fatalf("%s", r.Body)
				}
			}},
		{Name: "items: bad status", Method: "GET", Path: base + "/items?status=done", Status: 422},
		{Name: "start the last", Method: "POST", Path: base + "/start", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			step(t, r, tasks[3], "", nil)
		}},
		{Name: "complete the last", Method: "POST", Path: base + "/complete", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			step(t, r, tasks[3], "", map[string]int{"completed": 2, "queued": 0})
		}},
		{Name: "start on an empty queue", Method: "POST", Path: base + "/start", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			o := r.Object(t)
			if o["item"] != nil || o["next"] != nil || o["hasMore"] != false {
				t.Fatalf("%s", r.Body)
			}
		}},
		{Name: "skip with nothing left", Method: "POST", Path: base + "/skip", Status: 422},
		{Name: "not a queue session", Method: "GET", Path: "/api/v2/sessions/" + simple + "/queue", Status: 422,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 422, "VALIDATION_ERROR") }},
		{Name: "missing session", Method: "POST", Path: "/api/v2/sessions/sess_x/queue/start", Status: 404,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 404, "NOT_FOUND") }},
	})
	want := `["queue:item_started","queue:item_completed","queue:item_started","queue:item_failed","queue:item_pushed",` +
		`"queue:item_skipped","queue:item_started","queue:item_completed"]`
	if got := mustJSON(env.OutboxTypesSince(seq)); got != want {
		t.Fatalf("events %s\nwant %s", got, want)
	}
}
