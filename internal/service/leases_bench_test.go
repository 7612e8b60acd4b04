package service_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// BenchmarkLeaseService_Next measures one claim of the next ready task in a project that also holds
// 5,000 completed tasks (which the pick must not walk) and, per ready task, a more urgent one that waits
// for it (which the pick must skip). Run it with a fixed count (-benchtime=300x): the setup makes b.N
// ready tasks.
func BenchmarkLeaseService_Next(b *testing.B) {
	f := newLeaseFixture(b)
	ctx := context.Background()
	done := maestro.TaskCompleted
	var prev string
	for i := range 5000 {
		task, err := f.svcs.Tasks.Create(ctx, maestro.TaskCreate{ProjectID: f.project.ID, Title: fmt.Sprint("old ", i)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.svcs.Tasks.Update(ctx, task.ID, maestro.TaskPatch{Status: &done}); err != nil {
			b.Fatal(err)
		}
		prev = task.ID
	}
	for i := 0; i < b.N; i++ {
		// Half the todo tasks wait for another todo task, so the pick skips blocked rows too.
		first, err := f.svcs.Tasks.Create(ctx, maestro.TaskCreate{ProjectID: f.project.ID, Title: "todo", Dependencies: []string{prev}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.svcs.Tasks.Create(ctx, maestro.TaskCreate{ProjectID: f.project.ID, Title: "blocked",
			Priority: maestro.PriorityHigh, Dependencies: []string{first.ID}}); err != nil {
			b.Fatal(err)
		}
	}
	sess, err := f.svcs.Sessions.Create(ctx, maestro.SessionCreate{ProjectID: f.project.ID, TaskIDs: &[]string{}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		got, err := f.svcs.Leases.Next(ctx, maestro.NextRequest{ProjectID: f.project.ID,
			ClaimRequest: maestro.ClaimRequest{SessionID: sess.ID}})
		if err != nil || got == nil {
			b.Fatalf("Next = %v, %v", got, err)
		}
	}
}

// BenchmarkLeaseService_Next_vsUpdate is the yardstick for BenchmarkLeaseService_Next: one plain task
// update (one write transaction, one event) in the same kind of project.
func BenchmarkLeaseService_Next_vsUpdate(b *testing.B) {
	f := newLeaseFixture(b)
	ctx := context.Background()
	task, err := f.svcs.Tasks.Create(ctx, maestro.TaskCreate{ProjectID: f.project.ID, Title: "edited"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		title := fmt.Sprint("edit ", i)
		if _, err := f.svcs.Tasks.Update(ctx, task.ID, maestro.TaskPatch{Title: &title}); err != nil {
			b.Fatal(err)
		}
	}
}
