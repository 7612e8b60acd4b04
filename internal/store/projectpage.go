package store

import (
	"context"
	"database/sql"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// ProjectPage returns one page of projects in createdAt order (either direction), keyset-paginated on
// (created_at, id) through the projects_created index. Errors: VALIDATION_ERROR (a foreign
// cursor); the service has validated the sort.
func (q *Q) ProjectPage(ctx context.Context, pq maestro.ProjectQuery) (maestro.Page[maestro.Project], error) {
	var page maestro.Page[maestro.Project]
	sortName, order, afterCond, err := createdOrder(pq.Sort)
	if err != nil {
		return page, err
	}
	filter := fingerprint("projects")
	after, err := decodeCursor(pq.Cursor, sortName, filter)
	if err != nil {
		return page, err
	}
	if pq.WithTotal {
		if page.Total, err = q.countRows(ctx, "SELECT COUNT(*) FROM projects"); err != nil {
			return page, err
		}
	}
	query := "SELECT id, name, working_dir, description, created_at, updated_at FROM projects"
	var args []any
	if after != nil {
		query += " WHERE " + afterCond
		args = append(args, after.A, after.A, after.ID)
	}
	limit := pageLimit(pq.Limit)
	args = append(args, limit+1)
	err = readPage(ctx, q, &page, limit, sortName, filter, func(rows *sql.Rows) (maestro.Project, keyset, error) {
		var p maestro.Project
		err := rows.Scan(&p.ID, &p.Name, &p.WorkingDir, &p.Description, &p.CreatedAt, &p.UpdatedAt)
		return p, keyset{A: p.CreatedAt, ID: p.ID}, err
	}, query+" ORDER BY "+order+" LIMIT ?", args...)
	return page, err
}
