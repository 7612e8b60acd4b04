package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Leases is agent coordination over tasks (issue 14): a session claims a task — a named one, or the
// next ready one of a project — for a while, renews the claim while it works, and releases it or
// finishes the task. Each claim is a lease with a fencing token that grows with every claim of the
// task; an agent must present it (Lease-Token) to renew, release or finish, so an agent whose lease
// expired and was taken over by another cannot change anything. Expired leases are swept: the task
// goes back to todo.
//
// A task is ready when it is todo, nobody holds it, and every one of its dependencies is completed.
type Leases struct{ base }

// sweepBatch is how many expired leases one sweep transaction handles at most.
const sweepBatch = 100

func leaseDuration(seconds int) (int64, error) {
	if seconds == 0 {
		seconds = maestro.DefaultLeaseSeconds
	}
	if seconds < maestro.MinLeaseSeconds || seconds > maestro.MaxLeaseSeconds {
		return 0, maestro.InvalidField("leaseSeconds", "leaseSeconds must be between %d and %d",
			maestro.MinLeaseSeconds, maestro.MaxLeaseSeconds)
	}
	return int64(seconds) * 1000, nil
}

func validateClaim(r maestro.ClaimRequest) (int64, error) {
	if r.SessionID == "" {
		return 0, maestro.InvalidField("sessionId", "sessionId is required")
	}
	if err := maestro.CheckChars("sessionId", r.SessionID, maestro.MaxIDChars); err != nil {
		return 0, err
	}
	return leaseDuration(r.LeaseSeconds)
}

// Claim leases one task to a session: the task becomes in_progress, the session is linked to it, and
// the answer carries the lease and its fencing token. Leases of the task's project that expired are
// swept first, so an expired lease can be taken over at once.
// Errors: VALIDATION_ERROR (no sessionId, leaseSeconds out of range), NOT_FOUND (task, session),
// TASK_NOT_CLAIMABLE (leased, not todo, or a dependency not completed; details.reason says which).
func (s *Leases) Claim(ctx context.Context, taskID string, r maestro.ClaimRequest) (maestro.Task, error) {
	dur, err := validateClaim(r)
	if err != nil {
		return maestro.Task{}, err
	}
	var t maestro.Task
	err = s.st.InTx(ctx, func(q *store.Q) error {
		ref, err := q.GetTaskRef(ctx, taskID)
		if err != nil {
			return notFound(err, "Task", taskID)
		}
		if err := s.requireSession(ctx, q, r.SessionID); err != nil {
			return err
		}
		now := s.nowMs()
		if err := s.expireDue(ctx, q, ref.ProjectID, now); err != nil {
			return err
		}
		if t, err = q.GetTask(ctx, taskID); err != nil {
			return err
		}
		if err := s.claimable(ctx, q, t, now); err != nil {
			return err
		}
		return s.take(ctx, q, &t, r.SessionID, now, dur)
	})
	return t, err
}

// Next claims the project's next ready task for a session, in one transaction: the most urgent, then
// oldest, todo task that nobody holds and whose dependencies are all completed (optionally only of
// priority PriorityAtLeast or more urgent, or only children of ParentID). It answers nil when no task is
// ready — a normal outcome, not an error. Concurrent callers never get the same task.
// Errors: VALIDATION_ERROR (no sessionId, leaseSeconds out of range, an unknown priority), NOT_FOUND
// (project, session).
func (s *Leases) Next(ctx context.Context, r maestro.NextRequest) (*maestro.Task, error) {
	dur, err := validateClaim(r.ClaimRequest)
	if err != nil {
		return nil, err
	}
	maxRank := store.PriorityRank("")
	if r.PriorityAtLeast != "" {
		if maxRank = store.PriorityRank(r.PriorityAtLeast); maxRank == store.PriorityRank("") {
			return nil, maestro.InvalidField("priorityAtLeast", "priorityAtLeast must be low, medium, high or critical")
		}
	}
	var out *maestro.Task
	err = s.st.InTx(ctx, func(q *store.Q) error {
		if _, err := q.GetProject(ctx, r.ProjectID); err != nil {
			return notFound(err, "Project", r.ProjectID)
		}
		if err := s.requireSession(ctx, q, r.SessionID); err != nil {
			return err
		}
		now := s.nowMs()
		if err := s.expireDue(ctx, q, r.ProjectID, now); err != nil {
			return err
		}
		id, err := q.NextReadyTask(ctx, r.ProjectID, r.ParentID, maxRank, now)
		if err != nil || id == "" {
			return err
		}
		t, err := q.GetTask(ctx, id)
		if err != nil {
			return err
		}
		if err := s.take(ctx, q, &t, r.SessionID, now, dur); err != nil {
			return err
		}
		out = &t
		return nil
	})
	return out, err
}

func (s *Leases) requireSession(ctx context.Context, q *store.Q, id string) error {
	ok, err := q.SessionExists(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return maestro.NotFound("Session", id)
	}
	return nil
}

// claimable returns TASK_NOT_CLAIMABLE when t is held, not todo, or waiting for a dependency.
func (s *Leases) claimable(ctx context.Context, q *store.Q, t maestro.Task, now int64) error {
	ls, err := q.GetLease(ctx, t.ID)
	if err != nil {
		return err
	}
	if ls.Held != nil && ls.Held.ExpiresAt > now {
		return &maestro.Error{Code: maestro.CodeTaskNotClaimable,
			Message: fmt.Sprintf("Task '%s' is leased by session '%s' until %d", t.ID, ls.Held.SessionID, ls.Held.ExpiresAt),
			Details: map[string]any{"reason": maestro.NotClaimableLeased, "sessionId": ls.Held.SessionID, "expiresAt": ls.Held.ExpiresAt}}
	}
	if t.Status != maestro.TaskTodo {
		return &maestro.Error{Code: maestro.CodeTaskNotClaimable,
			Message: fmt.Sprintf("Task '%s' is %s; only todo tasks can be claimed", t.ID, t.Status),
			Details: map[string]any{"reason": maestro.NotClaimableStatus, "status": t.Status}}
	}
	blocked, err := blockedBy(ctx, q, t.Dependencies)
	if err != nil {
		return err
	}
	if len(blocked) > 0 {
		return &maestro.Error{Code: maestro.CodeTaskNotClaimable,
			Message: fmt.Sprintf("Task '%s' waits for dependencies that are not completed: %s", t.ID, strings.Join(blocked, ", ")),
			Details: map[string]any{"reason": maestro.NotClaimableBlocked, "blockedBy": blocked}}
	}
	return nil
}

// blockedBy returns the dependencies (in their order) that exist and are not completed.
func blockedBy(ctx context.Context, q *store.Q, deps []string) ([]string, error) {
	if len(deps) == 0 {
		return []string{}, nil
	}
	st, err := q.TaskStatuses(ctx, deps)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, d := range deps {
		if status, ok := st[d]; ok && status != maestro.TaskCompleted {
			out = append(out, d)
		}
	}
	return out, nil
}

// take leases t to sessionID: a new fencing token, status in_progress (startedAt stamped the first
// time), the session linked, a timeline entry on the session. Events: task:updated, then (for a new
// link) task:session_added and session:task_added, then session:updated.
func (s *Leases) take(ctx context.Context, q *store.Q, t *maestro.Task, sessionID string, now, dur int64) error {
	expires := now + dur
	token, err := q.AcquireLease(ctx, t.ID, sessionID, now, expires)
	if err != nil {
		return err
	}
	t.Status = maestro.TaskInProgress
	if t.StartedAt == nil {
		t.StartedAt = &now
	}
	t.UpdatedAt = maestro.NextStamp(now, t.UpdatedAt)
	if err := q.UpdateTask(ctx, *t); err != nil {
		return err
	}
	added, err := q.Link(ctx, t.ID, sessionID)
	if err != nil {
		return err
	}
	if added {
		t.SessionIDs = append(slices.Clone(t.SessionIDs), sessionID)
	}
	t.Lease = &maestro.TaskLease{SessionID: sessionID, AcquiredAt: now, ExpiresAt: expires, Token: token}
	if err := q.Emit(ctx, maestro.EventTaskUpdated, t.ProjectID, t); err != nil {
		return err
	}
	if added {
		if err := q.Emit(ctx, maestro.EventTaskSessionAdded, t.ProjectID,
			maestro.TaskSessionPayload{TaskID: t.ID, SessionID: sessionID}); err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventSessionTaskAdded, t.ProjectID,
			maestro.SessionTaskPayload{SessionID: sessionID, TaskID: t.ID}); err != nil {
			return err
		}
	}
	if err := s.appendEntry(ctx, q, sessionID, maestro.TimelineEntry{
		Type: maestro.TimelineTaskStarted, Timestamp: now, TaskID: t.ID,
		Message: fmt.Sprintf("Claimed task (lease token %d, until %s)", token, time.UnixMilli(expires).UTC().Format(time.RFC3339)),
	}); err != nil {
		return err
	}
	_, err = sessionUpdated(ctx, q, sessionID, now)
	return err
}

// staleToken is the LEASE_TOKEN_STALE error for a token that does not name the lease held now.
func staleToken(taskID string, token int64, held *maestro.TaskLease, now int64) error {
	reason := "no lease is held on the task"
	switch {
	case held != nil && held.Token != token:
		reason = fmt.Sprintf("the task was claimed again since (by session '%s')", held.SessionID)
	case held != nil && held.ExpiresAt <= now:
		reason = "the lease expired"
	}
	return &maestro.Error{Code: maestro.CodeLeaseTokenStale,
		Message: fmt.Sprintf("Lease-Token %d of task '%s' is stale: %s", token, taskID, reason),
		Details: map[string]any{"token": token, "reason": reason}}
}

// checkToken returns the held lease when token names it and it has not expired, and LEASE_TOKEN_STALE
// otherwise.
func checkToken(ls store.LeaseState, taskID string, token, now int64) (*maestro.TaskLease, error) {
	if ls.Held == nil || ls.Held.Token != token || ls.Held.ExpiresAt <= now {
		return nil, staleToken(taskID, token, ls.Held, now)
	}
	return ls.Held, nil
}

// Renew moves the expiry of the lease named by token to now + seconds (the default when 0). It changes
// nothing else and records no event: a lease is renewed often, and its expiry is not news.
// Errors: VALIDATION_ERROR (seconds out of range), NOT_FOUND (task), LEASE_TOKEN_STALE.
func (s *Leases) Renew(ctx context.Context, taskID string, token int64, seconds int) (maestro.Task, error) {
	dur, err := leaseDuration(seconds)
	if err != nil {
		return maestro.Task{}, err
	}
	var t maestro.Task
	err = s.st.InTx(ctx, func(q *store.Q) error {
		if t, err = q.GetTask(ctx, taskID); err != nil {
			return notFound(err, "Task", taskID)
		}
		ls, err := q.GetLease(ctx, taskID)
		if err != nil {
			return err
		}
		now := s.nowMs()
		held, err := checkToken(ls, taskID, token, now)
		if err != nil {
			return err
		}
		if _, err := q.RenewLease(ctx, taskID, token, now+dur); err != nil {
			return err
		}
		renewed := *held
		renewed.ExpiresAt = now + dur
		t.Lease = &renewed
		return nil
	})
	return t, err
}

// Release ends the lease named by r.Token and sets the task's status to r.Status (todo when empty),
// recording task:updated. Errors: VALIDATION_ERROR (an unknown status), NOT_FOUND (task),
// LEASE_TOKEN_STALE.
func (s *Leases) Release(ctx context.Context, taskID string, r maestro.LeaseRelease) (maestro.Task, error) {
	if r.Status == "" {
		r.Status = maestro.TaskTodo
	}
	switch r.Status {
	case maestro.TaskTodo, maestro.TaskCompleted, maestro.TaskBlocked, maestro.TaskCancelled:
	default:
		return maestro.Task{}, maestro.InvalidField("status", "status must be todo, completed, blocked or cancelled")
	}
	var t maestro.Task
	err := s.st.InTx(ctx, func(q *store.Q) error {
		var err error
		if t, err = q.GetTask(ctx, taskID); err != nil {
			return notFound(err, "Task", taskID)
		}
		ls, err := q.GetLease(ctx, taskID)
		if err != nil {
			return err
		}
		now := s.nowMs()
		if _, err := checkToken(ls, taskID, r.Token, now); err != nil {
			return err
		}
		if _, err := q.EndLease(ctx, taskID); err != nil {
			return err
		}
		applyTaskPatch(&t, maestro.TaskPatch{Status: &r.Status}, now)
		t.UpdatedAt = maestro.NextStamp(now, t.UpdatedAt)
		t.Lease = nil
		if err := q.UpdateTask(ctx, t); err != nil {
			return err
		}
		return q.Emit(ctx, maestro.EventTaskUpdated, t.ProjectID, t)
	})
	return t, err
}

// leaseNote is a fact for the audit row of a request (maestro.NoteAudit), noted only once the request's
// transaction committed, so that a change rolled back never claims to have ended a lease.
type leaseNote struct{ key, value string }

func (n leaseNote) record(ctx context.Context) {
	if n.key != "" {
		maestro.NoteAudit(ctx, n.key, n.value)
	}
}

// leaseOnUpdate applies the lease rules to a task update inside its transaction (Tasks.Update), after
// the task and its lease (t.Lease) were read:
//   - with a Lease-Token, the token must name the lease held now and not expired (else
//     LEASE_TOKEN_STALE, and nothing changes); a status other than in_progress then ends the lease;
//   - without one, a status change of a held task is an override: it is allowed, ends the lease, and the
//     request's audit row says so. Changes that leave the status alone do not touch the lease, and
//     neither does a patch naming the status the task has (in_progress): ending the lease then would
//     leave an in_progress task that nobody holds and no sweep frees.
//
// It returns what the audit row should say about the lease.
func leaseOnUpdate(ctx context.Context, q *store.Q, t *maestro.Task, p maestro.TaskPatch, now int64) (leaseNote, error) {
	if p.LeaseToken != nil {
		held, err := checkToken(store.LeaseState{Held: t.Lease}, t.ID, *p.LeaseToken, now)
		if err != nil {
			return leaseNote{}, err
		}
		if p.Status == nil || *p.Status == maestro.TaskInProgress {
			return leaseNote{}, nil
		}
		if _, err := q.EndLease(ctx, t.ID); err != nil {
			return leaseNote{}, err
		}
		t.Lease = nil
		return leaseNote{"lease", fmt.Sprintf("ended by its holder, session %s (token %d)", held.SessionID, held.Token)}, nil
	}
	if t.Lease == nil || p.Status == nil || *p.Status == t.Status {
		return leaseNote{}, nil
	}
	if _, err := q.EndLease(ctx, t.ID); err != nil {
		return leaseNote{}, err
	}
	note := leaseNote{"leaseOverride", fmt.Sprintf("a change without Lease-Token ended the lease of session %s (token %d)",
		t.Lease.SessionID, t.Lease.Token)}
	t.Lease = nil
	return note, nil
}

// expireDue sweeps the due leases of one project (inside a claim's transaction).
func (s *Leases) expireDue(ctx context.Context, q *store.Q, projectID string, now int64) error {
	due, err := q.DueLeasesOfProject(ctx, projectID, now)
	if err != nil {
		return err
	}
	return s.expire(ctx, q, due, now)
}

// expire ends each due lease: the task goes back to todo (when it is still in_progress), the session
// gets a lease_expired timeline entry saying why, and task:updated, task:lease_expired and (when the
// session still exists) session:updated are recorded.
func (s *Leases) expire(ctx context.Context, q *store.Q, due []store.DueLease, now int64) error {
	for _, d := range due {
		t, err := q.GetTask(ctx, d.TaskID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := q.EndLease(ctx, d.TaskID); err != nil {
			return err
		}
		if t.Status == maestro.TaskInProgress {
			t.Status = maestro.TaskTodo
		}
		t.UpdatedAt = maestro.NextStamp(now, t.UpdatedAt)
		if err := q.UpdateTask(ctx, t); err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventTaskUpdated, t.ProjectID, t); err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventTaskLeaseExpired, t.ProjectID, maestro.LeaseExpiredPayload{
			TaskID: t.ID, SessionID: d.Lease.SessionID, Token: d.Lease.Token, ExpiresAt: d.Lease.ExpiresAt, Task: t,
		}); err != nil {
			return err
		}
		ok, err := q.SessionExists(ctx, d.Lease.SessionID)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := s.appendEntry(ctx, q, d.Lease.SessionID, maestro.TimelineEntry{
			Type: maestro.TimelineLeaseExpired, Timestamp: now, TaskID: t.ID,
			Message: fmt.Sprintf("Lease on the task expired (token %d, at %s) without renewal; the task is back to %s",
				d.Lease.Token, time.UnixMilli(d.Lease.ExpiresAt).UTC().Format(time.RFC3339), t.Status),
		}); err != nil {
			return err
		}
		if _, err := sessionUpdated(ctx, q, d.Lease.SessionID, now); err != nil {
			return err
		}
	}
	return nil
}

// Sweep ends every lease that has expired by now (the clock), in bounded transactions, and returns how
// many it ended.
func (s *Leases) Sweep(ctx context.Context) (int, error) {
	// Most sweeps find nothing: a look on the reader pool spares them a write transaction.
	if due, err := s.st.Read().DueLeases(ctx, s.nowMs(), 1); err != nil || len(due) == 0 {
		return 0, err
	}
	total := 0
	for {
		n := 0
		err := s.st.InTx(ctx, func(q *store.Q) error {
			now := s.nowMs()
			due, err := q.DueLeases(ctx, now, sweepBatch)
			if err != nil {
				return err
			}
			n = len(due)
			return s.expire(ctx, q, due, now)
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < sweepBatch {
			return total, nil
		}
	}
}

// Run sweeps expired leases every interval until ctx ends.
func (s *Leases) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			n, err := s.Sweep(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("sweeping expired task leases", "error", err)
			case n > 0:
				s.log.Info("expired task leases", "count", n)
			}
		}
	}
}

// Attach sets the Lease of each task to the lease held on it (nil when none), for API v2 reads.
func (s *Leases) Attach(ctx context.Context, tasks []maestro.Task) error {
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
	}
	held, err := s.st.Read().HeldLeases(ctx, ids)
	if err != nil {
		return err
	}
	for i := range tasks {
		if l, ok := held[tasks[i].ID]; ok {
			tasks[i].Lease = &l
		} else {
			tasks[i].Lease = nil
		}
	}
	return nil
}

// Get returns one task with its lease (API v2). Errors: NOT_FOUND.
func (s *Leases) Get(ctx context.Context, id string) (maestro.Task, error) {
	t, err := s.st.Read().GetTask(ctx, id)
	if err != nil {
		return t, notFound(err, "Task", id)
	}
	one := []maestro.Task{t}
	err = s.Attach(ctx, one)
	return one[0], err
}

// Ready returns one page of a project's ready set: its todo tasks in the order Next picks them (most
// urgent, then oldest), each with the dependencies that are not completed yet — Next takes the first
// one whose list is empty. Errors: NOT_FOUND (project), VALIDATION_ERROR (a cursor of another query).
func (s *Leases) Ready(ctx context.Context, rq maestro.ReadyQuery) (maestro.Page[maestro.ReadyTask], error) {
	var out maestro.Page[maestro.ReadyTask]
	r := s.st.Read()
	if _, err := r.GetProject(ctx, rq.ProjectID); err != nil {
		return out, notFound(err, "Project", rq.ProjectID)
	}
	page, err := r.TaskPage(ctx, maestro.TaskQuery{
		ProjectID: rq.ProjectID, Statuses: []string{maestro.TaskTodo}, ParentID: rq.ParentID,
		Sort: maestro.SortPriority, Limit: rq.Limit, Cursor: rq.Cursor, WithTotal: rq.WithTotal,
	})
	if err != nil {
		return out, err
	}
	if err := s.Attach(ctx, page.Items); err != nil {
		return out, err
	}
	var deps []string
	for _, t := range page.Items {
		deps = append(deps, t.Dependencies...)
	}
	statuses, err := r.TaskStatuses(ctx, dedupe(deps))
	if err != nil {
		return out, err
	}
	out.NextCursor, out.Total = page.NextCursor, page.Total
	out.Items = make([]maestro.ReadyTask, len(page.Items))
	for i, t := range page.Items {
		blocked := []string{}
		for _, d := range t.Dependencies {
			if st, ok := statuses[d]; ok && st != maestro.TaskCompleted {
				blocked = append(blocked, d)
			}
		}
		out.Items[i] = maestro.ReadyTask{Task: t, BlockedBy: blocked}
	}
	return out, nil
}
