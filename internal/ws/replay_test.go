package ws_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestSockets_SinceReplaysThenLive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.emit("task:created", 5)
	last := e.hub.LastSeq()
	for _, path := range []string{"/?since=", "/api/v2/events/stream?since="} {
		cl := e.dial(fmt.Sprintf("%s%d", path, last-3), nil)
		for want := last - 2; want <= last; want++ {
			if m := cl.read(); m.Seq != want || m.Type != "task:created" {
				t.Fatalf("%s: got %+v, want seq %d", path, m, want)
			}
		}
		if got := cl.ping(); len(got) != 0 {
			t.Fatalf("%s: extra messages %v", path, types(got))
		}
	}
	// since = the newest seq: nothing to replay, live from there.
	cl := e.dial(fmt.Sprintf("/?since=%d", last), nil)
	e.emit("task:updated", 1)
	if m := cl.read(); m.Seq != last+1 || m.Type != "task:updated" {
		t.Fatalf("got %+v, want the live event %d", m, last+1)
	}
}

// TestSockets_ReconnectUnderConcurrentWrites: while writes go on, a client disconnects again and again
// and reconnects with since = the last seq it saw, on both endpoints, with small buffers (so that it is
// also dropped as a slow consumer now and then). Every seq must arrive exactly once, in order.
func TestSockets_ReconnectUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *envConfig) { c.ws.Buffer = 16 })
	const total = 2000
	start := e.hub.LastSeq()
	final := start + total
	go func() {
		r := rand.New(rand.NewPCG(3, 4))
		for n := 0; n < total; {
			k := min(1+r.IntN(16), total-n)
			e.emit("task:updated", k)
			n += k
		}
	}()

	r := rand.New(rand.NewPCG(5, 6))
	seen := start
	connections, dropped := 0, 0
	deadline := time.Now().Add(60 * time.Second)
	for seen < final {
		if time.Now().After(deadline) {
			t.Fatalf("stuck at seq %d of %d after %d connections", seen, final, connections)
		}
		path := "/?since=%d"
		if connections%2 == 1 {
			path = "/api/v2/events/stream?since=%d"
		}
		opts := &websocket.DialOptions{}
		if r.IntN(2) == 0 {
			opts.CompressionMode = websocket.CompressionContextTakeover
		}
		cl := e.dial(fmt.Sprintf(path, seen), opts)
		connections++
		for budget := 1 + r.IntN(300); budget > 0 && seen < final; budget-- {
			m, err := cl.tryRead(10 * time.Second)
			if err != nil {
				if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
					t.Fatalf("connection %d: %v", connections, err)
				}
				dropped++
				break
			}
			if m.Type == "resync" || m.Seq != seen+1 {
				t.Fatalf("connection %d (since %d): got %s seq %d", connections, seen, m.Type, m.Seq)
			}
			seen = m.Seq
		}
		_ = cl.c.Close(websocket.StatusNormalClosure, "")
	}
	if connections < 5 {
		t.Fatalf("only %d connections; the test did not exercise reconnecting", connections)
	}
	t.Logf("%d events over %d connections (%d dropped as slow)", total, connections, dropped)
}

func TestSockets_Resync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *envConfig) { c.hub.KeepMin = 5; c.hub.Retention = time.Millisecond })
	e.emit("task:created", 20)
	time.Sleep(5 * time.Millisecond)
	// The hub's own retention loop prunes once when it starts, and on a busy machine that can run after
	// the emit: so the test checks what is left (the newest KeepMin events), not who deleted the rest.
	if _, err := e.hub.Prune(context.Background()); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if oldest, newest, err := e.st.EventSeqBounds(context.Background()); err != nil || oldest != 16 || newest != 20 {
		t.Fatalf("after pruning the outbox holds seq %d..%d (%v), want 16..20", oldest, newest, err)
	}
	last := e.hub.LastSeq()
	for _, path := range []string{"/?since=1", "/api/v2/events/stream?since=1", fmt.Sprintf("/?since=%d", last+50)} {
		cl := e.dial(path, nil)
		if m := cl.read(); m.Type != "resync" || len(m.raw) != 1 {
			t.Fatalf("%s: first message %+v, want only {\"type\":\"resync\"}", path, m)
		}
		e.emit("task:updated", 1)
		if m := cl.read(); m.Type != "task:updated" || m.Seq != e.hub.LastSeq() {
			t.Fatalf("%s: after resync got %+v, want the live event", path, m)
		}
	}
	// Resuming from the event right before the oldest retained one replays without a resync.
	cl := e.dial(fmt.Sprintf("/?since=%d", last-5), nil)
	if m := cl.read(); m.Type != "task:created" || m.Seq != last-4 {
		t.Fatalf("got %+v, want seq %d", m, last-4)
	}
}

func TestSockets_ReplaySwitchedOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *envConfig) { c.ws.ReplayEnabled = func() bool { return false } })
	e.emit("task:created", 3)
	cl := e.dial("/?since=1", nil)
	if m := cl.read(); m.Type != "resync" {
		t.Fatalf("got %+v, want resync", m)
	}
	e.emit("task:updated", 1)
	if m := cl.read(); m.Type != "task:updated" {
		t.Fatalf("got %+v, want the live event", m)
	}
	plain := e.dial("/", nil) // no since: no resync
	e.emit("task:updated", 1)
	if m := plain.read(); m.Type != "task:updated" {
		t.Fatalf("got %+v", m)
	}
}

// TestSockets_OtherProcessEvents: an outbox row written by another connection to the database file
// (the `maestro-server flags` command, from its own process) reaches the sockets.
func TestSockets_OtherProcessEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cl := e.dial("/", nil)
	var seq int64
	err := e.sql().QueryRow(`INSERT INTO events (type, payload, created_at)
		VALUES ('flag:updated', '{"key":"task-search","enabled":false}', ?) RETURNING seq`, time.Now().UnixMilli()).Scan(&seq)
	if err != nil {
		t.Fatal(err)
	}
	m := cl.read()
	if m.Type != "flag:updated" || m.Event != "flag:updated" || m.Seq != seq || string(m.Data) != `{"key":"task-search","enabled":false}` {
		t.Fatalf("got %+v", m)
	}
}
