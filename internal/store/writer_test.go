package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// holdWriter occupies the writer with a transaction that waits for release, so that the writes
// submitted meanwhile queue up and are then committed together as one batch.
func holdWriter(t *testing.T, st *store.Store) (release func(), done <-chan error) {
	t.Helper()
	held := make(chan struct{})
	rel := make(chan struct{})
	d := make(chan error, 1)
	go func() {
		d <- st.InTx(context.Background(), func(q *store.Q) error {
			close(held)
			<-rel
			return nil
		})
	}()
	<-held
	return func() { close(rel) }, d
}

// waitQueued gives submitted writes time to reach the writer's queue. Queued writes are what the
// test needs; how long that takes does not matter to what is asserted.
func waitQueued() { time.Sleep(50 * time.Millisecond) }

// TestGroupCommit_IsolatesRequests runs a batch where some requests fail, one panics, and the rest
// succeed: each failure is rolled back alone, the others commit, and only their events are published,
// in seq order.
func TestGroupCommit_IsolatesRequests(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	rec := &recorder{}
	st.SetPublisher(rec)
	ctx := context.Background()
	release, firstDone := holdWriter(t, st)

	const n = 12
	errs := make([]error, n)
	panics := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			id := fmt.Sprint("p", i)
			errs[i] = st.InTx(ctx, func(q *store.Q) error {
				if err := q.InsertProject(ctx, project(id)); err != nil {
					return err
				}
				if err := q.Emit(ctx, maestro.EventProjectCreated, id, maestro.IDPayload{ID: id}); err != nil {
					return err
				}
				switch i % 4 {
				case 1:
					return maestro.Invalid("request %d refuses", i)
				case 2:
					if i == 2 {
						panic("request 2 exploded")
					}
				}
				return nil
			})
		}()
	}
	waitQueued()
	release()
	wg.Wait()
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}

	var want []string
	for i := range n {
		id := fmt.Sprint("p", i)
		_, err := st.Read().GetProject(ctx, id)
		switch {
		case i == 2:
			if panics[i] != "request 2 exploded" {
				t.Errorf("request 2: panic %v did not reach its caller", panics[i])
			}
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("request 2 panicked but its project exists")
			}
		case i%4 == 1:
			if maestro.ErrorCode(errs[i]) != maestro.CodeValidation || !errors.Is(err, store.ErrNotFound) {
				t.Errorf("request %d: error %v, project %v", i, errs[i], err)
			}
		default:
			if errs[i] != nil || err != nil {
				t.Errorf("request %d: error %v, project %v", i, errs[i], err)
			}
			want = append(want, id)
		}
	}
	got := map[string]bool{}
	evs := rec.get()
	for k, ev := range evs {
		got[ev.ProjectID] = true
		if k > 0 && ev.Seq <= evs[k-1].Seq {
			t.Fatalf("published out of seq order: %d after %d", ev.Seq, evs[k-1].Seq)
		}
	}
	if len(evs) != len(want) {
		t.Fatalf("published %d events, want %d (only the committed requests')", len(evs), len(want))
	}
	for _, id := range want {
		if !got[id] {
			t.Errorf("no event for %s", id)
		}
	}
	stored, _ := st.Read().EventsSince(ctx, 0, 100)
	if len(stored) != len(want) {
		t.Fatalf("outbox has %d events, want %d", len(stored), len(want))
	}
}

// TestGroupCommit_AbandonedRequestNeverRuns checks that a write whose context ends while it waits for
// the writer returns the context's error and is never executed.
func TestGroupCommit_AbandonedRequestNeverRuns(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	release, firstDone := holdWriter(t, st)
	cctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- st.InTx(cctx, func(q *store.Q) error { ran <- struct{}{}; return nil })
	}()
	waitQueued()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned write: %v", err)
	}
	release()
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	// A later write goes through, and the abandoned one has still not run.
	if err := st.InTx(context.Background(), func(q *store.Q) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Fatal("the abandoned write ran")
	default:
	}
}

// TestGroupCommit_StartedRequestOutlivesItsContext checks that a write that started commits even when
// its caller's context ends meanwhile (interrupting it would roll back the whole batch).
func TestGroupCommit_StartedRequestOutlivesItsContext(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	err := st.InTx(ctx, func(q *store.Q) error {
		cancel()
		return q.InsertProject(ctx, project("late"))
	})
	if err != nil {
		t.Fatalf("write whose context ended while it ran: %v", err)
	}
	if _, err := st.Read().GetProject(context.Background(), "late"); err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommit_StorageFailureFailsTheBatch checks that when one request of a batch hits a full disk,
// no request of the batch is committed (SQLite may have abandoned the transaction) and every caller
// that had succeeded learns it.
func TestGroupCommit_StorageFailureFailsTheBatch(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	release, firstDone := holdWriter(t, st)
	n, err := st.PageCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.InTx(ctx, func(q *store.Q) error {
				p := project(fmt.Sprint("s", i))
				if i == 1 {
					p.Description = string(make([]byte, 300_000)) // needs new pages: fails on the capped file
				}
				return q.InsertProject(ctx, p)
			})
		}()
	}
	waitQueued()
	// Cap the file at its size while the batch waits (LimitPages takes the write lock after the holder).
	go func() { _, _ = st.LimitPages(ctx, n) }()
	time.Sleep(20 * time.Millisecond)
	release()
	wg.Wait()
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			if maestro.ErrorCode(err) != maestro.CodeStorageDown {
				t.Errorf("request %d: %v", i, err)
			}
		}
		if err != nil {
			if _, gerr := st.Read().GetProject(ctx, fmt.Sprint("s", i)); !errors.Is(gerr, store.ErrNotFound) {
				t.Errorf("request %d failed but its project was stored", i)
			}
		}
	}
	if failed == 0 {
		t.Fatal("the full disk failed nothing")
	}
}

// flushRecorder is a publisher that also waits for the sockets (maestro.EventFlusher): each
// AwaitWritten call is reported on calls and blocks until release is closed.
type flushRecorder struct {
	recorder
	calls   chan flushCall
	release chan struct{}
}

type flushCall struct {
	seq    int64
	budget bool
}

func (f *flushRecorder) AwaitWritten(ctx context.Context, seq int64) {
	f.calls <- flushCall{seq: seq, budget: maestro.EventWaitFrom(ctx) != nil}
	<-f.release
}

// TestInTx_AwaitsWrittenOffTheWriter: after its commit, a write waits for its events to be on the
// sockets on its own goroutine, with the seq of its own last event — while it waits, other writes
// commit and return, so one request's sockets never hold up another's commit.
func TestInTx_AwaitsWrittenOffTheWriter(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	pub := &flushRecorder{calls: make(chan flushCall, 4), release: make(chan struct{})}
	st.SetPublisher(pub)
	ctx := maestro.WithEventWait(context.Background())
	var last int64
	waiting := make(chan error, 1)
	go func() {
		waiting <- st.InTx(ctx, func(q *store.Q) error {
			for i := 0; i < 2; i++ {
				if err := q.Emit(ctx, "task:created", "p1", map[string]int{"i": i}); err != nil {
					return err
				}
			}
			last = q.Emitted()[1].Seq
			return nil
		})
	}()
	var call flushCall
	select {
	case call = <-pub.calls:
	case <-time.After(10 * time.Second):
		t.Fatal("AwaitWritten was not called")
	}
	// The first write is now waiting for its sockets; a second one must still commit meanwhile.
	other := make(chan error, 1)
	go func() {
		other <- st.InTx(context.Background(), func(q *store.Q) error {
			return q.Emit(context.Background(), "task:updated", "p1", map[string]int{})
		})
	}()
	select {
	case <-pub.calls:
		// The second write waits too; it is released with the first below.
	case err := <-other:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write could not commit while another waited for its sockets")
	}
	select {
	case <-waiting:
		t.Fatal("the first write returned before AwaitWritten did")
	default:
	}
	close(pub.release)
	if err := <-waiting; err != nil {
		t.Fatal(err)
	}
	if call.seq != last || !call.budget {
		t.Fatalf("AwaitWritten(seq %d, budget %v), want seq %d with the request's budget", call.seq, call.budget, last)
	}
	if got := pub.get(); len(got) != 3 {
		t.Fatalf("published %d events, want 3", len(got))
	}
}

// seqAtPublish records the commit sequence each time events are published.
type seqAtPublish struct {
	st   *store.Store
	mu   sync.Mutex
	seqs []uint64
}

func (p *seqAtPublish) Publish([]maestro.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seqs = append(p.seqs, p.st.CommitSeq())
}

// TestCommitSeq_AdvancesBeforeEventsAndReplies checks what the HTTP representation cache relies on: a
// commit advances CommitSeq before its events are published and before its caller returns, and a
// transaction that rolls back does not advance it.
func TestCommitSeq_AdvancesBeforeEventsAndReplies(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	pub := &seqAtPublish{st: st}
	st.SetPublisher(pub)
	ctx := context.Background()
	before := st.CommitSeq()
	err := st.InTx(ctx, func(q *store.Q) error {
		if err := q.InsertProject(ctx, project("seq")); err != nil {
			return err
		}
		return q.Emit(ctx, maestro.EventProjectCreated, "seq", maestro.IDPayload{ID: "seq"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CommitSeq(); got != before+1 {
		t.Fatalf("CommitSeq after one commit = %d, want %d", got, before+1)
	}
	pub.mu.Lock()
	seqs := append([]uint64(nil), pub.seqs...)
	pub.mu.Unlock()
	if len(seqs) != 1 || seqs[0] != before+1 {
		t.Fatalf("CommitSeq seen by the publisher: %v, want [%d]", seqs, before+1)
	}
	if err := st.InTx(ctx, func(q *store.Q) error { return errors.New("rolled back") }); err == nil {
		t.Fatal("the failing transaction succeeded")
	}
	if got := st.CommitSeq(); got != before+1 {
		t.Fatalf("a rollback advanced CommitSeq to %d", got)
	}
	// The audit log's own batches change nothing a cached read serves.
	entry := maestro.AuditEntry{At: 1, Actor: "local", Method: "POST", Route: "/api/v1/tasks", Status: 201, RequestID: "r1"}
	if err := st.WriteAudit(ctx, []maestro.AuditEntry{entry}); err != nil {
		t.Fatal(err)
	}
	if got := st.CommitSeq(); got != before+1 {
		t.Fatalf("an audit batch advanced CommitSeq to %d", got)
	}
	if got, err := st.Read().ListAuditEntries(ctx, maestro.AuditFilter{Limit: 10}); err != nil || len(got) != 1 {
		t.Fatalf("audit batch not written: %v, %v", got, err)
	}
}
