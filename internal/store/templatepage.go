package store

import (
	"context"
	"database/sql"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TemplatePage returns one page of templates in createdAt order (either direction), optionally of one
// role, keyset-paginated on (created_at, id) through templates_created or templates_role_created.
// Errors: VALIDATION_ERROR (a cursor of another query); the service has validated the sort.
func (q *Q) TemplatePage(ctx context.Context, tq maestro.TemplateQuery) (maestro.Page[maestro.Template], error) {
	var page maestro.Page[maestro.Template]
	sortName, order, afterCond, err := createdOrder(tq.Sort)
	if err != nil {
		return page, err
	}
	filter := fingerprint("templates", tq.Role)
	after, err := decodeCursor(tq.Cursor, sortName, filter)
	if err != nil {
		return page, err
	}
	var conds []string
	var args []any
	if tq.Role != "" {
		conds, args = append(conds, "role = ?"), append(args, tq.Role)
	}
	if tq.WithTotal {
		if page.Total, err = q.countRows(ctx, "SELECT COUNT(*) FROM templates"+where(conds), args...); err != nil {
			return page, err
		}
	}
	if after != nil {
		conds, args = append(conds, afterCond), append(args, after.A, after.A, after.ID)
	}
	limit := pageLimit(tq.Limit)
	args = append(args, limit+1)
	err = readPage(ctx, q, &page, limit, sortName, filter, func(rows *sql.Rows) (maestro.Template, keyset, error) {
		var r db.Template
		if err := rows.Scan(&r.ID, &r.Name, &r.Role, &r.Content, &r.IsDefault, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return maestro.Template{}, keyset{}, err
		}
		return templateFromRow(r), keyset{A: r.CreatedAt, ID: r.ID}, nil
	}, "SELECT id, name, role, content, is_default, created_at, updated_at FROM templates"+where(conds)+
		" ORDER BY "+order+" LIMIT ?", args...)
	return page, err
}
