package v1

import (
	"context"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TemplateCreateBody is the body of template create: every field required and non-empty.
type TemplateCreateBody struct {
	Name    *string `json:"name" required:"false"`
	Role    *string `json:"role" required:"false" doc:"worker or orchestrator."`
	Content *string `json:"content" required:"false" doc:"Markdown with ${...} placeholders the CLI fills in."`
}

// TemplateUpdateBody is the body of template update: each present field replaces (even with "").
type TemplateUpdateBody struct {
	Name    *string `json:"name" required:"false"`
	Content *string `json:"content" required:"false"`
}

// DefaultTemplate is the reply of GET /templates/default/{role}.
type DefaultTemplate struct {
	Role    string `json:"role"`
	Content string `json:"content" doc:"The built-in content of the role's default template."`
}

type templateCreateInput struct {
	Body *TemplateCreateBody
}

type templateUpdateInput struct {
	IDPath
	Body *TemplateUpdateBody
}

type rolePath struct {
	Role string `path:"role" doc:"worker or orchestrator."`
}

type templateOutput struct{ Body maestro.Template }

type templatesOutput struct{ Body []maestro.Template }

type defaultTemplateOutput struct{ Body DefaultTemplate }

// templatesV1 holds what the Templates operations need; each method serves one of them and is named
// after its operation ID.
type templatesV1 struct {
	svc *service.Templates
}

func registerTemplates(api huma.API, d Deps) {
	const tag = "Templates"

	h := templatesV1{svc: d.Services.Templates}
	huma.Register(api, op("list-templates", http.MethodGet, Prefix+"/templates", tag, "List templates",
		"Every template, oldest first."),
		h.listTemplates)

	huma.Register(api, created(op("create-template", http.MethodPost, Prefix+"/templates", tag, "Create a template",
		"Creates a custom template (isDefault false) and broadcasts `template:created`.",
		http.StatusBadRequest)),
		h.createTemplate)

	huma.Register(api, op("get-role-template", http.MethodGet, Prefix+"/templates/role/{role}", tag,
		"Get the template of a role",
		"The oldest template of the role, normally its default. 404 \"Template with id 'role:<role>' not found\" when none.",
		http.StatusBadRequest, http.StatusNotFound),
		h.getRoleTemplate)

	huma.Register(api, op("get-default-template", http.MethodGet, Prefix+"/templates/default/{role}", tag,
		"Get a role's built-in template text", "The built-in default content of the role; nothing is stored.",
		http.StatusBadRequest),
		h.getDefaultTemplate)

	huma.Register(api, op("get-template", http.MethodGet, Prefix+"/templates/{id}", tag, "Get a template", "One template by id.",
		http.StatusNotFound),
		h.getTemplate)

	huma.Register(api, op("update-template", http.MethodPut, Prefix+"/templates/{id}", tag, "Update a template",
		"Replaces name and/or content (at least one non-empty) and broadcasts `template:updated`.",
		http.StatusBadRequest, http.StatusNotFound),
		h.updateTemplate)

	huma.Register(api, op("reset-template", http.MethodPost, Prefix+"/templates/{id}/reset", tag, "Reset a template",
		"Puts the built-in content of its role back (name and isDefault stay) and broadcasts `template:reset`.",
		http.StatusNotFound),
		h.resetTemplate)

	huma.Register(api, op("delete-template", http.MethodDelete, Prefix+"/templates/{id}", tag, "Delete a template",
		"Deletes a custom template and broadcasts `template:deleted`; the defaults cannot be deleted (422, D7).",
		http.StatusNotFound, http.StatusUnprocessableEntity),
		h.deleteTemplate)
}

func (h templatesV1) listTemplates(ctx context.Context, _ *struct{}) (*templatesOutput, error) {
	ts, err := h.svc.List(ctx)
	if err != nil {
		return nil, err
	}
	return &templatesOutput{Body: ts}, nil
}

func (h templatesV1) createTemplate(ctx context.Context, in *templateCreateInput) (*templateOutput, error) {
	b := wire.Deref(in.Body)
	t, err := h.svc.Create(ctx, maestro.TemplateCreate{Name: wire.Str(b.Name), Role: wire.Str(b.Role), Content: wire.Str(b.Content)})
	if err != nil {
		return nil, err
	}
	return &templateOutput{Body: t}, nil
}

func (h templatesV1) getRoleTemplate(ctx context.Context, in *rolePath) (*templateOutput, error) {
	t, err := h.svc.ForRole(ctx, in.Role)
	if err != nil {
		return nil, err
	}
	return &templateOutput{Body: t}, nil
}

func (h templatesV1) getDefaultTemplate(ctx context.Context, in *rolePath) (*defaultTemplateOutput, error) {
	content, err := h.svc.Default(in.Role)
	if err != nil {
		return nil, err
	}
	return &defaultTemplateOutput{Body: DefaultTemplate{Role: in.Role, Content: content}}, nil
}

func (h templatesV1) getTemplate(ctx context.Context, in *IDPath) (*templateOutput, error) {
	t, err := h.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &templateOutput{Body: t}, nil
}

func (h templatesV1) updateTemplate(ctx context.Context, in *templateUpdateInput) (*templateOutput, error) {
	b := wire.Deref(in.Body)
	t, err := h.svc.Update(ctx, in.ID, maestro.TemplatePatch{Name: b.Name, Content: b.Content})
	if err != nil {
		return nil, err
	}
	return &templateOutput{Body: t}, nil
}

func (h templatesV1) resetTemplate(ctx context.Context, in *IDPath) (*templateOutput, error) {
	t, err := h.svc.Reset(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &templateOutput{Body: t}, nil
}

func (h templatesV1) deleteTemplate(ctx context.Context, in *IDPath) (*SuccessOutput, error) {
	if err := h.svc.Delete(ctx, in.ID); err != nil {
		return nil, err
	}
	return &SuccessOutput{Body: Success{Success: true, ID: in.ID}}, nil
}
