package v1_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

var sessQueueRoutes = []struct{ method, suffix string }{
	{"GET", "/queue"}, {"GET", "/queue/top"}, {"GET", "/queue/items"}, {"POST", "/queue/start"},
	{"POST", "/queue/complete"}, {"POST", "/queue/fail"}, {"POST", "/queue/skip"}, {"POST", "/queue/push"},
}

func TestQueueAPI_Preamble(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		p := env.Project("")
		tk := env.Task(p.ID, maestro.TaskCreate{})
		simple := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{}})
		// A queue-strategy session made by POST /sessions has no queue (SPEC §6.1).
		noQueue := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{}, "strategy": "queue"})
		var cases []apitest.Case
		for _, rt := range sessQueueRoutes {
			body := map[string]any{"taskId": tk.ID}
			cases = append(cases,
				apitest.Case{Name: rt.suffix + " session missing", Method: rt.method, Path: pre + "/sessions/sess_nope" + rt.suffix, Body: body,
					Status: 404, Check: sessWantErr(maestro.CodeNotFound, "Session with id 'sess_nope' not found")},
				apitest.Case{Name: rt.suffix + " not a queue session", Method: rt.method, Path: pre + "/sessions/" + simple.ID + rt.suffix, Body: body,
					Status: 400, Check: sessWantErr(maestro.CodeValidation, "Session "+simple.ID+" does not use queue strategy")},
				apitest.Case{Name: rt.suffix + " no queue", Method: rt.method, Path: pre + "/sessions/" + noQueue.ID + rt.suffix, Body: body,
					Status: 404, Check: sessWantErr(maestro.CodeNotFound, "Queue with id '"+noQueue.ID+"' not found")},
			)
		}
		cases = append(cases,
			apitest.Case{Name: "push: strategy before taskId", Method: "POST", Path: pre + "/sessions/" + simple.ID + "/queue/push",
				Status: 400, Check: sessWantErr(maestro.CodeValidation, "Session "+simple.ID+" does not use queue strategy")},
			apitest.Case{Name: "push: taskId before the queue", Method: "POST", Path: pre + "/sessions/" + noQueue.ID + "/queue/push", Body: map[string]any{},
				Status: 400, Check: sessWantErr(maestro.CodeValidation, "taskId is required")},
		)
		env.Run(t, cases)
	})
}

// sessQueueReply is every member a queue reply may have.
type sessQueueReply struct {
	Success       bool               `json:"success"`
	HasMore       *bool              `json:"hasMore"`
	Empty         bool               `json:"empty"`
	Message       string             `json:"message"`
	Item          *maestro.QueueItem `json:"item"`
	CompletedItem *maestro.QueueItem `json:"completedItem"`
	FailedItem    *maestro.QueueItem `json:"failedItem"`
	SkippedItem   *maestro.QueueItem `json:"skippedItem"`
	NextItem      *maestro.QueueItem `json:"nextItem"`
	Queue         *maestro.Queue     `json:"queue"`
	Items         []maestro.QueueItem
	Stats         *maestro.QueueStats `json:"stats"`
}

func TestQueueAPI_StateMachine(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		p := env.Project("")
		t1 := env.Task(p.ID, maestro.TaskCreate{Title: "one"})
		t2 := env.Task(p.ID, maestro.TaskCreate{Title: "two"})
		t3 := env.Task(p.ID, maestro.TaskCreate{Title: "three"})
		t4 := env.Task(p.ID, maestro.TaskCreate{Title: "four"})
		s := sessSpawn(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{t1.ID, t2.ID, t3.ID}, "strategy": "queue"})
		base := pre + "/sessions/" + s.ID + "/queue"
		lastUpdated := int64(0)

		// call sends one request, checks its status and the events it recorded, and decodes the reply.
		call := func(t *testing.T, method, suffix string, body any, status int, events ...string) (sessQueueReply, []maestro.Event) {
			t.Helper()
			seq := env.LastSeq()
			r := env.Do(method, base+suffix, body)
			if r.Status != status {
				t.Fatalf("%s %s: %d %s", method, suffix, r.Status, r.Body)
			}
			var out sessQueueReply
			r.Decode(t, &out)
			evs := sessWantTypes(t, env, seq, events...)
			for _, e := range evs {
				if e.ProjectID != p.ID {
					t.Errorf("%s is not tagged with the project", e.Type)
				}
			}
			return out, evs
		}
		state := func(t *testing.T) maestro.Queue {
			t.Helper()
			out, _ := call(t, "GET", "", nil, 200)
			if out.Queue.UpdatedAt < lastUpdated {
				t.Errorf("queue updatedAt went back")
			}
			lastUpdated = out.Queue.UpdatedAt
			return *out.Queue
		}
		wantTaskStatus := func(t *testing.T, tk maestro.Task, want string, moved bool) {
			t.Helper()
			got := sessTask(t, env, tk.ID)
			if (got.SessionStatus == nil && want != "") || (got.SessionStatus != nil && *got.SessionStatus != want) {
				t.Errorf("task %s sessionStatus = %v, want %q", tk.Title, got.SessionStatus, want)
			}
			if moved != (got.UpdatedAt > tk.UpdatedAt) {
				t.Errorf("task %s updatedAt moved = %t, want %t", tk.Title, got.UpdatedAt > tk.UpdatedAt, moved)
			}
		}
		// The spawn's links moved the tasks' updatedAt; compare later steps with that.
		t1, t2, t3 = sessTask(t, env, t1.ID), sessTask(t, env, t2.ID), sessTask(t, env, t3.ID)

		t.Run("initial", func(t *testing.T) {
			out, _ := call(t, "GET", "", nil, 200)
			q := out.Queue
			if q.SessionID != s.ID || q.Strategy != "queue" || q.CurrentIndex != -1 || len(q.Items) != 3 ||
				q.Items[0].TaskID != t1.ID || q.Items[2].TaskID != t3.ID || q.Items[0].Status != "queued" ||
				q.Items[0].AddedAt != s.StartedAt || q.Items[0].StartedAt != nil || q.CreatedAt != s.StartedAt {
				t.Errorf("queue = %+v", q)
			}
			if *out.Stats != (maestro.QueueStats{Total: 3, Queued: 3}) {
				t.Errorf("stats = %+v", out.Stats)
			}
			top, _ := call(t, "GET", "/top", nil, 200)
			if top.HasMore == nil || !*top.HasMore || top.Item.TaskID != t1.ID || top.Message != "" {
				t.Errorf("top = %+v", top)
			}
			items, _ := call(t, "GET", "/items", nil, 200)
			if len(items.Items) != 3 || items.Stats.Total != 3 {
				t.Errorf("items = %+v", items)
			}
		})

		t.Run("start", func(t *testing.T) {
			out, evs := call(t, "POST", "/start", nil, 200, maestro.EventQueueItemStarted)
			if !out.Success || out.Empty || out.Item.TaskID != t1.ID || out.Item.Status != "processing" || out.Item.StartedAt == nil ||
				out.Message != "Started processing task "+t1.ID {
				t.Errorf("start = %+v", out)
			}
			if got := sessPayload(t, evs[0]); got["sessionId"] != s.ID || got["taskId"] != t1.ID || len(got) != 2 {
				t.Errorf("queue:item_started = %v", got)
			}
			if q := state(t); q.CurrentIndex != 0 || q.Items[0].Status != "processing" {
				t.Errorf("queue = %+v", q)
			}
			wantTaskStatus(t, t1, "working", true)
			r := env.Do("POST", base+"/start", nil)
			if r.Status != 400 {
				t.Fatalf("second start: %d", r.Status)
			}
			sessWantErr(maestro.CodeValidation, "Already processing task "+t1.ID+". Complete or fail it first.")(t, r)
			top, _ := call(t, "GET", "/top", nil, 200)
			if top.Item.TaskID != t2.ID {
				t.Errorf("top while processing = %+v", top.Item)
			}
		})

		t.Run("complete", func(t *testing.T) {
			before := sessTask(t, env, t1.ID)
			out, evs := call(t, "POST", "/complete", nil, 200, maestro.EventQueueItemCompleted)
			if !out.Success || out.CompletedItem.TaskID != t1.ID || out.CompletedItem.Status != "completed" ||
				out.CompletedItem.CompletedAt == nil || out.NextItem.TaskID != t2.ID || !*out.HasMore ||
				out.Message != "Completed "+t1.ID+". Next: "+t2.ID {
				t.Errorf("complete = %+v", out)
			}
			if got := sessPayload(t, evs[0]); got["taskId"] != t1.ID {
				t.Errorf("queue:item_completed = %v", got)
			}
			if q := state(t); q.CurrentIndex != -1 {
				t.Errorf("currentIndex = %d", q.CurrentIndex)
			}
			wantTaskStatus(t, before, "completed", true)
			for _, step := range []string{"/complete", "/fail"} {
				r := env.Do("POST", base+step, nil)
				if r.Status != 400 {
					t.Fatalf("%s with nothing processing: %d", step, r.Status)
				}
				sessWantErr(maestro.CodeValidation, `No item currently being processed. Run "start" first.`)(t, r)
			}
		})

		t.Run("fail with a reason", func(t *testing.T) {
			call(t, "POST", "/start", nil, 200, maestro.EventQueueItemStarted)
			before := sessTask(t, env, t2.ID)
			out, evs := call(t, "POST", "/fail", map[string]any{"reason": "tests fail"}, 200, maestro.EventQueueItemFailed)
			if out.FailedItem.TaskID != t2.ID || out.FailedItem.Status != "failed" || out.FailedItem.FailReason == nil ||
				*out.FailedItem.FailReason != "tests fail" || out.NextItem.TaskID != t3.ID || out.Message != "Failed "+t2.ID+". Next: "+t3.ID {
				t.Errorf("fail = %+v", out)
			}
			if got := sessPayload(t, evs[0]); got["reason"] != "tests fail" || got["taskId"] != t2.ID {
				t.Errorf("queue:item_failed = %v", got)
			}
			wantTaskStatus(t, before, "failed", true)
		})

		t.Run("skip the first queued, task untouched", func(t *testing.T) {
			before := sessTask(t, env, t3.ID)
			out, _ := call(t, "POST", "/skip", nil, 200, maestro.EventQueueItemSkipped)
			if out.SkippedItem.TaskID != t3.ID || out.SkippedItem.Status != "skipped" || out.SkippedItem.CompletedAt == nil ||
				out.NextItem != nil || *out.HasMore || out.Message != "Skipped "+t3.ID+". Queue is empty." {
				t.Errorf("skip = %+v", out)
			}
			wantTaskStatus(t, before, "", false)
			r := env.Do("POST", base+"/skip", nil)
			if r.Status != 400 {
				t.Fatalf("skip on an empty queue: %d", r.Status)
			}
			sessWantErr(maestro.CodeValidation, "No items left in queue to skip")(t, r)
		})

		t.Run("empty queue", func(t *testing.T) {
			top, _ := call(t, "GET", "/top", nil, 200)
			if top.HasMore == nil || *top.HasMore || top.Item != nil || top.Message != "Queue is empty - all tasks processed" {
				t.Errorf("top = %+v", top)
			}
			r := env.Do("GET", base+"/top", nil)
			if m := r.Object(t); m["item"] != nil || len(m) != 3 {
				t.Errorf("top body = %s", r.Body)
			}
			seq := env.LastSeq()
			r = env.Do("POST", base+"/start", nil)
			if m := r.Object(t); r.Status != 200 || m["success"] != true || m["item"] != nil || m["empty"] != true || m["message"] == "" {
				t.Errorf("start on an empty queue: %d %s", r.Status, r.Body)
			}
			if _, present := r.Object(t)["item"]; !present {
				t.Errorf("item must be present and null: %s", r.Body)
			}
			sessWantTypes(t, env, seq)
		})

		t.Run("push", func(t *testing.T) {
			before := sessTask(t, env, t4.ID)
			out, evs := call(t, "POST", "/push", map[string]any{"taskId": t4.ID}, 200, maestro.EventQueueItemPushed)
			if !out.Success || out.Item.TaskID != t4.ID || out.Item.Status != "queued" || out.Item.AddedAt == 0 {
				t.Errorf("push = %+v", out)
			}
			if got := sessPayload(t, evs[0]); got["taskId"] != t4.ID {
				t.Errorf("queue:item_pushed = %v", got)
			}
			wantTaskStatus(t, before, "", false)
			env.Run(t, []apitest.Case{
				{Name: "no taskId", Method: "POST", Path: base + "/push", Body: map[string]any{}, Status: 400,
					Check: sessWantErr(maestro.CodeValidation, "taskId is required")},
				{Name: "missing task", Method: "POST", Path: base + "/push", Body: map[string]any{"taskId": "task_nope"}, Status: 404,
					Check: sessWantErr(maestro.CodeNotFound, "Task with id 'task_nope' not found")},
				{Name: "queued twice", Method: "POST", Path: base + "/push", Body: map[string]any{"taskId": t4.ID}, Status: 400,
					Check: sessWantErr(maestro.CodeValidation, "Task "+t4.ID+" already in queue")},
				{Name: "finished item still counts", Method: "POST", Path: base + "/push", Body: map[string]any{"taskId": t1.ID}, Status: 400,
					Check: sessWantErr(maestro.CodeValidation, "Task "+t1.ID+" already in queue")},
			})
			if q := state(t); len(q.Items) != 4 || q.Items[3].TaskID != t4.ID {
				t.Errorf("queue after push = %+v", q.Items)
			}
		})

		t.Run("skip the processing item, fail without a reason", func(t *testing.T) {
			call(t, "POST", "/start", nil, 200, maestro.EventQueueItemStarted)
			if q := state(t); q.CurrentIndex != 3 {
				t.Errorf("currentIndex = %d, want 3", q.CurrentIndex)
			}
			out, _ := call(t, "POST", "/skip", nil, 200, maestro.EventQueueItemSkipped)
			if out.SkippedItem.TaskID != t4.ID || out.SkippedItem.StartedAt == nil {
				t.Errorf("skip = %+v", out)
			}
			if q := state(t); q.CurrentIndex != -1 || q.Items[3].Status != "skipped" {
				t.Errorf("queue = %+v", q)
			}
			t5 := env.Task(p.ID, maestro.TaskCreate{Title: "five"})
			call(t, "POST", "/push", map[string]any{"taskId": t5.ID}, 200, maestro.EventQueueItemPushed)
			call(t, "POST", "/start", nil, 200, maestro.EventQueueItemStarted)
			r := env.Do("POST", base+"/fail", nil)
			var out2 struct {
				FailedItem json.RawMessage `json:"failedItem"`
			}
			r.Decode(t, &out2)
			if r.Status != 200 || json.Valid(out2.FailedItem) && sessHasKey(out2.FailedItem, "failReason") {
				t.Errorf("fail without a reason: %d %s", r.Status, r.Body)
			}
			evs := sessEventsSince(env, env.LastSeq()-1)
			if got := sessPayload(t, evs[0]); got["reason"] != "" {
				t.Errorf("queue:item_failed reason = %v", got["reason"])
			}
		})

		t.Run("stats", func(t *testing.T) {
			out, _ := call(t, "GET", "/items", nil, 200)
			want := maestro.QueueStats{Total: 5, Completed: 1, Failed: 2, Skipped: 2}
			if *out.Stats != want {
				t.Errorf("stats = %+v, want %+v", *out.Stats, want)
			}
			var statuses []string
			for _, it := range out.Items {
				statuses = append(statuses, it.Status)
			}
			if !slices.Equal(statuses, []string{"completed", "failed", "skipped", "skipped", "failed"}) {
				t.Errorf("statuses = %v", statuses)
			}
		})
	})
}

// TestQueueAPI_StartWhileProcessingWithNothingQueued: start answers "empty" even while an item is
// processing, as long as nothing is queued (SPEC §6.1).
func TestQueueAPI_StartWhileProcessingWithNothingQueued(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("")
	tk := env.Task(p.ID, maestro.TaskCreate{})
	s := sessSpawn(t, env, "/api", map[string]any{"projectId": p.ID, "taskIds": []string{tk.ID}, "strategy": "queue"})
	base := "/api/sessions/" + s.ID + "/queue"
	if r := env.Do("POST", base+"/start", nil); r.Status != 200 {
		t.Fatal(r.Status)
	}
	r := env.Do("POST", base+"/start", nil)
	if m := r.Object(t); r.Status != 200 || m["empty"] != true || m["item"] != nil {
		t.Errorf("start with one processing and none queued: %d %s", r.Status, r.Body)
	}
}

// TestQueueAPI_D28DeletedTask: a queue step on an item whose task is gone still transitions the item and
// answers 200; the missing task is skipped, nothing is half-applied.
func TestQueueAPI_D28DeletedTask(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("")
	t1 := env.Task(p.ID, maestro.TaskCreate{})
	t2 := env.Task(p.ID, maestro.TaskCreate{})
	s := sessSpawn(t, env, "/api", map[string]any{"projectId": p.ID, "taskIds": []string{t1.ID, t2.ID}, "strategy": "queue"})
	base := "/api/sessions/" + s.ID + "/queue"
	if r := env.Do("DELETE", "/api/tasks/"+t1.ID, nil); r.Status != 200 {
		t.Fatalf("delete task: %d %s", r.Status, r.Body)
	}
	seq := env.LastSeq()
	env.Run(t, []apitest.Case{
		{Name: "start", Method: "POST", Path: base + "/start", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			var out sessQueueReply
			r.Decode(t, &out)
			if out.Item == nil || out.Item.TaskID != t1.ID || out.Item.Status != "processing" {
				t.Errorf("start = %s", r.Body)
			}
		}},
		{Name: "complete", Method: "POST", Path: base + "/complete", Status: 200},
		{Name: "start the live one", Method: "POST", Path: base + "/start", Status: 200},
		{Name: "fail", Method: "POST", Path: base + "/fail", Status: 200},
	})
	sessWantTypes(t, env, seq, maestro.EventQueueItemStarted, maestro.EventQueueItemCompleted,
		maestro.EventQueueItemStarted, maestro.EventQueueItemFailed)
	if got := sessTask(t, env, t2.ID); got.SessionStatus == nil || *got.SessionStatus != "failed" {
		t.Errorf("live task sessionStatus = %v", got.SessionStatus)
	}
	r := env.Do("GET", base, nil)
	var out sessQueueReply
	r.Decode(t, &out)
	if out.Queue.Items[0].TaskID != t1.ID || out.Queue.Items[0].Status != "completed" {
		t.Errorf("the deleted task's item is kept as history: %+v", out.Queue.Items[0])
	}
}

// TestQueueAPI_KeptAfterSessionDelete: deleting a session keeps its queue (SPEC §2.6); the queue routes
// then answer 404 for the session.
func TestQueueAPI_KeptAfterSessionDelete(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("")
	tk := env.Task(p.ID, maestro.TaskCreate{})
	s := sessSpawn(t, env, "/api", map[string]any{"projectId": p.ID, "taskIds": []string{tk.ID}, "strategy": "queue"})
	if r := env.Do("DELETE", "/api/sessions/"+s.ID, nil); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if n := sessCountRows(t, env, "queue_items"); n != 1 {
		t.Errorf("queue items after session delete: %d", n)
	}
	if _, err := env.Store.Read().GetQueue(t.Context(), s.ID); err != nil {
		t.Errorf("queue gone: %v", err)
	}
	env.Run(t, []apitest.Case{{Name: "queue route", Method: "GET", Path: "/api/sessions/" + s.ID + "/queue", Status: 404,
		Check: sessWantErr(maestro.CodeNotFound, "Session with id '"+s.ID+"' not found")}})
}

func sessHasKey(raw json.RawMessage, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}
