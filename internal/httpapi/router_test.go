package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

func TestRouter_UnknownRoutesAreJSON404(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	// The message names the path as the client sent it, not the /api/v1 path it is routed to.
	for _, c := range []struct{ method, path, msg string }{
		{"GET", "/api/nope", "Route GET /api/nope not found"}, {"GET", "/nope", "Route GET /nope not found"},
		{"GET", "/", ""}, {"PUT", "/api/tasks/x", ""}, {"POST", "/health", ""},
		{"GET", "/api/v1/nope", "Route GET /api/v1/nope not found"}, {"DELETE", "/api/projects", ""},
		{"POST", "/api/nope/deeper/", "Route POST /api/nope/deeper/ not found"},
		{"GET", "/api/nope?x=1", "Route GET /api/nope not found"},
	} {
		r := env.Do(c.method, c.path, nil)
		if r.Status != 404 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Header.Get("Content-Type"))
			continue
		}
		b := r.Object(t)
		if b["code"] != "NOT_FOUND" || b["error"] != true {
			t.Errorf("%s %s: body %s", c.method, c.path, r.Body)
		}
		if c.msg != "" && b["message"] != c.msg {
			t.Errorf("%s %s: message %q, want %q", c.method, c.path, b["message"], c.msg)
		}
	}
	// Unknown v2 routes answer in the v2 shape.
	r := env.Do("GET", "/api/v2/nope", nil)
	if r.Status != 404 || r.Header.Get("Content-Type") != "application/problem+json" || r.Object(t)["code"] != "NOT_FOUND" {
		t.Errorf("v2 404: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
}

func TestRouter_TrailingSlashAndHead(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Project("x")
	if r := env.Do("GET", "/api/projects/", nil); r.Status != 200 || len(r.Array(t)) != 1 {
		t.Fatalf("trailing slash: %d %s", r.Status, r.Body)
	}
	// HEAD is served for every GET route (net/http drops the body; a recorder would not, so use a server).
	srv := httptest.NewServer(env.Handler)
	defer srv.Close()
	resp, err := http.Head(srv.URL + "/api/projects")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("HEAD: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// Clients send Content-Type: application/json on GET and DELETE without a body: never an error.
	if r := env.Do("GET", "/health", nil); r.Status != 200 {
		t.Fatalf("GET with JSON content type: %d", r.Status)
	}
}

func TestRouter_RequestID(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	cases := []struct {
		sent string
		keep bool
	}{
		{"abc-123_X.y:z", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"has space", false},
		{"semi;colon", false},
		{"", false},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		var r *apitest.Response
		if c.sent == "" {
			r = env.Do("GET", "/health", nil)
		} else {
			r = env.Do("GET", "/health", nil, "X-Request-ID", c.sent)
		}
		got := r.Header.Get("X-Request-ID")
		if c.keep && got != c.sent {
			t.Errorf("valid id %q replaced by %q", c.sent, got)
		}
		if !c.keep && (got == c.sent || got == "" || seen[got]) {
			t.Errorf("invalid id %q: got %q (must be a fresh generated id)", c.sent, got)
		}
		seen[got] = true
	}
}

func TestRouter_APIVersion(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Project("x")
	cases := []struct {
		path, header string
		status       int
		version      string
	}{
		{"/api/projects", "", 200, "1"},
		{"/api/projects", "1", 200, "1"},
		{"/api/v1/projects", "", 200, "1"},
		{"/api/v1/projects", "2", 200, "1"}, // the path's version wins on versioned paths
		{"/api/projects", "3", 400, "1"},
		{"/api/projects", "v2", 400, "1"},
		{"/health", "", 200, "1"},
	}
	for _, c := range cases {
		var h []string
		if c.header != "" {
			h = []string{"API-Version", c.header}
		}
		r := env.Do("GET", c.path, nil, h...)
		if r.Status != c.status || r.Header.Get("API-Version") != c.version {
			t.Errorf("%s API-Version %q: %d version %q, want %d %q", c.path, c.header, r.Status, r.Header.Get("API-Version"), c.status, c.version)
		}
		if c.status == 400 {
			b := r.Object(t)
			d, _ := b["details"].(map[string]any)
			if b["code"] != "UNSUPPORTED_API_VERSION" || d == nil || len(d["supported"].([]any)) != 2 {
				t.Errorf("body %s", r.Body)
			}
		}
	}
}

func TestRouter_CORS(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *httpapi.Options) {
		o.CORSOrigins = []string{"tauri://localhost", "http://localhost:*"}
	})
	preflight := func(origin string) *apitest.Response {
		return env.Do("OPTIONS", "/api/tasks", nil, "Origin", origin,
			"Access-Control-Request-Method", "PATCH", "Access-Control-Request-Headers", "content-type,x-request-id")
	}
	r := preflight("http://localhost:5173")
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "PATCH") ||
		r.Header.Get("Access-Control-Allow-Headers") != "content-type,x-request-id" {
		t.Fatalf("allowed preflight: %d %v", r.Status, r.Header)
	}
	r = preflight("https://evil.example")
	if r.Status != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("disallowed preflight: %d %v", r.Status, r.Header)
	}
	r = env.Do("GET", "/api/projects", nil, "Origin", "tauri://localhost")
	if r.Header.Get("Access-Control-Allow-Origin") != "tauri://localhost" || !strings.Contains(r.Header.Get("Vary"), "Origin") {
		t.Fatalf("simple request: %v", r.Header)
	}
	r = env.Do("GET", "/api/projects", nil, "Origin", "https://evil.example")
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("disallowed simple request: %d %v", r.Status, r.Header)
	}
	if r := env.Do("GET", "/api/projects", nil); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS header without an Origin")
	}
}

func TestRouter_Token(t *testing.T) {
	t.Parallel()
	const token = "a-long-enough-secret-token"
	env := apitest.New(t, func(o *httpapi.Options) { o.APIToken = token })
	cases := []struct {
		path   string
		header []string
		status int
	}{
		{"/health", nil, 200},
		{"/api/projects", nil, 401},
		{"/api/projects", []string{"Authorization", "Bearer wrong"}, 401},
		{"/api/projects", []string{"Authorization", token}, 401},
		{"/api/projects", []string{"Authorization", "Bearer " + token}, 200},
		{"/api/projects", []string{"Authorization", "bearer " + token}, 200}, // the scheme is case-insensitive
		{"/api/projects", []string{"Authorization", "Basic " + token}, 401},
		{"/api/projects?token=" + token, nil, 401}, // ?token= is only for WebSocket upgrades
		{"/ws-status", nil, 401},
		{"/api/v2/nope", nil, 401},
	}
	for _, c := range cases {
		r := env.Do("GET", c.path, nil, c.header...)
		if r.Status != c.status {
			t.Errorf("%s %v: %d, want %d", c.path, c.header, r.Status, c.status)
		}
		if c.status == 401 {
			if r.Header.Get("WWW-Authenticate") == "" || r.Object(t)["code"] != string(maestro.CodeUnauthorized) {
				t.Errorf("%s: 401 without WWW-Authenticate or code: %v %s", c.path, r.Header, r.Body)
			}
		}
	}
	if r := env.Do("GET", "/api/v2/nope", nil); r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("v2 401 shape: %s", r.Header.Get("Content-Type"))
	}
}

// TestRouter_TokenGuardsUpgradesOnOpenPaths checks that the open health paths (and OPTIONS) are open
// for plain requests only: the legacy socket is served on any path, so an upgrade to /health without the
// token must be refused like any other upgrade, and reach the socket with it.
func TestRouter_TokenGuardsUpgradesOnOpenPaths(t *testing.T) {
	t.Parallel()
	const token = "a-long-enough-secret-token"
	env := apitest.New(t, func(o *httpapi.Options) {
		o.APIToken = token
		o.WebSocket = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusSwitchingProtocols) })
	})
	upgrade := []string{"Upgrade", "websocket", "Connection", "Upgrade"}
	for _, c := range []struct{ method, path string }{
		{"GET", "/health"}, {"GET", "/healthz"}, {"GET", "/readyz/"}, {"GET", "/"}, {"OPTIONS", "/"},
	} {
		if r := env.Do(c.method, c.path, nil, upgrade...); r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s upgrade without the token: %d, want 401", c.method, c.path, r.Status)
		}
		if r := env.Do(c.method, c.path+"?token="+token, nil, upgrade...); r.Status != http.StatusSwitchingProtocols {
			t.Errorf("%s %s upgrade with the token: %d, want the socket", c.method, c.path, r.Status)
		}
	}
	if r := env.Do("GET", "/health", nil); r.Status != http.StatusOK {
		t.Errorf("plain GET /health without the token: %d, want 200", r.Status)
	}
}

func TestRouter_BodyLimit(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	big := `{"name":"` + strings.Repeat("x", maestro.MaxBodyBytes) + `"}`
	r := env.Do(http.MethodPost, "/api/projects", big)
	if r.Status != 413 || r.Object(t)["code"] != "PAYLOAD_TOO_LARGE" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if got := len(env.Outbox()); got != 0 {
		t.Fatalf("%d events after a refused request", got)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *httpapi.Options) {
		o.Components = map[string]maestro.HealthReporter{"database": fixedHealth{maestro.HealthOK, ""}}
		o.WSStatus = func() maestro.WSStatus {
			return maestro.WSStatus{ConnectedClients: 1, Clients: []maestro.WSClient{{ReadyState: 1, ReadyStateText: "OPEN"}}}
		}
	})
	b := env.Do("GET", "/health", nil).Object(t)
	if b["status"] != "ok" || b["timestamp"].(float64) <= 0 || b["uptime"] == nil {
		t.Fatalf("health %v", b)
	}
	if c := b["components"].(map[string]any)["database"].(map[string]any); c["status"] != "ok" {
		t.Fatalf("components %v", b["components"])
	}
	ws := env.Do("GET", "/ws-status", nil).Object(t)
	if ws["connectedClients"] != float64(1) || len(ws["clients"].([]any)) != 1 {
		t.Fatalf("ws-status %v", ws)
	}

	degraded := apitest.New(t, func(o *httpapi.Options) {
		o.Components = map[string]maestro.HealthReporter{"skills": fixedHealth{maestro.HealthDegraded, "directory missing"}}
	})
	r := degraded.Do("GET", "/health", nil)
	if b := r.Object(t); r.Status != 200 || b["status"] != "degraded" {
		t.Fatalf("degraded health %d %v", r.Status, b)
	}
	if ws := degraded.Do("GET", "/ws-status", nil).Object(t); ws["connectedClients"] != float64(0) || ws["clients"] == nil {
		t.Fatalf("ws-status without sockets %v", ws)
	}
}

type fixedHealth maestro.ComponentHealth

func (f fixedHealth) Health() maestro.ComponentHealth { return maestro.ComponentHealth(f) }

// TestRouter_EncodedSlashStaysInOneSegment checks that an id with an encoded "/" is one path segment on
// the unversioned path exactly as on /api/v1 (the rewrite must keep the escaped form).
func TestRouter_EncodedSlashStaysInOneSegment(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	for _, path := range []string{"/api/v1/tasks/a%2Fb", "/api/tasks/a%2Fb", "/api/tasks/a%2Fb/"} {
		r := env.Do("GET", path, nil)
		if r.Status != 404 || r.Object(t)["message"] != "Task with id 'a/b' not found" {
			t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
		}
	}
}

// TestStorageBreaker_HTTP checks graceful degradation end to end over HTTP: on a full disk writes answer
// 503 STORAGE_UNAVAILABLE with Retry-After in each version's shape, reads keep answering, /health says
// degraded naming the database, and everything recovers by itself once the disk has room again.
func TestStorageBreaker_HTTP(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("keep")
	ctx := context.Background()
	pages, err := env.Store.PageCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.LimitPages(ctx, pages); err != nil {
		t.Fatal(err)
	}
	big := map[string]any{"name": "big", "description": strings.Repeat("x", 200_000)}
	for _, path := range []string{"/api/projects", "/api/projects", "/api/v2/projects"} {
		r := env.Do("POST", path, big)
		if r.Status != 503 || r.Header.Get("Retry-After") == "" || r.Object(t)["code"] != "STORAGE_UNAVAILABLE" {
			t.Fatalf("POST %s on a full disk: %d %v %s", path, r.Status, r.Header, r.Body)
		}
	}
	if r := env.Do("GET", "/api/projects/"+p.ID, nil); r.Status != 200 {
		t.Fatalf("read while writes fail: %d", r.Status)
	}
	h := env.Do("GET", "/health", nil).Object(t)
	db, _ := h["components"].(map[string]any)["database"].(map[string]any)
	if h["status"] != "degraded" || db["status"] != "degraded" {
		t.Fatalf("health while writes fail: %v", h)
	}
	if _, err := env.Store.LimitPages(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if !apitest.Eventually(t, 10*time.Second, func() bool { return env.Do("GET", "/health", nil).Object(t)["status"] == "ok" }) {
		t.Fatal("health did not recover")
	}
	if r := env.Do("POST", "/api/projects", big); r.Status != 201 {
		t.Fatalf("write after recovery: %d %s", r.Status, r.Body)
	}
}
