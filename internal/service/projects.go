package service

import (
	"context"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Projects is the project use cases (SPEC §2.4).
type Projects struct{ base }

// List returns every project, oldest first (D16).
func (s *Projects) List(ctx context.Context) ([]maestro.Project, error) {
	return s.st.Read().ListProjects(ctx)
}

// Get returns one project. Errors: NOT_FOUND.
func (s *Projects) Get(ctx context.Context, id string) (maestro.Project, error) {
	p, err := s.st.Read().GetProject(ctx, id)
	return p, notFound(err, "Project", id)
}

func validateProjectFields(name, workingDir, description *string) error {
	var errs []error
	if name != nil {
		errs = append(errs, maestro.CheckChars("name", *name, maestro.MaxNameChars))
	}
	if workingDir != nil {
		errs = append(errs, maestro.CheckChars("workingDir", *workingDir, maestro.MaxWorkDirChars))
	}
	if description != nil {
		errs = append(errs, maestro.CheckBytes("description", *description, maestro.MaxTextBytes))
	}
	return firstErr(errs...)
}

// Create stores a new project and records project:created. The name is trimmed (D26).
// Errors: VALIDATION_ERROR (blank name, field too long).
func (s *Projects) Create(ctx context.Context, in maestro.ProjectCreate, opts ...maestro.WriteOpts) (maestro.Project, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return maestro.Project{}, maestro.InvalidField("name", "Project name is required")
	}
	if err := validateProjectFields(&name, &in.WorkingDir, &in.Description); err != nil {
		return maestro.Project{}, err
	}
	now := s.now()
	p := maestro.Project{
		ID: maestro.NewID(maestro.PrefixProject, now), Name: name, WorkingDir: in.WorkingDir,
		Description: in.Description, CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli(),
	}
	err := once(ctx, s.st, opts, &p, func(q *store.Q) error {
		if err := q.InsertProject(ctx, p); err != nil {
			return err
		}
		return q.Emit(ctx, maestro.EventProjectCreated, p.ID, p)
	})
	if err != nil {
		return maestro.Project{}, err
	}
	return p, nil
}

// Update applies the present fields of patch (only name, workingDir and description exist: D15),
// bumps updatedAt and records project:updated. Errors: VALIDATION_ERROR (blank name), NOT_FOUND,
// PRECONDITION_FAILED (If-Match).
func (s *Projects) Update(ctx context.Context, id string, patch maestro.ProjectPatch, opts ...maestro.WriteOpts) (maestro.Project, error) {
	if patch.Name != nil {
		name := strings.TrimSpace(*patch.Name)
		if name == "" {
			return maestro.Project{}, maestro.InvalidField("name", "Project name cannot be empty")
		}
		patch.Name = &name
	}
	if err := validateProjectFields(patch.Name, patch.WorkingDir, patch.Description); err != nil {
		return maestro.Project{}, err
	}
	var p maestro.Project
	err := s.st.InTx(ctx, func(q *store.Q) error {
		var err error
		if p, err = q.GetProject(ctx, id); err != nil {
			return notFound(err, "Project", id)
		}
		if err := maestro.OptsOf(opts).IfMatch.Check(p); err != nil {
			return err
		}
		if patch.Name != nil {
			p.Name = *patch.Name
		}
		if patch.WorkingDir != nil {
			p.WorkingDir = *patch.WorkingDir
		}
		if patch.Description != nil {
			p.Description = *patch.Description
		}
		p.UpdatedAt = maestro.NextStamp(s.nowMs(), p.UpdatedAt)
		if err := q.UpdateProject(ctx, p); err != nil {
			return err
		}
		return q.Emit(ctx, maestro.EventProjectUpdated, p.ID, p)
	})
	return p, err
}

// Delete removes a project that no task or session references and records project:deleted.
// Errors: NOT_FOUND, PRECONDITION_FAILED (If-Match), BUSINESS_RULE_ERROR (tasks or sessions still
// reference it).
func (s *Projects) Delete(ctx context.Context, id string, opts ...maestro.WriteOpts) error {
	return s.st.InTx(ctx, func(q *store.Q) error {
		p, err := q.GetProject(ctx, id)
		if err != nil {
			return notFound(err, "Project", id)
		}
		if err := maestro.OptsOf(opts).IfMatch.Check(p); err != nil {
			return err
		}
		hasTasks, hasSessions, err := q.ProjectUsage(ctx, id)
		if err != nil {
			return err
		}
		if hasTasks {
			return maestro.Errorf(maestro.CodeBusinessRule, "Cannot delete project with existing tasks")
		}
		if hasSessions {
			return maestro.Errorf(maestro.CodeBusinessRule, "Cannot delete project with existing sessions")
		}
		if err := q.DeleteProject(ctx, id); err != nil {
			return err
		}
		return q.Emit(ctx, maestro.EventProjectDeleted, id, maestro.IDPayload{ID: id})
	})
}

// Page returns one page of projects (API v2). Errors: VALIDATION_ERROR (unknown sort, foreign cursor).
func (s *Projects) Page(ctx context.Context, pq maestro.ProjectQuery) (maestro.Page[maestro.Project], error) {
	if err := checkSort(pq.Sort, maestro.CreatedSorts); err != nil {
		return maestro.Page[maestro.Project]{}, err
	}
	return s.st.Read().ProjectPage(ctx, pq)
}
