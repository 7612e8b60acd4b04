package service

import (
	"context"
	"errors"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// checkDependencies validates the dependencies a task (taskID, of projectID; "" for a task being
// created) is about to have: every one must be a task of the same project, and none may lead back to
// the task itself — directly (a self-dependency) or through the dependencies of others. It runs inside
// the write transaction, so the graph cannot change between the check and the write.
// Errors: VALIDATION_ERROR (unknown or foreign tasks), DEPENDENCY_CYCLE (with the cycle in details).
func checkDependencies(ctx context.Context, q *store.Q, taskID, projectID string, deps []string) error {
	var missing, foreign []string
	for _, d := range deps {
		if taskID != "" && d == taskID {
			return cycleError([]string{taskID, taskID})
		}
		ref, err := q.GetTaskRef(ctx, d)
		if errors.Is(err, store.ErrNotFound) {
			missing = append(missing, d)
			continue
		}
		if err != nil {
			return err
		}
		if ref.ProjectID != projectID {
			foreign = append(foreign, d)
		}
	}
	if len(missing) > 0 {
		e := maestro.InvalidField("dependencies", "dependencies name tasks that do not exist: %s", strings.Join(missing, ", "))
		e.Details["missing"] = missing
		return e
	}
	if len(foreign) > 0 {
		e := maestro.InvalidField("dependencies", "dependencies must be tasks of the same project (%s); these are not: %s",
			projectID, strings.Join(foreign, ", "))
		e.Details["otherProject"] = foreign
		return e
	}
	if taskID == "" {
		return nil // nothing depends on a task that does not exist yet, so it cannot close a cycle
	}
	for _, d := range deps {
		path, err := pathTo(ctx, q, d, taskID, map[string]bool{})
		if err != nil {
			return err
		}
		if path != nil {
			return cycleError(append([]string{taskID}, path...))
		}
	}
	return nil
}

// pathTo returns a dependency path from `from` to `target` (both ends included), or nil when there is
// none. visited keeps the search linear in the size of the reachable graph. Dependencies on tasks that
// were deleted since are dead ends.
func pathTo(ctx context.Context, q *store.Q, from, target string, visited map[string]bool) ([]string, error) {
	if from == target {
		return []string{target}, nil
	}
	if visited[from] {
		return nil, nil
	}
	visited[from] = true
	ref, err := q.GetTaskRef(ctx, from)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, next := range ref.Dependencies {
		rest, err := pathTo(ctx, q, next, target, visited)
		if err != nil || rest != nil {
			if rest != nil {
				rest = append([]string{from}, rest...)
			}
			return rest, err
		}
	}
	return nil, nil
}

func cycleError(cycle []string) error {
	return &maestro.Error{
		Code:    maestro.CodeDependencyCycle,
		Message: "dependencies would form a cycle: " + strings.Join(cycle, " -> "),
		Details: map[string]any{"field": "dependencies", "cycle": cycle},
	}
}
