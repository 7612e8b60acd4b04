package app

import (
	"context"
	"io"
	"log/slog"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Seeder writes projects and tasks straight into a database file, past the services: no validation, no
// events, thousands of rows per transaction. It exists for load generators (maestro-bench fills
// databases with a million tasks through it), which must not depend on the store themselves.
type Seeder struct {
	st *store.Store
}

// OpenSeeder opens (creating and migrating) the database at path.
func OpenSeeder(ctx context.Context, path string) (*Seeder, error) {
	st, err := store.Open(ctx, store.Options{Path: path, NoBackup: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	return &Seeder{st: st}, nil
}

// ProjectIDs returns the ids of the projects already stored, oldest first.
func (s *Seeder) ProjectIDs(ctx context.Context) ([]string, error) {
	ps, err := s.st.Read().ListProjects(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids, nil
}

// Insert stores projects, then tasks, in one transaction: all of them or none.
func (s *Seeder) Insert(ctx context.Context, projects []maestro.Project, tasks []maestro.Task) error {
	return s.st.InTx(ctx, func(q *store.Q) error {
		for _, p := range projects {
			if err := q.InsertProject(ctx, p); err != nil {
				return err
			}
		}
		for _, t := range tasks {
			if err := q.InsertTask(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the database.
func (s *Seeder) Close() error { return s.st.Close() }
