package service_test

import (
	"context"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// TestTaskService_Create_dependencies checks the dependency errors of a create. A task being created
// has no id yet, so no dependency (not even an empty one) can be the task itself: an id that names no
// task is a VALIDATION_ERROR listing it, never a cycle.
func TestTaskService_Create_dependencies(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	svcs := service.New(st, service.Options{})
	ctx := context.Background()
	p, err := svcs.Projects.Create(ctx, maestro.ProjectCreate{Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	dep, err := svcs.Tasks.Create(ctx, maestro.TaskCreate{ProjectID: p.ID, Title: "first"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		deps []string
		want maestro.Code
	}{
		{"ok", []string{dep.ID}, ""},
		{"empty id", []string{""}, maestro.CodeValidation},
		{"unknown id", []string{"task_nope"}, maestro.CodeValidation},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := svcs.Tasks.Create(ctx, maestro.TaskCreate{ProjectID: p.ID, Title: "second", Dependencies: c.deps})
			if got := maestro.ErrorCode(err); got != c.want {
				t.Fatalf("Create with dependencies %q: %v, want code %q", c.deps, err, c.want)
			}
		})
	}
}
