package v2

import (
	"context"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TemplateList is one page of templates.
type TemplateList struct {
	Items      []Template `json:"items"`
	NextCursor *string    `json:"nextCursor" nullable:"true" doc:"Pass as cursor for the next page; null on the last page."`
	Total      *int64     `json:"total,omitempty" doc:"Number of matching templates; only with total=true."`
}

// TemplateCreateBody is the body of POST /api/v2/templates.
type TemplateCreateBody struct {
	Name    string `json:"name" minLength:"1" maxLength:"512"`
	Role    Role   `json:"role" doc:"Immutable."`
	Content string `json:"content" minLength:"1" maxLength:"262144" doc:"Markdown with ${...} placeholders the CLI fills in (at most 256 KiB)."`
}

// TemplatePatchBody is the body of PATCH /api/v2/templates/{id}: members present are set, absent (or
// null) ones are left alone; at least one must be given.
type TemplatePatchBody struct {
	Name    *string `json:"name,omitempty" minLength:"1" maxLength:"512"`
	Content *string `json:"content,omitempty" minLength:"1" maxLength:"262144"`
}

// TemplatePutBody is the body of PUT /api/v2/templates/{id}: the whole editable template.
type TemplatePutBody struct {
	Name    string `json:"name" minLength:"1" maxLength:"512"`
	Content string `json:"content" minLength:"1" maxLength:"262144"`
}

// DefaultTemplate is the built-in content of a role's default template.
type DefaultTemplate struct {
	Role    string `json:"role"`
	Content string `json:"content" doc:"The built-in content (what reset puts back)."`
}

type templateListInput struct {
	PageParams
	Role Role         `query:"role" doc:"Only templates of this role."`
	Sort TemplateSort `query:"sort"`
}

type templateGetInput struct {
	IDPath
	IfNoneMatch string `header:"If-None-Match" doc:"An ETag of the template; 304 when it still matches."`
}

type templateCreateInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"257" doc:"At most 255 characters (257 with the quotes of the structured-header form). Makes the create safe to retry: a repeated key returns the first response."`
	Body           TemplateCreateBody
}

type templatePatchInput struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"Update only if the template still has this ETag (else 412)."`
	Body    TemplatePatchBody
}

type templatePutInput struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"Replace only if the template still has this ETag (else 412)."`
	Body    TemplatePutBody
}

type templateResetInput struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"Reset only if the template still has this ETag (else 412)."`
}

type roleInput struct {
	Role        Role   `path:"role"`
	IfNoneMatch string `header:"If-None-Match" doc:"An ETag of the template; 304 when it still matches."`
}

type defaultRoleInput struct {
	Role Role `path:"role"`
}

type templateListOutput struct{ Body TemplateList }

type templateOutput struct {
	Status   int
	ETag     string `header:"ETag" doc:"The template's version, for If-Match and If-None-Match."`
	Location string `header:"Location" doc:"The created template (creates only)."`
	Body     Template
}

type defaultTemplateOutput struct{ Body DefaultTemplate }

func templateResult(status int, t maestro.Template) *templateOutput {
	out := &templateOutput{Status: status, ETag: t.VersionTag(), Body: templateDTO(t)}
	if status == http.StatusCreated {
		out.Location = Prefix + "/templates/" + t.ID
	}
	return out
}

// conditionalTemplate answers a GET: 304 when If-None-Match still matches.
func conditionalTemplate(t maestro.Template, ifNoneMatch string) *templateOutput {
	out := templateResult(http.StatusOK, t)
	if notModified(ifNoneMatch, out.ETag) {
		return &templateOutput{Status: http.StatusNotModified, ETag: out.ETag}
	}
	return out
}

// templatesV2 holds what the Templates operations need; each method serves one of them and is named
// after its operation ID.
type templatesV2 struct {
	svc *service.Templates
}

func registerTemplates(api huma.API, d Deps) {
	const tag = "Templates"
	item := Prefix + "/templates/{id}"

	h := templatesV2{svc: d.Services.Templates}
	huma.Register(api, op("list-templates", http.MethodGet, Prefix+"/templates", tag, "List templates",
		"Templates, oldest first by default (the two built-in defaults come first), optionally of one role, one page "+
			"at a time."),
		h.listTemplates)

	huma.Register(api, create(op("create-template", http.MethodPost, Prefix+"/templates", tag, "Create a template",
		"Creates a custom template (isDefault false) and broadcasts `template:created`. Answers 201 with the "+
			"template, its ETag and Location.")),
		h.createTemplate)

	huma.Register(api, op("get-template", http.MethodGet, item, tag, "Get a template",
		"One template with its ETag; If-None-Match answers 304 while it is unchanged.", http.StatusNotModified),
		h.getTemplate)

	huma.Register(api, op("update-template", http.MethodPatch, item, tag, "Update a template",
		"Sets the members present (name, content; at least one, neither blank) and broadcasts `template:updated`. "+
			"The role never changes.", http.StatusPreconditionFailed),
		h.updateTemplate)

	huma.Register(api, op("replace-template", http.MethodPut, item, tag, "Replace a template",
		"Replaces the template's name and content (both required, neither blank) and broadcasts `template:updated`. "+
			"The role never changes. v1's PUT is partial; v2 has PATCH for that.", http.StatusPreconditionFailed),
		h.replaceTemplate)

	huma.Register(api, noContent(op("delete-template", http.MethodDelete, item, tag, "Delete a template",
		"Deletes a custom template and broadcasts `template:deleted`. Answers 204 (v1 answers 200 with a body). The "+
			"built-in defaults cannot be deleted: 422 BUSINESS_RULE_ERROR.",
		http.StatusPreconditionFailed, http.StatusUnprocessableEntity)),
		h.deleteTemplate)

	huma.Register(api, op("reset-template", http.MethodPost, item+"/reset", tag, "Reset a template",
		"Puts the built-in content of the template's role back (its name and isDefault stay) and broadcasts "+
			"`template:reset`.", http.StatusPreconditionFailed),
		h.resetTemplate)

	huma.Register(api, op("get-role-template", http.MethodGet, Prefix+"/templates/role/{role}", tag,
		"Get the template of a role",
		"The template a spawn of the role uses: the oldest of the role, normally its built-in default. 404 when the "+
			"role has none; 422 for a role that is not worker or orchestrator.", http.StatusNotModified),
		h.getRoleTemplate)

	huma.Register(api, op("get-default-template", http.MethodGet, Prefix+"/templates/default/{role}", tag,
		"Get a role's built-in content",
		"The built-in content of the role's default template, as reset would put it back; nothing is stored or read. "+
			"422 for a role that is not worker or orchestrator."),
		h.getDefaultTemplate)
}

func (h templatesV2) listTemplates(ctx context.Context, in *templateListInput) (*templateListOutput, error) {
	page, err := h.svc.Page(ctx, maestro.TemplateQuery{
		Role: string(in.Role), Sort: string(in.Sort), Limit: in.Limit, Cursor: in.Cursor, WithTotal: in.Total,
	})
	if err != nil {
		return nil, err
	}
	return &templateListOutput{Body: TemplateList{
		Items: mapItems(page.Items, templateDTO), NextCursor: nextCursor(page.NextCursor), Total: page.Total,
	}}, nil
}

func (h templatesV2) createTemplate(ctx context.Context, in *templateCreateInput) (*templateOutput, error) {
	t, err := h.svc.Create(ctx, maestro.TemplateCreate{Name: in.Body.Name, Role: string(in.Body.Role), Content: in.Body.Content}, createOpts(ctx))
	if err != nil {
		return nil, err
	}
	return templateResult(http.StatusCreated, t), nil
}

func (h templatesV2) getTemplate(ctx context.Context, in *templateGetInput) (*templateOutput, error) {
	t, err := h.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return conditionalTemplate(t, in.IfNoneMatch), nil
}

func (h templatesV2) updateTemplate(ctx context.Context, in *templatePatchInput) (*templateOutput, error) {
	t, err := h.svc.Update(ctx, in.ID, maestro.TemplatePatch{
		Name: in.Body.Name, Content: in.Body.Content,
	}, ifMatch(in.IfMatch, "Template '"+in.ID+"'"))
	if err != nil {
		return nil, err
	}
	return templateResult(http.StatusOK, t), nil
}

func (h templatesV2) replaceTemplate(ctx context.Context, in *templatePutInput) (*templateOutput, error) {
	t, err := h.svc.Update(ctx, in.ID, maestro.TemplatePatch{
		Name: &in.Body.Name, Content: &in.Body.Content,
	}, ifMatch(in.IfMatch, "Template '"+in.ID+"'"))
	if err != nil {
		return nil, err
	}
	return templateResult(http.StatusOK, t), nil
}

func (h templatesV2) deleteTemplate(ctx context.Context, in *deleteInput) (*struct{}, error) {
	return nil, h.svc.Delete(ctx, in.ID, ifMatch(in.IfMatch, "Template '"+in.ID+"'"))
}

func (h templatesV2) resetTemplate(ctx context.Context, in *templateResetInput) (*templateOutput, error) {
	t, err := h.svc.Reset(ctx, in.ID, ifMatch(in.IfMatch, "Template '"+in.ID+"'"))
	if err != nil {
		return nil, err
	}
	return templateResult(http.StatusOK, t), nil
}

func (h templatesV2) getRoleTemplate(ctx context.Context, in *roleInput) (*templateOutput, error) {
	t, err := h.svc.ForRole(ctx, string(in.Role))
	if err != nil {
		return nil, err
	}
	return conditionalTemplate(t, in.IfNoneMatch), nil
}

func (h templatesV2) getDefaultTemplate(ctx context.Context, in *defaultRoleInput) (*defaultTemplateOutput, error) {
	content, err := h.svc.Default(string(in.Role))
	if err != nil {
		return nil, err
	}
	return &defaultTemplateOutput{Body: DefaultTemplate{Role: string(in.Role), Content: content}}, nil
}
