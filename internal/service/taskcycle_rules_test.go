package service_test

import (
	"slices"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestTaskService_Update_dependencyCycles sets the dependencies of one task of a small graph and checks
// the outcome: a write that would close a cycle is DEPENDENCY_CYCLE naming the cycle (from the task back
// to itself, along the dependencies), tasks that are unknown or of another project are
// VALIDATION_ERROR, and a refused write leaves the dependencies as they were.
//
// The graph, each arrow "depends on": b → a, c → b, d → a and d → c (a diamond over a), e alone.
func TestTaskService_Update_dependencyCycles(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		task  string   // whose dependencies are set
		deps  []string // the new dependencies, by name
		want  maestro.Code
		cycle []string // by name, when want is DEPENDENCY_CYCLE
	}{
		{name: "no dependencies", task: "a", deps: []string{}},
		{name: "a leaf gains one", task: "e", deps: []string{"d"}},
		{name: "the diamond is no cycle", task: "e", deps: []string{"b", "d"}},
		{name: "replacing keeps the graph acyclic", task: "d", deps: []string{"b"}},
		{name: "self", task: "a", deps: []string{"a"}, want: maestro.CodeDependencyCycle, cycle: []string{"a", "a"}},
		{name: "self among others", task: "e", deps: []string{"a", "e"}, want: maestro.CodeDependencyCycle, cycle: []string{"e", "e"}},
		{name: "direct", task: "a", deps: []string{"b"}, want: maestro.CodeDependencyCycle, cycle: []string{"a", "b", "a"}},
		{name: "through two", task: "a", deps: []string{"c"}, want: maestro.CodeDependencyCycle, cycle: []string{"a", "c", "b", "a"}},
		{name: "through the diamond", task: "b", deps: []string{"d"}, want: maestro.CodeDependencyCycle, cycle: []string{"b", "d", "c", "b"}},
		{name: "unknown task", task: "e", deps: []string{"a", "task_nope"}, want: maestro.CodeValidation},
		{name: "another project's task", task: "e", deps: []string{"other"}, want: maestro.CodeValidation},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ids := map[string]string{}
			add := func(name string, deps ...string) {
				depIDs := make([]string, len(deps))
				for i, d := range deps {
					depIDs[i] = ids[d]
				}
				ids[name] = f.task(name, depIDs...).ID
			}
			add("a")
			add("b", "a")
			add("c", "b")
			add("d", "a", "c")
			add("e")
			other, err := f.svcs.Projects.Create(f.ctx, maestro.ProjectCreate{Name: "other"})
			if err != nil {
				t.Fatal(err)
			}
			ot, err := f.svcs.Tasks.Create(f.ctx, maestro.TaskCreate{ProjectID: other.ID, Title: "other"})
			if err != nil {
				t.Fatal(err)
			}
			ids["other"] = ot.ID
			name := map[string]string{}
			for n, id := range ids {
				name[id] = n
			}

			before, err := f.svcs.Tasks.Get(f.ctx, ids[c.task])
			if err != nil {
				t.Fatal(err)
			}
			deps := make([]string, len(c.deps))
			for i, d := range c.deps {
				if deps[i] = ids[d]; deps[i] == "" {
					deps[i] = d // not a task of the graph: passed as is
				}
			}
			_, err = f.svcs.Tasks.Update(f.ctx, ids[c.task], maestro.TaskPatch{Dependencies: &deps})
			wantCode(t, "Update", err, c.want)
			after, gerr := f.svcs.Tasks.Get(f.ctx, ids[c.task])
			if gerr != nil {
				t.Fatal(gerr)
			}
			if c.want == "" {
				if !slices.Equal(after.Dependencies, deps) {
					t.Fatalf("dependencies %v, want %v", after.Dependencies, deps)
				}
				return
			}
			if !slices.Equal(after.Dependencies, before.Dependencies) || after.UpdatedAt != before.UpdatedAt {
				t.Fatalf("a refused update changed the task: %v -> %v", before, after)
			}
			if c.cycle != nil {
				got, _ := maestro.AsError(err).Details["cycle"].([]string)
				named := make([]string, len(got))
				for i, id := range got {
					named[i] = name[id]
				}
				if !slices.Equal(named, c.cycle) {
					t.Fatalf("cycle %v, want %v", named, c.cycle)
				}
			}
		})
	}
}
