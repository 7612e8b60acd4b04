package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

func project(id string) maestro.Project {
	return maestro.Project{ID: id, Name: "P " + id, CreatedAt: 1, UpdatedAt: 1}
}

func task(id, projectID string) maestro.Task {
	return maestro.Task{ID: id, ProjectID: projectID, Title: "T " + id, Status: maestro.TaskTodo,
		Priority: maestro.PriorityMedium, CreatedAt: 2, UpdatedAt: 2}
}

type recorder struct {
	mu     sync.Mutex
	events []maestro.Event
}

func (r *recorder) Publish(evs []maestro.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs...)
}

func (r *recorder) get() []maestro.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]maestro.Event(nil), r.events...)
}

func TestStore_Open(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()

	t.Run("pragmas", func(t *testing.T) {
		db, err := sql.Open("sqlite", store.DSN(st.Path()))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "5000"} {
			var got string
			if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
	})

	t.Run("migrated to latest", func(t *testing.T) {
		cur, latest, err := st.SchemaVersions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur != latest || latest < 1 {
			t.Fatalf("schema version %d, latest %d", cur, latest)
		}
		sts, err := st.MigrationStatuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range sts {
			if !m.Applied {
				t.Errorf("migration %d not applied", m.Version)
			}
		}
	})
}

func TestStore_InTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("commit publishes events in seq order after commit", func(t *testing.T) {
		t.Parallel()
		st := dbtest.New(t)
		rec := &recorder{}
		st.SetPublisher(rec)
		err := st.InTx(ctx, func(q *store.Q) error {
			if err := q.InsertProject(ctx, project("p1")); err != nil {
				return err
			}
			if err := q.Emit(ctx, maestro.EventProjectCreated, "p1", project("p1")); err != nil {
				return err
			}
			if len(rec.get()) != 0 {
				t.Error("event published before commit")
			}
			return q.Emit(ctx, maestro.EventProjectUpdated, "p1", project("p1"))
		})
		if err != nil {
			t.Fatal(err)
		}
		evs := rec.get()
		if len(evs) != 2 || evs[0].Type != maestro.EventProjectCreated || evs[1].Seq != evs[0].Seq+1 {
			t.Fatalf("published %+v", evs)
		}
		stored, err := st.Read().EventsSince(ctx, 0, 10)
		if err != nil || len(stored) != 2 || stored[1].Seq != evs[1].Seq {
			t.Fatalf("outbox %+v, %v", stored, err)
		}
	})

	t.Run("error rolls back data and events", func(t *testing.T) {
		t.Parallel()
		st := dbtest.New(t)
		rec := &recorder{}
		st.SetPublisher(rec)
		boom := errors.New("boom")
		err := st.InTx(ctx, func(q *store.Q) error {
			if err := q.InsertProject(ctx, project("p1")); err != nil {
				return err
			}
			if err := q.Emit(ctx, maestro.EventProjectCreated, "p1", project("p1")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if _, err := st.Read().GetProject(ctx, "p1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("project after rollback: %v", err)
		}
		if evs, _ := st.Read().EventsSince(ctx, 0, 10); len(evs) != 0 || len(rec.get()) != 0 {
			t.Fatalf("events after rollback: %v / %v", evs, rec.get())
		}
	})

	t.Run("panic rolls back", func(t *testing.T) {
		t.Parallel()
		st := dbtest.New(t)
		func() {
			defer func() { _ = recover() }()
			_ = st.InTx(ctx, func(q *store.Q) error {
				_ = q.InsertProject(ctx, project("p1"))
				panic("boom")
			})
		}()
		if _, err := st.Read().GetProject(ctx, "p1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("project after panic: %v", err)
		}
		// The write lock must have been released.
		if err := st.InTx(ctx, func(q *store.Q) error { return q.InsertProject(ctx, project("p2")) }); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("cancelled context while waiting for the writer", func(t *testing.T) {
		t.Parallel()
		st := dbtest.New(t)
		held := make(chan struct{})
		release := make(chan struct{})
		go func() {
			_ = st.InTx(ctx, func(q *store.Q) error { close(held); <-release; return nil })
		}()
		<-held
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := st.InTx(cctx, func(q *store.Q) error { return nil })
		close(release)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})

	t.Run("emit outside a transaction is refused", func(t *testing.T) {
		t.Parallel()
		st := dbtest.New(t)
		if err := st.Read().Emit(ctx, "x", "", nil); err == nil {
			t.Fatal("Emit on the reader succeeded")
		}
	})

	t.Run("concurrent writers all commit", func(t *testing.T) {
		t.Parallel()
		st := dbtest.New(t)
		rec := &recorder{}
		st.SetPublisher(rec)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := "p" + string(rune('a'+i))
				err := st.InTx(ctx, func(q *store.Q) error {
					if err := q.InsertProject(ctx, project(id)); err != nil {
						return err
					}
					return q.Emit(ctx, maestro.EventProjectCreated, id, nil)
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		evs := rec.get()
		if len(evs) != 20 {
			t.Fatalf("%d events published", len(evs))
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq <= evs[i-1].Seq {
				t.Fatalf("published out of seq order: %d after %d", evs[i].Seq, evs[i-1].Seq)
			}
		}
	})
}

// TestStore_ErrorMapping checks that driver errors are classified by SQLite result code.
func TestStore_ErrorMapping(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	if err := st.InTx(ctx, func(q *store.Q) error { return q.InsertProject(ctx, project("p1")) }); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		fn   func(q *store.Q) error
		want error
	}{
		{"duplicate primary key", func(q *store.Q) error { return q.InsertProject(ctx, project("p1")) }, store.ErrUnique},
		{"task of a missing project", func(q *store.Q) error { return q.InsertTask(ctx, task("t1", "nope")) }, store.ErrForeignKey},
		{"missing row", func(q *store.Q) error { _, err := q.GetTask(ctx, "none"); return err }, store.ErrNotFound},
		{"delete missing", func(q *store.Q) error { return q.DeleteProject(ctx, "none") }, store.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := st.InTx(ctx, c.fn)
			if c.want == nil {
				if err == nil {
					t.Fatal("expected an error")
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestStore_SchemaTooNew(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "maestro.db")
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: path, NoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	_, latest, _ := st.SchemaVersions(ctx)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)", latest+5); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = store.Open(ctx, store.Options{Path: path, NoBackup: true})
	if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open newer DB: %v", err)
	}
}

func TestStore_BackupTo(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	if err := st.InTx(ctx, func(q *store.Q) error {
		if err := q.InsertProject(ctx, project("p1")); err != nil {
			return err
		}
		return q.InsertTask(ctx, task("t1", "p1"))
	}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := st.BackupTo(ctx, dest); err != nil {
		t.Fatal(err)
	}
	cp, err := store.Open(ctx, store.Options{Path: dest, NoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	got, err := cp.Read().GetTask(ctx, "t1")
	if err != nil || got.Title != "T t1" {
		t.Fatalf("task in backup: %+v, %v", got, err)
	}
}

func TestStore_CloseTwice(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "m.db"), NoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
