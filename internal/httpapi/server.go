package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/httpapi/repcache"
	v1 "github.com/maestro-hq/maestro-server/internal/httpapi/v1"
	v2 "github.com/maestro-hq/maestro-server/internal/httpapi/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/maestro-hq/maestro-server/internal/origin"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure the HTTP server.
type Options struct {
	Services *service.Services
	Logger   *slog.Logger
	Now      func() time.Time
	Started  time.Time

	// APIToken, when set, is required as a bearer token on everything but the health checks.
	APIToken string
	// CORSOrigins are the origins browsers may call from (D20); they are also the origins trusted to
	// send unsafe methods cross-origin (guard.go).
	CORSOrigins []string
	// AllowedHosts are the names a request's Host header may carry besides loopback ones (HOST,
	// SERVER_URL's host and ALLOWED_HOSTS; "*" allows any). Other hosts are refused (DNS rebinding).
	AllowedHosts []string

	// WebSocket handles upgrade requests on any path; nil refuses them with 404.
	WebSocket http.Handler
	// MCP serves the Model Context Protocol endpoint at /mcp (internal/mcpapi); nil leaves /mcp
	// unrouted (404). It sits behind the whole chain: token, limits, request IDs, access log, audit.
	MCP http.Handler
	// WSStatus reports WebSocket clients for /ws-status.
	WSStatus func() maestro.WSStatus
	// EventLog reads the durable event log for GET /api/v2/events.
	EventLog v2.EventReader
	// Components report component health for /health.
	Components map[string]maestro.HealthReporter
	// Skills serves the skills routes of v1 and v2; nil serves no skills.
	Skills maestro.SkillCatalog

	// ShutdownTimeout bounds how long Shutdown waits for in-flight requests.
	ShutdownTimeout time.Duration
	// RateLimit is the requests per second allowed per non-loopback client address (0: no limit), with
	// bursts of RateBurst.
	RateLimit float64
	RateBurst int
	// MaxInFlight caps requests served at once; more get a fast 503 (0: no cap).
	MaxInFlight int
	// RequestTimeout is the deadline of each request's context (0: none).
	RequestTimeout time.Duration
	// BodyGrace and BodyMinRate bound how slowly a request body may arrive: after BodyGrace it must keep
	// up BodyMinRate bytes a second, or it is answered 408 (defaults DefaultBodyGrace, DefaultBodyMinRate).
	BodyGrace   time.Duration
	BodyMinRate int64

	// Flags are the feature flags (they gate parts of v2); nil means every flag at its default.
	Flags *flags.Flags
	// Metrics is the private registry /metrics serves; the HTTP metrics register on it. A fresh private
	// registry (without the Go and process collectors) is used when nil, never the global one.
	Metrics *prometheus.Registry
	// Tracker reports panics and 5xx responses to error tracking; nil reports nothing.
	Tracker *obs.Tracker
	// LogLevel is the level GET/PUT /api/v2/admin/log-level reads and changes; a private one when nil.
	LogLevel *slog.LevelVar
	// Ready are the conditions /readyz checks (none: always ready).
	Ready []ReadyCheck
	// CommitSeq reads the store's commit sequence (store.Store.CommitSeq). With it and a positive
	// ResponseCacheBytes, the v1 reads of tasks, projects and sessions are served from a cache of their
	// encoded responses until the next commit (package repcache).
	CommitSeq          func() uint64
	ResponseCacheBytes int64
	// ResponseGzip offers the large cached responses gzip-compressed to clients that accept it.
	ResponseGzip bool
}

// cachedRoutes are the reads whose response is a function of the database and the feature flags
// alone: no clock, no filesystem (skills), no lazily seeded rows (templates). The v2 task list is the
// UI's page and search; its single-item reads answer conditional requests themselves.
var cachedRoutes = []string{
	v1.Prefix + "/tasks", v1.Prefix + "/tasks/{id}", v1.Prefix + "/tasks/{id}/children",
	v1.Prefix + "/projects", v1.Prefix + "/projects/{id}",
	v1.Prefix + "/sessions", v1.Prefix + "/sessions/{id}",
	v2.Prefix + "/tasks",
}

// cacheSeq is the sequence the representation cache keys on: the store's commits plus the changes of
// feature flags (which gate v2 and its search). Both only grow, so their sum moves whenever either
// does. A flag change is counted after the flags client applied it, as a commit is after COMMIT.
func cacheSeq(commits func() uint64, fl *flags.Flags) func() uint64 {
	if fl == nil {
		return commits
	}
	var changes atomic.Uint64
	fl.OnChange(func(flags.Change) { changes.Add(1) })
	return func() uint64 { return commits() + changes.Load() }
}

// Server is the HTTP API.
type Server struct {
	opts    Options
	handler http.Handler
	v1      huma.API
	v2      huma.API

	httpMetrics *obs.HTTPMetrics
	mux         *http.ServeMux
	// bodyLimits are the operations' body limits (MaxBodyBytes) by route pattern, for readBody.
	bodyLimits map[string]int64
	// draining is set when shutdown begins: answers then close their connections (guard).
	draining atomic.Bool
	// stopping is closed when shutdown begins: it ends the MCP event streams (endStreamsOnShutdown).
	stopping chan struct{}
	stopOnce sync.Once
}

// endStreamsOnShutdown ends the requests to next that are event streams (GET, which the MCP transport
// holds open for messages from the server until its context ends) as soon as shutdown begins. Nothing
// else would end them (an event stream has no request deadline and no write timeout: longLived), and Shutdown, which waits for every request, would
// wait its whole timeout for one connected agent and then cut every connection. Other requests (the
// POSTs that carry tool calls) finish as any request does.
func (s *Server) endStreamsOnShutdown(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-s.stopping:
				cancel()
			case <-ctx.Done():
			}
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

var setHumaHook sync.Once

// MCPPath is where Options.MCP is mounted.
const MCPPath = "/mcp"

// New builds the server and registers every operation.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Started.IsZero() {
		opts.Started = opts.Now()
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.BodyGrace <= 0 {
		opts.BodyGrace = DefaultBodyGrace
	}
	if opts.BodyMinRate <= 0 {
		opts.BodyMinRate = DefaultBodyMinRate
	}
	if opts.Metrics == nil {
		opts.Metrics = prometheus.NewRegistry()
	}
	if opts.LogLevel == nil {
		opts.LogLevel = new(slog.LevelVar)
	}
	// huma keeps its error constructor in a package variable. The hook is the same for every server in
	// the process (it reads the API version from the request context), so setting it once is safe.
	setHumaHook.Do(func() { huma.NewErrorWithContext = apierr.HumaHook })

	mux := http.NewServeMux()
	api1 := humago.New(mux, v1.Config())
	v1.Register(api1, v1.Deps{
		Services: opts.Services, Started: opts.Started, Now: opts.Now,
		Components: opts.Components, WSStatus: opts.WSStatus,
		Skills: opts.Skills,
	})
	api2 := humago.New(mux, v2.Config())
	api2.UseMiddleware(refuseNulls(api2)) // before the operations are registered, which capture it
	v2.Register(api2, v2.Deps{
		Services: opts.Services, Now: opts.Now, Skills: opts.Skills, Flags: opts.Flags, LogLevel: opts.LogLevel,
		Events: opts.EventLog,
	})
	documentAPI(api1.OpenAPI(), 1)
	documentAPI(api2.OpenAPI(), 2)
	mux.HandleFunc("/", notFound)
	s := &Server{opts: opts, v1: api1, v2: api2, mux: mux, bodyLimits: operationBodyLimits(api1, api2),
		stopping: make(chan struct{})}
	if opts.MCP != nil {
		mux.Handle(MCPPath, streamWrites(s.endStreamsOnShutdown(opts.MCP)))
	}
	s.httpMetrics = obs.NewHTTPMetrics(opts.Metrics)
	mux.Handle("GET /metrics", obs.MetricsHandler(opts.Metrics, opts.Logger))
	s.registerProbes(mux)
	s.registerDocs(mux)
	s.handler = s.chain(mux)
	return s
}

// Handler returns the complete handler chain.
func (s *Server) Handler() http.Handler { return s.handler }

// V1 returns the v1 huma API (for printing its OpenAPI document).
func (s *Server) V1() huma.API { return s.v1 }

// V2 returns the v2 huma API.
func (s *Server) V2() huma.API { return s.v2 }

// chain wraps the router in the middleware every request goes through, outermost first.
func (s *Server) chain(mux http.Handler) http.Handler {
	var h http.Handler = mux
	shed := newLoadShedder(s.opts.MaxInFlight)
	trusted := origin.New(s.opts.CORSOrigins)
	h = captureRoute(h)
	if s.opts.CommitSeq != nil && s.opts.ResponseCacheBytes > 0 {
		h = repcache.New(cacheSeq(s.opts.CommitSeq, s.opts.Flags), s.opts.ResponseCacheBytes, cachedRoutes...).Gzip(s.opts.ResponseGzip).Middleware(h)
	}
	// Slots are taken after the body has been read (readBody), so that a slow body never holds one.
	h = shed.handler(h)
	h = s.readBody(shed, h)
	h = routeVersion(h)
	h = requireToken(s.opts.APIToken, s.opts.Flags, h)
	h = cors(trusted, h)
	h = rateLimit(s.opts.RateLimit, s.opts.RateBurst, h)
	ws := s.opts.WebSocket
	if ws != nil {
		// Upgrades branch off here, outside the requireToken that guards the REST handlers, so that
		// branch checks the token too (header or ?token=).
		ws = requireToken(s.opts.APIToken, s.opts.Flags, ws)
	}
	h = upgrades(ws, h)
	h = guard(newHostGuard(s.opts.AllowedHosts), trusted, &s.draining, h)
	h = s.recoverPanics(s.opts.Logger, s.opts.Tracker, h)
	h = s.auditMutations(h)
	h = s.observeMetrics(h)
	h = s.requestScope(h) // request ID, API version, logger, deadline; the access log
	return h
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully: it stops accepting, lets
// in-flight requests finish (bounded by ShutdownTimeout), and returns. Hijacked connections
// (WebSockets) are closed by their own handler, which watches the same context.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       serverReadTimeout,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Shutdown in two steps. First the listener closes (new connections are refused: a clean error for
	// a client) and, for a moment, every answer says Connection: close, so that a keep-alive client gets
	// the answer to the request it sent and reconnects — to the closed listener — instead of having its
	// socket cut after the request went out, which net/http's Shutdown does to connections it sees idle
	// while a request is on its way. Then Shutdown closes what is idle and waits for the rest.
	s.draining.Store(true)
	s.stopOnce.Do(func() { close(s.stopping) })
	_ = ln.Close()
	if serr := <-errc; serr != nil && !errors.Is(serr, net.ErrClosed) && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	grace := min(s.opts.ShutdownTimeout/2, drainGrace)
	time.Sleep(grace)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout-grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.opts.Logger.Warn("shutdown timed out; closing remaining connections", "timeout", s.opts.ShutdownTimeout)
		err = srv.Close()
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil // the listener, closed above
	}
	return err
}

// drainGrace is how long shutdown answers with Connection: close before it closes idle connections.
const drainGrace = 300 * time.Millisecond

// operationBodyLimits maps the route pattern of every operation of apis ("POST /api/v2/projects/import",
// as the router names it) to its body limit (MaxBodyBytes), for readBody to read no more than the
// operation takes.
func operationBodyLimits(apis ...huma.API) map[string]int64 {
	out := map[string]int64{}
	for _, api := range apis {
		for _, item := range api.OpenAPI().Paths {
			for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Options, item.Head, item.Patch, item.Trace} {
				if op != nil && op.MaxBodyBytes > 0 {
					out[strings.ToUpper(op.Method)+" "+op.Path] = op.MaxBodyBytes
				}
			}
		}
	}
	return out
}

// notFound answers every unknown route with a JSON 404 in the version's error shape (D8, D25). The
// message names the path as the client sent it: routeVersion has rewritten /api/x to /api/v1/x (and
// dropped trailing slashes) by now, a path the client never used.
func notFound(w http.ResponseWriter, r *http.Request) {
	apierr.Write(w, r, apierr.New(r.Context(), r.URL.Path, maestro.CodeNotFound,
		"Route "+r.Method+" "+sentPath(r)+" not found"))
}

// sentPath returns the path of the request line, decoded, or the routed path when there is none (a
// request built in a test without one).
func sentPath(r *http.Request) string {
	if r.RequestURI != "" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
			return u.Path
		}
	}
	return r.URL.Path
}
