package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
)

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Lines returns the JSON log lines whose msg is msg (all lines when msg is empty).
func (l *logBuffer) Lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON log line: %v\n%s", err, line)
		}
		if msg == "" || m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// obsEnv is an apitest.Env whose server logs JSON into Logs through the real obs logger.
type obsEnv struct {
	*apitest.Env
	Logs   *logBuffer
	Logger *obs.Logger
}

// newObsEnv builds an Env with the process logger of obs (redacting secrets) writing to a buffer.
func newObsEnv(t *testing.T, secrets []string, opts ...apitest.Option) *obsEnv {
	t.Helper()
	logs := &logBuffer{}
	l, err := obs.NewLogger(obs.LogOptions{Level: "info", Format: "json", Out: logs, Redactor: obs.NewRedactor(secrets...)})
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]apitest.Option{func(o *httpapi.Options) {
		o.Logger = l.Logger
		o.LogLevel = l.Level
	}}, opts...)
	return &obsEnv{Env: apitest.New(t, opts...), Logs: logs, Logger: l}
}

// testUpgradeHandler stands in for the WebSocket handler, which is reached by an upgrade request on any
// path before the router: it lets tests make the server panic, fail with an internal error, or log
// careless things, by the X-Test header.
func testUpgradeHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Test") {
		case "panic":
			panic("handler exploded; token " + secret)
		case "fail":
			err := errors.New("write failed: disk I/O error at file:/data/m.db?_key=" + secret)
			apierr.Write(w, r, apierr.FromError(r.Context(), r.URL.Path, err))
		case "log":
			// Code that logs too much: the redaction layer must still keep secrets out.
			obs.Log(r.Context()).Info("careless debug line",
				"authorization", r.Header.Get("Authorization"),
				"url", r.URL.String(),
				"session", maestro.Session{ID: "sess_1", Env: map[string]string{"OPENAI_API_KEY": "sk-env-" + secret}},
				"error", errors.New("request to https://user:"+secret+"@example.invalid failed"))
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

// upgradeHeaders make a request look like a WebSocket upgrade.
func upgradeHeaders(extra ...string) []string {
	return append([]string{"Upgrade", "websocket", "Connection", "Upgrade"}, extra...)
}

// fakeSentry is a loopback Sentry ingestion endpoint that keeps every envelope it receives.
type fakeSentry struct {
	*httptest.Server
	mu        sync.Mutex
	envelopes []string
}

func newFakeSentry(t *testing.T) *fakeSentry {
	t.Helper()
	f := &fakeSentry{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.envelopes = append(f.envelopes, string(body))
		f.mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSentry) DSN(key string) string {
	return "http://" + key + "@" + strings.TrimPrefix(f.URL, "http://") + "/7"
}

func (f *fakeSentry) Envelopes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.envelopes...)
}

// tracker starts a Tracker sending to f.
func (f *fakeSentry) tracker(t *testing.T, key string, secrets ...string) *obs.Tracker {
	t.Helper()
	tr, err := obs.NewTracker(obs.TrackerOptions{
		DSN: f.DSN(key), Release: "test-release", Environment: "test", Redactor: obs.NewRedactor(secrets...),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close(time.Second) })
	return tr
}
