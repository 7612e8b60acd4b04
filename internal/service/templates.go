package service

import (
	"context"
	"embed"
	"errors"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// defaultTemplates holds the built-in content of the two default templates (SPEC §6.3): our own text
// with the predecessor's outline and every ${...} placeholder the CLI substitutes.
//
//go:embed templates/worker.md templates/orchestrator.md
var defaultTemplates embed.FS

// defaultTemplateNames are the names of the seeded default templates, by role.
var defaultTemplateNames = map[string]string{
	maestro.RoleWorker:       "Default Worker Template",
	maestro.RoleOrchestrator: "Default Orchestrator Template",
}

// DefaultTemplateContent returns the built-in template text of a role ("" for an unknown role).
func DefaultTemplateContent(role string) string {
	if !maestro.ValidRole(role) {
		return ""
	}
	b, err := defaultTemplates.ReadFile("templates/" + role + ".md")
	if err != nil {
		panic("service: embedded default template missing: " + err.Error()) // caught by the build's tests
	}
	return string(b)
}

// Templates is the prompt template use cases (SPEC §6.2). Every change records its template:* event (D14).
type Templates struct{ base }

func checkRole(role string) error {
	if !maestro.ValidRole(role) {
		return maestro.InvalidField("role", "Invalid role '%s': must be 'worker' or 'orchestrator'", role)
	}
	return nil
}

// SeedDefaults creates, for worker then orchestrator, the default template of each role that has no
// template at all (SPEC §6.2), recording template:created for each. It runs at every start and does
// nothing once both roles have one.
func (s *Templates) SeedDefaults(ctx context.Context) error {
	// The common case, both roles seeded, is answered by a read: no write transaction at start-up.
	if seeded, err := s.bothRolesHaveTemplates(ctx); err != nil || seeded {
		return err
	}
	return s.st.InTx(ctx, func(q *store.Q) error {
		now := s.nowMs()
		for _, role := range []string{maestro.RoleWorker, maestro.RoleOrchestrator} {
			_, err := q.TemplateOfRole(ctx, role)
			if err == nil {
				continue
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			// Each default is stamped one ms after the previous one, so the list shows worker first.
			t := maestro.Template{
				ID: maestro.NewID(maestro.PrefixTemplate, s.now()), Name: defaultTemplateNames[role], Role: role,
				Content: DefaultTemplateContent(role), IsDefault: true, CreatedAt: now, UpdatedAt: now,
			}
			now++
			if err := q.InsertTemplate(ctx, t); err != nil {
				return err
			}
			if err := q.Emit(ctx, maestro.EventTemplateCreated, "", maestro.TemplatePayload{Template: t}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Templates) bothRolesHaveTemplates(ctx context.Context) (bool, error) {
	q := s.st.Read()
	for _, role := range []string{maestro.RoleWorker, maestro.RoleOrchestrator} {
		_, err := q.TemplateOfRole(ctx, role)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	return true, nil
}

// Page returns one page of templates, optionally of one role (API v2). Errors: VALIDATION_ERROR (bad
// role, unknown sort, a cursor of another query).
func (s *Templates) Page(ctx context.Context, tq maestro.TemplateQuery) (maestro.Page[maestro.Template], error) {
	if tq.Role != "" {
		if err := checkRole(tq.Role); err != nil {
			return maestro.Page[maestro.Template]{}, err
		}
	}
	if err := checkSort(tq.Sort, maestro.CreatedSorts); err != nil {
		return maestro.Page[maestro.Template]{}, err
	}
	return s.st.Read().TemplatePage(ctx, tq)
}

// List returns every template, oldest first.
func (s *Templates) List(ctx context.Context) ([]maestro.Template, error) {
	return s.st.Read().ListTemplates(ctx)
}

// Get returns one template. Errors: NOT_FOUND.
func (s *Templates) Get(ctx context.Context, id string) (maestro.Template, error) {
	t, err := s.st.Read().GetTemplate(ctx, id)
	return t, notFound(err, "Template", id)
}

// ForRole returns the template of a role: the oldest one (normally the default).
// Errors: VALIDATION_ERROR (bad role), NOT_FOUND "Template with id 'role:<role>' not found".
func (s *Templates) ForRole(ctx context.Context, role string) (maestro.Template, error) {
	if err := checkRole(role); err != nil {
		return maestro.Template{}, err
	}
	t, err := s.st.Read().TemplateOfRole(ctx, role)
	return t, notFound(err, "Template", "role:"+role)
}

// Default returns the built-in content of a role's default template; nothing is stored or read.
// Errors: VALIDATION_ERROR (bad role).
func (s *Templates) Default(role string) (string, error) {
	if err := checkRole(role); err != nil {
		return "", err
	}
	return DefaultTemplateContent(role), nil
}

func validateTemplateText(name, content *string) error {
	var errs []error
	if name != nil {
		errs = append(errs, maestro.CheckChars("name", *name, maestro.MaxNameChars))
	}
	if content != nil {
		errs = append(errs, maestro.CheckBytes("content", *content, maestro.MaxTextBytes))
	}
	return firstErr(errs...)
}

// Create stores a custom template (isDefault false) and records template:created. An Idempotency-Key
// (v2) is honoured. Errors: VALIDATION_ERROR (a field missing or empty, a bad role, a field too long).
func (s *Templates) Create(ctx context.Context, in maestro.TemplateCreate, opts ...maestro.WriteOpts) (maestro.Template, error) {
	if in.Name == "" || in.Role == "" || in.Content == "" {
		return maestro.Template{}, maestro.Invalid("name, role, and content are required")
	}
	if err := firstErr(checkRole(in.Role), validateTemplateText(&in.Name, &in.Content)); err != nil {
		return maestro.Template{}, err
	}
	now := s.now()
	t := maestro.Template{
		ID: maestro.NewID(maestro.PrefixTemplate, now), Name: in.Name, Role: in.Role, Content: in.Content,
		CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli(),
	}
	err := once(ctx, s.st, opts, &t, func(q *store.Q) error {
		if err := q.InsertTemplate(ctx, t); err != nil {
			return err
		}
		return q.Emit(ctx, maestro.EventTemplateCreated, "", maestro.TemplatePayload{Template: t})
	})
	if err != nil {
		return maestro.Template{}, err
	}
	return t, nil
}

// Update replaces each field present in p (even with ""), bumps updatedAt and records
// template:updated. Errors: VALIDATION_ERROR (neither a non-empty name nor a non-empty content, a field
// too long), NOT_FOUND, PRECONDITION_FAILED (v2 If-Match).
func (s *Templates) Update(ctx context.Context, id string, p maestro.TemplatePatch, opts ...maestro.WriteOpts) (maestro.Template, error) {
	if (p.Name == nil || *p.Name == "") && (p.Content == nil || *p.Content == "") {
		return maestro.Template{}, maestro.Invalid("name or content is required")
	}
	if err := validateTemplateText(p.Name, p.Content); err != nil {
		return maestro.Template{}, err
	}
	return s.change(ctx, id, maestro.EventTemplateUpdated, maestro.OptsOf(opts).IfMatch, func(t *maestro.Template) {
		if p.Name != nil {
			t.Name = *p.Name
		}
		if p.Content != nil {
			t.Content = *p.Content
		}
	})
}

// Reset puts the built-in content of its role back into a template (its name and default flag stay),
// bumps updatedAt and records template:reset. Errors: NOT_FOUND, PRECONDITION_FAILED (v2 If-Match).
func (s *Templates) Reset(ctx context.Context, id string, opts ...maestro.WriteOpts) (maestro.Template, error) {
	return s.change(ctx, id, maestro.EventTemplateReset, maestro.OptsOf(opts).IfMatch, func(t *maestro.Template) {
		t.Content = DefaultTemplateContent(t.Role)
	})
}

func (s *Templates) change(ctx context.Context, id, event string, ifMatch maestro.IfMatch, apply func(*maestro.Template)) (maestro.Template, error) {
	var t maestro.Template
	err := s.st.InTx(ctx, func(q *store.Q) error {
		var err error
		if t, err = q.GetTemplate(ctx, id); err != nil {
			return notFound(err, "Template", id)
		}
		if err := ifMatch.Check(t); err != nil {
			return err
		}
		apply(&t)
		t.UpdatedAt = maestro.NextStamp(s.nowMs(), t.UpdatedAt)
		if err := q.UpdateTemplate(ctx, t); err != nil {
			return err
		}
		return q.Emit(ctx, event, "", maestro.TemplatePayload{Template: t})
	})
	return t, err
}

// Delete removes a custom template and records template:deleted.
// Errors: NOT_FOUND, PRECONDITION_FAILED (v2 If-Match), BUSINESS_RULE_ERROR "Default templates cannot be
// deleted" (D7).
func (s *Templates) Delete(ctx context.Context, id string, opts ...maestro.WriteOpts) error {
	return s.st.InTx(ctx, func(q *store.Q) error {
		t, err := q.GetTemplate(ctx, id)
		if err != nil {
			return notFound(err, "Template", id)
		}
		if err := maestro.OptsOf(opts).IfMatch.Check(t); err != nil {
			return err
		}
		if t.IsDefault {
			return maestro.Errorf(maestro.CodeBusinessRule, "Default templates cannot be deleted")
		}
		if err := q.DeleteTemplate(ctx, id); err != nil {
			return err
		}
		return q.Emit(ctx, maestro.EventTemplateDeleted, "", maestro.IDPayload{ID: id})
	})
}
