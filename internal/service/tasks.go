package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Tasks is the task use cases (SPEC §2.5).
type Tasks struct{ base }

// List returns the tasks matching f, oldest first (D16).
func (s *Tasks) List(ctx context.Context, f maestro.TaskFilter) ([]maestro.Task, error) {
	return s.st.Read().ListTasks(ctx, f)
}

// Get returns one task. Errors: NOT_FOUND.
func (s *Tasks) Get(ctx context.Context, id string) (maestro.Task, error) {
	t, err := s.st.Read().GetTask(ctx, id)
	return t, notFound(err, "Task", id)
}

// Children returns the direct children of a task. Errors: NOT_FOUND (no such parent).
func (s *Tasks) Children(ctx context.Context, id string) ([]maestro.Task, error) {
	q := s.st.Read()
	ok, err := q.TaskExists(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, maestro.NotFound("Task", id)
	}
	return q.ListTasks(ctx, maestro.TaskFilter{ParentSet: true, ParentID: id})
}

func validateTaskText(title, description, initialPrompt *string) error {
	var errs []error
	if title != nil {
		errs = append(errs, maestro.CheckChars("title", *title, maestro.MaxTitleChars))
	}
	if description != nil {
		errs = append(errs, maestro.CheckBytes("description", *description, maestro.MaxTextBytes))
	}
	if initialPrompt != nil {
		errs = append(errs, maestro.CheckBytes("initialPrompt", *initialPrompt, maestro.MaxTextBytes))
	}
	return firstErr(errs...)
}

func validateEnum(field string, v *string) error {
	if v == nil {
		return nil
	}
	return maestro.CheckChars(field, *v, maestro.MaxEnumChars)
}

func validateList(field string, v *[]string) error {
	if v == nil {
		return nil
	}
	return maestro.CheckList(field, *v, maestro.MaxIDChars)
}

// Create stores a new todo task and records task:created. Checks run in the predecessor's order, then
// (v2) the parent's project and the dependencies. Errors: VALIDATION_ERROR (no projectId, blank title,
// field too long, parent of another project when SameProjectParent, unknown or foreign dependencies),
// NOT_FOUND (project, parent task).
func (s *Tasks) Create(ctx context.Context, in maestro.TaskCreate, opts ...maestro.WriteOpts) (maestro.Task, error) {
	if in.ProjectID == "" {
		return maestro.Task{}, maestro.InvalidField("projectId", "Project ID is required")
	}
	title := strings.TrimSpace(in.Title)
	if title == "" {
		return maestro.Task{}, maestro.InvalidField("title", "Task title is required")
	}
	if in.Priority == "" {
		in.Priority = maestro.PriorityMedium
	}
	if err := firstErr(
		validateTaskText(&title, &in.Description, &in.InitialPrompt),
		validateEnum("priority", &in.Priority),
		validateList("skillIds", &in.SkillIDs),
		validateList("dependencies", &in.Dependencies),
	); err != nil {
		return maestro.Task{}, err
	}
	deps := dedupe(in.Dependencies)
	now := s.now()
	t := maestro.Task{
		ID: maestro.NewID(maestro.PrefixTask, now), ProjectID: in.ProjectID, Title: title,
		Description: in.Description, Status: maestro.TaskTodo, Priority: in.Priority,
		CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli(), InitialPrompt: in.InitialPrompt,
		SessionIDs: []string{}, SkillIDs: orEmpty(in.SkillIDs), AgentIDs: []string{}, Dependencies: deps,
	}
	if in.ParentID != "" {
		parent := in.ParentID
		t.ParentID = &parent
	}
	err := once(ctx, s.st, opts, &t, func(q *store.Q) error {
		if err := q.RequireProject(ctx, in.ProjectID); err != nil {
			return notFound(err, "Project", in.ProjectID)
		}
		if t.ParentID != nil {
			parent, err := q.GetTaskRef(ctx, *t.ParentID)
			if errors.Is(err, store.ErrNotFound) {
				return maestro.NotFound("Parent task", *t.ParentID)
			}
			if err != nil {
				return err
			}
			if in.SameProjectParent && parent.ProjectID != t.ProjectID {
				return maestro.InvalidField("parentId", "Parent task '%s' belongs to another project (%s)",
					*t.ParentID, parent.ProjectID)
			}
		}
		if err := checkDependencies(ctx, q, "", t.ProjectID, deps); err != nil {
			return err
		}
		if err := q.InsertTask(ctx, t); err != nil {
			return err
		}
		return q.Emit(ctx, maestro.EventTaskCreated, t.ProjectID, t)
	})
	if err != nil {
		return maestro.Task{}, err
	}
	return t, nil
}

// Update applies a PATCH (SPEC §2.5): a blank title is refused first; with UpdateSource "session" only
// sessionStatus is applied; otherwise every present field is (lists replace). startedAt and completedAt
// are set the first time the status becomes in_progress or completed. updatedAt always moves and
// task:updated is always recorded. A new sessionIds list also updates the sessions' side of the links
// (D5), and each session whose list changed gets session:updated. New dependencies (v2) are checked
// like Create's, and for cycles. A request precondition (If-Match) is checked against the stored task
// (with its lease). The lease rules apply (see leaseOnUpdate): a Lease-Token must name the lease held
// now, and a status change without one overrides (ends) the lease.
// Errors: VALIDATION_ERROR, NOT_FOUND (task, or a session in sessionIds), DEPENDENCY_CYCLE,
// PRECONDITION_FAILED, LEASE_TOKEN_STALE.
func (s *Tasks) Update(ctx context.Context, id string, p maestro.TaskPatch, opts ...maestro.WriteOpts) (maestro.Task, error) {
	if p.Title != nil {
		title := strings.TrimSpace(*p.Title)
		if title == "" {
			return maestro.Task{}, maestro.InvalidField("title", "Task title cannot be empty")
		}
		p.Title = &title
	}
	if p.UpdateSource == maestro.UpdateSourceSession {
		p = maestro.TaskPatch{SessionStatus: p.SessionStatus, UpdateSource: p.UpdateSource}
	}
	if err := firstErr(
		validateTaskText(p.Title, p.Description, nil),
		validateEnum("status", p.Status),
		validateEnum("sessionStatus", p.SessionStatus),
		validateEnum("priority", p.Priority),
		validateList("sessionIds", p.SessionIDs),
		validateList("skillIds", p.SkillIDs),
		validateList("agentIds", p.AgentIDs),
		validateList("dependencies", p.Dependencies),
	); err != nil {
		return maestro.Task{}, err
	}
	var t maestro.Task
	var note leaseNote
	err := s.st.InTx(ctx, func(q *store.Q) error {
		var err error
		if t, err = q.GetTask(ctx, id); err != nil {
			return notFound(err, "Task", id)
		}
		ls, err := q.GetLease(ctx, id)
		if err != nil {
			return err
		}
		t.Lease = ls.Held
		if err := maestro.OptsOf(opts).IfMatch.Check(t); err != nil {
			return err
		}
		now := s.nowMs()
		if note, err = leaseOnUpdate(ctx, q, &t, p, now); err != nil {
			return err
		}
		if p.Dependencies != nil {
			deps := dedupe(*p.Dependencies)
			if err := checkDependencies(ctx, q, id, t.ProjectID, deps); err != nil {
				return err
			}
			t.Dependencies = deps
		}
		applyTaskPatch(&t, p, now)
		t.UpdatedAt = maestro.NextStamp(now, t.UpdatedAt)
		if err := q.UpdateTask(ctx, t); err != nil {
			return err
		}
		var changedSessions []string
		if p.SessionIDs != nil {
			ids := dedupe(*p.SessionIDs)
			if changedSessions, err = q.ReplaceSessionsOfTask(ctx, id, ids); err != nil {
				if errors.Is(err, store.ErrForeignKey) {
					return s.missingSession(ctx, q, ids)
				}
				return err
			}
			t.SessionIDs = ids
		}
		if err := q.Emit(ctx, maestro.EventTaskUpdated, t.ProjectID, t); err != nil {
			return err
		}
		return s.sessionsChanged(ctx, q, changedSessions, now)
	})
	if err == nil {
		note.record(ctx)
	}
	return t, err
}

func applyTaskPatch(t *maestro.Task, p maestro.TaskPatch, now int64) {
	if p.Title != nil {
		t.Title = *p.Title
	}
	if p.Description != nil {
		t.Description = *p.Description
	}
	if p.Status != nil {
		t.Status = *p.Status
		if t.Status == maestro.TaskInProgress && t.StartedAt == nil {
			t.StartedAt = &now
		}
		if t.Status == maestro.TaskCompleted && t.CompletedAt == nil {
			t.CompletedAt = &now
		}
	}
	if p.SessionStatus != nil {
		t.SessionStatus = p.SessionStatus
	}
	if p.Priority != nil {
		t.Priority = *p.Priority
	}
	if p.SkillIDs != nil {
		t.SkillIDs = orEmpty(*p.SkillIDs)
	}
	if p.AgentIDs != nil {
		t.AgentIDs = orEmpty(*p.AgentIDs)
	}
}

// missingSession finds which of ids does not exist, for a precise NOT_FOUND after a foreign key failure.
func (s *Tasks) missingSession(ctx context.Context, q *store.Q, ids []string) error {
	for _, id := range ids {
		ok, err := q.SessionExists(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return maestro.NotFound("Session", id)
		}
	}
	return maestro.Invalid("sessionIds references a session that does not exist")
}

// Delete removes a task (D6): its children become root tasks (task:updated each), its links go (the
// affected sessions get session:updated), then task:deleted. Queue items keep the id as history. Tasks
// that depended on it lose that dependency (task:updated each), so no dependency ever dangles.
// Errors: NOT_FOUND, PRECONDITION_FAILED.
func (s *Tasks) Delete(ctx context.Context, id string, opts ...maestro.WriteOpts) error {
	var note leaseNote
	err := s.st.InTx(ctx, func(q *store.Q) error {
		t, err := q.GetTask(ctx, id)
		if err != nil {
			return notFound(err, "Task", id)
		}
		ls, err := q.GetLease(ctx, id)
		if err != nil {
			return err
		}
		t.Lease = ls.Held
		if err := maestro.OptsOf(opts).IfMatch.Check(t); err != nil {
			return err
		}
		if t.Lease != nil {
			// The lease row goes with the task (foreign key); the audit row says whose work was cut short.
			note = leaseNote{"leaseOverride", fmt.Sprintf("the delete ended the lease of session %s (token %d)",
				t.Lease.SessionID, t.Lease.Token)}
		}
		now := s.nowMs()
		if err := s.dropDependency(ctx, q, t, now); err != nil {
			return err
		}
		children, err := q.ListChildTaskIDs(ctx, id)
		if err != nil {
			return err
		}
		if err := q.DetachChildTasks(ctx, id, now); err != nil {
			return err
		}
		for _, cid := range children {
			child, err := q.GetTask(ctx, cid)
			if err != nil {
				return err
			}
			if err := q.Emit(ctx, maestro.EventTaskUpdated, child.ProjectID, child); err != nil {
				return err
			}
		}
		if err := q.DeleteTask(ctx, id); err != nil {
			return err
		}
		if err := s.sessionsChanged(ctx, q, t.SessionIDs, now); err != nil {
			return err
		}
		return q.Emit(ctx, maestro.EventTaskDeleted, t.ProjectID, maestro.IDPayload{ID: id})
	})
	if err == nil {
		note.record(ctx)
	}
	return err
}

// sessionsChanged records, for each session whose task list just changed, a lastActivity bump and a
// session:updated event carrying the session as it now is. Sessions deleted in the meantime are skipped.
func (b base) sessionsChanged(ctx context.Context, q *store.Q, ids []string, now int64) error {
	for _, sid := range ids {
		if _, err := sessionUpdated(ctx, q, sid, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// sessionUpdated bumps a session's lastActivity (D12), reads it back whole and records session:updated
// with it; it returns the session as the event carries it, or ErrNotFound.
func sessionUpdated(ctx context.Context, q *store.Q, sessionID string, now int64) (maestro.Session, error) {
	if err := q.TouchSession(ctx, sessionID, now); err != nil {
		return maestro.Session{}, err
	}
	sess, err := q.GetSession(ctx, sessionID)
	if err != nil {
		return maestro.Session{}, err
	}
	return sess, q.Emit(ctx, maestro.EventSessionUpdated, sess.ProjectID, sess)
}

// dropDependency removes a task that is being deleted from the dependencies of the tasks of its project
// that list it, bumping their updatedAt and recording task:updated for each.
func (s *Tasks) dropDependency(ctx context.Context, q *store.Q, deleted maestro.Task, now int64) error {
	ids, err := q.DependentTaskIDs(ctx, deleted.ProjectID, deleted.ID)
	if err != nil {
		return err
	}
	for _, did := range ids {
		dep, err := q.GetTask(ctx, did)
		if err != nil {
			return err
		}
		dep.Dependencies = slices.DeleteFunc(dep.Dependencies, func(x string) bool { return x == deleted.ID })
		dep.UpdatedAt = maestro.NextStamp(now, dep.UpdatedAt)
		if err := q.UpdateTask(ctx, dep); err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventTaskUpdated, dep.ProjectID, dep); err != nil {
			return err
		}
	}
	return nil
}

// Page returns one page of the tasks matching tq (API v2). Errors: VALIDATION_ERROR (parentId with
// root, a search without words, a sort or cursor that does not fit the query).
func (s *Tasks) Page(ctx context.Context, tq maestro.TaskQuery) (maestro.Page[maestro.Task], error) {
	if err := checkTaskQuery(tq); err != nil {
		return maestro.Page[maestro.Task]{}, err
	}
	return s.st.Read().TaskPage(ctx, tq)
}

// ChildrenPage returns one page of the direct children of a task (API v2). Errors: NOT_FOUND (no such
// task), and Page's.
func (s *Tasks) ChildrenPage(ctx context.Context, id string, tq maestro.TaskQuery) (maestro.Page[maestro.Task], error) {
	ok, err := s.st.Read().TaskExists(ctx, id)
	if err != nil {
		return maestro.Page[maestro.Task]{}, err
	}
	if !ok {
		return maestro.Page[maestro.Task]{}, maestro.NotFound("Task", id)
	}
	tq.ParentID, tq.Root = id, false
	if err := checkTaskQuery(tq); err != nil {
		return maestro.Page[maestro.Task]{}, err
	}
	return s.st.Read().TaskPage(ctx, tq)
}
