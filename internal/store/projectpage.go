package store

import (
	"context"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// ProjectPage returns one page of projects in createdAt order (either direction), keyset-paginated on
// (created_at, id) through the projects_created index (queries/projects.sql). Errors: VALIDATION_ERROR
// (a foreign cursor); the service has validated the sort.
func (q *Q) ProjectPage(ctx context.Context, pq maestro.ProjectQuery) (maestro.Page[maestro.Project], error) {
	var page maestro.Page[maestro.Project]
	sortName, desc, err := createdOrder(pq.Sort)
	if err != nil {
		return page, err
	}
	filter := fingerprint("projects")
	after, err := decodeCursor(pq.Cursor, sortName, filter)
	if err != nil {
		return page, err
	}
	if pq.WithTotal {
		n, err := q.q.CountProjects(q.c(ctx))
		if err != nil {
			return page, mapErr(err)
		}
		page.Total = &n
	}
	limit := pageLimit(pq.Limit)
	at, id := createdAfter(after, desc)
	arg := db.ListProjectsPageParams{AfterAt: at, AfterID: id, Lim: int64(limit) + 1}
	var rows []db.Project
	if desc {
		rows, err = q.q.ListProjectsPageDesc(q.c(ctx), db.ListProjectsPageDescParams(arg))
	} else {
		rows, err = q.q.ListProjectsPage(q.c(ctx), arg)
	}
	if err != nil {
		return page, mapErr(err)
	}
	keysetPage(&page, rows, limit, sortName, filter, func(r db.Project) (maestro.Project, keyset) {
		return projectFromRow(r), keyset{A: r.CreatedAt, ID: r.ID}
	})
	return page, nil
}
