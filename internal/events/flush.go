package events

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Events before the reply (DESIGN §12). Publish only queues events; the socket writers send them on
// their own goroutines. A request that wants its reply to follow its events on every socket calls
// AwaitWritten after the commit, on its own goroutine: it registers one waiter with each live
// subscription that has not written the request's last event yet, and each subscription releases it as
// soon as its writer has written that event (Next acknowledges the item it returned before). The wait
// is bounded by the request's budget; a subscription that did not make it in time is marked lagging and
// not waited for again until it has caught up, so a stalled socket costs one bound to the requests
// waiting when it stalled, not one to every request after (it gets the events later, or is closed as
// slow, as without any waiting).

// waiter is one AwaitWritten call: done closes when every subscription it registered with has written
// the events up to seq or has ended.
type waiter struct {
	seq  int64
	n    atomic.Int32 // subscriptions still to release it, plus one held by the registering call
	done chan struct{}
	subs []*Subscription // where it registered; touched by the registering goroutine only
}

// subsPool recycles AwaitWritten's copies of the subscription set.
var subsPool = sync.Pool{New: func() any { return new([]*Subscription) }}

func (w *waiter) release() {
	if w.n.Add(-1) == 0 {
		close(w.done)
	}
}

// AwaitWritten returns once every live subscriber's socket writer has written each event up to seq —
// or filtered it out — or when the request's wait budget (maestro.EventWaitFrom; Options.FlushTimeout
// from the first wait on) is spent, or ctx ends. Without a budget in ctx, or with waiting switched off
// (a negative FlushTimeout, or FlushEnabled false), it returns at once. Subscriptions that start after
// the events were published do not count: they get them by replay or not at all. It implements
// maestro.EventFlusher; the store calls it after a commit.
func (h *Hub) AwaitWritten(ctx context.Context, seq int64) {
	if h.opts.FlushTimeout < 0 {
		return
	}
	budget := maestro.EventWaitFrom(ctx)
	if budget == nil || (h.opts.FlushEnabled != nil && !h.opts.FlushEnabled()) {
		return
	}
	start := time.Now()
	left := budget.Deadline(start, h.opts.FlushTimeout).Sub(start)
	if left <= 0 {
		return
	}
	w := &waiter{seq: seq, done: make(chan struct{})}
	w.n.Store(1)
	// The subscriptions are copied under h.mu and registered with after it, so that a request
	// registering with a thousand of them never holds up Publish, which runs on the store's writer
	// goroutine. One that ends in between refuses (or releases) the waiter; one that starts in between
	// has every event published before it and does not count.
	snap := subsPool.Get().(*[]*Subscription)
	h.mu.Lock()
	for s := range h.subs {
		*snap = append(*snap, s)
	}
	h.mu.Unlock()
	for _, s := range *snap {
		if s.await(w) {
			w.subs = append(w.subs, s)
		}
	}
	clear(*snap)
	*snap = (*snap)[:0]
	subsPool.Put(snap)
	if len(w.subs) == 0 {
		return // every socket has written them already
	}
	w.release()
	t := time.NewTimer(left)
	defer t.Stop()
	timedOut := false
	select {
	case <-w.done:
		h.m.flushWait.Observe(time.Since(start).Seconds())
		return
	case <-t.C:
		timedOut = true
	case <-ctx.Done():
	}
	h.m.flushWait.Observe(time.Since(start).Seconds())
	for _, s := range w.subs {
		if s.abandon(w, timedOut) && timedOut {
			h.m.flushTimeouts.Inc()
		}
	}
}

// await registers w unless this subscription has written everything up to w.seq already, is over, or
// is lagging behind a seq another request gave up waiting for. It reports whether it registered.
func (s *Subscription) await(w *waiter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.acked >= w.seq || s.acked < s.lagSeq {
		return false
	}
	w.n.Add(1)
	s.waiters = append(s.waiters, w)
	return true
}

// abandon forgets w after its wait ended without this subscription; when it timed out, the
// subscription is lagging until it has written w.seq. It reports whether w was still waiting here.
func (s *Subscription) abandon(w *waiter, timedOut bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.waiters {
		if x == w {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			if timedOut {
				s.lagSeq = max(s.lagSeq, w.seq)
			}
			return true
		}
	}
	return false
}

// ackLocked records that the reader has written the event with seq (Next calls it for the item it
// returned before). Items go out in seq order, so everything at or below seq is done with.
func (s *Subscription) ackLocked(seq int64) {
	if s.pending > 0 {
		s.pending--
	}
	s.acked = max(s.acked, seq)
	s.settleLocked()
}

// settleLocked moves acked up to the newest seq offered when nothing is left to write — the events
// offered since were filtered out or duplicates — and releases the waiters that acked satisfies.
func (s *Subscription) settleLocked() {
	if s.pending == 0 && !s.catchingUp {
		s.acked = max(s.acked, s.pushed)
	}
	if len(s.waiters) == 0 {
		return
	}
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if w.seq <= s.acked {
			w.release()
		} else {
			kept = append(kept, w)
		}
	}
	clear(s.waiters[len(kept):])
	s.waiters = kept
}

// releaseAllLocked releases every waiter: the subscription is over.
func (s *Subscription) releaseAllLocked() {
	for _, w := range s.waiters {
		w.release()
	}
	clear(s.waiters)
	s.waiters = nil
}
