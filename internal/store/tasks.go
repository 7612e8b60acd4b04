package store

import (
	"context"
	"database/sql"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// taskFromRow converts a task row plus its JSON list of linked session ids. Every task query returns
// the same two columns, so all their row types convert to db.GetTaskRow.
func taskFromRow(r db.GetTaskRow) (maestro.Task, error) {
	t := r.Task
	out := maestro.Task{
		ID: t.ID, ProjectID: t.ProjectID, ParentID: stringPtr(t.ParentID), Title: t.Title,
		Description: t.Description, Status: t.Status, SessionStatus: stringPtr(t.SessionStatus),
		Priority: t.Priority, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		StartedAt: int64Ptr(t.StartedAt), CompletedAt: int64Ptr(t.CompletedAt), InitialPrompt: t.InitialPrompt,
	}
	var err error
	if out.SessionIDs, err = parseList(r.SessionIds); err != nil {
		return out, err
	}
	if out.SkillIDs, err = parseList(t.SkillIds); err != nil {
		return out, err
	}
	if out.AgentIDs, err = parseList(t.AgentIds); err != nil {
		return out, err
	}
	if out.Dependencies, err = parseList(t.Dependencies); err != nil {
		return out, err
	}
	return out, nil
}

func tasksFromRows[R ~struct {
	Task       db.Task
	SessionIds string
}](rows []R) ([]maestro.Task, error) {
	out := make([]maestro.Task, len(rows))
	for i, r := range rows {
		t, err := taskFromRow(db.GetTaskRow(r))
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// GetTask returns the task or ErrNotFound.
func (q *Q) GetTask(ctx context.Context, id string) (maestro.Task, error) {
	r, err := q.q.GetTask(q.c(ctx), id)
	if err != nil {
		return maestro.Task{}, mapErr(err)
	}
	return taskFromRow(r)
}

// TaskExists reports whether a task with this id exists.
func (q *Q) TaskExists(ctx context.Context, id string) (bool, error) {
	n, err := q.q.TaskExists(q.c(ctx), id)
	return n, mapErr(err)
}

// ListTasks returns the tasks matching f, oldest first. Each filter shape has its own query, so every
// shape is an index seek rather than a scan of all tasks.
func (q *Q) ListTasks(ctx context.Context, f maestro.TaskFilter) ([]maestro.Task, error) {
	status := nullString(f.Status)
	switch {
	case f.ProjectID != "":
		var root int64
		if f.RootOnly {
			root = 1
		}
		parent := sql.NullString{}
		if f.ParentSet {
			parent = sql.NullString{String: f.ParentID, Valid: true}
		}
		rows, err := q.q.ListTasksByProject(q.c(ctx), db.ListTasksByProjectParams{
			ProjectID: f.ProjectID, Status: status, RootOnly: root, ParentID: parent,
		})
		if err != nil {
			return nil, mapErr(err)
		}
		return tasksFromRows(rows)
	case f.ParentSet:
		if f.ParentID == "" {
			// "?parentId=" means parentId == "", which no task has: a missing parent is NULL, never "".
			return []maestro.Task{}, nil
		}
		rows, err := q.q.ListTasksByParent(q.c(ctx), db.ListTasksByParentParams{ParentID: nullString(f.ParentID), Status: status})
		if err != nil {
			return nil, mapErr(err)
		}
		return tasksFromRows(rows)
	case f.RootOnly:
		rows, err := q.q.ListRootTasks(q.c(ctx), status)
		if err != nil {
			return nil, mapErr(err)
		}
		return tasksFromRows(rows)
	case f.Status != "":
		rows, err := q.q.ListTasksByStatus(q.c(ctx), f.Status)
		if err != nil {
			return nil, mapErr(err)
		}
		return tasksFromRows(rows)
	default:
		rows, err := q.q.ListTasks(q.c(ctx))
		if err != nil {
			return nil, mapErr(err)
		}
		return tasksFromRows(rows)
	}
}

// ListChildTaskIDs returns the ids of the direct children of a task, oldest first.
func (q *Q) ListChildTaskIDs(ctx context.Context, parentID string) ([]string, error) {
	ids, err := q.q.ListChildTaskIDs(q.c(ctx), nullString(parentID))
	return ids, mapErr(err)
}

// InsertTask stores a new task (its SessionIDs are ignored: links live in the join table).
func (q *Q) InsertTask(ctx context.Context, t maestro.Task) error {
	return mapErr(q.q.InsertTask(q.c(ctx), db.InsertTaskParams{
		ID: t.ID, ProjectID: t.ProjectID, ParentID: nullStringPtr(t.ParentID), Title: t.Title,
		Description: t.Description, Status: t.Status, SessionStatus: nullStringPtr(t.SessionStatus),
		Priority: t.Priority, InitialPrompt: t.InitialPrompt, SkillIds: jsonList(t.SkillIDs),
		AgentIds: jsonList(t.AgentIDs), Dependencies: jsonList(t.Dependencies),
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, StartedAt: nullInt64Ptr(t.StartedAt),
		CompletedAt: nullInt64Ptr(t.CompletedAt),
	}))
}

// UpdateTask stores every mutable field of an existing task (not its links, project or parent).
func (q *Q) UpdateTask(ctx context.Context, t maestro.Task) error {
	return mapErr(q.q.UpdateTask(q.c(ctx), db.UpdateTaskParams{
		ID: t.ID, Title: t.Title, Description: t.Description, Status: t.Status,
		SessionStatus: nullStringPtr(t.SessionStatus), Priority: t.Priority, SkillIds: jsonList(t.SkillIDs),
		AgentIds: jsonList(t.AgentIDs), Dependencies: jsonList(t.Dependencies), UpdatedAt: t.UpdatedAt,
		StartedAt: nullInt64Ptr(t.StartedAt), CompletedAt: nullInt64Ptr(t.CompletedAt),
	}))
}

// TouchTask bumps a task's updatedAt to now (strictly increasing, D12).
func (q *Q) TouchTask(ctx context.Context, id string, now int64) error {
	return mapErr(q.q.TouchTask(q.c(ctx), db.TouchTaskParams{ID: id, Now: now}))
}

// SetTaskSessionStatus sets a task's sessionStatus and bumps its updatedAt.
func (q *Q) SetTaskSessionStatus(ctx context.Context, id, status string, now int64) error {
	return mapErr(q.q.SetTaskSessionStatus(q.c(ctx), db.SetTaskSessionStatusParams{
		ID: id, SessionStatus: nullString(status), Now: now,
	}))
}

// DetachChildTasks makes every child of parentID a root task and bumps their updatedAt.
func (q *Q) DetachChildTasks(ctx context.Context, parentID string, now int64) error {
	return mapErr(q.q.DetachChildTasks(q.c(ctx), db.DetachChildTasksParams{ParentID: nullString(parentID), Now: now}))
}

// DeleteTask deletes a task and, through foreign keys, its links; ErrNotFound when there was none.
func (q *Q) DeleteTask(ctx context.Context, id string) error {
	n, err := q.q.DeleteTask(q.c(ctx), id)
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
