package v2

import (
	"context"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// ProjectList is one page of projects.
type ProjectList struct {
	Items      []Project `json:"items"`
	NextCursor *string   `json:"nextCursor" nullable:"true" doc:"Pass as cursor for the next page; null on the last page."`
	Total      *int64    `json:"total,omitempty" doc:"Number of projects; only with total=true."`
}

// ProjectCreateBody is the body of POST /api/v2/projects.
type ProjectCreateBody struct {
	Name        string `json:"name" minLength:"1" maxLength:"512" doc:"Required, non-blank; trimmed."`
	WorkingDir  string `json:"workingDir,omitempty" maxLength:"4096" doc:"Directory spawned agents start in."`
	Description string `json:"description,omitempty"`
}

// ProjectPatchBody is the body of PATCH /api/v2/projects/{id}: members present are set, absent ones
// are left alone.
type ProjectPatchBody struct {
	Name        *string `json:"name,omitempty" minLength:"1" maxLength:"512" doc:"Non-blank; trimmed."`
	WorkingDir  *string `json:"workingDir,omitempty" maxLength:"4096"`
	Description *string `json:"description,omitempty"`
}

type projectListInput struct {
	PageParams
	Sort ProjectSort `query:"sort"`
}

// IDPath is the {id} path parameter.
type IDPath struct {
	ID string `path:"id" maxLength:"128" doc:"The resource id."`
}

type projectGetInput struct {
	IDPath
	IfNoneMatch string `header:"If-None-Match" doc:"An ETag of the project; 304 when it still matches."`
}

type projectCreateInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"257" doc:"At most 255 characters (257 with the quotes of the structured-header form). Makes the create safe to retry: a repeated key returns the first response."`
	Body           ProjectCreateBody
}

type projectPatchInput struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"Update only if the project still has this ETag (else 412)."`
	Body    ProjectPatchBody
}

type deleteInput struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"Delete only if the resource still has this ETag (else 412)."`
}

type projectListOutput struct{ Body ProjectList }

type projectOutput struct {
	Status   int
	ETag     string `header:"ETag" doc:"The project's version, for If-Match and If-None-Match."`
	Location string `header:"Location" doc:"The created project (creates only)."`
	Body     Project
}

func projectResult(status int, p maestro.Project) *projectOutput {
	out := &projectOutput{Status: status, ETag: p.VersionTag(), Body: projectDTO(p)}
	if status == http.StatusCreated {
		out.Location = Prefix + "/projects/" + p.ID
	}
	return out
}

// projectsV2 holds what the Projects operations need; each method serves one of them and is named
// after its operation ID.
type projectsV2 struct {
	svc *service.Projects
}

func registerProjects(api huma.API, d Deps) {
	const tag = "Projects"

	h := projectsV2{svc: d.Services.Projects}
	huma.Register(api, op("list-projects", http.MethodGet, Prefix+"/projects", tag, "List projects",
		"Projects, oldest first by default, one page at a time."),
		h.listProjects)

	huma.Register(api, create(op("create-project", http.MethodPost, Prefix+"/projects", tag, "Create a project",
		"Creates a project and broadcasts `project:created`. Answers 201 with the project, its ETag and Location.")),
		h.createProject)

	huma.Register(api, op("get-project", http.MethodGet, Prefix+"/projects/{id}", tag, "Get a project",
		"One project with its ETag; If-None-Match answers 304 while it is unchanged.", http.StatusNotModified),
		h.getProject)

	huma.Register(api, op("update-project", http.MethodPatch, Prefix+"/projects/{id}", tag, "Update a project",
		"Sets the members present (name, workingDir, description) and broadcasts `project:updated`. "+
			"v1 does this with PUT; v2 uses PATCH because the update is partial.",
		http.StatusPreconditionFailed),
		h.updateProject)

	huma.Register(api, noContent(op("delete-project", http.MethodDelete, Prefix+"/projects/{id}", tag, "Delete a project",
		"Deletes a project that no task or session references (422 BUSINESS_RULE_ERROR otherwise) and "+
			"broadcasts `project:deleted`. Answers 204 (v1 answers 200 with a body).",
		http.StatusPreconditionFailed, http.StatusUnprocessableEntity)),
		h.deleteProject)
}

func (h projectsV2) listProjects(ctx context.Context, in *projectListInput) (*projectListOutput, error) {
	page, err := h.svc.Page(ctx, maestro.ProjectQuery{Sort: string(in.Sort), Limit: in.Limit, Cursor: in.Cursor, WithTotal: in.Total})
	if err != nil {
		return nil, err
	}
	return &projectListOutput{Body: ProjectList{
		Items: mapItems(page.Items, projectDTO), NextCursor: nextCursor(page.NextCursor), Total: page.Total,
	}}, nil
}

func (h projectsV2) createProject(ctx context.Context, in *projectCreateInput) (*projectOutput, error) {
	p, err := h.svc.Create(ctx, maestro.ProjectCreate{Name: in.Body.Name, WorkingDir: in.Body.WorkingDir, Description: in.Body.Description}, createOpts(ctx))
	if err != nil {
		return nil, err
	}
	return projectResult(http.StatusCreated, p), nil
}

func (h projectsV2) getProject(ctx context.Context, in *projectGetInput) (*projectOutput, error) {
	p, err := h.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := projectResult(http.StatusOK, p)
	if notModified(in.IfNoneMatch, out.ETag) {
		return &projectOutput{Status: http.StatusNotModified, ETag: out.ETag}, nil
	}
	return out, nil
}

func (h projectsV2) updateProject(ctx context.Context, in *projectPatchInput) (*projectOutput, error) {
	p, err := h.svc.Update(ctx, in.ID, maestro.ProjectPatch{
		Name: in.Body.Name, WorkingDir: in.Body.WorkingDir, Description: in.Body.Description,
	}, ifMatch(in.IfMatch, "Project '"+in.ID+"'"))
	if err != nil {
		return nil, err
	}
	return projectResult(http.StatusOK, p), nil
}

func (h projectsV2) deleteProject(ctx context.Context, in *deleteInput) (*struct{}, error) {
	return nil, h.svc.Delete(ctx, in.ID, ifMatch(in.IfMatch, "Project '"+in.ID+"'"))
}
