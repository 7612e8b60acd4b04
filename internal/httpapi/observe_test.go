package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestAccessLog_oneLinePerRequest(t *testing.T) {
	t.Parallel()
	env := newObsEnv(t, nil)
	// Successful health probes are logged at debug (TestAccessLog_healthProbesAtDebug); every request
	// has its line at that level.
	env.Logger.Level.Set(slog.LevelDebug)
	p := env.Project("p")
	type req struct {
		method, path string
		headers      []string
		status       int
		route        string
	}
	reqs := []req{
		{"GET", "/api/projects/" + p.ID, []string{"X-Request-ID", "client-req-1"}, 200, "/api/v1/projects/{id}"},
		{"GET", "/api/v1/tasks/task_404", nil, 404, "/api/v1/tasks/{id}"},
		{"GET", "/api/v1/projects/", nil, 200, "/api/v1/projects"},
		{"POST", "/api/v1/projects", nil, 400, "/api/v1/projects"},
		{"GET", "/no/such/path/123", nil, 404, "unmatched"},
		{"GET", "/api/v2/admin/log-level", nil, 200, "/api/v2/admin/log-level"},
		{"GET", "/health", nil, 200, "/health"},
	}
	for _, r := range reqs {
		resp := env.Do(r.method, r.path, nil, r.headers...)
		if resp.Status != r.status {
			t.Fatalf("%s %s: %d, want %d: %s", r.method, r.path, resp.Status, r.status, resp.Body)
		}
	}
	lines := env.Logs.Lines(t, "request")
	if len(lines) != len(reqs) {
		t.Fatalf("%d access-log lines for %d requests:\n%s", len(lines), len(reqs), env.Logs.String())
	}
	for i, l := range lines {
		r := reqs[i]
		if l["method"] != r.method || l["route"] != r.route || l["status"] != float64(r.status) {
			t.Errorf("line %d: %v, want %s %s %d", i, l, r.method, r.route, r.status)
		}
		if id, _ := l["request_id"].(string); id == "" {
			t.Errorf("line %d has no request_id: %v", i, l)
		}
		if _, ok := l["duration_ms"].(float64); !ok {
			t.Errorf("line %d has no duration_ms: %v", i, l)
		}
		if b, _ := l["bytes"].(float64); b <= 0 {
			t.Errorf("line %d has no bytes: %v", i, l)
		}
		if strings.Contains(fmt.Sprint(l["route"]), p.ID) || strings.Contains(fmt.Sprint(l), "task_404") {
			t.Errorf("line %d carries a raw id: %v", i, l)
		}
	}
	if lines[0]["request_id"] != "client-req-1" {
		t.Errorf("client X-Request-ID not logged: %v", lines[0]["request_id"])
	}
}

// TestAccessLog_healthProbesAtDebug: at the default level a successful health probe writes no
// access-log line (a monitor polling every second would fill the log), while a failed probe and every
// other request do; at debug the probes have their lines too.
func TestAccessLog_healthProbesAtDebug(t *testing.T) {
	t.Parallel()
	env := newObsEnv(t, nil, func(o *httpapi.Options) {
		o.Ready = []httpapi.ReadyCheck{{Name: "db", Check: func(context.Context) error { return fmt.Errorf("not yet") }}}
	})
	for _, p := range []string{"/health", "/healthz", "/health/", "/readyz", "/api/v1/projects"} {
		env.Do("GET", p, nil)
	}
	var routes []string
	for _, l := range env.Logs.Lines(t, "request") {
		routes = append(routes, fmt.Sprintf("%s %v %v", l["level"], l["route"], l["status"]))
	}
	if want := []string{"INFO /readyz 503", "INFO /api/v1/projects 200"}; fmt.Sprint(routes) != fmt.Sprint(want) {
		t.Fatalf("access-log lines at info: %q, want %q", routes, want)
	}
	env.Logger.Level.Set(slog.LevelDebug)
	env.Do("GET", "/health", nil)
	lines := env.Logs.Lines(t, "request")
	if last := lines[len(lines)-1]; len(lines) != 3 || last["level"] != "DEBUG" || last["route"] != "/health" || last["status"] != float64(200) {
		t.Fatalf("at debug, /health has no line: %v", lines)
	}
}

func TestRequestID_reachesErrorLogsAndBodies(t *testing.T) {
	t.Parallel()
	env := newObsEnv(t, nil, func(o *httpapi.Options) { o.WebSocket = testUpgradeHandler("s3cret-value-123") })
	r := env.Do("GET", "/", nil, upgradeHeaders("X-Test", "fail", "X-Request-ID", "trace-me-42")...)
	if r.Status != http.StatusInternalServerError {
		t.Fatalf("status %d", r.Status)
	}
	if body := r.Object(t); body["requestId"] != "trace-me-42" || body["message"] != "internal error" {
		t.Fatalf("error body: %v", body)
	}
	failed := env.Logs.Lines(t, "request failed")
	if len(failed) != 1 || failed[0]["request_id"] != "trace-me-42" {
		t.Fatalf("internal error not logged once with the request id: %v", failed)
	}
	if !strings.Contains(fmt.Sprint(failed[0]["error"]), "disk I/O error") {
		t.Fatalf("the cause is not logged: %v", failed[0])
	}
}

// scrape fetches /metrics through the handler chain and parses it.
func scrape(t *testing.T, env *obsEnv, headers ...string) map[string]*model.Sample {
	t.Helper()
	r := env.Do("GET", "/metrics", nil, headers...)
	if r.Status != http.StatusOK {
		t.Fatalf("/metrics: %d %s", r.Status, r.Body)
	}
	dec := expfmt.NewDecoder(strings.NewReader(string(r.Body)), expfmt.NewFormat(expfmt.TypeTextPlain))
	samples, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, decodeAll(t, dec)...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*model.Sample{}
	for _, s := range samples {
		out[s.Metric.String()] = s
	}
	return out
}

func TestMetrics_routeTemplates(t *testing.T) {
	t.Parallel()
	env := newObsEnv(t, nil)
	p := env.Project("p")
	for _, id := range []string{"task_a", "task_b", "task_c"} {
		env.Do("GET", "/api/tasks/"+id, nil)
	}
	env.Do("GET", "/api/projects/"+p.ID, nil)
	for i := 0; i < 3; i++ {
		env.Do("GET", fmt.Sprintf("/random/%d", i), nil)
	}
	samples := scrape(t, env)
	want := map[string]float64{
		`maestro_http_requests_total{code="404", method="GET", route="/api/v1/tasks/{id}"}`:     3,
		`maestro_http_requests_total{code="200", method="GET", route="/api/v1/projects/{id}"}`:  1,
		`maestro_http_requests_total{code="404", method="GET", route="unmatched"}`:              3,
		`maestro_http_request_duration_seconds_count{method="GET", route="/api/v1/tasks/{id}"}`: 3,
	}
	for k, v := range want {
		s, ok := samples[k]
		if !ok {
			t.Errorf("missing sample %s", k)
			continue
		}
		if float64(s.Value) != v {
			t.Errorf("%s = %v, want %v", k, s.Value, v)
		}
	}
	for k := range samples {
		if strings.Contains(k, "task_a") || strings.Contains(k, p.ID) || strings.Contains(k, "/random/") {
			t.Errorf("a label carries a raw path or id: %s", k)
		}
	}
}

func TestMetrics_needsTokenWhenConfigured(t *testing.T) {
	t.Parallel()
	const token = "metrics-token-0123456789"
	env := newObsEnv(t, []string{token}, func(o *httpapi.Options) { o.APIToken = token })
	if r := env.Do("GET", "/metrics", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("/metrics without token: %d", r.Status)
	}
	samples := scrape(t, env, "Authorization", "Bearer "+token)
	// The refused scrape was counted under the route it tried, not as unmatched.
	if s := samples[`maestro_http_requests_total{code="401", method="GET", route="/metrics"}`]; s == nil || s.Value != 1 {
		t.Fatalf("401 not counted under /metrics: %v", s)
	}
}

func TestRecover_panicIsReportedAndAnswered(t *testing.T) {
	t.Parallel()
	fake := newFakeSentry(t)
	tr := fake.tracker(t, "sentrykey0123")
	env := newObsEnv(t, nil, func(o *httpapi.Options) {
		o.WebSocket = testUpgradeHandler("x")
		o.Tracker = tr
	})
	r := env.Do("GET", "/", nil, upgradeHeaders("X-Test", "panic", "X-Request-ID", "req-panic-1")...)
	if r.Status != http.StatusInternalServerError || r.Object(t)["requestId"] != "req-panic-1" {
		t.Fatalf("panic answered %d %s", r.Status, r.Body)
	}
	r = env.Do("GET", "/", nil, upgradeHeaders("X-Test", "fail", "X-Request-ID", "req-5xx-1")...)
	if r.Status != http.StatusInternalServerError {
		t.Fatalf("fail answered %d", r.Status)
	}
	// A 404 and a 4xx are not reported.
	env.Do("GET", "/api/tasks/nope", nil)
	if !tr.Flush(5 * time.Second) {
		t.Fatal("events not delivered")
	}
	envs := fake.Envelopes()
	if len(envs) != 2 {
		t.Fatalf("fake Sentry got %d envelopes, want 2 (panic and 5xx)", len(envs))
	}
	all := strings.Join(envs, "\n")
	for _, want := range []string{`"request_id":"req-panic-1"`, `"request_id":"req-5xx-1"`, `"route":"websocket"`,
		`"type":"panic"`, `"release":"test-release"`, `"environment":"test"`, "disk I/O error"} {
		if !strings.Contains(all, want) {
			t.Errorf("envelopes lack %s:\n%s", want, all)
		}
	}
	// The panic is reported once, not again as the 500 it became.
	if n := strings.Count(all, `"request_id":"req-panic-1"`); n != 1 {
		t.Errorf("panic reported %d times", n)
	}
	panics := env.Logs.Lines(t, "panic serving request")
	if len(panics) != 1 || panics[0]["request_id"] != "req-panic-1" || panics[0]["stack"] == nil {
		t.Errorf("panic log line: %v", panics)
	}
}

func TestProbes(t *testing.T) {
	t.Parallel()
	const token = "probe-token-0123456789"
	failing := false
	env := newObsEnv(t, nil, func(o *httpapi.Options) {
		o.APIToken = token
		o.Ready = []httpapi.ReadyCheck{
			{Name: "database", Check: func(context.Context) error { return nil }},
			{Name: "disk", Check: func(context.Context) error {
				if failing {
					return fmt.Errorf("1 MiB free")
				}
				return nil
			}},
		}
	})
	if r := env.Do("GET", "/healthz", nil); r.Status != 200 || r.Object(t)["status"] != "ok" {
		t.Fatalf("/healthz: %d %s", r.Status, r.Body)
	}
	r := env.Do("GET", "/readyz", nil)
	if r.Status != 200 || r.Object(t)["status"] != "ready" {
		t.Fatalf("/readyz: %d %s", r.Status, r.Body)
	}
	failing = true
	r = env.Do("GET", "/readyz", nil)
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with a failing check: %d %s", r.Status, r.Body)
	}
	var body httpapi.Readiness
	r.Decode(t, &body)
	if body.Status != "not_ready" || body.Checks["disk"].Status != "fail" || body.Checks["disk"].Reason != "1 MiB free" ||
		body.Checks["database"].Status != "ok" {
		t.Fatalf("/readyz body: %+v", body)
	}
	// Everything else still needs the token.
	if r := env.Do("GET", "/api/v2/admin/log-level", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("admin without token: %d", r.Status)
	}
}

func TestLogLevel_API(t *testing.T) {
	t.Parallel()
	env := newObsEnv(t, nil)
	env.Run(t, []apitest.Case{
		{Name: "get", Method: "GET", Path: "/api/v2/admin/log-level", Status: 200,
			Check: func(t *testing.T, r *apitest.Response) { wantField(t, r, "level", "info") }},
		{Name: "set debug", Method: "PUT", Path: "/api/v2/admin/log-level", Body: map[string]string{"level": "debug"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				wantField(t, r, "level", "debug")
				wantField(t, r, "previous", "info")
			}},
		{Name: "get after set", Method: "GET", Path: "/api/v2/admin/log-level", Status: 200,
			Check: func(t *testing.T, r *apitest.Response) { wantField(t, r, "level", "debug") }},
		{Name: "unknown level", Method: "PUT", Path: "/api/v2/admin/log-level", Body: map[string]string{"level": "loud"}, Status: 422,
			Check: func(t *testing.T, r *apitest.Response) {
				if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("content type %q", ct)
				}
			}},
		{Name: "unversioned path with API-Version 2", Method: "PUT", Path: "/api/admin/log-level", Header: []string{"API-Version", "2"},
			Body: map[string]string{"level": "warn"}, Status: 200},
	})
	if got := env.Logger.Level.Level().String(); got != "WARN" {
		t.Fatalf("process level is %s after the API set warn", got)
	}
	changes := env.Logs.Lines(t, "log level changed")
	if len(changes) != 2 || changes[0]["from"] != "info" || changes[0]["to"] != "debug" {
		t.Fatalf("level changes not logged: %v", changes)
	}
}

// TestRecover_hungSentryNeverSlowsRequests sends failing requests while the Sentry endpoint accepts
// connections and never answers. Every request must still be answered without waiting for Sentry, the
// overflow is counted, and /health says degraded. A request that waited for a send would wait its whole
// SendTimeout (10 minutes); the bound sits far below that and far above what a request needs on a busy
// CI machine under -race, so it detects the hang and nothing else.
func TestRecover_hungSentryNeverSlowsRequests(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The accepting goroutine owns the connections it holds (never answered) and closes them when the
	// listener closes, so that no connection accepted during cleanup is sent anywhere after it.
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-accepted
	})
	tr, err := obs.NewTracker(obs.TrackerOptions{DSN: "http://key0123@" + ln.Addr().String() + "/1", QueueSize: 2,
		SendTimeout: 10 * time.Minute, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close(10 * time.Millisecond) })
	env := newObsEnv(t, nil, func(o *httpapi.Options) {
		o.WebSocket = testUpgradeHandler("x")
		o.Tracker = tr
		o.Components = map[string]maestro.HealthReporter{"sentry": tr}
	})
	for i := 0; i < 20; i++ {
		start := time.Now()
		if r := env.Do("GET", "/", nil, upgradeHeaders("X-Test", "fail")...); r.Status != http.StatusInternalServerError {
			t.Fatalf("status %d", r.Status)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Fatalf("request %d took %v with Sentry hung", i, d)
		}
	}
	var health struct {
		Status     string
		Components map[string]maestro.ComponentHealth
	}
	env.Do("GET", "/health", nil).Decode(t, &health)
	if health.Status != maestro.HealthDegraded || health.Components["sentry"].Status != maestro.HealthDegraded {
		t.Fatalf("/health with Sentry hung: %+v", health)
	}
}
