package store

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestOnce runs creates through Once and checks what a key does: the first use runs the create and
// stores its result; a retry with the same request gets that result back, decoded, without running
// anything; a different request with the key is IDEMPOTENCY_KEY_REUSED; after IdempotencyTTL, and for
// an entry the previous version stored (a rendered response), the key is free again; no key always runs.
func TestOnce(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	st, err := Open(context.Background(), Options{
		Path: filepath.Join(t.TempDir(), "once.db"), NoBackup: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    func() time.Time { return time.UnixMilli(now.Load()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	runs := 0
	create := func(id string) func(q *Q) (maestro.Project, error) {
		return func(q *Q) (maestro.Project, error) {
			runs++
			p := maestro.Project{ID: id, Name: id, CreatedAt: 1, UpdatedAt: 2}
			return p, q.InsertProject(ctx, p)
		}
	}
	key := func(hash string) *maestro.Idem { return &maestro.Idem{Scope: "POST /x", Key: "k", RequestHash: hash} }

	first := key("h")
	p1, err := Once(ctx, st, first, create("p1"))
	if err != nil || first.Replayed || runs != 1 {
		t.Fatalf("first use: %v, replayed %v, %d runs", err, first.Replayed, runs)
	}
	retry := key("h")
	p2, err := Once(ctx, st, retry, create("p2"))
	if err != nil || !retry.Replayed || runs != 1 || p2 != p1 {
		t.Fatalf("retry: %+v, %v, replayed %v, %d runs; want %+v replayed", p2, err, retry.Replayed, runs, p1)
	}
	if _, err := Once(ctx, st, key("other"), create("p3")); maestro.ErrorCode(err) != maestro.CodeIdempotencyReused || runs != 1 {
		t.Fatalf("another request with the key: %v after %d runs", err, runs)
	}

	now.Add((maestro.IdempotencyTTL + time.Minute).Milliseconds())
	expired := key("other")
	if _, err := Once(ctx, st, expired, create("p4")); err != nil || expired.Replayed || runs != 2 {
		t.Fatalf("after the TTL: %v, replayed %v, %d runs", err, expired.Replayed, runs)
	}

	// An entry of the previous format: a rendered response, with its HTTP status.
	err = st.InTx(ctx, func(q *Q) error {
		return q.q.PutIdempotencyKey(ctx, db.PutIdempotencyKeyParams{Route: "POST /x", Key: "old", Status: 201,
			Body: []byte(`{"id":"p0"}`), Headers: "{}", RequestHash: "h", CreatedAt: now.Load()})
	})
	if err != nil {
		t.Fatal(err)
	}
	old := &maestro.Idem{Scope: "POST /x", Key: "old", RequestHash: "h"}
	if p, err := Once(ctx, st, old, create("p5")); err != nil || old.Replayed || p.ID != "p5" || runs != 3 {
		t.Fatalf("an old-format entry: %+v, %v, replayed %v, %d runs", p, err, old.Replayed, runs)
	}

	if _, err := Once(ctx, st, nil, create("p6")); err != nil || runs != 4 {
		t.Fatalf("without a key: %v, %d runs", err, runs)
	}
	if _, err := st.Read().GetProject(ctx, "p2"); err != ErrNotFound {
		t.Fatalf("the replayed create stored its own project: %v", err)
	}
}
