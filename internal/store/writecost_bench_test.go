package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// BenchmarkWriteCost takes a task create apart, one write transaction per request as the raw-write
// ceiling of DESIGN §10 does, to show where a commit's time goes: the bare INSERT of a task-shaped row,
// the task INSERT with its triggers (entity counts, FTS), without each trigger, with the outbox event,
// with the project lookup the service makes, and finally the whole create from 16 callers at once so
// that group commit batches them.
//
//	go test -run '^$' -bench WriteCost -benchtime 2000x ./internal/store/
func BenchmarkWriteCost(b *testing.B) {
	ctx := context.Background()
	insertRaw := func(st *store.Store, raw *sql.DB, n int64) error {
		return st.InTx(ctx, func(q *store.Q) error {
			return q.RawExecForBench(ctx, `INSERT INTO raw_bench (id, project_id, title, description, priority, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				fmt.Sprintf("task_%d", n), "proj_bench", fmt.Sprintf("bench task %d", n), "created by maestro-bench", "high", n)
		})
	}
	insertTask := func(emit, lookup bool) func(st *store.Store, raw *sql.DB, n int64) error {
		return func(st *store.Store, _ *sql.DB, n int64) error {
			return st.InTx(ctx, func(q *store.Q) error {
				if lookup {
					if _, err := q.GetProject(ctx, "p"); err != nil {
						return err
					}
				}
				tk := maestro.Task{ID: fmt.Sprintf("task_%d", n), ProjectID: "p", Title: fmt.Sprintf("bench task %d", n),
					Description: "created by maestro-bench", Status: maestro.TaskTodo, Priority: "high", CreatedAt: n, UpdatedAt: n,
					SessionIDs: []string{}, SkillIDs: []string{}, AgentIDs: []string{}, Dependencies: []string{}}
				if err := q.InsertTask(ctx, tk); err != nil {
					return err
				}
				if emit {
					return q.Emit(ctx, maestro.EventTaskCreated, "p", tk)
				}
				return nil
			})
		}
	}
	cases := []struct {
		name     string
		drop     []string
		write    func(st *store.Store, raw *sql.DB, n int64) error
		parallel bool
	}{
		{"raw-row", nil, insertRaw, false},
		{"task-no-triggers", []string{"tasks_fts_insert", "tasks_count_insert"}, insertTask(false, false), false},
		{"task-no-fts", []string{"tasks_fts_insert"}, insertTask(false, false), false},
		{"task-no-counts", []string{"tasks_count_insert"}, insertTask(false, false), false},
		{"task", nil, insertTask(false, false), false},
		{"task+outbox", nil, insertTask(true, false), false},
		{"task+outbox+lookup", nil, insertTask(true, true), false},
		{"task+outbox+lookup/grouped", nil, insertTask(true, true), true},
		{"raw-row/grouped", nil, insertRaw, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			st := dbtest.New(b)
			raw, err := sql.Open("sqlite", store.DSN(st.Path()))
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			stmts := []string{`CREATE TABLE raw_bench (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, title TEXT NOT NULL,
				description TEXT NOT NULL, priority TEXT NOT NULL, created_at INTEGER NOT NULL)`,
				`CREATE INDEX raw_bench_project ON raw_bench (project_id, created_at)`}
			for _, tr := range c.drop {
				stmts = append(stmts, "DROP TRIGGER "+tr)
			}
			for _, s := range stmts {
				if _, err := raw.Exec(s); err != nil {
					b.Fatal(err)
				}
			}
			if err := st.InTx(ctx, func(q *store.Q) error {
				return q.InsertProject(ctx, maestro.Project{ID: "p", Name: "bench", CreatedAt: 1, UpdatedAt: 1})
			}); err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.ResetTimer()
			if c.parallel {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := c.write(st, raw, n.Add(1)); err != nil {
							b.Error(err)
							return
						}
					}
				})
				return
			}
			for range b.N {
				if err := c.write(st, raw, n.Add(1)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProjectLookup compares the two ways a create can check its project inside the writer: the
// whole row (GetProject) or an existence probe (RequireProject).
func BenchmarkProjectLookup(b *testing.B) {
	ctx := context.Background()
	st := dbtest.New(b)
	if err := st.InTx(ctx, func(q *store.Q) error {
		return q.InsertProject(ctx, maestro.Project{ID: "p", Name: "bench", WorkingDir: "/tmp/bench", CreatedAt: 1, UpdatedAt: 1})
	}); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		look func(q *store.Q) error
	}{
		{"GetProject", func(q *store.Q) error { _, err := q.GetProject(ctx, "p"); return err }},
		{"RequireProject", func(q *store.Q) error { return q.RequireProject(ctx, "p") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if err := c.look(st.Read()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
