package store

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

func openInternal(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), Options{
		Path: filepath.Join(t.TempDir(), "w.db"), NoBackup: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestGroupCommit_LostSavepointFailsTheBatch ends the batch transaction from inside one request, the
// way SQLite itself abandons a transaction after some errors: the request's savepoint is then gone,
// and what follows in the batch would run outside the transaction and commit on its own. The whole
// batch must fail instead, and a request told it failed must have stored nothing.
func TestGroupCommit_LostSavepointFailsTheBatch(t *testing.T) {
	t.Parallel()
	st := openInternal(t)
	defer st.Close()
	ctx := context.Background()

	held, rel := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- st.InTx(ctx, func(q *Q) error { close(held); <-rel; return nil })
	}()
	<-held
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() {
		errA <- st.InTx(ctx, func(q *Q) error {
			if _, err := q.x.ExecContext(ctx, "ROLLBACK"); err != nil {
				return err
			}
			return maestro.Invalid("request A refuses")
		})
	}()
	waitQueue(t, st, 1) // A is queued before B, so the batch runs A first
	go func() {
		errB <- st.InTx(ctx, func(q *Q) error {
			return q.InsertProject(ctx, maestro.Project{ID: "b", Name: "b", CreatedAt: 1, UpdatedAt: 1})
		})
	}()
	waitQueue(t, st, 2)
	close(rel)
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	if err := <-errA; err == nil {
		t.Fatal("request A succeeded")
	}
	err := <-errB
	_, gerr := st.Read().GetProject(ctx, "b")
	switch {
	case err != nil && !errors.Is(gerr, ErrNotFound):
		t.Fatalf("request B was told it failed (%v) but its project was stored", err)
	case err == nil && gerr != nil:
		t.Fatalf("request B succeeded but its project is missing: %v", gerr)
	}
	// The writer is healthy afterwards.
	if err := st.InTx(ctx, func(q *Q) error {
		return q.InsertProject(ctx, maestro.Project{ID: "c", Name: "c", CreatedAt: 1, UpdatedAt: 1})
	}); err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommit_WriteAfterCloseReturns checks that a write submitted after Close fails at once with
// errStoreClosed instead of waiting forever in the queue of a writer that has stopped.
func TestGroupCommit_WriteAfterCloseReturns(t *testing.T) {
	t.Parallel()
	st := openInternal(t)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for range 50 {
			if err := st.InTx(context.Background(), func(q *Q) error { return nil }); !errors.Is(err, errStoreClosed) {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("write after Close: %v, want %v", err, errStoreClosed)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write submitted after Close never returned")
	}
}

// TestGroupCommit_ReplayOfAFailedBatchIsNotAnswered runs two requests with one Idempotency-Key in one
// batch: the second replays the first's response, which the first recorded in the same, uncommitted
// transaction. When the batch then fails, nothing was stored, so the second must fail too rather than
// answer with a resource that does not exist.
func TestGroupCommit_ReplayOfAFailedBatchIsNotAnswered(t *testing.T) {
	t.Parallel()
	st := openInternal(t)
	defer st.Close()
	ctx := context.Background()
	idems := []*maestro.Idem{{Scope: "POST /x", Key: "k", RequestHash: "h"}, {Scope: "POST /x", Key: "k", RequestHash: "h"}}
	create := func(q *Q) (string, error) {
		return "a", q.InsertProject(ctx, maestro.Project{ID: "a", Name: "a", CreatedAt: 1, UpdatedAt: 1})
	}

	held, rel := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- st.InTx(ctx, func(q *Q) error { close(held); <-rel; return nil })
	}()
	<-held
	errs := make([]chan error, 3)
	requests := []func() error{
		func() error { _, err := Once(ctx, st, idems[0], create); return err },
		func() error { _, err := Once(ctx, st, idems[1], create); return err },
		func() error {
			return st.InTx(ctx, func(q *Q) error {
				// Ends the batch transaction the way SQLite abandons one: the whole batch fails.
				if _, err := q.x.ExecContext(ctx, "ROLLBACK"); err != nil {
					return err
				}
				return maestro.Invalid("refused")
			})
		},
	}
	for i, req := range requests {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- req() }()
		waitQueue(t, st, i+1) // queued in this order, so the batch runs them in it
	}
	close(rel)
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	first, second := <-errs[0], <-errs[1]
	<-errs[2]
	if _, err := st.Read().GetProject(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the failed batch stored the project (%v)", err)
	}
	if first == nil {
		t.Fatal("the first request succeeded, yet its batch failed")
	}
	if second == nil || idems[1].Replayed {
		t.Fatalf("the retry answered %v for a create that was never committed", second)
	}
}

// waitQueue waits until n writes wait in the queue of the writer (which the test holds busy), so that
// the next batch holds exactly them, in the order they were queued. A sleep instead would be a guess
// that a busy machine can make wrong.
func waitQueue(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(s.writes) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued after 30 s, want %d", len(s.writes), n)
		}
		time.Sleep(time.Millisecond)
	}
}
