package obs

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/prometheus/client_golang/prometheus"
)

// TrackerOptions configure NewTracker.
type TrackerOptions struct {
	// DSN is the Sentry DSN; empty disables error tracking (NewTracker returns nil).
	DSN         string
	Release     string
	Environment string
	Logger      *slog.Logger
	// Registerer receives maestro_sentry_events_sent_total and maestro_sentry_events_dropped_total.
	Registerer prometheus.Registerer
	// Redactor scrubs messages and errors; the DSN is added to it.
	Redactor *Redactor
	// QueueSize bounds the events waiting to be sent (64 when zero); more are dropped and counted.
	QueueSize int
	// SendTimeout bounds one delivery to Sentry (5 s when zero).
	SendTimeout time.Duration
}

// Tracker reports panics and server errors to Sentry without ever slowing a request: Capture* build
// a small event and put it on a bounded queue (dropping it, counted, when the queue is full); one
// background goroutine hands queued events to a sentry.Client this Tracker owns, whose transport sends
// them synchronously with a timeout. Sentry's global hub is never touched, so several trackers (tests)
// coexist. While deliveries fail the tracker's health is degraded.
//
// A nil *Tracker is valid and does nothing.
type Tracker struct {
	client   *sentry.Client
	rt       *observingTransport
	redactor *Redactor
	log      *slog.Logger

	mu      sync.RWMutex // guards closed against Capture racing Close
	closed  bool
	queue   chan *sentry.Event
	pending atomic.Int64
	done    chan struct{}

	sent    prometheus.Counter
	dropped *prometheus.CounterVec

	health atomic.Pointer[maestro.ComponentHealth]
}

// Reasons an event was dropped (the reason label of maestro_sentry_events_dropped_total).
const (
	DropQueueFull  = "queue_full"
	DropSendFailed = "send_failed"
	DropNotSent    = "not_sent" // rate-limited by Sentry, or filtered before sending
	DropClosed     = "closed"
)

// NewTracker starts a Tracker, or returns nil when o.DSN is empty. It fails only on a malformed DSN.
func NewTracker(o TrackerOptions) (*Tracker, error) {
	if o.DSN == "" {
		return nil, nil
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Redactor == nil {
		o.Redactor = NewRedactor()
	}
	o.Redactor.Add(o.DSN)
	if o.QueueSize <= 0 {
		o.QueueSize = 64
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 5 * time.Second
	}
	t := &Tracker{
		redactor: o.Redactor, log: o.Logger,
		queue: make(chan *sentry.Event, o.QueueSize), done: make(chan struct{}),
		rt: &observingTransport{base: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConns: 2,
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: o.SendTimeout, ResponseHeaderTimeout: o.SendTimeout}},
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "sentry_events_sent_total",
			Help: "Error reports delivered to Sentry.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "sentry_events_dropped_total",
			Help: "Error reports not delivered to Sentry, by reason (queue_full, send_failed, not_sent, closed).",
		}, []string{"reason"}),
	}
	for _, r := range []string{DropQueueFull, DropSendFailed, DropNotSent, DropClosed} {
		t.dropped.WithLabelValues(r)
	}
	t.health.Store(&maestro.ComponentHealth{Status: maestro.HealthOK})
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:                  o.DSN,
		Release:              o.Release,
		Environment:          o.Environment,
		SendDefaultPII:       false,
		AttachStacktrace:     false,
		MaxBreadcrumbs:       -1,
		DisableMetrics:       true,
		DisableClientReports: true,
		BeforeSend:           t.scrub,
		// Source lines around each frame would be read from disk on the sending goroutine and would
		// copy source text (string literals included) into reports: frames carry file and line only.
		Integrations: func(in []sentry.Integration) []sentry.Integration {
			out := in[:0]
			for _, i := range in {
				if i.Name() != "ContextifyFrames" {
					out = append(out, i)
				}
			}
			return out
		},
		HTTPClient: &http.Client{Transport: t.rt, Timeout: o.SendTimeout},
		Transport:  sentry.NewHTTPSyncTransport(),
	})
	if err != nil {
		return nil, fmt.Errorf("SENTRY_DSN: %s", o.Redactor.String(err.Error()))
	}
	t.client = client
	if o.Registerer != nil {
		if err := o.Registerer.Register(t.sent); err != nil {
			return nil, err
		}
		if err := o.Registerer.Register(t.dropped); err != nil {
			return nil, err
		}
	}
	go t.run()
	return t, nil
}

// Report describes the request a panic or server error happened in. It carries no body, no query string
// and no credentials: only what identifies the failure.
type Report struct {
	Method    string
	Route     string // the route template, never the raw path
	RequestID string
	Status    int
	// Err is the internal error behind a server error (may be nil).
	Err error
	// UserAgent and APIVersion are the only request headers reported.
	UserAgent  string
	APIVersion string
}

// CapturePanic reports a recovered panic with the stack of the goroutine that panicked. Call it from
// the deferred function that recovered, so that the stack still holds the panicking frames.
func (t *Tracker) CapturePanic(rep Report, v any) {
	if t == nil {
		return
	}
	st := sentry.NewStacktrace()
	if st != nil {
		// Drop the frames of this method itself: the interesting ones are below it.
		frames := st.Frames[:0]
		for _, f := range st.Frames {
			if !strings.Contains(f.Function, "Tracker).CapturePanic") {
				frames = append(frames, f)
			}
		}
		st.Frames = frames
	}
	ev := t.event(rep, sentry.LevelFatal)
	handled := false
	ev.Exception = []sentry.Exception{{
		Type: "panic", Value: t.redactor.String(fmt.Sprint(v)), Stacktrace: st,
		Mechanism: &sentry.Mechanism{Type: "http.recover", Handled: &handled},
	}}
	ev.Message = "panic serving " + rep.Method + " " + rep.Route
	t.enqueue(ev)
}

// CaptureServerError reports a response with a 5xx status.
func (t *Tracker) CaptureServerError(rep Report) {
	if t == nil {
		return
	}
	ev := t.event(rep, sentry.LevelError)
	typ, msg := "HTTP "+strconv.Itoa(rep.Status), http.StatusText(rep.Status)
	if rep.Err != nil {
		msg = rep.Err.Error()
		var me *maestro.Error
		if errors.As(rep.Err, &me) {
			typ = string(me.Code)
		} else {
			typ = fmt.Sprintf("%T", rep.Err)
		}
	}
	ev.Exception = []sentry.Exception{{Type: typ, Value: t.redactor.String(msg)}}
	ev.Message = fmt.Sprintf("%d on %s %s", rep.Status, rep.Method, rep.Route)
	// Group by route and status: the same failure on the same operation is one issue.
	ev.Fingerprint = []string{"http-5xx", rep.Method, rep.Route, strconv.Itoa(rep.Status), typ}
	t.enqueue(ev)
}

func (t *Tracker) event(rep Report, level sentry.Level) *sentry.Event {
	ev := sentry.NewEvent()
	ev.Level = level
	ev.Timestamp = time.Now()
	ev.Tags = map[string]string{
		"request_id": rep.RequestID, "route": rep.Route, "method": rep.Method,
		"status": strconv.Itoa(rep.Status),
	}
	headers := map[string]string{}
	if rep.UserAgent != "" {
		headers["User-Agent"] = rep.UserAgent
	}
	if rep.APIVersion != "" {
		headers["API-Version"] = rep.APIVersion
	}
	if rep.RequestID != "" {
		headers["X-Request-ID"] = rep.RequestID
	}
	ev.Request = &sentry.Request{Method: rep.Method, URL: rep.Route, Headers: headers}
	return ev
}

func (t *Tracker) enqueue(ev *sentry.Event) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		t.dropped.WithLabelValues(DropClosed).Inc()
		return
	}
	select {
	case t.queue <- ev:
		t.pending.Add(1)
	default:
		t.dropped.WithLabelValues(DropQueueFull).Inc()
		t.setHealth(maestro.HealthDegraded, "error reports are being dropped: the queue to Sentry is full")
	}
}

// run delivers queued events one at a time until the queue is closed.
func (t *Tracker) run() {
	defer close(t.done)
	for ev := range t.queue {
		t.deliver(ev)
		t.pending.Add(-1)
	}
}

func (t *Tracker) deliver(ev *sentry.Event) {
	before := t.rt.attempts.Load()
	t.client.CaptureEvent(ev, nil, sentry.NewScope())
	if t.rt.attempts.Load() == before {
		t.dropped.WithLabelValues(DropNotSent).Inc()
		return
	}
	wasOK := t.health.Load().Status == maestro.HealthOK
	if reason := t.rt.lastFailure(); reason != "" {
		t.dropped.WithLabelValues(DropSendFailed).Inc()
		t.setHealth(maestro.HealthDegraded, "sending error reports to Sentry fails: "+t.redactor.String(reason))
		if wasOK { // once per outage, not once per event: the dropped counter has the rest
			t.log.Warn("error reports are not reaching Sentry; dropping them until it answers", "reason", reason)
		}
		return
	}
	t.sent.Inc()
	if !wasOK {
		t.log.Info("error reports reach Sentry again")
	}
	t.setHealth(maestro.HealthOK, "")
}

func (t *Tracker) setHealth(status, reason string) {
	if cur := t.health.Load(); cur.Status == status && cur.Reason == reason {
		return
	}
	t.health.Store(&maestro.ComponentHealth{Status: status, Reason: reason})
}

// Health reports degraded while deliveries to Sentry fail or reports are dropped (maestro.HealthReporter).
func (t *Tracker) Health() maestro.ComponentHealth {
	if t == nil {
		return maestro.ComponentHealth{Status: maestro.HealthOK}
	}
	return *t.health.Load()
}

// Flush waits until every queued event was handled, or timeout passed; it reports whether the queue
// drained.
func (t *Tracker) Flush(timeout time.Duration) bool {
	if t == nil {
		return true
	}
	deadline := time.Now().Add(timeout)
	for t.pending.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Close stops accepting events and waits up to timeout for the queued ones to be delivered.
func (t *Tracker) Close(timeout time.Duration) {
	if t == nil {
		return
	}
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		close(t.queue)
	}
	t.mu.Unlock()
	select {
	case <-t.done:
	case <-time.After(timeout):
		t.log.Warn("error reports still queued for Sentry at shutdown were dropped", "pending", t.pending.Load())
	}
}

// allowedHeaders are the only request headers an event may carry.
var allowedHeaders = map[string]bool{"User-Agent": true, "API-Version": true, "X-Request-ID": true, "Content-Type": true}

// scrub is the client's BeforeSend: a last line of defence that strips anything a future change might
// add to an event (headers, cookies, bodies, environment, user data) and redacts secrets from text.
func (t *Tracker) scrub(ev *sentry.Event, _ *sentry.EventHint) *sentry.Event {
	if ev.Request != nil {
		ev.Request.Cookies, ev.Request.Data, ev.Request.QueryString, ev.Request.Env = "", "", "", nil
		for k := range ev.Request.Headers {
			if !allowedHeaders[http.CanonicalHeaderKey(k)] {
				delete(ev.Request.Headers, k)
			}
		}
		ev.Request.URL = t.redactor.String(ev.Request.URL)
	}
	ev.User = sentry.User{}
	ev.Breadcrumbs = nil
	ev.Message = t.redactor.String(ev.Message)
	for i := range ev.Exception {
		ev.Exception[i].Value = t.redactor.String(ev.Exception[i].Value)
	}
	for k, v := range ev.Tags {
		ev.Tags[k] = t.redactor.String(v)
	}
	return ev
}

// observingTransport records the outcome of each delivery attempt, so that the tracker can count
// failures and report its health (the SDK's own transports keep that to themselves).
type observingTransport struct {
	base     http.RoundTripper
	attempts atomic.Int64
	failure  atomic.Pointer[string]
}

func (o *observingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.base.RoundTrip(req)
	reason := ""
	switch {
	case err != nil:
		reason = err.Error()
	case resp.StatusCode >= 400:
		reason = "Sentry answered " + resp.Status
	}
	o.failure.Store(&reason)
	o.attempts.Add(1)
	return resp, err
}

func (o *observingTransport) lastFailure() string {
	if p := o.failure.Load(); p != nil {
		return *p
	}
	return ""
}
