package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
)

// Route labels for requests that matched no route template. Logs, metrics and the audit log never
// carry a raw path (it holds ids, and every distinct value would be a new time series).
const (
	routeUnmatched = "unmatched"
	routeWebSocket = "websocket"
)

// reqState is what the access-log layer sets up for the layers inside it: the shared RequestInfo, the
// writer that records the status and size, and the start time.
type reqState struct {
	info  *obs.RequestInfo
	sw    *statusWriter
	start time.Time
}

type stateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

// routeLabel is the route template of the request, or a fixed placeholder when none matched. A
// request refused before it reached the router (401, a CORS preflight, an unsupported API-Version, a
// body too large) is labelled with the template the router would have chosen, so that metrics and the
// audit log still say which operation was attempted.
func (s *Server) routeLabel(info *obs.RequestInfo, r *http.Request) string {
	route := info.Route()
	if route == "" && s.mux != nil && !isUpgrade(r) {
		route = s.resolveRoute(r)
		// Remembered, so that the audit entry, the metrics, the access log and the error report of a
		// refused request (a 429 or 503 under load, say) ask the router once, not once each.
		info.SetRoute(route, nil)
	}
	if route == "" || route == "/" {
		if isUpgrade(r) {
			return routeWebSocket
		}
		return routeUnmatched
	}
	return route
}

// resolveRoute asks the router which template r would match, with the path rewritten as routeVersion
// rewrites it (trailing slashes, unversioned /api → /api/v1 or /api/v2).
func (s *Server) resolveRoute(r *http.Request) string {
	v, _ := requestVersion(r)
	_, pattern := s.mux.Handler(&http.Request{Method: r.Method, URL: routedURL(r.URL, v), Host: r.Host, Header: http.Header{}})
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	return pattern
}

// requestScope is the outermost layer: it sets up everything a request carries, in one derivation of
// its context and one copy of the request, and writes the request's access-log line when it finishes.
//
//   - The request ID: a well-formed X-Request-ID from the client, or a new one, echoed on the response
//     and put in the context for logs, error bodies, audit rows and events.
//   - The API version the request is served in: the API-Version response header and the version error
//     bodies are shaped in (versionHeader).
//   - The request-scoped logger (obs.Log(ctx) carries request_id), the RequestInfo and the recording
//     response writer that the inner layers share (reqState).
//   - The request's deadline (Options.RequestTimeout), so that a stuck query or a slow client cannot hold
//     a request, and the writer, forever — except for what needs none (needsDeadline).
//
// These were five layers, each copying the request with r.WithContext: under GET /health those copies
// and the deadline's timer were a tenth of the allocations (maestro-bench health, pprof -alloc_space).
//
// The access-log line says method, route template, status, duration, bytes written and request id.
func (s *Server) requestScope(next http.Handler) http.Handler {
	base := s.opts.Logger
	timeout := s.opts.RequestTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		ctx := withVersionHeader(w, r, maestro.WithRequestID(r.Context(), id))
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			// A write's reply waits, within this budget, until its events are written to every live
			// socket (DESIGN §12); reads write nothing and carry none.
			ctx = maestro.WithEventWait(ctx)
		}
		ctx, info := obs.WithRequestInfo(ctx)
		ctx = obs.WithRequestLogger(ctx, base, id)
		sw := &statusWriter{ResponseWriter: w}
		if r.Method == http.MethodPost {
			sw.captureMax = 2048 // enough to find the id of what a create returned (audit)
		}
		ctx = context.WithValue(ctx, stateKey{}, &reqState{info: info, sw: sw, start: start})
		if timeout > 0 && needsDeadline(r) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel() // after the access-log line below: deferred calls run last in, first out
		}
		r = r.WithContext(ctx)
		defer func() {
			status := sw.statusOrDefault()
			// request_id first, where the request-scoped logger's With would have put it.
			base.LogAttrs(ctx, accessLevel(r, status), "request",
				slog.String(obs.RequestIDKey, id),
				slog.String("method", r.Method),
				slog.String("route", s.routeLabel(info, r)),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.Int64("bytes", sw.bytes),
			)
		}()
		next.ServeHTTP(sw, r)
	})
}

// accessLevel is the level of a request's access-log line: debug for a successful health probe, info
// for everything else. A supervisor or monitor polling /health, /healthz or /readyz every second would
// otherwise fill the log with lines that say nothing, and writing them was 13% of a probe's CPU under
// load (maestro-bench health). A probe that fails (a 503 from /readyz, say) is logged at info.
func accessLevel(r *http.Request, status int) slog.Level {
	if status < http.StatusBadRequest && openPaths[strings.TrimRight(r.URL.Path, "/")] {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// observeMetrics counts every request in maestro_http_requests_total and times it in
// maestro_http_request_duration_seconds, labelled by route template.
func (s *Server) observeMetrics(next http.Handler) http.Handler {
	m := s.httpMetrics
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateFrom(r.Context())
		if st == nil || m == nil {
			next.ServeHTTP(w, r)
			return
		}
		done := m.Start()
		defer func() {
			done()
			m.Observe(r.Method, s.routeLabel(st.info, r), st.sw.statusOrDefault(), time.Since(st.start), st.sw.hijacked)
		}()
		next.ServeHTTP(w, r)
	})
}

// isMutation reports whether a method changes state (and so is audited).
func isMutation(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// auditMutations records every POST, PUT, PATCH and DELETE in the audit log when it finishes —
// including the refused ones (401, 404, 422…), which are as telling as the successful ones. Recording
// only queues the entry (see service.Audit): it adds no write transaction to the request.
func (s *Server) auditMutations(next http.Handler) http.Handler {
	if s.opts.Services == nil || s.opts.Services.Audit == nil {
		return next
	}
	a := s.opts.Services.Audit
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateFrom(r.Context())
		if st == nil || !isMutation(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		// Services note facts for this row on the context (a lease override, say).
		ctx, notes := maestro.WithAuditNotes(r.Context())
		r = r.WithContext(ctx)
		defer func() {
			e := maestro.AuditEntry{
				At: s.opts.Now().UnixMilli(), Actor: st.info.Actor(), Method: r.Method,
				Route: s.routeLabel(st.info, r), Status: st.sw.statusOrDefault(),
				RequestID: maestro.RequestIDFrom(r.Context()),
			}
			if e.Route == MCPPath && e.Status < 300 {
				// The MCP endpoint audits each mutating tool call itself (actor mcp:<client>, route
				// tools/<name>); the POSTs that carry them would only repeat it without saying what was done.
				// A refused request (401, 403, 404…) is still recorded here.
				return
			}
			if e.Actor == "" {
				e.Actor = maestro.ActorFrom(r.Context())
			}
			detail := map[string]string{}
			for i, p := range st.info.Params() {
				if i == 0 {
					id := p[1]
					e.EntityID = &id
				} else {
					detail[p[0]] = p[1]
				}
			}
			if e.EntityID == nil && e.Status < 300 {
				if id := idFromBody(st.sw.captured); id != "" {
					e.EntityID = &id
				}
			}
			if ua := r.UserAgent(); ua != "" {
				detail["userAgent"] = truncate(ua, 200)
			}
			for k, v := range notes.Map() {
				detail[k] = v
			}
			if len(detail) > 0 {
				e.Detail = detail
			}
			a.Record(e)
		}()
		next.ServeHTTP(w, r)
	})
}

// idFromBody finds the top-level "id" (or "sessionId", as spawn answers) of a JSON object response, by
// reading its members in order; body may be a truncated prefix.
func idFromBody(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	fallback := ""
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			break
		}
		var s string
		if (key == "id" || key == "sessionId") && json.Unmarshal(v, &s) == nil && s != "" {
			if key == "id" {
				return s
			}
			fallback = s
		}
	}
	return fallback
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// reportable says which 5xx go to error tracking: all but 501 (a deliberate "not implemented") and 503
// (load shedding and the storage breaker answer it on purpose; metrics and /health show those).
func reportable(status int) bool {
	return status >= 500 && status != http.StatusNotImplemented && status != http.StatusServiceUnavailable
}

// recoverPanics turns a panicking handler into a 500 in the version's error shape, logs the stack with
// the request id, and reports the panic to error tracking; it also reports every other server error
// (5xx) the inner layers answered. One bad request never takes the server down.
func (s *Server) recoverPanics(log *slog.Logger, tracker *obs.Tracker, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			ctx := r.Context()
			info := obs.RequestInfoFrom(ctx)
			st := stateFrom(ctx)
			report := func(status int) obs.Report {
				return obs.Report{
					Method: r.Method, Route: s.routeLabel(info, r), RequestID: maestro.RequestIDFrom(ctx),
					Status: status, Err: info.Err(), UserAgent: r.UserAgent(),
					APIVersion: w.Header().Get(APIVersionHeader),
				}
			}
			if v == nil {
				if st != nil && reportable(st.sw.status) && info.MarkReported() {
					tracker.CaptureServerError(report(st.sw.status))
				}
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			l := log
			if obs.HasLogger(ctx) {
				l = obs.Log(ctx)
			}
			l.ErrorContext(ctx, "panic serving request", "method", r.Method, "route", s.routeLabel(info, r),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if info.MarkReported() {
				tracker.CapturePanic(report(http.StatusInternalServerError), v)
			}
			if st != nil && st.sw.status != 0 {
				return // the response had begun: nothing sensible can be added to it
			}
			apierr.Write(w, r, apierr.New(r.Context(), r.URL.Path, maestro.CodeInternal, "internal error"))
		}()
		next.ServeHTTP(w, r)
	})
}

// captureRoute runs the router and records the route template it matched, and the path parameters,
// in the request's RequestInfo. It is the innermost layer: ServeMux sets Pattern on the request it
// dispatches, which may be a clone made by an outer layer (trailing-slash and version rewriting), so
// only a layer holding that very request can read it; the shared RequestInfo carries it outwards.
func captureRoute(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			info := obs.RequestInfoFrom(r.Context())
			if info == nil || r.Pattern == "" {
				return
			}
			route := r.Pattern
			if i := strings.IndexByte(route, ' '); i >= 0 {
				route = route[i+1:] // "GET /api/v1/tasks/{id}" → "/api/v1/tasks/{id}"
			}
			info.SetRoute(route, pathParams(route, r))
		}()
		mux.ServeHTTP(w, r)
	})
}

// pathParams returns the wildcard values of r named in route, in order.
func pathParams(route string, r *http.Request) [][2]string {
	var out [][2]string
	for rest := route; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return out
		}
		name := strings.TrimSuffix(rest[i+1:i+j], "...")
		rest = rest[i+j+1:]
		if name == "$" {
			continue
		}
		if v := r.PathValue(name); v != "" {
			out = append(out, [2]string{name, v})
		}
	}
}

// statusWriter records the status and size of a response (and, when asked, the first bytes of its
// body). It passes Flush and Hijack through: streaming responses and WebSocket upgrades go through it.
type statusWriter struct {
	http.ResponseWriter
	status     int
	bytes      int64
	hijacked   bool
	captureMax int
	captured   []byte
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if room := w.captureMax - len(w.captured); room > 0 {
		w.captured = append(w.captured, b[:min(room, len(b))]...)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// statusOrDefault is the status sent: 200 when the handler wrote nothing at all.
func (w *statusWriter) statusOrDefault() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Flush implements http.Flusher.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker (WebSocket upgrades).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
		if w.status == 0 {
			w.status = http.StatusSwitchingProtocols
		}
	}
	return conn, rw, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
