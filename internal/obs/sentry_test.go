package obs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeSentry is a loopback Sentry ingestion endpoint that records the events of the envelopes it gets.
type fakeSentry struct {
	*httptest.Server
	mu     sync.Mutex
	events []map[string]any
	raw    []string
	status int // answer with this status (200 when zero)
}

func newFakeSentry(t *testing.T) *fakeSentry {
	t.Helper()
	f := &fakeSentry{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if !strings.HasSuffix(r.URL.Path, "/envelope/") {
			t.Errorf("fake Sentry: unexpected path %s", r.URL.Path)
		}
		f.raw = append(f.raw, string(body)+"\nX-Sentry-Auth: "+r.Header.Get("X-Sentry-Auth"))
		// An envelope is a header line, then item header / item payload pairs.
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		for i := 1; i+1 < len(lines); i += 2 {
			var hdr struct{ Type string }
			_ = json.Unmarshal([]byte(lines[i]), &hdr)
			if hdr.Type == "event" {
				var ev map[string]any
				if err := json.Unmarshal([]byte(lines[i+1]), &ev); err != nil {
					t.Errorf("fake Sentry: bad event: %v", err)
				}
				f.events = append(f.events, ev)
			}
		}
		if f.status != 0 {
			w.WriteHeader(f.status)
			return
		}
		_, _ = w.Write([]byte(`{"id":"x"}`))
	}))
	t.Cleanup(f.Close)
	return f
}

// DSN is a DSN pointing at the fake server.
func (f *fakeSentry) DSN() string {
	return "http://publickey0123@" + strings.TrimPrefix(f.URL, "http://") + "/42"
}

func (f *fakeSentry) Events() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.events...)
}

func newTestTracker(t *testing.T, dsn string, o TrackerOptions) *Tracker {
	t.Helper()
	o.DSN = dsn
	if o.Release == "" {
		o.Release = "v-test"
	}
	if o.Environment == "" {
		o.Environment = "test"
	}
	if o.Logger == nil {
		l, _ := NewLogger(LogOptions{Out: io.Discard})
		o.Logger = l.Logger
	}
	tr, err := NewTracker(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close(time.Second) })
	return tr
}

func TestNewTracker_disabled(t *testing.T) {
	t.Parallel()
	tr, err := NewTracker(TrackerOptions{})
	if err != nil || tr != nil {
		t.Fatalf("empty DSN: got %v, %v; want nil, nil", tr, err)
	}
	// A nil tracker is inert.
	tr.CapturePanic(Report{}, "x")
	tr.CaptureServerError(Report{Status: 500})
	if h := tr.Health(); h.Status != maestro.HealthOK || !tr.Flush(time.Millisecond) {
		t.Fatal("nil tracker is not inert")
	}
	tr.Close(time.Millisecond)
	if _, err := NewTracker(TrackerOptions{DSN: "http://nokey.example/1x"}); err == nil {
		t.Fatal("malformed DSN accepted")
	}
}

func TestTracker_panicAndServerError(t *testing.T) {
	t.Parallel()
	fake := newFakeSentry(t)
	reg := prometheus.NewRegistry()
	tr := newTestTracker(t, fake.DSN(), TrackerOptions{Registerer: reg, Redactor: NewRedactor("planted-api-token-0123")})

	func() {
		defer func() {
			v := recover()
			tr.CapturePanic(Report{Method: "POST", Route: "/api/v1/tasks", RequestID: "req-panic", Status: 500,
				UserAgent: "maestro-cli/1.0"}, v)
		}()
		panic("boom with planted-api-token-0123")
	}()
	tr.CaptureServerError(Report{Method: "GET", Route: "/api/v1/tasks/{id}", RequestID: "req-5xx", Status: 500,
		Err: &maestro.Error{Code: maestro.CodeInternal, Message: "internal error", Err: errors.New("disk I/O error")}})
	if !tr.Flush(5 * time.Second) {
		t.Fatal("events not delivered")
	}
	evs := fake.Events()
	if len(evs) != 2 {
		t.Fatalf("fake Sentry got %d events, want 2", len(evs))
	}
	byReq := map[string]map[string]any{}
	for _, ev := range evs {
		tags, _ := ev["tags"].(map[string]any)
		byReq[fmt.Sprint(tags["request_id"])] = ev
		if ev["release"] != "v-test" || ev["environment"] != "test" {
			t.Errorf("event lacks release/environment: %v %v", ev["release"], ev["environment"])
		}
	}
	p := byReq["req-panic"]
	if p == nil {
		t.Fatalf("no event for the panic: %v", evs)
	}
	if tags := p["tags"].(map[string]any); tags["route"] != "/api/v1/tasks" || tags["method"] != "POST" {
		t.Errorf("panic tags: %v", tags)
	}
	exc := p["exception"].([]any)[0].(map[string]any)
	if exc["type"] != "panic" || !strings.Contains(fmt.Sprint(exc["value"]), "boom") {
		t.Errorf("panic exception: %v", exc)
	}
	frames := exc["stacktrace"].(map[string]any)["frames"].([]any)
	var found bool
	for _, f := range frames {
		if strings.Contains(fmt.Sprint(f.(map[string]any)["function"]), "TestTracker_panicAndServerError") {
			found = true
		}
	}
	if !found {
		t.Errorf("panic stack does not include the panicking function: %v", frames)
	}
	s := byReq["req-5xx"]
	if s == nil {
		t.Fatalf("no event for the 5xx: %v", evs)
	}
	if tags := s["tags"].(map[string]any); tags["route"] != "/api/v1/tasks/{id}" || tags["status"] != "500" {
		t.Errorf("5xx tags: %v", tags)
	}
	// Scrubbed: the planted token never left the process; only allowlisted headers did.
	for _, raw := range fake.raw {
		if strings.Contains(raw, "planted-api-token-0123") {
			t.Errorf("envelope contains the planted token:\n%s", raw)
		}
	}
	if h := tr.Health(); h.Status != maestro.HealthOK {
		t.Errorf("health %v after successful deliveries", h)
	}
	if got := testutil.ToFloat64(tr.sent); got != 2 {
		t.Errorf("sent counter %v, want 2", got)
	}
}

func TestTracker_failingSentryDegradesAndRecovers(t *testing.T) {
	t.Parallel()
	fake := newFakeSentry(t)
	fake.status = http.StatusInternalServerError
	tr := newTestTracker(t, fake.DSN(), TrackerOptions{})
	tr.CaptureServerError(Report{Method: "GET", Route: "/x", RequestID: "r1", Status: 500})
	tr.Flush(5 * time.Second)
	if h := tr.Health(); h.Status != maestro.HealthDegraded || !strings.Contains(h.Reason, "500") {
		t.Fatalf("health %+v while Sentry answers 500, want degraded", h)
	}
	if got := testutil.ToFloat64(tr.dropped.WithLabelValues(DropSendFailed)); got != 1 {
		t.Fatalf("send_failed drops %v, want 1", got)
	}
	fake.mu.Lock()
	fake.status = 0
	fake.mu.Unlock()
	tr.CaptureServerError(Report{Method: "GET", Route: "/x", RequestID: "r2", Status: 500})
	tr.Flush(5 * time.Second)
	if h := tr.Health(); h.Status != maestro.HealthOK {
		t.Fatalf("health %+v after Sentry recovered, want ok", h)
	}
}

// TestTracker_neverBlocks points the tracker at an endpoint that accepts connections and never
// answers: every Capture must still return at once, the overflow is dropped and counted, and the
// health turns degraded. (The bound below only catches a hang; it is not a performance target.)
func TestTracker_neverBlocks(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	})
	tr := newTestTracker(t, "http://key0123@"+ln.Addr().String()+"/1", TrackerOptions{QueueSize: 4, SendTimeout: 30 * time.Second})
	start := time.Now()
	for i := 0; i < 100; i++ {
		tr.CaptureServerError(Report{Method: "GET", Route: "/x", RequestID: fmt.Sprint(i), Status: 500})
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("100 captures against a hung Sentry took %v: capturing blocks", d)
	}
	// One event is in flight, at most 4 wait; the rest were dropped.
	if got := testutil.ToFloat64(tr.dropped.WithLabelValues(DropQueueFull)); got < 95 {
		t.Fatalf("queue_full drops %v, want at least 95", got)
	}
	if h := tr.Health(); h.Status != maestro.HealthDegraded {
		t.Fatalf("health %+v with a full queue, want degraded", h)
	}
}

func TestTracker_closed(t *testing.T) {
	t.Parallel()
	fake := newFakeSentry(t)
	tr := newTestTracker(t, fake.DSN(), TrackerOptions{})
	tr.Close(time.Second)
	tr.CaptureServerError(Report{Status: 500})
	if got := testutil.ToFloat64(tr.dropped.WithLabelValues(DropClosed)); got != 1 {
		t.Fatalf("closed drops %v, want 1", got)
	}
}
