package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// rawDo sends a request through the handler chain exactly as given: unlike env.Do it sets no
// Content-Type. A body of type io.Reader other than *strings.Reader is sent without a length (chunked).
// headers are name, value pairs; "Host" sets the request's Host.
func rawDo(env *apitest.Env, method, path string, body io.Reader, headers ...string) *apitest.Response {
	req := httptest.NewRequestWithContext(context.Background(), method, path, body)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	env.Handler.ServeHTTP(w, req)
	return &apitest.Response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

// wantShape checks that r is an error of the given status and code in the shape of API version v:
// v1's legacy body (error: true) as application/json, v2's problem+json.
func wantShape(t *testing.T, r *apitest.Response, v, status int, code maestro.Code) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	body := r.Object(t)
	ct := r.Header.Get("Content-Type")
	if body["code"] != string(code) {
		t.Errorf("code %v, want %s: %s", body["code"], code, r.Body)
	}
	if v == 1 {
		if body["error"] != true || !strings.HasPrefix(ct, "application/json") || body["message"] == "" {
			t.Errorf("not a v1 error (%s): %s", ct, r.Body)
		}
	} else if !strings.HasPrefix(ct, "application/problem+json") || body["detail"] == "" {
		t.Errorf("not a v2 problem (%s): %s", ct, r.Body)
	}
	return body
}

// projectCount is how many projects are stored.
func projectCount(t *testing.T, env *apitest.Env) int {
	t.Helper()
	ps, err := env.Services.Projects.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(ps)
}

// TestGuard_crossOriginWrites: a page of a foreign origin cannot change data (the attack of issue 9:
// a fetch with mode no-cors); the UI origins of CORS_ORIGINS, exact or with a port wildcard, the docs
// page of the server's own origin and clients without an Origin (the CLI) can.
func TestGuard_crossOriginWrites(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *httpapi.Options) {
		o.CORSOrigins = []string{"tauri://localhost", "http://localhost:*"}
	})
	body := `{"name":"p","workingDir":"/tmp/x"}`
	for _, c := range []struct {
		name    string
		v       int
		path    string
		headers []string
		want    int
	}{
		{"foreign site, modern browser", 1, "/api/projects", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		{"foreign site, old browser", 1, "/api/projects", []string{"Origin", "https://evil.example"}, 403},
		{"foreign site on v2", 2, "/api/v2/projects", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		{"foreign site via API-Version 2", 2, "/api/projects", []string{"Origin", "http://evil.example", "API-Version", "2"}, 403},
		{"sandboxed page", 1, "/api/projects", []string{"Origin", "null", "Sec-Fetch-Site", "cross-site"}, 403},
		{"same-site but untrusted port scheme", 1, "/api/projects", []string{"Origin", "https://localhost:8443", "Sec-Fetch-Site", "same-site"}, 403},
		{"cross-site without Origin", 1, "/api/projects", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"tauri UI (exact origin)", 1, "/api/projects", []string{"Origin", "tauri://localhost", "Sec-Fetch-Site", "cross-site"}, 201},
		{"dev UI (port wildcard)", 1, "/api/projects", []string{"Origin", "http://localhost:1420", "Sec-Fetch-Site", "same-site"}, 201},
		{"dev UI on v2", 2, "/api/v2/projects", []string{"Origin", "http://localhost:5173"}, 201},
		{"same origin (docs page)", 2, "/api/v2/projects", []string{"Origin", "http://example.com", "Sec-Fetch-Site", "same-origin"}, 201},
		{"same origin, old browser", 1, "/api/projects", []string{"Origin", "http://example.com"}, 201},
		{"CLI: no Origin", 1, "/api/projects", nil, 201},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := projectCount(t, env)
			r := env.Do("POST", c.path, body, c.headers...)
			if c.want != 403 {
				if r.Status != c.want {
					t.Fatalf("status %d, want %d: %s", r.Status, c.want, r.Body)
				}
				return
			}
			b := wantShape(t, r, c.v, 403, maestro.CodeForbidden)
			if msg := fmt.Sprint(b["message"], b["detail"]); !strings.Contains(msg, "CORS_ORIGINS") {
				t.Errorf("message does not say what to configure: %s", msg)
			}
			if projectCount(t, env) != before {
				t.Error("the refused request stored a project")
			}
		})
	}
	// Safe methods are never refused: reads cross-origin are what CORS governs.
	if r := env.Do("GET", "/api/projects", nil, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); r.Status != 200 {
		t.Errorf("GET cross-origin: %d", r.Status)
	}
	// PATCH and DELETE are unsafe too.
	p := env.Project("kept")
	for _, m := range []string{"PATCH", "DELETE"} {
		r := env.Do(m, "/api/projects/"+p.ID, `{"name":"renamed"}`, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		wantShape(t, r, 1, 403, maestro.CodeForbidden)
	}
	if got, err := env.Services.Projects.Get(context.Background(), p.ID); err != nil || got.Name != "kept" {
		t.Errorf("project after refused PATCH/DELETE: %+v %v", got, err)
	}
}

// TestGuard_host: only Host headers naming this server are served (DNS rebinding): loopback names and
// addresses on any port and the configured names; others get 403 naming ALLOWED_HOSTS, in the version's
// shape, WebSocket upgrades included. ALLOWED_HOSTS=* serves any.
func TestGuard_host(t *testing.T) {
	t.Parallel()
	upgraded := 0
	env := apitest.New(t, func(o *httpapi.Options) {
		o.AllowedHosts = []string{"maestro.lan", "BOX.local."}
		o.WebSocket = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { upgraded++; w.WriteHeader(101) })
	})
	for _, host := range []string{"localhost", "LOCALHOST:3000", "localhost.:3000", "127.0.0.1", "127.0.0.1:3000", "127.8.9.1:80",
		"[::1]:3000", "[::ffff:127.0.0.1]:1", "maestro.lan:3000", "box.local", ""} {
		if r := rawDo(env, "GET", "/api/projects", nil, "Host", host); r.Status != 200 {
			t.Errorf("Host %q: %d %s", host, r.Status, r.Body)
		}
	}
	for _, c := range []struct {
		host string
		v    int
		path string
	}{
		{"evil.example", 1, "/api/projects"},
		{"evil.example:3000", 2, "/api/v2/projects"},
		{"localhost.evil.example", 1, "/health"},
		{"127.0.0.1.evil.example:3000", 1, "/api/projects"},
		{"10.0.0.8:3000", 1, "/api/projects"},
		{"[::2]:3000", 1, "/api/projects"},
	} {
		r := rawDo(env, "GET", c.path, nil, "Host", c.host)
		b := wantShape(t, r, c.v, 403, maestro.CodeForbidden)
		if msg := fmt.Sprint(b["message"], b["detail"]); !strings.Contains(msg, "ALLOWED_HOSTS") {
			t.Errorf("Host %q: message does not name ALLOWED_HOSTS: %s", c.host, msg)
		}
	}
	before := projectCount(t, env)
	wantShape(t, rawDo(env, "POST", "/api/projects", strings.NewReader(`{"name":"p"}`), "Host", "evil.example",
		"Content-Type", "application/json"), 1, 403, maestro.CodeForbidden)
	if projectCount(t, env) != before {
		t.Error("a refused request stored a project")
	}
	rawDo(env, "GET", "/", nil, "Host", "evil.example", "Upgrade", "websocket", "Connection", "Upgrade")
	if upgraded != 0 {
		t.Error("a WebSocket upgrade to a foreign Host reached the socket handler")
	}
	rawDo(env, "GET", "/", nil, "Host", "127.0.0.1:3000", "Upgrade", "websocket", "Connection", "Upgrade")
	if upgraded != 1 {
		t.Error("a WebSocket upgrade to a loopback Host did not reach the socket handler")
	}

	anyHost := apitest.New(t, func(o *httpapi.Options) { o.AllowedHosts = []string{"*"} })
	if r := rawDo(anyHost, "GET", "/api/projects", nil, "Host", "whatever.example"); r.Status != 200 {
		t.Errorf("ALLOWED_HOSTS=*: %d", r.Status)
	}
}

// TestBody_contentType: a body must be JSON. The attack of issue 9 posts a Blob (no Content-Type) or a
// form; both are 415 UNSUPPORTED_MEDIA_TYPE in the version's shape and store nothing. Requests without
// a body need no Content-Type (a DELETE, an empty POST .../queue/start), as before.
func TestBody_contentType(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	body := `{"name":"p","workingDir":"/tmp/x"}`
	for _, c := range []struct {
		name string
		v    int
		path string
		ct   string
		rd   func() io.Reader
	}{
		{"no Content-Type (Blob)", 1, "/api/projects", "", func() io.Reader { return strings.NewReader(body) }},
		{"text/plain (simple request)", 1, "/api/projects", "text/plain;charset=UTF-8", func() io.Reader { return strings.NewReader(body) }},
		{"form", 2, "/api/v2/projects", "application/x-www-form-urlencoded", func() io.Reader { return strings.NewReader(body) }},
		{"multipart", 2, "/api/v2/projects", "multipart/form-data; boundary=x", func() io.Reader { return strings.NewReader(body) }},
		{"json lookalike", 1, "/api/projects", "application/jsonx", func() io.Reader { return strings.NewReader(body) }},
		{"bare +json", 1, "/api/projects", "+json", func() io.Reader { return strings.NewReader(body) }},
		{"chunked, no Content-Type", 2, "/api/v2/projects", "", func() io.Reader { return io.MultiReader(strings.NewReader(body)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := projectCount(t, env)
			r := rawDo(env, "POST", c.path, c.rd(), "Content-Type", c.ct)
			if c.ct == "" {
				r = rawDo(env, "POST", c.path, c.rd())
			}
			wantShape(t, r, c.v, 415, maestro.CodeUnsupportedMedia)
			if projectCount(t, env) != before {
				t.Error("the refused request stored a project")
			}
		})
	}
	for _, ct := range []string{"application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json", "text/x.custom+json"} {
		if r := rawDo(env, "POST", "/api/projects", strings.NewReader(body), "Content-Type", ct); r.Status != 201 {
			t.Errorf("Content-Type %q: %d %s", ct, r.Status, r.Body)
		}
	}
	// No body, no Content-Type: as today (D8).
	p := env.Project("gone")
	if r := rawDo(env, "DELETE", "/api/projects/"+p.ID, nil); r.Status != 200 {
		t.Errorf("DELETE without body: %d %s", r.Status, r.Body)
	}
	if r := rawDo(env, "POST", "/api/sessions/nope/queue/start", nil); r.Status != 404 {
		t.Errorf("empty POST queue/start: %d %s, want the handler's 404", r.Status, r.Body)
	}
	// An empty chunked body is no body either.
	if r := rawDo(env, "POST", "/api/sessions/nope/queue/start", io.MultiReader()); r.Status != 404 {
		t.Errorf("empty chunked POST: %d %s", r.Status, r.Body)
	}
}

// nested returns a JSON object nested depth levels deep: {"a":{"a":...{}...}}.
func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1)
}

// TestBody_deepJSON: free-form JSON fields nested deeper than 64 levels are refused naming the field
// (400 on v1, 422 on v2), never the 500 that SQLite's json_valid CHECK made of 999 levels; 64 levels are
// stored.
func TestBody_deepJSON(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("deep")
	task := env.Task(p.ID, maestro.TaskCreate{})
	sess := env.Do("POST", "/api/sessions", map[string]any{"projectId": p.ID, "taskIds": []string{}})
	if sess.Status != 201 {
		t.Fatalf("session: %d %s", sess.Status, sess.Body)
	}
	sid := sess.Object(t)["id"].(string)
	for _, c := range []struct {
		v          int
		method     string
		path       string
		body       func(deep string) string
		field      string
		okStatuses []int
	}{
		{1, "POST", "/api/sessions", func(d string) string {
			return `{"projectId":"` + p.ID + `","taskIds":[],"metadata":` + d + `}`
		}, "body.metadata", []int{201}},
		{2, "POST", "/api/v2/sessions", func(d string) string {
			return `{"projectId":"` + p.ID + `","taskIds":[],"metadata":` + d + `}`
		}, "body.metadata", []int{201}},
		{1, "POST", "/api/sessions/" + sid + "/events", func(d string) string { return `{"type":"x","data":` + d + `}` }, "body.data", []int{200, 201}},
		{2, "POST", "/api/v2/sessions/" + sid + "/events", func(d string) string { return `{"type":"x","data":` + d + `}` }, "body.data", []int{201}},
		{1, "POST", "/api/sessions/" + sid + "/timeline", func(d string) string { return `{"message":"m","metadata":` + d + `}` }, "body.metadata", []int{200, 201}},
		{2, "POST", "/api/v2/sessions/" + sid + "/timeline", func(d string) string { return `{"message":"m","metadata":` + d + `}` }, "body.metadata", []int{201}},
		{1, "PATCH", "/api/sessions/" + sid, func(d string) string { return `{"timeline":[` + d + `]}` }, "body.timeline", []int{200}},
		{1, "POST", "/api/sessions/spawn", func(d string) string {
			return `{"projectId":"` + p.ID + `","taskIds":["` + task.ID + `"],"spawnSource":"ui","context":` + d + `}`
		}, "body.context", []int{201}},
		{1, "PATCH", "/api/sessions/" + sid, func(d string) string { return `{"events":[` + d + `]}` }, "body.events", []int{200}},
		{2, "POST", "/api/v2/sessions/spawn", func(d string) string {
			return `{"projectId":"` + p.ID + `","taskIds":["` + task.ID + `"],"spawnSource":"ui","context":` + d + `}`
		}, "body.context", []int{201}},
		{2, "POST", "/api/v2/projects/import", func(d string) string {
			return `{"format":"x","project":{"name":"i"},"tasks":[],"sessions":[{"id":"s","metadata":` + d + `}]}`
		}, "body.sessions[0].metadata", nil},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			for _, depth := range []int{65, 999, 9999} {
				r := env.Do(c.method, c.path, c.body(nested(depth)))
				want := 400
				if c.v == 2 {
					want = 422
				}
				b := wantShape(t, r, c.v, want, maestro.CodeValidation)
				if msg := fmt.Sprint(b["message"], b["detail"]); !strings.Contains(msg, c.field+":") {
					t.Errorf("depth %d: message does not name %s: %s", depth, c.field, msg)
				}
			}
			if c.okStatuses == nil {
				return
			}
			r := env.Do(c.method, c.path, c.body(nested(64)))
			ok := false
			for _, s := range c.okStatuses {
				ok = ok || r.Status == s
			}
			if !ok {
				t.Errorf("64 levels: %d %s", r.Status, r.Body)
			}
		})
	}
	// A deep value elsewhere than in a free-form field is bounded by the body's own limit.
	r := env.Do("POST", "/api/projects", `{"name":"x","workingDir":"/","junk":[`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`]}`)
	wantShape(t, r, 1, 400, maestro.CodeValidation)
}

// slowServer serves env's handler on a loopback listener through a real http.Server (deadlines need a
// real connection), with the timeouts of production.
func slowServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Config.ReadTimeout = 60 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// startTrickle opens a connection that sends a request announcing length bytes of body and then one
// byte every interval until stop is closed. It returns the connection, whose answer the caller may read.
func startTrickle(t *testing.T, addr, path string, length int, interval time.Duration, stop <-chan struct{}) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", path, addr, length)
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	return conn
}

// TestBody_slowBodiesHoldNoSlot: with MAX_IN_FLIGHT=4, twenty connections trickling their bodies take
// no in-flight slot — health probes and ordinary requests keep being served — and each is answered 408
// once its body falls below the minimum rate after the grace period.
func TestBody_slowBodiesHoldNoSlot(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *httpapi.Options) {
		o.MaxInFlight = 4
		o.BodyGrace = 300 * time.Millisecond
		o.BodyMinRate = 1000
	})
	addr := slowServer(t, env.Handler)
	stop := make(chan struct{})
	defer close(stop)
	var conns []net.Conn
	for range 20 {
		conns = append(conns, startTrickle(t, addr, "/api/projects", 100, 50*time.Millisecond, stop))
	}
	time.Sleep(50 * time.Millisecond) // let the server read every request's headers
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 10 {
		for _, path := range []string{"/health", "/api/projects"} {
			resp, err := client.Get("http://" + addr + path)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s while bodies trickle in (round %d): %d", path, i, resp.StatusCode)
			}
		}
		resp, err := client.Post("http://"+addr+"/api/projects", "application/json", strings.NewReader(`{"name":"w","workingDir":"/w"}`))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("POST while bodies trickle in: %d", resp.StatusCode)
		}
	}
	// The trickling requests are cut off (5 bytes/s against a minimum of 1000 after 300 ms).
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Errorf("no answer to a slow body: %v", err)
				return
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
				t.Errorf("slow body: %d, Connection: close %v", resp.StatusCode, resp.Close)
			}
		}()
	}
	wg.Wait()
}

// TestBody_abortedBodyIsNoServerError: a client that sends half its body and goes away is a client's
// failure: no ERROR log line, no 5xx, nothing reported to error tracking.
func TestBody_abortedBodyIsNoServerError(t *testing.T) {
	t.Parallel()
	fake := newFakeSentry(t)
	tr := fake.tracker(t, "sentrykey0123")
	env := newObsEnv(t, nil, func(o *httpapi.Options) { o.Tracker = tr })
	env.Logger.Level.Set(slog.LevelDebug)
	addr := slowServer(t, env.Handler)
	for range 5 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /api/projects HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":", addr)
		time.Sleep(20 * time.Millisecond)
		_ = conn.Close()
	}
	// A request after them is served, and by then the aborted ones have been handled.
	deadline := time.Now().Add(5 * time.Second)
	for len(env.Logs.Lines(t, "request body cut off by the client")) < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(env.Logs.Lines(t, "request body cut off by the client")); n != 5 {
		t.Errorf("%d aborted bodies logged at debug level, want 5", n)
	}
	if !tr.Flush(2 * time.Second) {
		t.Fatal("tracker did not flush")
	}
	if n := len(fake.Envelopes()); n != 0 {
		t.Errorf("aborted bodies were reported to error tracking %d times", n)
	}
	for _, l := range env.Logs.Lines(t, "") {
		if l["level"] == "ERROR" {
			t.Errorf("ERROR logged for an aborted body: %v", l)
		}
		if l["msg"] == "request" || l["msg"] == "http request" {
			if s, _ := l["status"].(float64); s >= 500 {
				t.Errorf("aborted body answered %v", s)
			}
		}
	}
}

// TestBody_operationLimit: the body limit is the operation's own (MaxBodyBytes): a v2 import takes more
// than 1 MiB, a project create does not, announced or chunked.
func TestBody_operationLimit(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	big := `{"name":"x","workingDir":"/w","description":"` + strings.Repeat("d", 1<<20) + `"}`
	wantShape(t, env.Do("POST", "/api/projects", big), 1, 413, maestro.CodePayloadTooLarge)
	r := rawDo(env, "POST", "/api/v2/projects", io.MultiReader(strings.NewReader(big)), "Content-Type", "application/json")
	wantShape(t, r, 2, 413, maestro.CodePayloadTooLarge)
	// 1.5 MiB of import: over the default limit, within the import's; refused only for its content.
	imp := `{"format":"maestro.project-export","version":1,"project":{"id":"p","name":"` + strings.Repeat("n", 3<<19) + `"}}`
	if r := env.Do("POST", "/api/v2/projects/import", imp); r.Status == 413 || r.Status >= 500 {
		t.Fatalf("1.5 MiB import: %d %.300s", r.Status, r.Body)
	}
}
