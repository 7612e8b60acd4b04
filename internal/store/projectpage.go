package store

import (
	"context"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// ProjectPage returns one page of projects in createdAt order (either direction), keyset-paginated on
// (created_at, id) through the projects_created index. Errors: VALIDATION_ERROR (unknown sort, foreign
// cursor).
func (q *Q) ProjectPage(ctx context.Context, pq maestro.ProjectQuery) (maestro.Page[maestro.Project], error) {
	var page maestro.Page[maestro.Project]
	sortName := pq.Sort
	if sortName == "" {
		sortName = maestro.SortCreatedAt
	}
	order, op := "created_at, id", ">"
	switch sortName {
	case maestro.SortCreatedAt:
	case maestro.SortCreatedAtDesc:
		order, op = "created_at DESC, id DESC", "<"
	default:
		return page, unknownSort(sortName)
	}
	filter := fingerprint("projects")
	after, err := decodeCursor(pq.Cursor, sortName, filter)
	if err != nil {
		return page, err
	}
	limit := pageLimit(pq.Limit)
	if pq.WithTotal {
		var total int64
		if err := q.x.QueryRowContext(q.c(ctx), "SELECT COUNT(*) FROM projects").Scan(&total); err != nil {
			return page, mapErr(err)
		}
		page.Total = &total
	}
	query := "SELECT id, name, working_dir, description, created_at, updated_at FROM projects"
	var args []any
	if after != nil {
		query += " WHERE (created_at, id) " + op + " (?, ?)"
		args = append(args, after.A, after.ID)
	}
	query += " ORDER BY " + order + " LIMIT ?"
	args = append(args, limit+1)
	rows, err := q.x.QueryContext(q.c(ctx), query, args...)
	if err != nil {
		return page, mapErr(err)
	}
	defer rows.Close()
	page.Items = make([]maestro.Project, 0, min(limit, 64))
	more := false
	for rows.Next() {
		if len(page.Items) == limit {
			more = true
			break
		}
		var p maestro.Project
		if err := rows.Scan(&p.ID, &p.Name, &p.WorkingDir, &p.Description, &p.CreatedAt, &p.UpdatedAt); err != nil {
			return page, mapErr(err)
		}
		page.Items = append(page.Items, p)
	}
	if err := rows.Err(); err != nil {
		return page, mapErr(err)
	}
	if more {
		last := page.Items[len(page.Items)-1]
		page.NextCursor = encodeCursor(keyset{Sort: sortName, Filter: filter, A: last.CreatedAt, ID: last.ID})
	}
	return page, nil
}
