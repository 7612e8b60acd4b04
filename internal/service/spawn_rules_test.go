package service_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestSessionService_Spawn_validation walks spawn's validation in the order SPEC §4.2 checks it: each
// case breaks one rule of an otherwise valid request and must get that rule's code, and a refused spawn
// creates no session.
func TestSessionService_Spawn_validation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	task := f.task("work")
	parent, err := f.svcs.Sessions.Spawn(f.ctx, maestro.SpawnRequest{ProjectID: f.project.ID, TaskIDs: taskIDs(task.ID)})
	if err != nil {
		t.Fatal(err)
	}
	valid := func() maestro.SpawnRequest {
		return maestro.SpawnRequest{ProjectID: f.project.ID, TaskIDs: taskIDs(task.ID)}
	}
	for _, c := range []struct {
		name   string
		change func(*maestro.SpawnRequest)
		want   maestro.Code
	}{
		{"ok", func(*maestro.SpawnRequest) {}, ""},
		{"ok queue", func(r *maestro.SpawnRequest) { r.Strategy = maestro.StrategyQueue }, ""},
		{"ok from a session", func(r *maestro.SpawnRequest) {
			r.SpawnSource, r.SessionID = maestro.SpawnSourceSession, parent.Session.ID
		}, ""},
		{"ok orchestrator", func(r *maestro.SpawnRequest) { r.Role = maestro.RoleOrchestrator }, ""},
		{"no project", func(r *maestro.SpawnRequest) { r.ProjectID = "" }, maestro.CodeMissingProjectID},
		{"no project beats bad task ids", func(r *maestro.SpawnRequest) { r.ProjectID, r.TaskIDs = "", nil }, maestro.CodeMissingProjectID},
		{"task ids absent", func(r *maestro.SpawnRequest) { r.TaskIDs = nil }, maestro.CodeInvalidTaskIDs},
		{"task ids empty", func(r *maestro.SpawnRequest) { r.TaskIDs = taskIDs() }, maestro.CodeInvalidTaskIDs},
		{"task ids not a list", func(r *maestro.SpawnRequest) { r.TaskIDs = json.RawMessage(`"` + task.ID + `"`) }, maestro.CodeInvalidTaskIDs},
		{"task ids not strings", func(r *maestro.SpawnRequest) { r.TaskIDs = json.RawMessage(`[1]`) }, maestro.CodeInvalidTaskIDs},
		{"unknown spawn source", func(r *maestro.SpawnRequest) { r.SpawnSource = "cron" }, maestro.CodeInvalidSpawnSource},
		{"session source without session", func(r *maestro.SpawnRequest) { r.SpawnSource = maestro.SpawnSourceSession }, maestro.CodeMissingSessionID},
		{"session source with unknown session", func(r *maestro.SpawnRequest) {
			r.SpawnSource, r.SessionID = maestro.SpawnSourceSession, "sess_nope"
		}, maestro.CodeParentSessionMissing},
		{"unknown role", func(r *maestro.SpawnRequest) { r.Role = "boss" }, maestro.CodeInvalidRole},
		{"unknown task", func(r *maestro.SpawnRequest) { r.TaskIDs = taskIDs(task.ID, "task_nope") }, maestro.CodeTaskNotFound},
		{"unknown task beats unknown project", func(r *maestro.SpawnRequest) {
			r.ProjectID, r.TaskIDs = "proj_nope", taskIDs("task_nope")
		}, maestro.CodeTaskNotFound},
		{"unknown project", func(r *maestro.SpawnRequest) { r.ProjectID = "proj_nope" }, maestro.CodeProjectNotFound},
		{"tree strategy", func(r *maestro.SpawnRequest) { r.Strategy = maestro.StrategyTree }, maestro.CodeInvalidStrategy},
		{"unknown strategy", func(r *maestro.SpawnRequest) { r.Strategy = "fifo" }, maestro.CodeInvalidStrategy},
		{"session name too long", func(r *maestro.SpawnRequest) {
			r.SessionName = strings.Repeat("n", maestro.MaxNameChars+1)
		}, maestro.CodeValidation},
		{"context not an object", func(r *maestro.SpawnRequest) { r.Context = json.RawMessage(`[1]`) }, maestro.CodeValidation},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, err := f.svcs.Sessions.List(f.ctx, maestro.SessionFilter{})
			if err != nil {
				t.Fatal(err)
			}
			req := valid()
			c.change(&req)
			res, err := f.svcs.Sessions.Spawn(f.ctx, req)
			wantCode(t, "Spawn", err, c.want)
			after, err := f.svcs.Sessions.List(f.ctx, maestro.SessionFilter{})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.want != "" && len(after) != len(before):
				t.Fatalf("a refused spawn left %d sessions, had %d", len(after), len(before))
			case c.want == "" && (len(after) != len(before)+1 || res.Session.ID == "" || res.ManifestPath == ""):
				t.Fatalf("spawn made %+v; sessions %d -> %d", res, len(before), len(after))
			}
		})
	}
}

// TestSessionService_Spawn_duplicateTasks checks that a task listed twice is linked once (D22).
func TestSessionService_Spawn_duplicateTasks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.task("a"), f.task("b")
	res, err := f.svcs.Sessions.Spawn(f.ctx, maestro.SpawnRequest{ProjectID: f.project.ID, TaskIDs: taskIDs(a.ID, b.ID, a.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Session.TaskIDs; len(got) != 2 || got[0] != a.ID || got[1] != b.ID {
		t.Fatalf("taskIds = %v, want [%s %s]", got, a.ID, b.ID)
	}
}
