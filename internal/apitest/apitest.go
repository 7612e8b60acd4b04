package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Env is one test's server: its store, services and handler.
type Env struct {
	T        testing.TB
	Store    *store.Store
	Services *service.Services
	Server   *httpapi.Server
	Handler  http.Handler
	Clock    *dbtest.Clock
	// Published records every event the store published after a commit, in order.
	Published *Recorder
	// SessionDir is where spawn writes manifests (it does not exist until the first spawn).
	SessionDir string
	// Flags are this server's feature flags (their own isolated OpenFeature API).
	Flags *flags.Flags
}

// Option adjusts an Env before its server is built.
type Option func(*httpapi.Options)

// New builds an Env over a fresh database.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	clock := dbtest.NewClock()
	st := dbtest.New(t, dbtest.WithClock(clock.Now))
	rec := &Recorder{}
	st.SetPublisher(rec)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sessionDir := filepath.Join(t.TempDir(), "sessions")
	svcs := service.New(st, service.Options{
		Now: clock.Now, Logger: log, SessionDir: sessionDir, ServerURL: "http://localhost:3000", Hostname: "test-host",
	})
	fl, err := flags.New(context.Background(), st, flags.Options{Logger: log, Now: clock.Now})
	if err != nil {
		t.Fatalf("apitest: flags: %v", err)
	}
	t.Cleanup(func() { _ = fl.Close() })
	o := httpapi.Options{
		Services: svcs, Logger: log, Now: clock.Now, Started: clock.Now(), Flags: fl,
		Components: map[string]maestro.HealthReporter{"database": st},
		// The representation cache is on as in production, so every API test also checks that no read
		// is answered from before a write.
		CommitSeq: st.CommitSeq, ResponseCacheBytes: 8 << 20,
		// httptest requests name "example.com" as their Host unless told otherwise; the server refuses
		// hosts that are not its own (DNS rebinding), so the tests' host is one of its names.
		AllowedHosts: []string{"example.com"},
	}
	for _, opt := range opts {
		opt(&o)
	}
	srv := httpapi.New(o)
	return &Env{
		T: t, Store: st, Services: svcs, Server: srv, Handler: srv.Handler(), Clock: clock, Published: rec,
		SessionDir: sessionDir, Flags: fl,
	}
}

// Response is a recorded HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Object decodes the body as a JSON object (failing the test otherwise).
func (r *Response) Object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Array decodes the body as a JSON array.
func (r *Response) Array(t testing.TB) []any {
	t.Helper()
	var a []any
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("response is not a JSON array: %v\n%s", err, r.Body)
	}
	return a
}

// Decode decodes the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode response: %v\n%s", err, r.Body)
	}
}

// Do sends a request through the whole handler chain. body may be nil (no body), a string or []byte
// (sent as is), or any value (sent as JSON). Like the real clients, it always sends
// Content-Type: application/json. headers are name, value pairs.
func (e *Env) Do(method, path string, body any, headers ...string) *Response {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.T.Fatalf("marshal request body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequestWithContext(context.Background(), method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	e.Handler.ServeHTTP(w, req)
	return &Response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

// Case is one table-driven API scenario.
type Case struct {
	Name   string
	Method string
	Path   string
	Body   any
	Header []string
	Status int
	// Check inspects the response further; optional.
	Check func(t *testing.T, r *Response)
}

// Run runs cases in order as subtests on this Env (they may depend on earlier cases' effects).
func (e *Env) Run(t *testing.T, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			r := e.Do(c.Method, c.Path, c.Body, c.Header...)
			if r.Status != c.Status {
				t.Fatalf("%s %s: status %d, want %d\n%s", c.Method, c.Path, r.Status, c.Status, r.Body)
			}
			if c.Check != nil {
				c.Check(t, r)
			}
		})
	}
}

// Outbox returns every event recorded in the outbox, in seq order.
func (e *Env) Outbox() []maestro.Event {
	e.T.Helper()
	evs, err := e.Store.Read().EventsSince(context.Background(), 0, 1_000_000)
	if err != nil {
		e.T.Fatalf("read outbox: %v", err)
	}
	return evs
}

// OutboxTypesSince returns the types of the outbox events with seq > after, in order.
func (e *Env) OutboxTypesSince(after int64) []string {
	e.T.Helper()
	var types []string
	for _, ev := range e.Outbox() {
		if ev.Seq > after {
			types = append(types, ev.Type)
		}
	}
	return types
}

// LastSeq returns the newest outbox seq (0 when empty).
func (e *Env) LastSeq() int64 {
	e.T.Helper()
	_, newest, err := e.Store.Read().EventSeqBounds(context.Background())
	if err != nil {
		e.T.Fatalf("event bounds: %v", err)
	}
	return newest
}

// Recorder is an EventPublisher that remembers what was published.
type Recorder struct {
	mu     sync.Mutex
	events []maestro.Event
}

// Publish implements maestro.EventPublisher.
func (r *Recorder) Publish(evs []maestro.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs...)
}

// Events returns a copy of everything published so far.
func (r *Recorder) Events() []maestro.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]maestro.Event(nil), r.events...)
}

// Project creates a project through the service (a fixture with defaults).
func (e *Env) Project(name string) maestro.Project {
	e.T.Helper()
	if name == "" {
		name = "Project"
	}
	p, err := e.Services.Projects.Create(context.Background(), maestro.ProjectCreate{Name: name, WorkingDir: "/tmp/project"})
	if err != nil {
		e.T.Fatalf("fixture project: %v", err)
	}
	return p
}

// Task creates a task through the service; in.ProjectID and in.Title get defaults when empty.
func (e *Env) Task(projectID string, in maestro.TaskCreate) maestro.Task {
	e.T.Helper()
	in.ProjectID = projectID
	if in.Title == "" {
		in.Title = "Task"
	}
	t, err := e.Services.Tasks.Create(context.Background(), in)
	if err != nil {
		e.T.Fatalf("fixture task: %v", err)
	}
	return t
}

// Eventually retries cond until it holds or the timeout passes (for asynchronous effects only).
func Eventually(t testing.TB, timeout time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// WithSkills serves cat on the skills routes (the default server has no skills).
func WithSkills(cat maestro.SkillCatalog) Option {
	return func(o *httpapi.Options) { o.Skills = cat }
}
