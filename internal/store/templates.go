package store

import (
	"context"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

func templateFromRow(r db.Template) maestro.Template {
	return maestro.Template{
		ID: r.ID, Name: r.Name, Role: r.Role, Content: r.Content, IsDefault: r.IsDefault != 0,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// GetTemplate returns the template or ErrNotFound.
func (q *Q) GetTemplate(ctx context.Context, id string) (maestro.Template, error) {
	r, err := q.q.GetTemplate(q.c(ctx), id)
	if err != nil {
		return maestro.Template{}, mapErr(err)
	}
	return templateFromRow(r), nil
}

// ListTemplates returns every template, oldest first.
func (q *Q) ListTemplates(ctx context.Context) ([]maestro.Template, error) {
	rows, err := q.q.ListTemplates(q.c(ctx))
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]maestro.Template, len(rows))
	for i, r := range rows {
		out[i] = templateFromRow(r)
	}
	return out, nil
}

// TemplateOfRole returns the oldest template of a role (by createdAt, then id), or ErrNotFound.
func (q *Q) TemplateOfRole(ctx context.Context, role string) (maestro.Template, error) {
	r, err := q.q.FirstTemplateOfRole(q.c(ctx), role)
	if err != nil {
		return maestro.Template{}, mapErr(err)
	}
	return templateFromRow(r), nil
}

// InsertTemplate stores a new template.
func (q *Q) InsertTemplate(ctx context.Context, t maestro.Template) error {
	var def int64
	if t.IsDefault {
		def = 1
	}
	return mapErr(q.q.InsertTemplate(q.c(ctx), db.InsertTemplateParams{
		ID: t.ID, Name: t.Name, Role: t.Role, Content: t.Content, IsDefault: def,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}))
}

// UpdateTemplate stores a template's name, content and updatedAt (its role and default flag never change).
func (q *Q) UpdateTemplate(ctx context.Context, t maestro.Template) error {
	return mapErr(q.q.UpdateTemplate(q.c(ctx), db.UpdateTemplateParams{
		ID: t.ID, Name: t.Name, Content: t.Content, UpdatedAt: t.UpdatedAt,
	}))
}

// DeleteTemplate deletes a template; ErrNotFound when there was none.
func (q *Q) DeleteTemplate(ctx context.Context, id string) error {
	n, err := q.q.DeleteTemplate(q.c(ctx), id)
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
