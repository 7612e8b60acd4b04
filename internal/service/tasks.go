package service

import (
	"context"
	"errors"
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

// Create stores a new todo task and records task:created. Checks run in the predecessor's order.
// Errors: VALIDATION_ERROR (no projectId, blank title, field too long), NOT_FOUND (project, parent task).
func (s *Tasks) Create(ctx context.Context, in maestro.TaskCreate) (maestro.Task, error) {
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
	); err != nil {
		return maestro.Task{}, err
	}
	now := s.now()
	t := maestro.Task{
		ID: maestro.NewID(maestro.PrefixTask, now), ProjectID: in.ProjectID, Title: title,
		Description: in.Description, Status: maestro.TaskTodo, Priority: in.Priority,
		CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli(), InitialPrompt: in.InitialPrompt,
		SessionIDs: []string{}, SkillIDs: orEmpty(in.SkillIDs), AgentIDs: []string{}, Dependencies: []string{},
	}
	if in.ParentID != "" {
		parent := in.ParentID
		t.ParentID = &parent
	}
	err := s.st.InTx(ctx, func(q *store.Q) error {
		if _, err := q.GetProject(ctx, in.ProjectID); err != nil {
			return notFound(err, "Project", in.ProjectID)
		}
		if t.ParentID != nil {
			ok, err := q.TaskExists(ctx, *t.ParentID)
			if err != nil {
				return err
			}
			if !ok {
				return maestro.NotFound("Parent task", *t.ParentID)
			}
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
// (D5), and each session whose list changed gets session:updated.
// Errors: VALIDATION_ERROR, NOT_FOUND (task, or a session in sessionIds).
func (s *Tasks) Update(ctx context.Context, id string, p maestro.TaskPatch) (maestro.Task, error) {
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
	); err != nil {
		return maestro.Task{}, err
	}
	var t maestro.Task
	err := s.st.InTx(ctx, func(q *store.Q) error {
		var err error
		if t, err = q.GetTask(ctx, id); err != nil {
			return notFound(err, "Task", id)
		}
		now := s.nowMs()
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
// affected sessions get session:updated), then task:deleted. Queue items keep the id as history.
// Errors: NOT_FOUND.
func (s *Tasks) Delete(ctx context.Context, id string) error {
	return s.st.InTx(ctx, func(q *store.Q) error {
		t, err := q.GetTask(ctx, id)
		if err != nil {
			return notFound(err, "Task", id)
		}
		now := s.nowMs()
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
}

// sessionsChanged records, for each session whose task list just changed, a lastActivity bump and a
// session:updated event carrying the session as it now is. Sessions deleted in the meantime are skipped.
func (b base) sessionsChanged(ctx context.Context, q *store.Q, ids []string, now int64) error {
	for _, sid := range ids {
		if err := q.TouchSession(ctx, sid, now); err != nil {
			return err
		}
		sess, err := q.GetSession(ctx, sid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventSessionUpdated, sess.ProjectID, sess); err != nil {
			return err
		}
	}
	return nil
}
