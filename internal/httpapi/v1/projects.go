package v1

import (
	"context"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// ProjectBody is the body of project create and update. Every field is optional on the wire: the
// service reports a missing name with the contract's message. Other keys are ignored (D15).
type ProjectBody struct {
	Name        *string `json:"name" required:"false" doc:"Project name; required and non-blank on create. Trimmed."`
	WorkingDir  *string `json:"workingDir" required:"false" doc:"Directory spawned agents start in."`
	Description *string `json:"description" required:"false"`
}

type projectInput struct {
	Body *ProjectBody
}

type projectUpdateInput struct {
	IDPath
	Body *ProjectBody
}

type projectOutput struct{ Body maestro.Project }

type projectsOutput struct{ Body []maestro.Project }

// projectsV1 holds what the Projects operations need; each method serves one of them and is named
// after its operation ID.
type projectsV1 struct {
	svc *service.Projects
}

func registerProjects(api huma.API, d Deps) {
	const tag = "Projects"

	h := projectsV1{svc: d.Services.Projects}
	huma.Register(api, op("list-projects", http.MethodGet, Prefix+"/projects", tag, "List projects",
		"Every project, oldest first."),
		h.listProjects)

	huma.Register(api, created(op("create-project", http.MethodPost, Prefix+"/projects", tag, "Create a project",
		"Creates a project and broadcasts `project:created`. Only name, workingDir and description are stored.",
		http.StatusBadRequest)),
		h.createProject)

	huma.Register(api, op("get-project", http.MethodGet, Prefix+"/projects/{id}", tag, "Get a project", "The project with this id.",
		http.StatusNotFound),
		h.getProject)

	huma.Register(api, op("update-project", http.MethodPut, Prefix+"/projects/{id}", tag, "Update a project",
		"Replaces the fields present in the body (name, workingDir, description) and broadcasts `project:updated`.",
		http.StatusBadRequest, http.StatusNotFound),
		h.updateProject)

	huma.Register(api, op("delete-project", http.MethodDelete, Prefix+"/projects/{id}", tag, "Delete a project",
		"Deletes a project no task or session references (422 BUSINESS_RULE_ERROR otherwise) and broadcasts `project:deleted`.",
		http.StatusNotFound, http.StatusUnprocessableEntity),
		h.deleteProject)
}

func (h projectsV1) listProjects(ctx context.Context, _ *struct{}) (*projectsOutput, error) {
	ps, err := h.svc.List(ctx)
	if err != nil {
		return nil, err
	}
	return &projectsOutput{Body: ps}, nil
}

func (h projectsV1) createProject(ctx context.Context, in *projectInput) (*projectOutput, error) {
	b := wire.Deref(in.Body)
	p, err := h.svc.Create(ctx, maestro.ProjectCreate{
		Name: wire.Str(b.Name), WorkingDir: wire.Str(b.WorkingDir), Description: wire.Str(b.Description),
	})
	if err != nil {
		return nil, err
	}
	return &projectOutput{Body: p}, nil
}

func (h projectsV1) getProject(ctx context.Context, in *IDPath) (*projectOutput, error) {
	p, err := h.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &projectOutput{Body: p}, nil
}

func (h projectsV1) updateProject(ctx context.Context, in *projectUpdateInput) (*projectOutput, error) {
	b := wire.Deref(in.Body)
	p, err := h.svc.Update(ctx, in.ID, maestro.ProjectPatch{
		Name: b.Name, WorkingDir: b.WorkingDir, Description: b.Description,
	})
	if err != nil {
		return nil, err
	}
	return &projectOutput{Body: p}, nil
}

func (h projectsV1) deleteProject(ctx context.Context, in *IDPath) (*SuccessOutput, error) {
	if err := h.svc.Delete(ctx, in.ID); err != nil {
		return nil, err
	}
	return &SuccessOutput{Body: Success{Success: true, ID: in.ID}}, nil
}
