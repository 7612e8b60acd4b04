package store

import (
	"context"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TemplatePage returns one page of templates in createdAt order (either direction), optionally of one
// role, keyset-paginated on (created_at, id) through templates_created or templates_role_created.
// Errors: VALIDATION_ERROR (unknown sort, a cursor of another query).
func (q *Q) TemplatePage(ctx context.Context, tq maestro.TemplateQuery) (maestro.Page[maestro.Template], error) {
	var page maestro.Page[maestro.Template]
	sortName := tq.Sort
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
	filter := fingerprint("templates", tq.Role)
	after, err := decodeCursor(tq.Cursor, sortName, filter)
	if err != nil {
		return page, err
	}
	limit := pageLimit(tq.Limit)
	where, args := "", []any{}
	if tq.Role != "" {
		where, args = " WHERE role = ?", append(args, tq.Role)
	}
	if tq.WithTotal {
		var total int64
		if err := q.x.QueryRowContext(q.c(ctx), "SELECT COUNT(*) FROM templates"+where, args...).Scan(&total); err != nil {
			return page, mapErr(err)
		}
		page.Total = &total
	}
	if after != nil {
		cond := "created_at " + op + "= ? AND (created_at, id) " + op + " (?, ?)"
		if where == "" {
			where = " WHERE " + cond
		} else {
			where += " AND " + cond
		}
		args = append(args, after.A, after.A, after.ID)
	}
	args = append(args, limit+1)
	rows, err := q.x.QueryContext(q.c(ctx), "SELECT id, name, role, content, is_default, created_at, updated_at FROM templates"+
		where+" ORDER BY "+order+" LIMIT ?", args...)
	if err != nil {
		return page, mapErr(err)
	}
	defer rows.Close()
	page.Items = make([]maestro.Template, 0, min(limit, 64))
	more := false
	for rows.Next() {
		if len(page.Items) == limit {
			more = true
			break
		}
		var r db.Template
		if err := rows.Scan(&r.ID, &r.Name, &r.Role, &r.Content, &r.IsDefault, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return page, mapErr(err)
		}
		page.Items = append(page.Items, templateFromRow(r))
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
