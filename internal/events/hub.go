package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	DefaultRetention     = 7 * 24 * time.Hour
	DefaultKeepMin       = 10_000
	DefaultBuffer        = 512
	DefaultPruneInterval = 10 * time.Minute
)

const (
	// replayPage is how many events one replay or tail read fetches.
	replayPage = 500
	// gapTimeout bounds the outbox read that fills a gap during Publish.
	gapTimeout = 5 * time.Second
)

// Options configure a Hub.
type Options struct {
	Logger *slog.Logger
	// Now is the clock of the retention cutoff; time.Now when nil.
	Now func() time.Time
	// Retention is how long events stay in the outbox (DefaultRetention when zero).
	Retention time.Duration
	// KeepMin is how many of the newest events are kept whatever their age (DefaultKeepMin when zero).
	KeepMin int64
	// PruneInterval is how often retention runs (DefaultPruneInterval when zero).
	PruneInterval time.Duration
	// Buffer is the default per-subscriber buffer, in items (DefaultBuffer when zero).
	Buffer int
	// Registerer receives the hub's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
}

// Outbox is the durable event log the hub publishes from, replays and prunes; *store.Store implements
// it. The hub takes an interface so that the packages serving events (internal/ws) depend on neither
// the store nor the database.
type Outbox interface {
	// EventsSince returns up to limit events with seq > after, in seq order.
	EventsSince(ctx context.Context, after int64, limit int) ([]maestro.Event, error)
	// EventSeqBounds returns the oldest and newest retained seq (0, 0 when empty).
	EventSeqBounds(ctx context.Context) (oldest, newest int64, err error)
	// PruneEvents deletes, in one transaction, events created before cutoff (Unix ms) whose seq is at
	// most maxPrunableSeq, and returns how many went.
	PruneEvents(ctx context.Context, cutoff, maxPrunableSeq int64) (int64, error)
	// SubscribeChanges notifies of commits by any connection, including other processes; the returned
	// function stops the notifications.
	SubscribeChanges() (<-chan struct{}, func())
}

// Hub fans committed events out to subscribers. It is the store's publisher (store.SetPublisher): the
// store calls Publish after each commit, in seq order. Run tails the outbox for events committed by
// other processes and prunes old events.
//
// Every seq goes out at most once and in increasing order: the hub remembers the newest seq it
// published and drops anything at or below it, so the in-process publish and the outbox tail may both
// offer the same event safely.
type Hub struct {
	st   Outbox
	opts Options
	log  *slog.Logger
	m    *metrics

	mu   sync.Mutex
	last int64 // newest seq published
	subs map[*Subscription]struct{}
}

// New creates a hub over st. Events already in the outbox are not published (they are replayable);
// publishing starts after the newest one.
func New(ctx context.Context, st Outbox, opts Options) (*Hub, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.KeepMin <= 0 {
		opts.KeepMin = DefaultKeepMin
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = DefaultPruneInterval
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	_, newest, err := st.EventSeqBounds(ctx)
	if err != nil {
		return nil, fmt.Errorf("events: read the outbox: %w", err)
	}
	return &Hub{
		st: st, opts: opts, log: opts.Logger, m: newMetrics(opts.Registerer),
		last: newest, subs: map[*Subscription]struct{}{},
	}, nil
}

// LastSeq returns the newest seq published so far.
func (h *Hub) LastSeq() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// Subscribers returns how many subscriptions are live.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Publish hands committed events (in seq order) to every subscriber. It never waits for a subscriber:
// each has a bounded buffer, and one that is full is dropped (see Subscription). Events at or below the
// newest seq already published are ignored. When the first new event is not the next seq — another
// process committed in between and the tail has not seen it yet — the missing events are read from the
// outbox first, so that subscribers never see a gap.
func (h *Hub) Publish(evs []maestro.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.publishLocked(evs)
}

func (h *Hub) publishLocked(evs []maestro.Event) {
	var fresh []*Entry
	for i := range evs {
		ev := evs[i]
		if ev.Seq <= h.last {
			continue
		}
		if ev.Seq > h.last+1 {
			fresh = append(fresh, h.readGap(ev.Seq)...)
		}
		fresh = append(fresh, &Entry{Event: ev})
		h.last = ev.Seq
	}
	if len(fresh) == 0 {
		return
	}
	for _, e := range fresh {
		h.m.events.WithLabelValues(e.Type).Inc()
	}
	for s := range h.subs {
		if !s.deliver(fresh) {
			delete(h.subs, s)
		}
	}
}

// readGap reads the outbox events between the newest published seq and before (exclusive), and moves
// h.last past them. It runs under h.mu, which is acceptable because gaps are rare (another process
// wrote in the last tail interval) and short. Seqs that are not in the outbox at all are skipped.
func (h *Hub) readGap(before int64) []*Entry {
	ctx, cancel := context.WithTimeout(context.Background(), gapTimeout)
	defer cancel()
	var out []*Entry
	for h.last < before-1 {
		page, err := h.st.EventsSince(ctx, h.last, replayPage)
		if err != nil {
			h.log.Warn("events: cannot read missing events from the outbox; live subscribers skip them (they can resume with since)",
				"after", h.last, "before", before, "error", err)
			return out
		}
		progressed := false
		for _, ev := range page {
			if ev.Seq >= before {
				break
			}
			out = append(out, &Entry{Event: ev})
			h.last = ev.Seq
			progressed = true
		}
		if !progressed || len(page) < replayPage {
			return out
		}
	}
	return out
}

// Run tails the outbox and prunes it until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.tail(ctx) }()
	go func() { defer wg.Done(); h.retain(ctx) }()
	wg.Wait()
}

// tail publishes events committed by any connection — in particular by other processes, such as the
// `maestro-server flags` command writing the database file directly — within one change-feed interval.
// It reads only what is newer than the newest published seq, so in-process events, already published by
// the store, cost one empty read.
//
// The change feed reads its baseline before SubscribeChanges returns, and the first CatchUp runs after
// that: a commit made before the baseline is read by that CatchUp, any later one is notified. Should the
// feed be unable to start (the store logs why), events of other processes still go out, with the next
// in-process commit (Publish fills the gap).
func (h *Hub) tail(ctx context.Context) {
	changes, stop := h.st.SubscribeChanges()
	defer stop()
	h.CatchUp(ctx) // anything committed between New and Run
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
		}
		h.CatchUp(ctx)
	}
}

// CatchUp publishes every outbox event newer than the newest published seq.
func (h *Hub) CatchUp(ctx context.Context) {
	for {
		after := h.LastSeq()
		page, err := h.st.EventsSince(ctx, after, replayPage)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("events: tailing the outbox failed", "after", after, "error", err)
			}
			return
		}
		if len(page) == 0 {
			return
		}
		h.Publish(page)
		if len(page) < replayPage {
			return
		}
	}
}
