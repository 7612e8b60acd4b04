package events_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/events"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	st    *store.Store
	hub   *events.Hub
	clock *clock
	reg   *prometheus.Registry
}

func newEnv(t *testing.T, opts events.Options) *env {
	t.Helper()
	c := newClock()
	st := dbtest.New(t, dbtest.WithClock(c.Now))
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if opts.Now == nil {
		opts.Now = c.Now
	}
	hub, err := events.New(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	st.SetPublisher(hub)
	return &env{t: t, st: st, hub: hub, clock: c, reg: reg}
}

// run starts the hub's tail and pruner until the test ends.
func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.hub.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// emit commits one transaction recording n events of type typ in project proj; it returns their seqs.
func (e *env) emit(typ, proj string, n int) []int64 {
	e.t.Helper()
	var seqs []int64
	err := e.st.InTx(context.Background(), func(q *store.Q) error {
		for i := 0; i < n; i++ {
			if err := q.Emit(context.Background(), typ, proj, map[string]int{"i": i}); err != nil {
				return err
			}
		}
		for _, ev := range q.Emitted() {
			seqs = append(seqs, ev.Seq)
		}
		return nil
	})
	if err != nil {
		e.t.Errorf("emit: %v", err)
	}
	return seqs
}

// bulk inserts n outbox events of type typ stamped at (ms) through a second database handle, in one
// statement (emitting them one by one is slow under the race detector), then lets the hub publish them
// as another process's. It returns their seqs.
func (e *env) bulk(typ string, n int, at time.Time) []int64 {
	e.t.Helper()
	db, err := sql.Open("sqlite", store.DSN(e.st.Path()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	_, before, err := e.st.Read().EventSeqBounds(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = db.Exec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
		INSERT INTO events (type, payload, project_id, created_at)
		SELECT ?, json_object('i', i), 'p1', ? FROM c`, n, typ, at.UnixMilli())
	if err != nil {
		e.t.Fatal(err)
	}
	return seqRange(before+1, before+int64(n))
}

// next reads one item with a deadline.
func next(t *testing.T, s *events.Subscription) events.Item {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return it
}

// nextSeqs reads n items that must all be events and returns their seqs.
func nextSeqs(t *testing.T, s *events.Subscription, n int) []int64 {
	t.Helper()
	var out []int64
	for len(out) < n {
		it := next(t, s)
		if it.Kind != events.KindEvent {
			t.Fatalf("item %d: kind %d, want an event", len(out), it.Kind)
		}
		out = append(out, it.Entry.Seq)
	}
	return out
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func equalSeqs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHub_Publish(t *testing.T) {
	t.Parallel()
	t.Run("in order, once, even when offered twice", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{})
		sub := e.hub.Subscribe(events.SubscribeOptions{})
		defer sub.Close()
		seqs := e.emit("project:created", "p1", 3)
		// The tail offers the same committed events again: they must not be delivered twice.
		e.hub.CatchUp(context.Background())
		e.hub.Publish([]maestro.Event{{Seq: seqs[1], Type: "project:created"}})
		more := e.emit("task:created", "p1", 1)
		got := nextSeqs(t, sub, 4)
		if want := append(seqs, more...); !equalSeqs(got, want) {
			t.Fatalf("seqs %v, want %v", got, want)
		}
		if v := metricValue(t, e.reg, "maestro_events_total", "type", "project:created"); v != 3 {
			t.Fatalf("maestro_events_total{project:created} = %v, want 3", v)
		}
	})
	t.Run("fills a gap left by another process before the tail sees it", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{}) // no Run: only the gap fill can find the other process's event
		sub := e.hub.Subscribe(events.SubscribeOptions{})
		defer sub.Close()
		first := e.emit("project:created", "p1", 1)
		other := insertFromOtherConnection(t, e.st, "flag:updated")
		mine := e.emit("project:updated", "p1", 1)
		got := nextSeqs(t, sub, 3)
		if want := []int64{first[0], other, mine[0]}; !equalSeqs(got, want) {
			t.Fatalf("seqs %v, want %v", got, want)
		}
	})
	t.Run("tails events committed by another process", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{})
		e.run()
		sub := e.hub.Subscribe(events.SubscribeOptions{})
		defer sub.Close()
		seq := insertFromOtherConnection(t, e.st, "flag:updated")
		it := next(t, sub)
		if it.Kind != events.KindEvent || it.Entry.Seq != seq || it.Entry.Type != "flag:updated" {
			t.Fatalf("got %+v, want flag:updated seq %d", it, seq)
		}
		if string(it.Entry.Data) != `{"key":"ws-replay","enabled":false}` {
			t.Fatalf("data %s", it.Entry.Data)
		}
	})
	t.Run("filter", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{})
		sub := e.hub.Subscribe(events.SubscribeOptions{Filter: func(ev *maestro.Event) bool { return ev.ProjectID == "p2" }})
		defer sub.Close()
		e.emit("task:created", "p1", 2)
		want := e.emit("task:created", "p2", 2)
		e.emit("task:created", "p1", 1)
		if got := nextSeqs(t, sub, 2); !equalSeqs(got, want) {
			t.Fatalf("seqs %v, want %v", got, want)
		}
	})
}

// metricValue returns the value of the counter or gauge name whose labels include the given pairs.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return 0
}

// insertFromOtherConnection writes an outbox row through a second database handle on the same file, as
// the `maestro-server flags` command does from its own process.
func insertFromOtherConnection(t *testing.T, st *store.Store, typ string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", store.DSN(st.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var seq int64
	err = db.QueryRow(`INSERT INTO events (type, payload, project_id, request_id, created_at)
		VALUES (?, '{"key":"ws-replay","enabled":false}', NULL, NULL, ?) RETURNING seq`,
		typ, time.Now().UnixMilli()).Scan(&seq)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func TestSubscription_Mark(t *testing.T) {
	t.Parallel()
	e := newEnv(t, events.Options{})
	sub := e.hub.Subscribe(events.SubscribeOptions{})
	defer sub.Close()
	seqs := e.emit("task:updated", "p1", 2)
	sub.Mark()
	later := e.emit("task:updated", "p1", 1)
	if got := nextSeqs(t, sub, 2); !equalSeqs(got, seqs) {
		t.Fatalf("seqs %v, want %v", got, seqs)
	}
	if it := next(t, sub); it.Kind != events.KindMark {
		t.Fatalf("kind %d, want the mark after the events published before it", it.Kind)
	}
	if got := nextSeqs(t, sub, 1); got[0] != later[0] {
		t.Fatalf("seq %d, want %d", got[0], later[0])
	}
}

func TestSubscription_NextNoticesContextWithItemsWaiting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, events.Options{})
	sub := e.hub.Subscribe(events.SubscribeOptions{})
	defer sub.Close()
	e.emit("task:updated", "p1", 3)
	ctx, cancel := context.WithCancel(context.Background())
	if it, err := sub.Next(ctx); err != nil || it.Kind != events.KindEvent {
		t.Fatalf("Next = %+v, %v", it, err)
	}
	cancel()
	if _, err := sub.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after cancel with events waiting = %v, want context.Canceled", err)
	}
}

func TestSubscription_SlowConsumer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, events.Options{})
	slow := e.hub.Subscribe(events.SubscribeOptions{Buffer: 4})
	fast := e.hub.Subscribe(events.SubscribeOptions{Buffer: 1000})
	defer fast.Close()
	var all []int64
	for i := 0; i < 10; i++ {
		all = append(all, e.emit("task:created", "p1", 1)...)
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("the slow subscription is still live after overflowing its buffer")
	}
	if _, err := slow.Next(context.Background()); !errors.Is(err, events.ErrSlowConsumer) {
		t.Fatalf("Next = %v, want ErrSlowConsumer", err)
	}
	if got := nextSeqs(t, fast, len(all)); !equalSeqs(got, all) {
		t.Fatalf("fast subscriber got %v, want %v", got, all)
	}
	if n := e.hub.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers, want 1 (the slow one is dropped)", n)
	}
	if v := metricValue(t, e.reg, "maestro_ws_slow_consumers_total"); v != 1 {
		t.Fatalf("maestro_ws_slow_consumers_total = %v, want 1", v)
	}
	slow.Close() // after failing: harmless
}

func TestSubscription_Replay(t *testing.T) {
	t.Parallel()
	t.Run("retained events then live", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{})
		old := e.bulk("task:created", 1200, e.clock.Now()) // more than one replay page
		e.hub.CatchUp(context.Background())
		sub := e.hub.Subscribe(events.SubscribeOptions{Replay: true, Since: old[99]})
		defer sub.Close()
		live := e.emit("task:updated", "p1", 2)
		want := append(old[100:], live...)
		if got := nextSeqs(t, sub, len(want)); !equalSeqs(got, want) {
			t.Fatalf("got %d seqs from %d to %d, want %d", len(got), got[0], got[len(got)-1], len(want))
		}
	})
	t.Run("since 0 replays everything", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{})
		old := e.emit("task:created", "p1", 3)
		sub := e.hub.Subscribe(events.SubscribeOptions{Replay: true, Since: 0})
		defer sub.Close()
		if got := nextSeqs(t, sub, 3); !equalSeqs(got, old) {
			t.Fatalf("got %v, want %v", got, old)
		}
	})
	t.Run("replay applies the filter", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{})
		e.emit("task:created", "p1", 3)
		want := e.emit("task:deleted", "p1", 2)
		sub := e.hub.Subscribe(events.SubscribeOptions{Replay: true, Since: 0,
			Filter: func(ev *maestro.Event) bool { return ev.Type == "task:deleted" }})
		defer sub.Close()
		e.emit("task:created", "p1", 1)
		want = append(want, e.emit("task:deleted", "p1", 1)...)
		if got := nextSeqs(t, sub, 3); !equalSeqs(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("pruned range gives one resync then live", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{KeepMin: 5, Retention: time.Hour})
		old := e.emit("task:created", "p1", 20)
		e.clock.Add(2 * time.Hour)
		if n, err := e.hub.Prune(context.Background()); err != nil || n != 15 {
			t.Fatalf("Prune = %d, %v; want 15 deleted", n, err)
		}
		sub := e.hub.Subscribe(events.SubscribeOptions{Replay: true, Since: old[3]})
		defer sub.Close()
		live := e.emit("task:updated", "p1", 1)
		if it := next(t, sub); it.Kind != events.KindResync {
			t.Fatalf("first item kind %d, want resync", it.Kind)
		}
		if got := nextSeqs(t, sub, 1); got[0] != live[0] {
			t.Fatalf("after resync got seq %d, want the live %d", got[0], live[0])
		}
		// Resuming right before the oldest retained event is not a resync.
		sub2 := e.hub.Subscribe(events.SubscribeOptions{Replay: true, Since: old[14]})
		defer sub2.Close()
		if got := nextSeqs(t, sub2, 6); !equalSeqs(got, append(old[15:], live...)) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("since beyond the newest event gives a resync", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{})
		old := e.emit("task:created", "p1", 2)
		sub := e.hub.Subscribe(events.SubscribeOptions{Replay: true, Since: old[1] + 100})
		defer sub.Close()
		live := e.emit("task:updated", "p1", 1)
		if it := next(t, sub); it.Kind != events.KindResync {
			t.Fatalf("first item kind %d, want resync", it.Kind)
		}
		if got := nextSeqs(t, sub, 1); got[0] != live[0] {
			t.Fatalf("got %d, want %d", got[0], live[0])
		}
	})
	t.Run("since a seq the tail has not published yet is no resync", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{}) // no tail: the hub lags behind the outbox
		e.emit("task:created", "p1", 1)
		other := insertFromOtherConnection(t, e.st, "flag:updated")
		sub := e.hub.Subscribe(events.SubscribeOptions{Replay: true, Since: other})
		defer sub.Close()
		e.hub.CatchUp(context.Background()) // now the tail publishes `other`: a duplicate for sub
		live := e.emit("task:updated", "p1", 1)
		it := next(t, sub)
		if it.Kind != events.KindEvent || it.Entry.Seq != live[0] {
			t.Fatalf("got %+v, want only the live event %d", it, live[0])
		}
	})
	t.Run("resync option", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{})
		e.emit("task:created", "p1", 2)
		sub := e.hub.Subscribe(events.SubscribeOptions{Resync: true})
		defer sub.Close()
		live := e.emit("task:updated", "p1", 1)
		if it := next(t, sub); it.Kind != events.KindResync {
			t.Fatalf("kind %d, want resync", it.Kind)
		}
		if got := nextSeqs(t, sub, 1); got[0] != live[0] {
			t.Fatalf("got %d, want %d", got[0], live[0])
		}
	})
}

// TestSubscription_ReplayUnderConcurrentWrites is the exactly-once property: while a writer commits
// thousands of events, readers resume again and again with the last seq they saw — with tiny buffers,
// so that the live buffer overflows during the replay and slow-consumer drops happen too — and together
// their deliveries must be every seq exactly once, in order.
func TestSubscription_ReplayUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, events.Options{})
	e.run()
	const total = 2000
	start := e.hub.LastSeq()
	final := start + total

	writeDone := make(chan struct{})
	go func() {
		defer close(writeDone)
		r := rand.New(rand.NewPCG(1, 2))
		for n := 0; n < total; {
			k := min(1+r.IntN(16), total-n)
			e.emit("task:updated", "p1", k)
			n += k
		}
	}()

	const readers = 3
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for i := 0; i < readers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			seen := start
			resumes := 0
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for seen < final {
				sub := e.hub.Subscribe(events.SubscribeOptions{Replay: true, Since: seen, Buffer: 4 + r.IntN(16)})
				resumes++
				// Read a random number of items, then drop the connection (or be dropped as slow).
				budget := 1 + r.IntN(400)
				for ; budget > 0 && seen < final; budget-- {
					it, err := sub.Next(ctx)
					if errors.Is(err, events.ErrSlowConsumer) {
						break
					}
					if err != nil {
						errs <- fmt.Errorf("reader %d: %w", i, err)
						sub.Close()
						return
					}
					if it.Kind != events.KindEvent {
						errs <- fmt.Errorf("reader %d: unexpected kind %d after seq %d", i, it.Kind, seen)
						sub.Close()
						return
					}
					if it.Entry.Seq != seen+1 {
						errs <- fmt.Errorf("reader %d: got seq %d after %d (resume %d)", i, it.Entry.Seq, seen, resumes)
						sub.Close()
						return
					}
					seen = it.Entry.Seq
					if r.IntN(50) == 0 {
						time.Sleep(time.Millisecond) // fall behind now and then
					}
				}
				sub.Close()
			}
			if resumes < 3 {
				errs <- fmt.Errorf("reader %d resumed only %d times; the test did not exercise resuming", i, resumes)
			}
		}(i)
	}
	wg.Wait()
	<-writeDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestHub_Prune(t *testing.T) {
	t.Parallel()
	t.Run("keeps at least the newest 10,000", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{})
		e.bulk("task:updated", events.DefaultKeepMin+500, e.clock.Now())
		e.clock.Add(30 * 24 * time.Hour) // everything is older than the 7-day retention
		n, err := e.hub.Prune(context.Background())
		if err != nil || n != 500 {
			t.Fatalf("Prune = %d, %v; want 500 deleted", n, err)
		}
		oldest, newest, err := e.st.Read().EventSeqBounds(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if kept := newest - oldest + 1; kept != events.DefaultKeepMin {
			t.Fatalf("kept %d events, want %d", kept, events.DefaultKeepMin)
		}
	})
	t.Run("keeps events younger than the retention", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, events.Options{KeepMin: 10, Retention: time.Hour})
		e.bulk("task:updated", 7000, e.clock.Now()) // more than one prune batch
		e.clock.Add(2 * time.Hour)
		recent := e.emit("task:updated", "p1", 50)
		n, err := e.hub.Prune(context.Background())
		if err != nil || n != 7000 {
			t.Fatalf("Prune = %d, %v; want 7000 deleted", n, err)
		}
		oldest, newest, _ := e.st.Read().EventSeqBounds(context.Background())
		if oldest != recent[0] || newest != recent[len(recent)-1] {
			t.Fatalf("retained %d..%d, want %d..%d", oldest, newest, recent[0], recent[len(recent)-1])
		}
	})
}

func TestHub_ReadEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, events.Options{KeepMin: 5, Retention: time.Hour})
	seqs := e.emit("task:created", "p1", 10)
	evs, resync, newest, err := e.hub.ReadEvents(context.Background(), seqs[1], 3)
	if err != nil || resync || newest != seqs[9] || len(evs) != 3 || evs[0].Seq != seqs[2] {
		t.Fatalf("ReadEvents = %v, %v, %d, %v", evs, resync, newest, err)
	}
	if evs, resync, _, _ := e.hub.ReadEvents(context.Background(), seqs[9], 3); resync || len(evs) != 0 || evs == nil {
		t.Fatalf("at the newest: %v, %v; want an empty list", evs, resync)
	}
	if _, resync, _, _ := e.hub.ReadEvents(context.Background(), seqs[9]+1, 3); !resync {
		t.Fatal("after beyond the newest: want resync")
	}
	e.clock.Add(2 * time.Hour)
	if _, err := e.hub.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	if evs, resync, newest, _ := e.hub.ReadEvents(context.Background(), seqs[1], 3); !resync || len(evs) != 0 || newest != seqs[9] {
		t.Fatalf("after pruning: %v, %v, %d; want resync", evs, resync, newest)
	}
	if evs, resync, _, _ := e.hub.ReadEvents(context.Background(), seqs[4], 100); resync || len(evs) != 5 {
		t.Fatalf("from the oldest retained: %d events, resync %v", len(evs), resync)
	}
}
