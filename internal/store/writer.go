package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Group commit. Every write transaction goes through one goroutine, the writer, which owns the single
// writer connection. When several requests are waiting, it runs them in ONE SQLite transaction, each
// inside its own savepoint, and commits once: the WAL frames of the pages they share (index leaves,
// the outbox, the counts) are written once instead of once per request, which is where a commit spends
// its time. Each request still sees exactly what it would see alone — the requests run one after the
// other — and a request that fails is rolled back to its savepoint without touching the others. Only a
// failure of the commit itself, of a savepoint statement, or a storage failure (after any of which
// SQLite may have abandoned the whole transaction), fails every request of the batch.

// maxBatch bounds how many requests share a commit, so that the first of them does not wait long.
const maxBatch = 64

// errStoreClosed is returned to writes submitted after Close.
var errStoreClosed = errors.New("store: closed")

// Request states: a queued request is either started by the writer or abandoned by its caller (whose
// context ended first), never both.
const (
	reqQueued int32 = iota
	reqStarted
	reqAbandoned
)

// writeReq is one InTx call waiting for the writer.
type writeReq struct {
	ctx   context.Context
	fn    func(q *Q) error
	state atomic.Int32
	done  chan error
	// quiet marks a write that changes nothing a read serves (the audit log's own batches): it does
	// not advance CommitSeq, so it does not empty the representation cache.
	quiet bool
	// Filled by the writer for requests that succeeded, published after the commit.
	events []maestro.Event
}

// writePanic carries a panic from fn on the writer goroutine back to the caller's goroutine, where it
// is raised again (so the HTTP layer's recovery answers that request alone).
type writePanic struct {
	value any
	stack []byte
}

func (p *writePanic) Error() string { return fmt.Sprintf("panic in write transaction: %v", p.value) }

// submit queues a write and waits for its outcome. A request whose context ends before the writer
// started it is abandoned and returns the context's error; once started it runs to completion.
func (s *Store) submit(ctx context.Context, fn func(q *Q) error) error {
	return s.submitReq(ctx, &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

func (s *Store) submitReq(ctx context.Context, r *writeReq) error {
	select {
	case s.writes <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errStoreClosed
	}
	var err error
	select {
	case err = <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		err = <-r.done
	case <-s.writerDone:
		// The store closed and its writer stopped: a request queued after the writer drained the queue
		// (the first select may pick the queue even once closed is closed) would otherwise wait forever.
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return errStoreClosed
		}
		err = <-r.done
	}
	if err == nil && len(r.events) > 0 {
		s.awaitWritten(ctx, r.events[len(r.events)-1].Seq)
	}
	return rethrow(err)
}

// awaitWritten waits, on the caller's goroutine and after the commit, until the request's events are on
// every live socket, when the publisher can tell (maestro.EventFlusher): the writer goroutine published
// them and went on to the next batch meanwhile, so no other request waits for this one's sockets.
func (s *Store) awaitWritten(ctx context.Context, seq int64) {
	if box := s.pub.Load(); box != nil {
		if f, ok := box.p.(maestro.EventFlusher); ok {
			f.AwaitWritten(ctx, seq)
		}
	}
}

func rethrow(err error) error {
	var p *writePanic
	if errors.As(err, &p) {
		panic(p.value)
	}
	return err
}

// runWriter is the writer goroutine: it takes the waiting requests in batches until the store closes.
func (s *Store) runWriter() {
	defer close(s.writerDone)
	for {
		var first *writeReq
		select {
		case first = <-s.writes:
		case <-s.closed:
			s.failQueued()
			return
		}
		batch := []*writeReq{first}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.runBatch(batch)
	}
}

// failQueued answers every request still queued when the store closes.
func (s *Store) failQueued() {
	for {
		select {
		case r := <-s.writes:
			r.done <- errStoreClosed
		default:
			return
		}
	}
}

// runBatch runs the started requests of batch in one transaction and delivers each outcome. Events are
// published after the commit, in seq order, before any caller is released.
func (s *Store) runBatch(batch []*writeReq) {
	var live []*writeReq
	for _, r := range batch {
		if r.state.CompareAndSwap(reqQueued, reqStarted) {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	s.writeMu <- struct{}{}
	defer func() { <-s.writeMu }()

	// The transaction does not follow any one request's context: cancelling a statement interrupts the
	// connection, and SQLite then rolls back the whole transaction, every request of the batch with it.
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		err = domainErr(mapErr(err))
		for _, r := range live {
			r.done <- err
		}
		return
	}
	single := len(live) == 1
	results := make([]error, len(live))
	var fatal error
	for i, r := range live {
		if fatal != nil {
			results[i] = fatal
			continue
		}
		err, txErr := s.runOne(tx, r, single)
		switch {
		case err != nil && (IsStorageFailure(err) || errors.Is(err, ErrBusy)):
			// SQLite may have rolled back the whole transaction by itself: nothing of the batch stands.
			fatal = err
		case txErr != nil:
			fatal = txErr
		}
		results[i] = err
	}
	if fatal == nil && !allFailed(results) {
		if err := tx.Commit(); err != nil {
			fatal = domainErr(mapErr(err))
		} else if changesReads(live, results) {
			s.commits.Add(1) // before publishing and releasing anyone: see CommitSeq
		}
	} else {
		_ = tx.Rollback()
	}
	if fatal != nil {
		_ = tx.Rollback()
		// Nothing of the batch was committed: the requests that had succeeded fail with the cause; the
		// ones that had failed on their own keep their own error. A replay of an idempotent create is a
		// success here (Once): the result it replays may have been stored by an earlier request of this
		// very batch, and so never committed.
		for i, r := range live {
			if results[i] == nil || IsStorageFailure(results[i]) || errors.Is(results[i], ErrBusy) {
				results[i] = fatal
			}
			r.done <- results[i]
		}
		return
	}
	var evs []maestro.Event
	for i, r := range live {
		if results[i] == nil {
			evs = append(evs, r.events...)
		}
	}
	if len(evs) > 0 {
		if box := s.pub.Load(); box != nil && box.p != nil {
			box.p.Publish(evs)
		}
	}
	for i, r := range live {
		r.done <- results[i]
	}
}

// changesReads reports whether a committed batch holds a successful write that is not quiet.
func changesReads(live []*writeReq, results []error) bool {
	for i, r := range live {
		if results[i] == nil && !r.quiet {
			return true
		}
	}
	return false
}

func allFailed(results []error) bool {
	for _, err := range results {
		if err == nil {
			return false
		}
	}
	return true
}

// runOne runs one request inside the batch transaction, in a savepoint unless it is alone (then a
// failure rolls back the whole transaction instead). It returns the request's error, domain-mapped, and
// txErr when a savepoint statement itself failed: the transaction is then in a state nobody knows
// (SQLite may have abandoned it, and what follows in the batch would run and commit outside it), so
// nothing of the batch may commit.
func (s *Store) runOne(tx *sql.Tx, r *writeReq, single bool) (err, txErr error) {
	// The request's values (request id) without its cancellation (see runBatch).
	ctx := context.WithoutCancel(r.ctx)
	if !single {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			err = domainErr(mapErr(err))
			return err, err
		}
	}
	q := &Q{q: s.wq.WithTx(tx), s: s, tx: true, x: tx}
	defer func() {
		if v := recover(); v != nil {
			err = &writePanic{value: v, stack: debug.Stack()}
		}
		if single {
			if err == nil {
				r.events = q.events
			}
			return
		}
		if err != nil {
			_, rerr := tx.ExecContext(ctx, "ROLLBACK TO w")
			if rerr == nil {
				_, rerr = tx.ExecContext(ctx, "RELEASE w")
			}
			if rerr != nil {
				// The request keeps its own error: its work is undone either way.
				txErr = domainErr(mapErr(rerr))
			}
			return
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE w"); rerr != nil {
			err = domainErr(mapErr(rerr))
			txErr = err
			return
		}
		r.events = q.events
	}()
	if err := r.fn(q); err != nil {
		return domainErr(err), nil
	}
	return nil, nil
}
