package v1

import (
	"context"
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

func registerProjects(api huma.API, d Deps) {
	svc := d.Services.Projects
	const tag = "Projects"

	huma.Register(api, op("list-projects", http.MethodGet, Prefix+"/projects", tag, "List projects",
		"Every project, oldest first."),
		func(ctx context.Context, _ *struct{}) (*projectsOutput, error) {
			ps, err := svc.List(ctx)
			if err != nil {
				return nil, err
			}
			return &projectsOutput{Body: ps}, nil
		})

	huma.Register(api, created(op("create-project", http.MethodPost, Prefix+"/projects", tag, "Create a project",
		"Creates a project and broadcasts `project:created`. Only name, workingDir and description are stored.",
		http.StatusBadRequest)),
		func(ctx context.Context, in *projectInput) (*projectOutput, error) {
			b := deref(in.Body)
			p, err := svc.Create(ctx, maestro.ProjectCreate{
				Name: str(b.Name), WorkingDir: str(b.WorkingDir), Description: str(b.Description),
			})
			if err != nil {
				return nil, err
			}
			return &projectOutput{Body: p}, nil
		})

	huma.Register(api, op("get-project", http.MethodGet, Prefix+"/projects/{id}", tag, "Get a project", "The project with this id.",
		http.StatusNotFound),
		func(ctx context.Context, in *IDPath) (*projectOutput, error) {
			p, err := svc.Get(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &projectOutput{Body: p}, nil
		})

	huma.Register(api, op("update-project", http.MethodPut, Prefix+"/projects/{id}", tag, "Update a project",
		"Replaces the fields present in the body (name, workingDir, description) and broadcasts `project:updated`.",
		http.StatusBadRequest, http.StatusNotFound),
		func(ctx context.Context, in *projectUpdateInput) (*projectOutput, error) {
			b := deref(in.Body)
			p, err := svc.Update(ctx, in.ID, maestro.ProjectPatch{
				Name: b.Name, WorkingDir: b.WorkingDir, Description: b.Description,
			})
			if err != nil {
				return nil, err
			}
			return &projectOutput{Body: p}, nil
		})

	huma.Register(api, op("delete-project", http.MethodDelete, Prefix+"/projects/{id}", tag, "Delete a project",
		"Deletes a project no task or session references (422 BUSINESS_RULE_ERROR otherwise) and broadcasts `project:deleted`.",
		http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *IDPath) (*SuccessOutput, error) {
			if err := svc.Delete(ctx, in.ID); err != nil {
				return nil, err
			}
			return &SuccessOutput{Body: Success{Success: true, ID: in.ID}}, nil
		})
}

// deref returns *p, or the zero value for a missing body (an empty body is `{}`: D8).
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// str returns *p or "" (null and absent mean the same in v1).
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
