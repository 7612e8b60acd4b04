package service_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// fixture is one test's services over a fresh database, with a project to put things in.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	svcs    *service.Services
	project maestro.Project
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := dbtest.New(t)
	f := &fixture{
		t: t, ctx: context.Background(),
		svcs: service.New(st, service.Options{
			Now: dbtest.NewClock().Now, SessionDir: t.TempDir(), ServerURL: "http://127.0.0.1:1", Hostname: "test",
		}),
	}
	p, err := f.svcs.Projects.Create(f.ctx, maestro.ProjectCreate{Name: "p", WorkingDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f.project = p
	return f
}

// task creates a task in the fixture's project.
func (f *fixture) task(title string, deps ...string) maestro.Task {
	f.t.Helper()
	t, err := f.svcs.Tasks.Create(f.ctx, maestro.TaskCreate{ProjectID: f.project.ID, Title: title, Dependencies: deps})
	if err != nil {
		f.t.Fatal(err)
	}
	return t
}

// taskIDs renders ids as spawn's raw taskIds.
func taskIDs(ids ...string) json.RawMessage {
	raw, _ := json.Marshal(ids)
	return raw
}

// wantCode fails unless err carries code ("" means no error).
func wantCode(t *testing.T, what string, err error, code maestro.Code) {
	t.Helper()
	if got := maestro.ErrorCode(err); got != code {
		t.Fatalf("%s: %v (code %q), want code %q", what, err, got, code)
	}
}
