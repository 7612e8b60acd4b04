package v1_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

func decodeTask(t *testing.T, r *apitest.Response) maestro.Task {
	t.Helper()
	var tk maestro.Task
	r.Decode(t, &tk)
	return tk
}

func ids(t *testing.T, r *apitest.Response) string {
	t.Helper()
	var ts []maestro.Task
	r.Decode(t, &ts)
	out := make([]string, len(ts))
	for i, tk := range ts {
		out[i] = tk.Title
	}
	return strings.Join(out, ",")
}

func TestTasksAPI_Create(t *testing.T) {
	t.Parallel()
	for _, prefix := range prefixes {
		t.Run(strings.TrimPrefix(prefix, "/"), func(t *testing.T) {
			t.Parallel()
			env := apitest.New(t)
			p := env.Project("")
			parent := env.Task(p.ID, maestro.TaskCreate{Title: "parent"})
			path := prefix + "/tasks"
			env.Run(t, []apitest.Case{
				{Name: "defaults; input status and unknown keys ignored", Method: "POST", Path: path, Status: 201,
					Body: map[string]any{"projectId": p.ID, "title": "  Write  ", "status": "completed", "model": "opus"},
					Check: func(t *testing.T, r *apitest.Response) {
						tk := decodeTask(t, r)
						if tk.Title != "Write" || tk.Status != "todo" || tk.Priority != "medium" || tk.ParentID != nil {
							t.Fatalf("task %+v", tk)
						}
						b := r.Object(t)
						for _, k := range []string{"parentId", "startedAt", "completedAt"} {
							if v, ok := b[k]; !ok || v != nil {
								t.Errorf("%s must be present and null: %s", k, r.Body)
							}
						}
						for _, k := range []string{"sessionIds", "skillIds", "agentIds", "dependencies"} {
							if a, ok := b[k].([]any); !ok || len(a) != 0 {
								t.Errorf("%s must be []: %s", k, r.Body)
							}
						}
						if _, ok := b["sessionStatus"]; ok {
							t.Errorf("sessionStatus must be omitted until set: %s", r.Body)
						}
						if !strings.HasPrefix(tk.ID, "task_") {
							t.Errorf("id %s", tk.ID)
						}
					}},
				{Name: "all fields", Method: "POST", Path: path, Status: 201,
					Body: map[string]any{"projectId": p.ID, "title": "child", "description": "d", "priority": "urgent-ish",
						"parentId": parent.ID, "initialPrompt": "go", "skillIds": []string{"a", "b"}},
					Check: func(t *testing.T, r *apitest.Response) {
						tk := decodeTask(t, r)
						if *tk.ParentID != parent.ID || tk.Priority != "urgent-ish" || tk.InitialPrompt != "go" || len(tk.SkillIDs) != 2 {
							t.Fatalf("task %+v", tk)
						}
					}},
				{Name: "no projectId first", Method: "POST", Path: path, Body: map[string]any{"title": ""}, Status: 400,
					Check: wantError(400, "VALIDATION_ERROR", "Project ID is required")},
				{Name: "blank title second", Method: "POST", Path: path, Body: map[string]any{"projectId": "proj_nope", "title": " "},
					Status: 400, Check: wantError(400, "VALIDATION_ERROR", "Task title is required")},
				{Name: "project missing third", Method: "POST", Path: path, Body: map[string]any{"projectId": "proj_nope", "title": "x"},
					Status: 404, Check: wantError(404, "NOT_FOUND", "Project with id 'proj_nope' not found")},
				{Name: "parent missing", Method: "POST", Path: path, Body: map[string]any{"projectId": p.ID, "title": "x", "parentId": "task_nope"},
					Status: 404, Check: wantError(404, "NOT_FOUND", "Parent task with id 'task_nope' not found")},
				{Name: "empty parentId means none", Method: "POST", Path: path, Body: map[string]any{"projectId": p.ID, "title": "x", "parentId": ""},
					Status: 201},
				{Name: "skillIds of the wrong type (D10)", Method: "POST", Path: path, Body: map[string]any{"projectId": p.ID, "title": "x", "skillIds": "abc"},
					Status: 400, Check: func(t *testing.T, r *apitest.Response) {
						if !strings.Contains(r.Object(t)["message"].(string), "skillIds") {
							t.Fatalf("message does not name skillIds: %s", r.Body)
						}
					}},
				{Name: "title too long (D19)", Method: "POST", Path: path, Body: map[string]any{"projectId": p.ID, "title": strings.Repeat("t", 513)},
					Status: 400, Check: wantError(400, "VALIDATION_ERROR", "")},
				{Name: "description too large (D19)", Method: "POST", Path: path,
					Body:   map[string]any{"projectId": p.ID, "title": "t", "description": strings.Repeat("d", maestro.MaxTextBytes+1)},
					Status: 400, Check: wantError(400, "VALIDATION_ERROR", "")},
				{Name: "priority longer than 64 (D11)", Method: "POST", Path: path,
					Body: map[string]any{"projectId": p.ID, "title": "t", "priority": strings.Repeat("p", 65)}, Status: 400},
				{Name: "body over 1 MiB (D19)", Method: "POST", Path: path,
					Body:   map[string]any{"projectId": p.ID, "title": "t", "description": strings.Repeat("d", maestro.MaxBodyBytes)},
					Status: 413, Check: wantError(413, "PAYLOAD_TOO_LARGE", "")},
			})
		})
	}
}

func TestTasksAPI_ListFilters(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p1, p2 := env.Project("one"), env.Project("two")
	a := env.Task(p1.ID, maestro.TaskCreate{Title: "a"})
	env.Task(p1.ID, maestro.TaskCreate{Title: "b", ParentID: a.ID})
	env.Task(p2.ID, maestro.TaskCreate{Title: "c"})
	env.Task(p2.ID, maestro.TaskCreate{Title: "d", ParentID: a.ID})
	if r := env.Do("PATCH", "/api/tasks/"+a.ID, map[string]any{"status": "in_progress"}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	cases := []struct{ query, want string }{
		{"", "a,b,c,d"},
		{"?projectId=" + p1.ID, "a,b"},
		{"?projectId=", "a,b,c,d"},
		{"?status=in_progress", "a"},
		{"?status=todo&projectId=" + p2.ID, "c,d"},
		{"?status=", "a,b,c,d"},
		{"?parentId=null", "a,c"},
		{"?parentId=null&projectId=" + p2.ID, "c"},
		{"?parentId=null&status=todo", "c"},
		{"?parentId=" + a.ID, "b,d"},
		{"?parentId=" + a.ID + "&projectId=" + p2.ID, "d"},
		{"?parentId=" + a.ID + "&status=in_progress", ""},
		{"?parentId=", ""},
		{"?parentId=&projectId=" + p1.ID, ""},
		{"?projectId=proj_none", ""},
	}
	for _, c := range cases {
		for _, prefix := range prefixes {
			r := env.Do("GET", prefix+"/tasks"+c.query, nil)
			if r.Status != 200 {
				t.Fatalf("%s: %d", c.query, r.Status)
			}
			if got := ids(t, r); got != c.want {
				t.Errorf("GET %s/tasks%s = %q, want %q", prefix, c.query, got, c.want)
			}
		}
	}
	r := env.Do("GET", "/api/tasks/"+a.ID+"/children", nil)
	if got := ids(t, r); r.Status != 200 || got != "b,d" {
		t.Errorf("children = %d %q", r.Status, got)
	}
	if r := env.Do("GET", "/api/tasks/task_nope/children", nil); r.Status != 404 {
		t.Errorf("children of a missing task: %d", r.Status)
	}
}

func TestTasksAPI_Patch(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("")
	tk := env.Task(p.ID, maestro.TaskCreate{Title: "t"})
	path := "/api/tasks/" + tk.ID
	var startedAt, completedAt int64
	var lastUpdated = tk.UpdatedAt
	newer := func(t *testing.T, r *apitest.Response) maestro.Task {
		t.Helper()
		got := decodeTask(t, r)
		if got.UpdatedAt <= lastUpdated {
			t.Fatalf("updatedAt %d not after %d (D12)", got.UpdatedAt, lastUpdated)
		}
		lastUpdated = got.UpdatedAt
		return got
	}
	env.Run(t, []apitest.Case{
		{Name: "blank title refused first, for every source", Method: "PATCH", Path: path,
			Body: map[string]any{"title": " ", "updateSource": "session"}, Status: 400,
			Check: wantError(400, "VALIDATION_ERROR", "Task title cannot be empty")},
		{Name: "missing task", Method: "PATCH", Path: "/api/tasks/task_nope", Body: map[string]any{"status": "x"}, Status: 404,
			Check: wantError(404, "NOT_FOUND", "Task with id 'task_nope' not found")},
		{Name: "status in_progress stamps startedAt", Method: "PATCH", Path: path,
			Body: map[string]any{"status": "in_progress", "title": " New ", "startedAt": 1, "model": "x"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				got := newer(t, r)
				if got.StartedAt == nil || *got.StartedAt == 1 || got.Title != "New" || got.CompletedAt != nil {
					t.Fatalf("task %+v", got)
				}
				startedAt = *got.StartedAt
			}},
		{Name: "startedAt is kept on later changes", Method: "PATCH", Path: path, Body: map[string]any{"status": "todo"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if got := newer(t, r); *got.StartedAt != startedAt {
					t.Fatal("startedAt changed")
				}
			}},
		{Name: "again in_progress keeps the first startedAt", Method: "PATCH", Path: path, Body: map[string]any{"status": "in_progress"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if got := newer(t, r); *got.StartedAt != startedAt {
					t.Fatal("startedAt changed")
				}
			}},
		{Name: "completed stamps completedAt once", Method: "PATCH", Path: path, Body: map[string]any{"status": "completed"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				got := newer(t, r)
				if got.CompletedAt == nil {
					t.Fatal("completedAt not set")
				}
				completedAt = *got.CompletedAt
			}},
		{Name: "completedAt never cleared", Method: "PATCH", Path: path, Body: map[string]any{"status": "todo"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if got := newer(t, r); got.CompletedAt == nil || *got.CompletedAt != completedAt {
					t.Fatal("completedAt changed")
				}
			}},
		{Name: "session source applies only sessionStatus", Method: "PATCH", Path: path,
			Body:   map[string]any{"updateSource": "session", "sessionId": "sess_x", "sessionStatus": "working", "status": "blocked", "title": "no"},
			Status: 200, Check: func(t *testing.T, r *apitest.Response) {
				got := newer(t, r)
				if got.SessionStatus == nil || *got.SessionStatus != "working" || got.Status != "todo" || got.Title != "New" {
					t.Fatalf("task %+v", got)
				}
			}},
		{Name: "lists replace; unknown enum strings stored", Method: "PATCH", Path: path,
			Body:   map[string]any{"skillIds": []string{"s1"}, "agentIds": []string{"a1", "a2"}, "priority": "whenever", "description": "d"},
			Status: 200, Check: func(t *testing.T, r *apitest.Response) {
				got := newer(t, r)
				if len(got.SkillIDs) != 1 || len(got.AgentIDs) != 2 || got.Priority != "whenever" || got.Description != "d" {
					t.Fatalf("task %+v", got)
				}
			}},
		{Name: "null lists and fields are left alone", Method: "PATCH", Path: path,
			Body: `{"skillIds":null,"title":null,"sessionStatus":null}`, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				got := newer(t, r)
				if len(got.SkillIDs) != 1 || got.Title != "New" || got.SessionStatus == nil {
					t.Fatalf("task %+v", got)
				}
			}},
		{Name: "empty body still bumps updatedAt and emits", Method: "PATCH", Path: path, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) { newer(t, r) }},
		{Name: "wrong type names the field (D10)", Method: "PATCH", Path: path, Body: map[string]any{"agentIds": "a"}, Status: 400,
			Check: wantError(400, "VALIDATION_ERROR", "")},
		{Name: "sessionIds naming a missing session", Method: "PATCH", Path: path, Body: map[string]any{"sessionIds": []string{"sess_nope"}},
			Status: 404, Check: wantError(404, "NOT_FOUND", "Session with id 'sess_nope' not found")},
	})
	// Every successful PATCH recorded task:updated; the failed ones recorded nothing.
	var updates int
	for _, ev := range env.Outbox() {
		if ev.Type == maestro.EventTaskUpdated {
			updates++
		}
	}
	if updates != 9 {
		t.Fatalf("%d task:updated events, want 9", updates)
	}
}

// TestTasksAPI_Delete checks D6: children become root tasks (task:updated each) and task:deleted comes last.
func TestTasksAPI_Delete(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("")
	parent := env.Task(p.ID, maestro.TaskCreate{Title: "parent"})
	c1 := env.Task(p.ID, maestro.TaskCreate{Title: "c1", ParentID: parent.ID})
	c2 := env.Task(p.ID, maestro.TaskCreate{Title: "c2", ParentID: parent.ID})
	seq := env.LastSeq()
	r := env.Do("DELETE", "/api/v1/tasks/"+parent.ID, nil)
	if r.Status != 200 || r.Object(t)["id"] != parent.ID {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if got := strings.Join(env.OutboxTypesSince(seq), ","); got != "task:updated,task:updated,task:deleted" {
		t.Fatalf("events %s", got)
	}
	for _, c := range []maestro.Task{c1, c2} {
		got, err := env.Services.Tasks.Get(context.Background(), c.ID)
		if err != nil || got.ParentID != nil || got.UpdatedAt <= c.UpdatedAt {
			t.Fatalf("child %+v %v", got, err)
		}
	}
	if r := env.Do("DELETE", "/api/v1/tasks/"+parent.ID, nil); r.Status != 404 {
		t.Fatalf("second delete %d", r.Status)
	}
}

// TestTasksAPI_SessionLinksFollowBothSides checks D5 from the task side: PATCHing sessionIds updates the
// sessions' taskIds (read from the same join table) and announces each changed session.
func TestTasksAPI_SessionLinksFollowBothSides(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("")
	tk := env.Task(p.ID, maestro.TaskCreate{})
	ctx := context.Background()
	for _, id := range []string{"sess_a", "sess_b"} {
		insertSession(t, env, id, p.ID)
	}
	seq := env.LastSeq()
	r := env.Do("PATCH", "/api/tasks/"+tk.ID, map[string]any{"sessionIds": []string{"sess_b", "sess_a", "sess_b"}})
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if got := decodeTask(t, r).SessionIDs; fmt.Sprint(got) != "[sess_b sess_a]" {
		t.Fatalf("sessionIds %v (de-duplicated, order kept)", got)
	}
	if got := strings.Join(env.OutboxTypesSince(seq), ","); got != "task:updated,session:updated,session:updated" {
		t.Fatalf("events %s", got)
	}
	for _, id := range []string{"sess_a", "sess_b"} {
		s, err := env.Store.Read().GetSession(ctx, id)
		if err != nil || fmt.Sprint(s.TaskIDs) != "["+tk.ID+"]" {
			t.Fatalf("session %s taskIds %v %v", id, s.TaskIDs, err)
		}
	}
	r = env.Do("PATCH", "/api/tasks/"+tk.ID, map[string]any{"sessionIds": []string{"sess_a"}})
	if got := decodeTask(t, r).SessionIDs; fmt.Sprint(got) != "[sess_a]" {
		t.Fatalf("sessionIds %v", got)
	}
	if s, _ := env.Store.Read().GetSession(ctx, "sess_b"); len(s.TaskIDs) != 0 {
		t.Fatalf("sess_b still lists the task: %v", s.TaskIDs)
	}
	// Deleting the task removes its links on the session side too (D6) and announces the session.
	seq = env.LastSeq()
	if r := env.Do("DELETE", "/api/tasks/"+tk.ID, nil); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if got := strings.Join(env.OutboxTypesSince(seq), ","); got != "session:updated,task:deleted" {
		t.Fatalf("events %s", got)
	}
	if s, _ := env.Store.Read().GetSession(ctx, "sess_a"); len(s.TaskIDs) != 0 {
		t.Fatalf("sess_a still lists the deleted task: %v", s.TaskIDs)
	}
}

// insertSession stores a bare session row through a separate connection (the sessions API has its
// own tests; this one only needs rows to link to).
func insertSession(t *testing.T, env *apitest.Env, id, projectID string) {
	t.Helper()
	db, err := sql.Open("sqlite", store.DSN(env.Store.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO sessions (id, project_id, name, started_at, last_activity) VALUES (?, ?, 'n', 1, 1)", id, projectID); err != nil {
		t.Fatal(err)
	}
}
