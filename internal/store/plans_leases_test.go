package store

import "context"

// leasePlanCases are the lease queries (issue 14): the pick of the next ready task runs inside every
// claim's write transaction and the sweep looks for due leases every second, so each must seek.
func leasePlanCases() []planCase {
	return []planCase{
		{name: "next ready task", run: func(ctx context.Context, q *Q) error {
			_, err := q.NextReadyTask(ctx, "p", "", PriorityRank(""), 1)
			return err
		}},
		{name: "next ready task of a parent at high priority", run: func(ctx context.Context, q *Q) error {
			_, err := q.NextReadyTask(ctx, "p", "x", PriorityRank("high"), 1)
			return err
		}},
		{name: "task lease", run: func(ctx context.Context, q *Q) error { _, err := q.GetLease(ctx, "x"); return err }},
		{name: "held leases of a page", run: func(ctx context.Context, q *Q) error {
			_, err := q.HeldLeases(ctx, []string{"a", "b"})
			return err
		}},
		{name: "due leases", run: func(ctx context.Context, q *Q) error { _, err := q.DueLeases(ctx, 1, 100); return err }},
		{name: "due leases of a project", run: func(ctx context.Context, q *Q) error {
			_, err := q.DueLeasesOfProject(ctx, "p", 1)
			return err
		}},
		{name: "task statuses", run: func(ctx context.Context, q *Q) error {
			_, err := q.TaskStatuses(ctx, []string{"a", "b"})
			return err
		}},
	}
}
