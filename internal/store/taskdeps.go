package store

import (
	"context"
)

// TaskRef is what dependency validation needs to know about a task.
type TaskRef struct {
	ProjectID    string
	Dependencies []string
}

// GetTaskRef returns the project and dependencies of a task, or ErrNotFound.
func (q *Q) GetTaskRef(ctx context.Context, id string) (TaskRef, error) {
	r, err := q.q.GetTaskRef(q.c(ctx), id)
	if err != nil {
		return TaskRef{}, mapErr(err)
	}
	deps, err := parseList(r.Dependencies)
	return TaskRef{ProjectID: r.ProjectID, Dependencies: deps}, err
}

// DependentTaskIDs returns the tasks of a project whose dependencies list taskID, oldest first. It is
// hand-written because sqlc cannot resolve the columns of json_each.
func (q *Q) DependentTaskIDs(ctx context.Context, projectID, taskID string) ([]string, error) {
	rows, err := q.x.QueryContext(q.c(ctx), `SELECT t.id FROM tasks t
WHERE t.project_id = ? AND EXISTS (SELECT 1 FROM json_each(t.dependencies) d WHERE d.value = ?)
ORDER BY t.created_at, t.id`, projectID, taskID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(err)
		}
		ids = append(ids, id)
	}
	return ids, mapErr(rows.Err())
}
