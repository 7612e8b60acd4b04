package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// LeaseState is a task's lease row: the last fencing token issued for the task (0 when it was never
// claimed) and the lease held now (nil when nobody holds the task).
type LeaseState struct {
	Token int64
	Held  *maestro.TaskLease
}

// DueLease is a held lease whose expiry has passed.
type DueLease struct {
	TaskID string
	Lease  maestro.TaskLease
}

func heldLease(r db.TaskLease) *maestro.TaskLease {
	if !r.SessionID.Valid || !r.ExpiresAt.Valid {
		return nil
	}
	return &maestro.TaskLease{
		SessionID: r.SessionID.String, AcquiredAt: r.AcquiredAt.Int64, ExpiresAt: r.ExpiresAt.Int64, Token: r.Token,
	}
}

// GetLease returns the lease row of a task; a task never claimed has the zero LeaseState.
func (q *Q) GetLease(ctx context.Context, taskID string) (LeaseState, error) {
	r, err := q.q.GetTaskLease(q.c(ctx), taskID)
	if errors.Is(err, sql.ErrNoRows) {
		return LeaseState{}, nil
	}
	if err != nil {
		return LeaseState{}, mapErr(err)
	}
	return LeaseState{Token: r.Token, Held: heldLease(r)}, nil
}

// HeldLeases returns the leases held on the given tasks, by task id (tasks nobody holds are absent).
func (q *Q) HeldLeases(ctx context.Context, taskIDs []string) (map[string]maestro.TaskLease, error) {
	out := make(map[string]maestro.TaskLease)
	if len(taskIDs) == 0 {
		return out, nil
	}
	rows, err := q.q.ListHeldLeases(q.c(ctx), taskIDs)
	if err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		if l := heldLease(r); l != nil {
			out[r.TaskID] = *l
		}
	}
	return out, nil
}

// AcquireLease records that sessionID holds taskID from now until expiresAt and returns the new
// fencing token, one more than any issued before for this task. The caller has checked that nobody
// holds the task.
func (q *Q) AcquireLease(ctx context.Context, taskID, sessionID string, now, expiresAt int64) (int64, error) {
	tok, err := q.q.AcquireTaskLease(q.c(ctx), db.AcquireTaskLeaseParams{
		TaskID: taskID, SessionID: nullString(sessionID),
		Now: sql.NullInt64{Int64: now, Valid: true}, ExpiresAt: sql.NullInt64{Int64: expiresAt, Valid: true},
	})
	return tok, mapErr(err)
}

// RenewLease moves the expiry of the lease with this token; it reports false when that lease is not
// the one held.
func (q *Q) RenewLease(ctx context.Context, taskID string, token, expiresAt int64) (bool, error) {
	n, err := q.q.RenewTaskLease(q.c(ctx), db.RenewTaskLeaseParams{
		TaskID: taskID, Token: token, ExpiresAt: sql.NullInt64{Int64: expiresAt, Valid: true},
	})
	return n > 0, mapErr(err)
}

// EndLease ends the lease held on a task, keeping its token; it reports whether one was held.
func (q *Q) EndLease(ctx context.Context, taskID string) (bool, error) {
	n, err := q.q.EndTaskLease(q.c(ctx), taskID)
	return n > 0, mapErr(err)
}

func dueLeases(rows []db.TaskLease) []DueLease {
	out := make([]DueLease, 0, len(rows))
	for _, r := range rows {
		if l := heldLease(r); l != nil {
			out = append(out, DueLease{TaskID: r.TaskID, Lease: *l})
		}
	}
	return out
}

// DueLeases returns at most max held leases that expired at or before now, soonest first.
func (q *Q) DueLeases(ctx context.Context, now int64, max int) ([]DueLease, error) {
	rows, err := q.q.ListDueLeases(q.c(ctx), db.ListDueLeasesParams{Now: sql.NullInt64{Int64: now, Valid: true}, Max: int64(max)})
	if err != nil {
		return nil, mapErr(err)
	}
	return dueLeases(rows), nil
}

// DueLeasesOfProject returns the held leases of a project's tasks that expired at or before now.
func (q *Q) DueLeasesOfProject(ctx context.Context, projectID string, now int64) ([]DueLease, error) {
	rows, err := q.q.ListDueLeasesOfProject(q.c(ctx), db.ListDueLeasesOfProjectParams{
		Now: sql.NullInt64{Int64: now, Valid: true}, ProjectID: projectID,
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return dueLeases(rows), nil
}

// TaskStatuses returns the status of each of the given tasks that exists, by id.
func (q *Q) TaskStatuses(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.q.ListTaskStatuses(q.c(ctx), ids)
	if err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.ID] = r.Status
	}
	return out, nil
}

// NextReadyTask is the pick of a claim of the next task: the id of the most urgent, then oldest, todo
// task of the project that nobody holds and whose dependencies are all completed ("" when there is
// none). maxRank bounds the priority rank (priorityRankSQL; 4 takes every priority) and parentID, when
// set, restricts the pick to that task's children. A dependency on a task that no longer exists does not
// block (task delete removes such dependencies anyway). It runs inside the claim's write transaction, so
// no other claim can take the same task between the pick and the lease.
//
// It is hand-written because sqlc cannot resolve the columns of json_each. The project's rows are read
// in the order of the tasks_project_priority_rank index, so the first ready one ends the scan.
func (q *Q) NextReadyTask(ctx context.Context, projectID, parentID string, maxRank int, now int64) (string, error) {
	var b strings.Builder
	args := []any{projectID, maestro.TaskTodo, maxRank}
	b.WriteString(`SELECT t.id FROM tasks t
WHERE t.project_id = ? AND t.status = ? AND ` + priorityRankSQL + ` <= ?`)
	if parentID != "" {
		b.WriteString(` AND t.parent_id = ?`)
		args = append(args, parentID)
	}
	b.WriteString(`
  AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.session_id IS NOT NULL AND l.expires_at > ?)
  AND NOT EXISTS (SELECT 1 FROM json_each(t.dependencies) d JOIN tasks dt ON dt.id = d.value WHERE dt.status <> ?)
ORDER BY ` + priorityRankSQL + `, t.created_at, t.id
LIMIT 1`)
	args = append(args, now, maestro.TaskCompleted)
	var id string
	err := q.x.QueryRowContext(q.c(ctx), b.String(), args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, mapErr(err)
}

// PriorityRank is the rank of a priority in the next-task order: 0 for critical up to 3 for low, 4 for
// any other value.
func PriorityRank(p string) int { return int(priorityRank(p)) }
