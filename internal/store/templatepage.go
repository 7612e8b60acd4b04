package store

import (
	"context"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TemplatePage returns one page of templates in createdAt order (either direction), optionally of one
// role, keyset-paginated on (created_at, id) through templates_created or templates_role_created
// (queries/templates.sql). Errors: VALIDATION_ERROR (a cursor of another query); the service has
// validated the sort.
func (q *Q) TemplatePage(ctx context.Context, tq maestro.TemplateQuery) (maestro.Page[maestro.Template], error) {
	var page maestro.Page[maestro.Template]
	sortName, desc, err := createdOrder(tq.Sort)
	if err != nil {
		return page, err
	}
	filter := fingerprint("templates", tq.Role)
	after, err := decodeCursor(tq.Cursor, sortName, filter)
	if err != nil {
		return page, err
	}
	if tq.WithTotal {
		var n int64
		if tq.Role != "" {
			n, err = q.q.CountRoleTemplates(q.c(ctx), tq.Role)
		} else {
			n, err = q.q.CountTemplates(q.c(ctx))
		}
		if err != nil {
			return page, mapErr(err)
		}
		page.Total = &n
	}
	limit := pageLimit(tq.Limit)
	at, id := createdAfter(after, desc)
	lim := int64(limit) + 1
	var rows []db.Template
	switch {
	case tq.Role != "" && desc:
		rows, err = q.q.ListRoleTemplatesPageDesc(q.c(ctx), db.ListRoleTemplatesPageDescParams{Role: tq.Role, AfterAt: at, AfterID: id, Lim: lim})
	case tq.Role != "":
		rows, err = q.q.ListRoleTemplatesPage(q.c(ctx), db.ListRoleTemplatesPageParams{Role: tq.Role, AfterAt: at, AfterID: id, Lim: lim})
	case desc:
		rows, err = q.q.ListTemplatesPageDesc(q.c(ctx), db.ListTemplatesPageDescParams{AfterAt: at, AfterID: id, Lim: lim})
	default:
		rows, err = q.q.ListTemplatesPage(q.c(ctx), db.ListTemplatesPageParams{AfterAt: at, AfterID: id, Lim: lim})
	}
	if err != nil {
		return page, mapErr(err)
	}
	keysetPage(&page, rows, limit, sortName, filter, func(r db.Template) (maestro.Template, keyset) {
		return templateFromRow(r), keyset{A: r.CreatedAt, ID: r.ID}
	})
	return page, nil
}
