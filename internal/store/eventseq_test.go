package store_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/store"
	"github.com/maestro-hq/maestro-server/migrations"
	"github.com/pressly/goose/v3"
)

// The outbox's seq is a plain INTEGER PRIMARY KEY since migration 00005 (no AUTOINCREMENT): these tests
// prove it still only grows and is never reused — across pruning, even a prune asked to delete every
// event, across a restart, and across the migration itself.

func openAt(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: path, NoBackup: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// emit writes n events in one transaction each and returns their seqs.
func emit(t *testing.T, st *store.Store, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var seqs []int64
	for range n {
		if err := st.InTx(ctx, func(q *store.Q) error {
			return q.Emit(ctx, "flag:updated", "", map[string]string{"key": "x"})
		}); err != nil {
			t.Fatal(err)
		}
		_, newest, err := st.EventSeqBounds(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, newest)
	}
	return seqs
}

func wantAbove(t *testing.T, what string, seqs []int64, floor int64) {
	t.Helper()
	for _, s := range seqs {
		if s <= floor {
			t.Fatalf("%s: seq %d is not above %d (seqs %v)", what, s, floor, seqs)
		}
		floor = s
	}
}

func TestEventSeq_neverReused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "maestro.db")
	st := openAt(t, path)
	first := emit(t, st, 5)
	wantAbove(t, "first events", first, 0)

	// A prune asked to delete everything (cutoff in the future, no seq protected) keeps the newest row.
	n, err := st.PruneEvents(ctx, 1<<62, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	oldest, newest, err := st.EventSeqBounds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 || oldest != first[4] || newest != first[4] {
		t.Fatalf("prune of everything deleted %d and kept [%d, %d], want 4 deleted and [%d, %[3]d]", n, oldest, newest, first[4])
	}
	afterPrune := emit(t, st, 3)
	wantAbove(t, "after pruning", afterPrune, first[4])

	// After a restart, new events continue above every seq ever handed out.
	if _, err := st.PruneEvents(ctx, 1<<62, 1<<62); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openAt(t, path)
	defer st.Close()
	wantAbove(t, "after pruning and a restart", emit(t, st, 3), afterPrune[2])
}

// TestEventSeq_migration00005: a database whose outbox was pruned under AUTOINCREMENT keeps its seqs
// through the migration, and the next event continues above the largest seq ever assigned.
func TestEventSeq_migration00005(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "maestro.db")
	raw, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := raw.Exec(`INSERT INTO events (type, payload, created_at) VALUES ('flag:updated', '{}', 1)`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec(`DELETE FROM events WHERE seq <= 6`); err != nil { // retention, under the old schema
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	st := openAt(t, path) // migrates to the latest
	defer st.Close()
	oldest, newest, err := st.EventSeqBounds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if oldest != 7 || newest != 10 {
		t.Fatalf("after the migration the outbox holds [%d, %d], want [7, 10]", oldest, newest)
	}
	wantAbove(t, "after the migration", emit(t, st, 3), 10)
	check, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var autoinc int
	if err := check.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'events' AND sql LIKE '%AUTOINCREMENT%'`).Scan(&autoinc); err != nil {
		t.Fatal(err)
	}
	if autoinc != 0 {
		t.Fatal("events still has AUTOINCREMENT")
	}
}
