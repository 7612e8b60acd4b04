package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// fillDisk caps the database at its current size, so the next write that needs a page fails as on a
// full disk.
func fillDisk(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	n, err := st.PageCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.LimitPages(ctx, n); err != nil {
		t.Fatal(err)
	}
}

func bigWrite(ctx context.Context, st *store.Store, id string) error {
	return st.InTx(ctx, func(q *store.Q) error {
		return q.InsertProject(ctx, maestro.Project{ID: id, Name: "p", Description: strings.Repeat("x", 200_000), CreatedAt: 1, UpdatedAt: 1})
	})
}

// TestStore_WriteBreaker checks graceful degradation on a full disk: the failing write reports
// STORAGE_UNAVAILABLE, later writes are refused at once, reads keep working, health says degraded, and
// the breaker closes by itself once the storage accepts writes again.
func TestStore_WriteBreaker(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	if err := st.InTx(ctx, func(q *store.Q) error {
		return q.InsertProject(ctx, maestro.Project{ID: "keep", Name: "k", CreatedAt: 1, UpdatedAt: 1})
	}); err != nil {
		t.Fatal(err)
	}
	if h := st.Health(); h.Status != maestro.HealthOK {
		t.Fatalf("health before: %+v", h)
	}

	fillDisk(t, st)
	err := bigWrite(ctx, st, "big")
	if maestro.ErrorCode(err) != maestro.CodeStorageDown || !store.IsStorageFailure(err) {
		t.Fatalf("write on a full disk: %v", err)
	}
	// The breaker is open: even a write that would fit is refused without touching the database.
	start := time.Now()
	err = st.InTx(ctx, func(q *store.Q) error { t.Error("write ran while the breaker is open"); return nil })
	if maestro.ErrorCode(err) != maestro.CodeStorageDown || time.Since(start) > time.Second {
		t.Fatalf("write while open: %v after %s", err, time.Since(start))
	}
	if _, err := st.Read().GetProject(ctx, "keep"); err != nil {
		t.Fatalf("reads must keep working: %v", err)
	}
	h := st.Health()
	if h.Status != maestro.HealthDegraded || !strings.Contains(h.Reason, "full") {
		t.Fatalf("health while failing: %+v", h)
	}
	if st.WritesAvailable() {
		t.Fatal("WritesAvailable while open")
	}

	// Other errors do not open it: a validation failure says nothing about the disk.
	if _, err := st.LimitPages(ctx, 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !st.WritesAvailable() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !st.WritesAvailable() || st.Health().Status != maestro.HealthOK {
		t.Fatalf("breaker did not close after the storage recovered: %+v", st.Health())
	}
	if err := bigWrite(ctx, st, "big"); err != nil {
		t.Fatalf("write after recovery: %v", err)
	}
	boom := errors.New("not a storage failure")
	for range 5 {
		_ = st.InTx(ctx, func(q *store.Q) error { return boom })
	}
	if !st.WritesAvailable() {
		t.Fatal("ordinary errors opened the breaker")
	}
}
