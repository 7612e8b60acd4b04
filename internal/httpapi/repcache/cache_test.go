package repcache

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/obs"
)

// fixture is a cache in front of a handler that counts its calls and answers with that count, so a
// test can tell a hit (same count) from a miss.
type fixture struct {
	seq   atomic.Uint64
	calls atomic.Int64
	h     http.Handler
	// during runs inside the handler, before it answers (a commit landing mid-read, say).
	during func()
	status int
	body   []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{status: http.StatusOK}
	c := New(f.seq.Load, 1<<20, "/api/v1/tasks", "/api/v1/tasks/{id}")
	f.h = c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.calls.Add(1)
		// What captureRoute does once the router matched.
		route := "/api/v1/tasks"
		if strings.HasSuffix(r.URL.Path, "/timeline") {
			obs.RequestInfoFrom(r.Context()).SetRoute("/api/v1/tasks/{id}/timeline", nil)
		} else if id, ok := strings.CutPrefix(r.URL.Path, "/api/v1/tasks/"); ok {
			route = "/api/v1/tasks/{id}"
			obs.RequestInfoFrom(r.Context()).SetRoute(route, [][2]string{{"id", id}})
		} else {
			obs.RequestInfoFrom(r.Context()).SetRoute(route, nil)
		}
		if f.during != nil {
			f.during()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		if f.body != nil {
			_, _ = w.Write(f.body)
			return
		}
		_, _ = w.Write([]byte(`{"call":` + strconv.FormatInt(n, 10) + `}`))
	}))
	return f
}

type result struct {
	status int
	header http.Header
	body   string
	route  string
	params [][2]string
}

func (f *fixture) get(t *testing.T, path string, headers ...string) result {
	t.Helper()
	return f.do(t, http.MethodGet, path, headers...)
}

func (f *fixture) do(t *testing.T, method, path string, headers ...string) result {
	t.Helper()
	ctx, info := obs.WithRequestInfo(context.Background())
	req := httptest.NewRequestWithContext(ctx, method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return result{status: w.Code, header: w.Header(), body: w.Body.String(), route: info.Route(), params: info.Params()}
}

func TestCache_ServesUntilTheNextCommit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := f.get(t, "/api/v1/tasks/t1")
	again := f.get(t, "/api/v1/tasks/t1")
	if first.body != `{"call":1}` || again.body != first.body {
		t.Fatalf("second read should be served from the cache: %q then %q", first.body, again.body)
	}
	if again.route != "/api/v1/tasks/{id}" || len(again.params) != 1 || again.params[0] != [2]string{"id", "t1"} {
		t.Fatalf("a hit must record the route and params as the router would: %q %v", again.route, again.params)
	}
	if again.header.Get("Content-Type") != "application/json" || again.header.Get("ETag") == "" ||
		first.header.Get("Cache-Control") != "no-cache" || again.header.Get("Cache-Control") != "no-cache" ||
		again.header.Get("ETag") != first.header.Get("ETag") || again.header.Get("Content-Length") != strconv.Itoa(len(first.body)) {
		t.Fatalf("headers differ between miss and hit: %v vs %v", first.header, again.header)
	}
	f.seq.Add(1) // a commit
	if after := f.get(t, "/api/v1/tasks/t1"); after.body != `{"call":2}` {
		t.Fatalf("after a commit the read must run again, got %q", after.body)
	}
	if other := f.get(t, "/api/v1/tasks/t2"); other.body != `{"call":3}` {
		t.Fatalf("another id is another entry, got %q", other.body)
	}
}

// A commit that lands while the handler reads may or may not be in what it read: the entry is labelled
// with the sequence from before, so it is never served once that commit is visible.
func TestCache_ACommitDuringTheReadMakesItsEntryStale(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.during = func() { f.seq.Add(1) }
	f.get(t, "/api/v1/tasks")
	f.during = nil
	if r := f.get(t, "/api/v1/tasks"); r.body != `{"call":2}` {
		t.Fatalf("entry read across a commit was served: %q", r.body)
	}
	if r := f.get(t, "/api/v1/tasks"); r.body != `{"call":2}` {
		t.Fatalf("entry read within one sequence should be served: %q", r.body)
	}
}

func TestCache_KeysAndPassThrough(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(f *fixture) (result, result)
		hit  bool
	}{
		{"query is part of the key", func(f *fixture) (result, result) {
			return f.get(t, "/api/v1/tasks?projectId=a"), f.get(t, "/api/v1/tasks?projectId=b")
		}, false},
		{"Accept is part of the key", func(f *fixture) (result, result) {
			return f.get(t, "/api/v1/tasks", "Accept", "application/json"), f.get(t, "/api/v1/tasks", "Accept", "application/cbor")
		}, false},
		{"same query and Accept hit", func(f *fixture) (result, result) {
			return f.get(t, "/api/v1/tasks?projectId=a", "Accept", "application/json"), f.get(t, "/api/v1/tasks?projectId=a", "Accept", "application/json")
		}, true},
		{"errors are not kept", func(f *fixture) (result, result) {
			f.status = http.StatusNotFound
			return f.get(t, "/api/v1/tasks/x"), f.get(t, "/api/v1/tasks/x")
		}, false},
		{"writes are not cached", func(f *fixture) (result, result) {
			return f.do(t, http.MethodPost, "/api/v1/tasks"), f.do(t, http.MethodPost, "/api/v1/tasks")
		}, false},
		{"unlisted routes are not kept", func(f *fixture) (result, result) {
			return f.get(t, "/api/v1/tasks/x/timeline"), f.get(t, "/api/v1/tasks/x/timeline")
		}, false},
		{"other prefixes pass through", func(f *fixture) (result, result) {
			return f.get(t, "/api/v1/skills"), f.get(t, "/api/v1/skills")
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			a, b := c.run(f)
			if (a.body == b.body) != c.hit {
				t.Fatalf("hit = %v, want %v (%q, %q)", a.body == b.body, c.hit, a.body, b.body)
			}
			if a.status != f.status || b.status != f.status {
				t.Fatalf("status %d, %d, want %d", a.status, b.status, f.status)
			}
			if !c.hit && b.header.Get("ETag") != "" && f.status != http.StatusOK {
				t.Fatalf("an uncached error carries an ETag: %v", b.header)
			}
		})
	}
}

func TestCache_LargeBodiesAreServedWhole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.body = bytes.Repeat([]byte("x"), MaxEntryBytes+10)
	a, b := f.get(t, "/api/v1/tasks"), f.get(t, "/api/v1/tasks")
	if len(a.body) != len(f.body) || len(b.body) != len(f.body) || f.calls.Load() != 2 {
		t.Fatalf("large body: got %d and %d bytes after %d calls", len(a.body), len(b.body), f.calls.Load())
	}
}

func TestCache_IfNoneMatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	etag := f.get(t, "/api/v1/tasks").header.Get("ETag")
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		r := f.get(t, "/api/v1/tasks", "If-None-Match", inm)
		if r.status != http.StatusNotModified || r.body != "" || r.header.Get("ETag") != etag {
			t.Fatalf("If-None-Match %s: %d %q %v", inm, r.status, r.body, r.header)
		}
	}
	if r := f.get(t, "/api/v1/tasks", "If-None-Match", `"other"`); r.status != http.StatusOK || r.body == "" {
		t.Fatalf("a different tag must get the body: %d %q", r.status, r.body)
	}
	f.seq.Add(1)
	r := f.get(t, "/api/v1/tasks", "If-None-Match", etag)
	if r.status != http.StatusOK || r.header.Get("ETag") == etag {
		t.Fatalf("after a change the old tag must not match: %d %v", r.status, r.header)
	}
}

func TestCache_BudgetIsKept(t *testing.T) {
	t.Parallel()
	var seq atomic.Uint64
	c := New(seq.Load, 1000, "/api/v1/tasks/{id}")
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obs.RequestInfoFrom(r.Context()).SetRoute("/api/v1/tasks/{id}", nil)
		_, _ = w.Write(bytes.Repeat([]byte("y"), 300))
	}))
	for i := range 10 {
		ctx, _ := obs.WithRequestInfo(context.Background())
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, "GET", "/api/v1/tasks/"+strconv.Itoa(i), nil))
		c.mu.RLock()
		size := c.size
		c.mu.RUnlock()
		if size > 1000 {
			t.Fatalf("cache holds %d bytes, budget 1000", size)
		}
	}
	if c.Len() == 0 {
		t.Fatal("nothing kept")
	}
}

func TestCache_Gzip(t *testing.T) {
	t.Parallel()
	var seq atomic.Uint64
	body := bytes.Repeat([]byte(`{"title":"a task"},`), GzipMinBytes/10)
	c := New(seq.Load, 1<<20, "/api/v1/tasks").Gzip(true)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obs.RequestInfoFrom(r.Context()).SetRoute("/api/v1/tasks", nil)
		_, _ = w.Write(body)
	}))
	get := func(acceptEncoding, inm string) *httptest.ResponseRecorder {
		ctx, _ := obs.WithRequestInfo(context.Background())
		req := httptest.NewRequestWithContext(ctx, "GET", "/api/v1/tasks", nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	plain := get("", "")
	if plain.Header().Get("Content-Encoding") != "" || !bytes.Equal(plain.Body.Bytes(), body) || plain.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("without Accept-Encoding: %v, %d bytes", plain.Header(), plain.Body.Len())
	}
	for _, ae := range []string{"gzip", "br, gzip;q=0.8", "GZIP"} {
		w := get(ae, "")
		if w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("ETag") == plain.Header().Get("ETag") {
			t.Fatalf("Accept-Encoding %q: %v", ae, w.Header())
		}
		if w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
			t.Fatalf("Content-Length %s for %d bytes", w.Header().Get("Content-Length"), w.Body.Len())
		}
		zr, err := gzip.NewReader(bytes.NewReader(w.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("gzip body does not decompress to the body: %v", err)
		}
		if nm := get(ae, w.Header().Get("ETag")); nm.Code != http.StatusNotModified {
			t.Fatalf("If-None-Match with the gzip tag: %d", nm.Code)
		}
	}
	for _, ae := range []string{"gzip;q=0", "br", "identity"} {
		if w := get(ae, ""); w.Header().Get("Content-Encoding") != "" || !bytes.Equal(w.Body.Bytes(), body) {
			t.Fatalf("Accept-Encoding %q must get the identity body: %v", ae, w.Header())
		}
	}
}

// Misses of one key at one sequence share one handler run; a miss at a newer sequence does not join
// a flight of an older one.
func TestCache_ConcurrentMissesShareOneRead(t *testing.T) {
	t.Parallel()
	var seq atomic.Uint64
	var calls atomic.Int64
	entered, release := make(chan struct{}, 10), make(chan struct{})
	c := New(seq.Load, 1<<20, "/api/v1/tasks")
	followed := make(chan struct{}, 10)
	c.onFollow = func() { followed <- struct{}{} }
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		obs.RequestInfoFrom(r.Context()).SetRoute("/api/v1/tasks", nil)
		entered <- struct{}{}
		<-release
		_, _ = w.Write([]byte(`{"call":` + strconv.FormatInt(n, 10) + `}`))
	}))
	get := func() string {
		ctx, _ := obs.WithRequestInfo(context.Background())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, "GET", "/api/v1/tasks", nil))
		return w.Body.String()
	}
	const followers = 5
	bodies := make(chan string, followers+2)
	go func() { bodies <- get() }()
	<-entered // the leader is reading
	for range followers {
		go func() { bodies <- get() }()
	}
	for range followers {
		select {
		case <-followed:
		case <-entered: // a miss that should have followed ran the handler itself
			close(release)
			t.Fatal("a concurrent miss of the same key and sequence did not wait for the read in flight")
		}
	}
	seq.Add(1) // a commit: a new miss must not join the old flight
	go func() { bodies <- get() }()
	<-entered
	close(release)
	counts := map[string]int{}
	for range followers + 2 {
		counts[<-bodies]++
	}
	if calls.Load() != 2 || len(counts) != 2 || counts[`{"call":2}`] != 1 {
		t.Fatalf("handler ran %d times; bodies %v (want the leader and its %d followers on one read, the later miss alone)",
			calls.Load(), counts, followers)
	}
}
