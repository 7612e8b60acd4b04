package ws_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maestro-hq/maestro-server/internal/store"
)

func TestSockets_Shutdown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	legacy := e.dial("/", nil)
	stream := e.dial("/api/v2/events/stream", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.ws.Shutdown(ctx) }()
	for _, cl := range []*client{legacy, stream} {
		if code := cl.closeStatus(10 * time.Second); code != websocket.StatusGoingAway {
			t.Fatalf("close code %d, want 1001", code)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, resp, err := e.tryDial("/", nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after shutdown: %v, want 503", err)
	}
}

func TestSockets_StreamingSwitch(t *testing.T) {
	t.Parallel()
	var enabled atomic.Bool
	enabled.Store(true)
	e := newEnv(t, func(c *envConfig) { c.ws.StreamingEnabled = enabled.Load })
	legacy := e.dial("/", nil)
	stream := e.dial("/api/v2/events/stream", nil)

	enabled.Store(false)
	e.ws.StopStreaming()
	for _, cl := range []*client{legacy, stream} {
		if code := cl.closeStatus(10 * time.Second); code != websocket.StatusTryAgainLater {
			t.Fatalf("close code %d, want 1013", code)
		}
	}
	for _, tc := range []struct{ path, contentType string }{
		{"/", "application/json"},
		{"/api/v2/events/stream", "application/problem+json"},
	} {
		_, resp, err := e.tryDial(tc.path, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s while switched off: %v, want 503", tc.path, err)
		}
		var body struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if body.Code != "FEATURE_DISABLED" || body.Details["flag"] != "ws-streaming" ||
			resp.Header.Get("Content-Type") != tc.contentType || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: %v %+v", tc.path, resp.Header, body)
		}
	}
	enabled.Store(true)
	e.dial("/", nil)
}

// TestSockets_StreamingSwitchDuringUpgrade switches streaming off at the worst moment for an upgrade:
// right after the upgrade read the switch (still on), before the socket is open. The switch-off must
// still close that socket with 1013, not leave it open with streaming off.
func TestSockets_StreamingSwitchDuringUpgrade(t *testing.T) {
	t.Parallel()
	var enabled atomic.Bool
	enabled.Store(true)
	var e *env
	var switchOff sync.Once
	e = newEnv(t, func(c *envConfig) {
		c.ws.StreamingEnabled = func() bool {
			was := enabled.Load()
			switchOff.Do(func() {
				enabled.Store(false)
				e.ws.StopStreaming()
			})
			return was
		}
	})
	cl := e.dial("/", nil)
	if code := cl.closeStatus(5 * time.Second); code != websocket.StatusTryAgainLater {
		t.Fatalf("close code %d, want 1013", code)
	}
}

func TestSockets_Heartbeat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *envConfig) { c.ws.PingInterval = 400 * time.Millisecond })
	live := e.dial("/", nil)
	// A reading client answers protocol pings (the library does it inside Read).
	readCtx, stopReading := context.WithCancel(context.Background())
	msgs := make(chan []byte, 16)
	go func() {
		for {
			_, m, err := live.c.Read(readCtx)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- m
		}
	}()
	dead := e.dial("/api/v2/events/stream", nil) // never reads, so never answers a ping
	// Reading now would answer pings; instead wait until the server let go of it.
	waitFor(t, func() bool { return e.ws.Status().ConnectedClients < 2 })
	if _, err := dead.tryRead(5 * time.Second); err == nil || websocket.CloseStatus(err) != -1 {
		t.Fatalf("unresponsive client: %v, want the connection dropped", err)
	}
	// The responsive one is still served, long after two intervals.
	time.Sleep(time.Second)
	if n := e.ws.Status().ConnectedClients; n != 1 {
		t.Fatalf("%d clients, want the responsive one", n)
	}
	live.send(`{"type":"ping"}`)
	select {
	case m := <-msgs:
		if string(m[:15]) != `{"type":"pong",` {
			t.Fatalf("got %s", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the responsive client was dropped")
	}
	stopReading()
}

// TestSockets_SlowConsumer: a client that stops reading is closed with 1008 once its buffer is full,
// while another client receives every event and no write waits.
func TestSockets_SlowConsumer(t *testing.T) {
	t.Parallel()
	// A long write timeout: the slow client must be closed by the buffer rule, not by the watchdog.
	e := newEnv(t, func(c *envConfig) { c.ws.Buffer = 16; c.sendBuffer = 16 << 10; c.ws.WriteTimeout = time.Minute })
	slow := e.dial("/", &websocket.DialOptions{HTTPClient: smallReceiveBuffer()})
	fast := e.dial("/api/v2/events/stream", nil)
	const n = 100 // 100 × 16 KiB: far more than the socket buffers between the server and the slow client
	var fastSeqs []int64
	var received atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for len(fastSeqs) < n {
			m, err := fast.tryRead(20 * time.Second)
			if err != nil {
				t.Errorf("fast client: %v after %d events", err, len(fastSeqs))
				return
			}
			fastSeqs = append(fastSeqs, m.Seq)
			received.Add(1)
		}
	}()
	big := make([]byte, 8<<10)
	for i := 0; i < n; i++ {
		// Writes go at the pace of the fast client (a few events ahead), which therefore keeps up by
		// construction; nothing waits for the slow one.
		for int64(i)-received.Load() > 8 && !t.Failed() {
			time.Sleep(time.Millisecond)
		}
		_, _ = rand.Read(big)
		err := e.st.InTx(context.Background(), func(q *store.Q) error {
			return q.Emit(context.Background(), "task:updated", "p1", map[string]string{"blob": hex.EncodeToString(big)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for i := 1; i < len(fastSeqs); i++ {
		if fastSeqs[i] != fastSeqs[i-1]+1 {
			t.Fatalf("fast client: seq %d after %d", fastSeqs[i], fastSeqs[i-1])
		}
	}
	if v := gauge(t, e, "maestro_ws_slow_consumers_total"); v != 1 {
		t.Fatalf("maestro_ws_slow_consumers_total = %v, want 1", v)
	}
	// The slow client now reads: what was already in flight, in order, then the 1008 close.
	var last int64
	for {
		m, err := slow.tryRead(20 * time.Second)
		if err != nil {
			if code := websocket.CloseStatus(err); code != websocket.StatusPolicyViolation {
				t.Fatalf("slow client: %v (code %d), want a 1008 close", err, code)
			}
			break
		}
		if last != 0 && m.Seq != last+1 {
			t.Fatalf("slow client: seq %d after %d", m.Seq, last)
		}
		last = m.Seq
	}
	if last >= fastSeqs[n-1] {
		t.Fatalf("the slow client received everything (%d); the test did not exercise backpressure", last)
	}
}

// TestSockets_WriteTimeout: a client that stops reading altogether is dropped when one write has been
// blocked for WriteTimeout, even while its buffer still has room (so it is not a slow-consumer close).
func TestSockets_WriteTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *envConfig) {
		c.ws.WriteTimeout = 300 * time.Millisecond
		c.ws.Buffer = 10_000
		c.sendBuffer = 16 << 10
	})
	stuck := e.dial("/", &websocket.DialOptions{HTTPClient: smallReceiveBuffer()})
	big := make([]byte, 8<<10)
	for i := 0; i < 20; i++ { // 20 × 16 KiB: more than the socket buffers hold
		_, _ = rand.Read(big)
		err := e.st.InTx(context.Background(), func(q *store.Q) error {
			return q.Emit(context.Background(), "task:updated", "p1", map[string]string{"blob": hex.EncodeToString(big)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return e.ws.Status().ConnectedClients == 0 })
	for {
		if _, err := stuck.tryRead(10 * time.Second); err != nil {
			if code := websocket.CloseStatus(err); code != -1 {
				t.Fatalf("got close code %d, want the connection dropped without one", code)
			}
			break
		}
	}
	if v := gauge(t, e, "maestro_ws_slow_consumers_total"); v != 0 {
		t.Fatalf("maestro_ws_slow_consumers_total = %v, want 0", v)
	}
}
