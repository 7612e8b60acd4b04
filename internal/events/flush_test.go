package events_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/events"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// emitWaiting commits one event like an HTTP request does: with a wait budget, so that InTx returns only
// once the event is written to every live subscriber (or the budget is spent). It returns the event's seq.
func (e *env) emitWaiting(typ string) int64 {
	e.t.Helper()
	var seq int64
	ctx := maestro.WithEventWait(context.Background())
	err := e.st.InTx(ctx, func(q *store.Q) error {
		if err := q.Emit(ctx, typ, "p1", map[string]int{"i": 1}); err != nil {
			return err
		}
		seq = q.Emitted()[0].Seq
		return nil
	})
	if err != nil {
		e.t.Fatalf("emit: %v", err)
	}
	return seq
}

// inBackground runs fn on its own goroutine and returns a channel closed when it returned.
func inBackground(fn func()) <-chan struct{} {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	return done
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not done within 10s", what)
	}
}

func TestAwaitWritten(t *testing.T) {
	t.Parallel()
	long := events.Options{FlushTimeout: 10 * time.Second} // never reached when the test passes

	t.Run("the commit returns only once the reader has written the event", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, long)
		sub := e.hub.Subscribe(events.SubscribeOptions{})
		defer sub.Close()
		var written atomic.Bool
		gate := make(chan struct{})
		reader := inBackground(func() {
			it, err := sub.Next(context.Background()) // the event, handed to the "socket"
			if err != nil || it.Kind != events.KindEvent {
				t.Errorf("Next = %+v, %v", it, err)
			}
			<-gate // the write takes as long as the test wants
			written.Store(true)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, _ = sub.Next(ctx) // calling Next again says the write returned
		})
		committed := inBackground(func() { e.emitWaiting("task:created") })
		select {
		case <-committed:
			t.Fatal("the commit returned before the reader wrote the event")
		case <-time.After(50 * time.Millisecond):
		}
		close(gate)
		waitClosed(t, committed, "commit")
		if !written.Load() {
			t.Fatal("the commit returned before the write did")
		}
		waitClosed(t, reader, "reader")
		if v := metricValue(t, e.reg, "maestro_events_flush_timeouts_total"); v != 0 {
			t.Fatalf("flush timeouts = %v, want 0", v)
		}
	})

	t.Run("without a budget nothing waits", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, long)
		sub := e.hub.Subscribe(events.SubscribeOptions{}) // never read
		defer sub.Close()
		waitClosed(t, inBackground(func() { e.emit("task:created", "p1", 1) }), "commit without budget")
	})

	t.Run("switched off, nothing waits", func(t *testing.T) {
		t.Parallel()
		var on atomic.Bool
		e := newEnv(t, events.Options{FlushTimeout: 10 * time.Second, FlushEnabled: on.Load})
		sub := e.hub.Subscribe(events.SubscribeOptions{}) // never read
		defer sub.Close()
		waitClosed(t, inBackground(func() { e.emitWaiting("task:created") }), "commit with the wait switched off")
		on.Store(true)
		committed := inBackground(func() { e.emitWaiting("task:created") })
		select {
		case <-committed:
			t.Fatal("switched on again, the commit did not wait for the unread subscriber")
		case <-time.After(50 * time.Millisecond):
		}
		sub.Close()
		waitClosed(t, committed, "commit")
	})

	t.Run("a subscriber that filters the events out is not waited for", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, long)
		sub := e.hub.Subscribe(events.SubscribeOptions{Filter: func(ev *maestro.Event) bool { return ev.Type == "project:created" }})
		defer sub.Close()
		waitClosed(t, inBackground(func() { e.emitWaiting("task:created") }), "commit of a filtered event")
		// One it takes, then one it filters while nothing is left to write: neither holds the commit
		// once the first is written.
		seq := make(chan int64, 1)
		reader := inBackground(func() {
			it, err := sub.Next(context.Background())
			if err != nil {
				t.Errorf("Next: %v", err)
				close(seq)
				return
			}
			seq <- it.Entry.Seq
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _ = sub.Next(ctx) // acknowledges, then waits for an event that never comes
		})
		taken := e.emitWaiting("project:created")
		if got := <-seq; got != taken {
			t.Fatalf("seq %d, want %d", got, taken)
		}
		waitClosed(t, inBackground(func() { e.emitWaiting("task:updated") }), "commit of a filtered event after one taken")
		sub.Close()
		waitClosed(t, reader, "reader")
	})

	t.Run("a stalled reader costs one bound, then is not waited for until it catches up", func(t *testing.T) {
		t.Parallel()
		// Only the stalled reader's timeouts are counted, and it never acknowledges anything in time,
		// so the counts below do not depend on how fast a loaded machine schedules anyone.
		e := newEnv(t, events.Options{FlushTimeout: 30 * time.Millisecond})
		stalled := e.hub.Subscribe(events.SubscribeOptions{})
		defer stalled.Close()
		timeouts := func() float64 { return metricValue(t, e.reg, "maestro_events_flush_timeouts_total") }
		first := e.emitWaiting("task:created")
		if v := timeouts(); v != 1 {
			t.Fatalf("flush timeouts after the first commit = %v, want 1", v)
		}
		second := e.emitWaiting("task:created")
		if v := timeouts(); v != 1 {
			t.Fatalf("flush timeouts after the second commit = %v, want still 1 (the stalled reader is lagging)", v)
		}
		// The reader takes both events; taking the second acknowledges the first, the one the wait gave
		// up on: it has caught up, and the next commit waits for it again (in vain: it stops again).
		if s := nextSeqs(t, stalled, 2); !equalSeqs(s, []int64{first, second}) {
			t.Fatalf("stalled reader got %v", s)
		}
		e.emitWaiting("task:created")
		if v := timeouts(); v != 2 {
			t.Fatalf("flush timeouts after catching up = %v, want 2 (waited for again)", v)
		}
	})

	t.Run("a subscription that ends releases the wait", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, long)
		sub := e.hub.Subscribe(events.SubscribeOptions{})
		committed := inBackground(func() { e.emitWaiting("task:created") })
		sub.Close()
		waitClosed(t, committed, "commit")
	})

	t.Run("a replaying subscriber has the new event when the commit returns", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, long)
		old := e.emit("task:created", "p1", 5)
		sub := e.hub.Subscribe(events.SubscribeOptions{Replay: true, Since: old[1]})
		defer sub.Close()
		var mu sync.Mutex
		var got []int64
		reader := inBackground(func() {
			for {
				it, err := sub.Next(context.Background())
				if err != nil {
					return
				}
				mu.Lock()
				got = append(got, it.Entry.Seq)
				mu.Unlock()
			}
		})
		seq := e.emitWaiting("task:updated")
		mu.Lock()
		have := append([]int64(nil), got...)
		mu.Unlock()
		if want := append(append([]int64(nil), old[2:]...), seq); !equalSeqs(have, want) {
			t.Fatalf("when the commit returned the reader had %v, want %v", have, want)
		}
		sub.Close()
		waitClosed(t, reader, "reader")
	})
}
