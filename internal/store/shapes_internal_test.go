package store

import (
	"context"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestQueryShapes_preparedOncePerShape pages a task list twice with the same filters and once with
// others: the repeated shape reuses its prepared statement, a new shape adds one, and the pages read
// through the prepared statements are the same as through plain SQL.
func TestQueryShapes_preparedOncePerShape(t *testing.T) {
	t.Parallel()
	st := openInternal(t)
	defer st.Close()
	ctx := context.Background()
	err := st.InTx(ctx, func(q *Q) error {
		if err := q.InsertProject(ctx, maestro.Project{ID: "p", Name: "p", CreatedAt: 1, UpdatedAt: 1}); err != nil {
			return err
		}
		for i, id := range []string{"t1", "t2", "t3"} {
			t := maestro.Task{ID: id, ProjectID: "p", Title: id, Status: maestro.TaskTodo, Priority: maestro.PriorityMedium,
				CreatedAt: int64(10 + i), UpdatedAt: int64(10 + i)}
			if err := q.InsertTask(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		st.shapes.mu.Lock()
		defer st.shapes.mu.Unlock()
		return len(st.shapes.stmts)
	}
	byProject := maestro.TaskQuery{ProjectID: "p", Limit: 2, WithTotal: true}
	first, err := st.Read().TaskPage(ctx, byProject)
	if err != nil {
		t.Fatal(err)
	}
	shapes := count()
	if shapes != 2 { // the page and its count
		t.Fatalf("%d prepared shapes after one page with total, want 2", shapes)
	}
	again, err := st.Read().TaskPage(ctx, byProject)
	if err != nil {
		t.Fatal(err)
	}
	if count() != shapes {
		t.Fatalf("the same query prepared again: %d shapes", count())
	}
	if _, err := st.Read().TaskPage(ctx, maestro.TaskQuery{ProjectID: "p", Statuses: []string{maestro.TaskTodo}}); err != nil {
		t.Fatal(err)
	}
	if count() != shapes+1 {
		t.Fatalf("%d shapes after a new filter, want %d", count(), shapes+1)
	}
	// Plain SQL on the same reader (a Q that is not the pool itself) reads the same page.
	plain, err := (&Q{q: st.rq, s: st, x: st.r}).TaskPage(ctx, byProject)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []maestro.Page[maestro.Task]{again, plain} {
		if len(p.Items) != 2 || p.Items[0].ID != first.Items[0].ID || p.Items[1].ID != first.Items[1].ID ||
			p.NextCursor != first.NextCursor || p.Total == nil || *p.Total != 3 {
			t.Fatalf("page %+v differs from the first %+v", p, first)
		}
	}
}
