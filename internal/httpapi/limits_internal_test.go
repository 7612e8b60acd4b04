package httpapi

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestShedLoad(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	// versionHeader marks the version errors are shaped in, as it does outside shedLoad in the chain.
	h := versionHeader(shedLoad(2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})))
	var done sync.WaitGroup
	for range 2 {
		done.Add(1)
		go func() {
			defer done.Done()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/tasks", nil))
		}()
	}
	<-entered
	<-entered
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v2/tasks", nil))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("third request: %d %v %s", w.Code, w.Header(), w.Body)
	}
	close(release)
	done.Wait()
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/tasks", nil))
	if w.Code != 200 {
		t.Fatalf("after the slots freed: %d", w.Code)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	h := rateLimit(1, 3, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	do := func(addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/tasks", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := range 3 {
		if w := do("10.1.2.3:5000"); w.Code != 200 {
			t.Fatalf("request %d within the burst: %d", i, w.Code)
		}
	}
	w := do("10.1.2.3:5001")
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the limit: %d %v", w.Code, w.Header())
	}
	if w := do("10.9.9.9:1"); w.Code != 200 {
		t.Fatalf("another client is limited separately: %d", w.Code)
	}
	for range 20 {
		if w := do("127.0.0.1:4000"); w.Code != 200 {
			t.Fatalf("loopback clients are exempt: %d", w.Code)
		}
		if w := do("[::1]:4000"); w.Code != 200 {
			t.Fatalf("loopback clients are exempt: %d", w.Code)
		}
	}
}

// TestRateLimit_RetryAfterIsTheWait checks that a 429 carries one Retry-After, the seconds until the
// client's bucket has a token again, in the header and in details.retryAfterSeconds.
func TestRateLimit_RetryAfterIsTheWait(t *testing.T) {
	t.Parallel()
	h := rateLimit(0.1, 1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var w *httptest.ResponseRecorder
	for range 2 {
		r := httptest.NewRequest("GET", "/api/tasks", nil)
		r.RemoteAddr = "10.1.2.3:5000"
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
	}
	if got := w.Header().Values("Retry-After"); w.Code != 429 || len(got) != 1 || got[0] != "10" {
		t.Fatalf("over the limit: %d Retry-After %q", w.Code, got)
	}
	if !strings.Contains(w.Body.String(), `"retryAfterSeconds":10`) {
		t.Fatalf("body: %s", w.Body)
	}
}

func TestClientLimiter_ForgetsIdleClients(t *testing.T) {
	t.Parallel()
	c := &clientLimiter{rps: 1, burst: 1, clients: map[string]*clientBucket{}}
	now := time.Now()
	c.allow("a", now)
	c.allow("b", now.Add(2*time.Minute))
	c.allow("c", now.Add(idleBucketTTL+2*time.Minute))
	if _, ok := c.clients["a"]; ok || len(c.clients) != 2 {
		t.Fatalf("idle bucket kept: %v", c.clients)
	}
}

// TestRequestScope_deadline: requestScope bounds every request by the request timeout, except the
// health probes and the long-lived connections (WebSocket upgrades, MCP event streams).
func TestRequestScope_deadline(t *testing.T) {
	t.Parallel()
	s := &Server{opts: Options{RequestTimeout: time.Minute, Logger: slog.New(slog.DiscardHandler)}}
	for _, c := range []struct {
		method, path string
		headers      []string
		deadline     bool
	}{
		{"GET", "/", nil, true},
		{"GET", "/api/tasks", nil, true},
		{"POST", "/mcp", []string{"Accept", "application/json, text/event-stream"}, true},
		{"GET", "/mcp", nil, true},
		{"GET", "/health", nil, false},
		{"GET", "/healthz/", nil, false},
		{"GET", "/readyz", nil, false},
		{"GET", "/mcp", []string{"Accept", "text/event-stream"}, false},
		{"GET", "/", []string{"Upgrade", "websocket", "Connection", "Upgrade"}, false},
	} {
		var left time.Duration
		var ok bool
		h := s.requestScope(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var d time.Time
			d, ok = r.Context().Deadline()
			left = time.Until(d)
		}))
		r := httptest.NewRequest(c.method, c.path, nil)
		for i := 0; i+1 < len(c.headers); i += 2 {
			r.Header.Set(c.headers[i], c.headers[i+1])
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if ok != c.deadline {
			t.Errorf("%s %s %v: deadline %v, want %v", c.method, c.path, c.headers, ok, c.deadline)
		}
		if ok && (left <= 50*time.Second || left > time.Minute) {
			t.Errorf("%s %s: deadline in %s", c.method, c.path, left)
		}
	}
}

// TestShedLoad_healthAndUnreadBodies: with every slot taken, the health probes are still served, and a
// request with a body is answered 503 at once, without waiting for its (trickling) body to arrive or be
// drained, and with Connection: close.
func TestShedLoad_healthAndUnreadBodies(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	s := &Server{opts: Options{BodyGrace: DefaultBodyGrace, BodyMinRate: DefaultBodyMinRate}}
	shed := newLoadShedder(1)
	h := versionHeader(s.readBody(shed, shed.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/hold" {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(200)
	}))))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer close(release)
	go func() {
		resp, err := http.Get(srv.URL + "/api/hold")
		if err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-entered
	for _, p := range []string{"/health", "/healthz", "/readyz"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s with every slot taken: %v %v", p, resp, err)
		}
		_ = resp.Body.Close()
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A body of 1,000 bytes of which one is ever sent.
	fmt.Fprintf(conn, "POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body is unread: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 503 || !resp.Close || time.Since(start) > time.Second {
		t.Fatalf("got %d, close %v, after %v", resp.StatusCode, resp.Close, time.Since(start))
	}
}
