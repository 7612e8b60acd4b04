package events

import (
	"context"
	"errors"
	"sync"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

var (
	// ErrSlowConsumer ends a subscription whose buffer filled up: it fell too far behind the live
	// events. The socket layer closes the socket with 1008; the client resumes with since.
	ErrSlowConsumer = errors.New("events: subscriber too slow, its buffer is full")
	// ErrClosed is returned by Next after Close.
	ErrClosed = errors.New("events: subscription closed")
)

// SubscribeOptions configure a subscription.
type SubscribeOptions struct {
	// Replay asks for every retained event with seq > Since before the live ones.
	Replay bool
	Since  int64
	// Resync starts the subscription with one KindResync item (a client asked for a replay while
	// replay is switched off).
	Resync bool
	// Filter, when set, keeps only the events it accepts. It runs while the hub publishes, so it must
	// be cheap and must not block.
	Filter func(*maestro.Event) bool
	// Buffer is how many items may wait for the reader (the hub's default when zero).
	Buffer int
}

// Subscription receives events in seq order, each at most once, through Next. Live events wait in a
// bounded buffer. While the subscription is still replaying from the outbox, a full buffer is harmless:
// the buffered events are dropped and read from the outbox later, since they are all there. Once live,
// a full buffer ends the subscription with ErrSlowConsumer — the hub never waits for anyone.
type Subscription struct {
	h      *Hub
	filter func(*maestro.Event) bool
	limit  int

	// wake holds a pending notification for the reader (capacity 1: notifications coalesce).
	wake chan struct{}
	done chan struct{}

	// Guarded by mu (the hub takes h.mu, then mu).
	mu    sync.Mutex
	queue []Item
	// boundary: events with seq <= boundary come from the outbox (replay); later ones through queue.
	boundary int64
	// cursor is the newest seq handed to the reader or skipped; anything at or below it is a duplicate.
	cursor     int64
	catchingUp bool
	checked    bool  // the replay start was checked against the retained range
	pushed     int64 // newest seq the hub offered to this subscription
	err        error

	// Reader side only (Next is not called concurrently).
	out  []Item
	outI int
}

// Subscribe registers a subscription. Live events published from now on reach it; with Replay it first
// gets the retained events after Since, with neither gap nor duplicate at the junction, however many
// events are published meanwhile.
func (h *Hub) Subscribe(o SubscribeOptions) *Subscription {
	limit := o.Buffer
	if limit <= 0 {
		limit = h.opts.Buffer
	}
	s := &Subscription{
		h: h, filter: o.Filter, limit: limit,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	if o.Resync {
		s.queue = append(s.queue, Item{Kind: KindResync})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s.boundary, s.cursor, s.pushed = h.last, h.last, h.last
	if o.Replay && o.Since != h.last {
		// Since > h.last is possible legitimately (the client read a seq from the HTTP log that another
		// process wrote and the tail has not published yet) or not (the database was replaced); the first
		// replay step tells them apart.
		s.cursor, s.catchingUp = max(o.Since, 0), true
	}
	h.subs[s] = struct{}{}
	return s
}

// Done is closed when the subscription ends (slow consumer or Close).
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns why the subscription ended, or nil while it is live.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription. It is safe to call more than once and concurrently with Next.
func (s *Subscription) Close() {
	s.h.mu.Lock()
	delete(s.h.subs, s)
	s.h.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLocked(ErrClosed)
}

// Mark queues a KindMark item behind everything already queued: Next returns it only after every event
// published before the call. The WebSocket layer answers a client's ping this way, so that a client
// that pings after an HTTP reply sees that request's events before the pong. A mark takes a buffer slot
// like an event; a reader that lets marks pile up is a slow consumer too.
func (s *Subscription) Mark() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	if len(s.queue) >= s.limit && !s.overflowLocked() {
		return
	}
	s.queue = append(s.queue, Item{Kind: KindMark})
	s.signal()
}

// deliver appends entries (in seq order) to the queue; it reports false when the subscription is over
// (the hub then forgets it). Called by the hub with h.mu held.
func (s *Subscription) deliver(entries []*Entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false
	}
	for _, e := range entries {
		s.pushed = e.Seq
		if s.filter != nil && !s.filter(&e.Event) {
			continue
		}
		if len(s.queue) >= s.limit && !s.overflowLocked() {
			return false
		}
		s.queue = append(s.queue, Item{Kind: KindEvent, Entry: e})
	}
	s.signal()
	return true
}

// overflowLocked handles a full queue. While catching up, the buffered events are dropped and the
// boundary moves up to the newest seq offered: all of those are committed, so the replay reads them from
// the outbox (marks and resyncs stay queued, in order). Once live, the subscription fails as a slow
// consumer. It reports whether there is room now.
func (s *Subscription) overflowLocked() bool {
	if s.catchingUp {
		kept := s.queue[:0]
		for _, it := range s.queue {
			if it.Kind != KindEvent {
				kept = append(kept, it)
			}
		}
		clear(s.queue[len(kept):])
		s.queue = kept
		s.boundary = max(s.boundary, s.pushed)
		if len(s.queue) < s.limit {
			return true
		}
	}
	s.failLocked(ErrSlowConsumer)
	return false
}

func (s *Subscription) failLocked(err error) {
	if s.err != nil {
		return
	}
	s.err = err
	s.queue = nil
	close(s.done)
	if errors.Is(err, ErrSlowConsumer) {
		s.h.m.slow.Inc()
	}
	s.signal()
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Next returns the next item, waiting until there is one or ctx ends. It returns ErrSlowConsumer or
// ErrClosed when the subscription is over (after the few items it had already taken from the buffer),
// ctx.Err() when ctx ended, or an outbox read error during a replay. Next must not be called
// concurrently.
func (s *Subscription) Next(ctx context.Context) (Item, error) {
	for {
		// Checked before anything else: a reader that always has items waiting must still notice that
		// its context ended (shutdown, streaming switched off).
		if err := ctx.Err(); err != nil {
			return Item{}, err
		}
		if s.outI < len(s.out) {
			it := s.out[s.outI]
			s.out[s.outI] = Item{}
			s.outI++
			return it, nil
		}
		s.mu.Lock()
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return Item{}, err
		}
		if s.catchingUp {
			from, to, checked := s.cursor, s.boundary, s.checked
			s.mu.Unlock()
			if err := s.replayStep(ctx, from, to, checked); err != nil {
				return Item{}, err
			}
			continue
		}
		if len(s.queue) > 0 {
			taken := s.queue
			s.queue = s.out[:0] // the consumed slice becomes the next queue
			kept := taken[:0]
			for _, it := range taken {
				if it.Kind == KindEvent {
					if it.Entry.Seq <= s.cursor {
						continue // already replayed from the outbox
					}
					s.cursor = it.Entry.Seq
				}
				kept = append(kept, it)
			}
			clear(taken[len(kept):])
			s.out, s.outI = kept, 0
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-ctx.Done():
			return Item{}, ctx.Err()
		}
	}
}

// replayStep reads one page of the outbox after from and hands the events up to the boundary to the
// reader. The first step checks that nothing between from and the oldest retained event was pruned (and
// that from is not beyond the newest event): otherwise the subscriber gets one resync and goes live.
func (s *Subscription) replayStep(ctx context.Context, from, to int64, checked bool) error {
	r := s.h.st
	resync := false
	var page []maestro.Event
	if !checked {
		oldest, newest, err := r.EventSeqBounds(ctx)
		if err != nil {
			return err
		}
		switch {
		case from > newest:
			resync = true // the subscriber knows events this outbox never had: another or a reset database
		case from >= to:
			// Nothing to replay: the subscriber is as new as the hub (or newer, by events the tail
			// publishes shortly; they are skipped as duplicates).
		case oldest == 0 || oldest > from+1:
			resync = true // events after from were pruned
		}
	}
	if !resync && from < to {
		var err error
		if page, err = r.EventsSince(ctx, from, replayPage); err != nil {
			return err
		}
		if checked && len(page) > 0 && page[0].Seq > from+1 {
			// A hole in the middle of a replay: retention may have pruned past us.
			oldest, _, err := r.EventSeqBounds(ctx)
			if err != nil {
				return err
			}
			resync = oldest > from+1
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil // Next reports it
	}
	s.checked = true
	if resync {
		s.cursor = s.boundary
		s.catchingUp = false
		s.out, s.outI = append(s.out[:0], Item{Kind: KindResync}), 0
		return nil
	}
	out := s.out[:0]
	// The page is a contiguous prefix of the outbox after from (seqs are assigned in commit order), so
	// every event in it up to the current boundary can go out, in order.
	for i := range page {
		ev := page[i]
		if ev.Seq > s.boundary {
			break
		}
		s.cursor = ev.Seq
		if s.filter == nil || s.filter(&ev) {
			out = append(out, Item{Kind: KindEvent, Entry: &Entry{Event: ev}})
		}
	}
	if len(page) < replayPage {
		// The outbox had nothing more when it was read, and everything up to `to` was committed
		// before that read began.
		s.cursor = max(s.cursor, to)
	}
	if s.cursor >= s.boundary {
		s.catchingUp = false
	}
	s.out, s.outI = out, 0
	return nil
}
