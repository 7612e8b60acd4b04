package store

import (
	"context"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

func projectFromRow(r db.Project) maestro.Project {
	return maestro.Project{
		ID: r.ID, Name: r.Name, WorkingDir: r.WorkingDir, Description: r.Description,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// GetProject returns the project or ErrNotFound.
func (q *Q) GetProject(ctx context.Context, id string) (maestro.Project, error) {
	r, err := q.q.GetProject(q.c(ctx), id)
	if err != nil {
		return maestro.Project{}, mapErr(err)
	}
	return projectFromRow(r), nil
}

// RequireProject returns ErrNotFound unless a project with this id exists. Creates call it inside
// the serial writer, where decoding the whole row (GetProject) was 7% of its time under POST
// /api/tasks (maestro-bench create-task, pprof).
func (q *Q) RequireProject(ctx context.Context, id string) error {
	ok, err := q.q.ProjectExists(q.c(ctx), id)
	if err != nil {
		return mapErr(err)
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// ListProjects returns every project, oldest first.
func (q *Q) ListProjects(ctx context.Context) ([]maestro.Project, error) {
	rows, err := q.q.ListProjects(q.c(ctx))
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]maestro.Project, len(rows))
	for i, r := range rows {
		out[i] = projectFromRow(r)
	}
	return out, nil
}

// InsertProject stores a new project.
func (q *Q) InsertProject(ctx context.Context, p maestro.Project) error {
	return mapErr(q.q.InsertProject(q.c(ctx), db.InsertProjectParams{
		ID: p.ID, Name: p.Name, WorkingDir: p.WorkingDir, Description: p.Description,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}))
}

// UpdateProject stores the editable fields and updatedAt of an existing project.
func (q *Q) UpdateProject(ctx context.Context, p maestro.Project) error {
	return mapErr(q.q.UpdateProject(q.c(ctx), db.UpdateProjectParams{
		ID: p.ID, Name: p.Name, WorkingDir: p.WorkingDir, Description: p.Description, UpdatedAt: p.UpdatedAt,
	}))
}

// DeleteProject deletes a project; ErrNotFound when there was none.
func (q *Q) DeleteProject(ctx context.Context, id string) error {
	n, err := q.q.DeleteProject(q.c(ctx), id)
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ProjectUsage reports whether tasks or sessions still reference the project.
func (q *Q) ProjectUsage(ctx context.Context, id string) (hasTasks, hasSessions bool, err error) {
	t, err := q.q.ProjectHasTasks(q.c(ctx), id)
	if err != nil {
		return false, false, mapErr(err)
	}
	s, err := q.q.ProjectHasSessions(q.c(ctx), id)
	if err != nil {
		return false, false, mapErr(err)
	}
	return t, s, nil
}
