package ws

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/events"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/origin"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	DefaultPingInterval = 15 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	// DefaultReadLimit caps one client message. Clients only send small JSON pings; a larger message
	// closes the socket with 1009.
	DefaultReadLimit = 64 << 10
	// DefaultCompressionThreshold: smaller messages go out uncompressed. Each socket compresses with its
	// own context, so one event is deflated once per client; for the typical event of a few hundred bytes
	// that CPU (times a thousand clients) buys almost nothing, whereas large payloads — sessions with
	// their timelines, spawn manifests — shrink several times.
	DefaultCompressionThreshold = 1024
)

// Options configure the WebSocket server.
type Options struct {
	Hub    *events.Hub
	Logger *slog.Logger
	// Now stamps pongs; time.Now when nil.
	Now func() time.Time
	// Origins are the browser origins allowed to connect (WS_ORIGINS); requests without Origin always are.
	Origins []string
	// PingInterval is how often the server pings each client; a client that misses two pongs in a row is
	// dropped (DefaultPingInterval when zero).
	PingInterval time.Duration
	// WriteTimeout bounds one message write; a client that does not read for that long is dropped.
	WriteTimeout time.Duration
	// Buffer is each client's event buffer (the hub's default when zero).
	Buffer int
	// ReadLimit caps one client message (DefaultReadLimit when zero).
	ReadLimit int64
	// DisableCompression refuses permessage-deflate even when offered (benchmarks compare both).
	DisableCompression bool
	// CompressionThreshold is the smallest message compressed on a socket that negotiated
	// permessage-deflate (DefaultCompressionThreshold when zero).
	CompressionThreshold int
	// StreamingEnabled, when it returns false, refuses new upgrades with 503 (the ws-streaming flag).
	// Nil means always enabled. Sockets already open are closed with StopStreaming, to be called once
	// StreamingEnabled answers false: then no upgrade can slip between the two.
	StreamingEnabled func() bool
	// ReplayEnabled, when it returns false, answers a since request with one resync then live events
	// (the ws-replay flag). Nil means always enabled.
	ReplayEnabled func() bool
	// V2Enabled, when it returns false, answers the v2 stream with 404 FEATURE_DISABLED like every other
	// v2 endpoint (the api-v2 flag); the legacy socket is v1 and unaffected.
	V2Enabled func() bool
	// StreamingFlag and V2Flag are the keys of the flags behind StreamingEnabled and V2Enabled, named in
	// the refusals they cause. They come in as values so that this package does not depend on the flags
	// package (and through it on the store).
	StreamingFlag string
	V2Flag        string
	// Registerer receives the connection metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
}

// Server serves both WebSocket endpoints. It is an http.Handler for upgrade requests on any path.
type Server struct {
	opts    Options
	log     *slog.Logger
	origins *origin.Matcher
	m       *metrics

	mu      sync.Mutex
	clients map[*client]struct{}
	closing bool
	wg      sync.WaitGroup
}

// New builds the server.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.ReadLimit <= 0 {
		opts.ReadLimit = DefaultReadLimit
	}
	if opts.CompressionThreshold <= 0 {
		opts.CompressionThreshold = DefaultCompressionThreshold
	}
	return &Server{
		opts: opts, log: opts.Logger, origins: origin.New(opts.Origins), m: newMetrics(opts.Registerer),
		clients: map[*client]struct{}{},
	}
}

// closeCause is why the server closes a socket on its own initiative.
type closeCause struct {
	code   websocket.StatusCode
	reason string
}

func (c closeCause) Error() string { return c.reason }

// client is one connection, as /ws-status sees it.
type client struct {
	state  atomic.Int32 // readyState: 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED
	cancel context.CancelCauseFunc
}

// Ready states of /ws-status (the browser WebSocket readyState values).
const (
	stateConnecting = 0
	stateOpen       = 1
	stateClosing    = 2
	stateClosed     = 3
)

var readyStateText = [...]string{"CONNECTING", "OPEN", "CLOSING", "CLOSED"}

// ServeHTTP upgrades the request: the v2 stream at StreamPath, the legacy socket anywhere else.
// Refusals happen before the upgrade, as ordinary HTTP errors in the endpoint's shape: 503 while
// shutting down or with streaming switched off, 403 for an origin that is not allowed, 400 (v1) or 422
// (v2) for bad query parameters.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep := endpointOf(r.URL.Path)
	if ep == streamSocket && s.opts.V2Enabled != nil && !s.opts.V2Enabled() {
		e := maestro.Errorf(maestro.CodeFeatureDisabled, "API v2 is switched off (flag %s)", s.opts.V2Flag)
		e.Details = map[string]any{"flag": s.opts.V2Flag}
		apierr.Write(w, r, apierr.FromError(errorContext(r.Context(), ep), r.URL.Path, e))
		return
	}
	// Our origin policy decides (DESIGN §5): no Origin (CLI, agents) or a configured one. The library's
	// own check (same host only) is switched off below.
	if o := r.Header.Get("Origin"); o != "" && !s.origins.Allowed(o) {
		refuse(w, r, ep, maestro.Errorf(maestro.CodeForbidden, "origin %s is not allowed to open a WebSocket (WS_ORIGINS)", o))
		return
	}
	p, perr := parseParams(r, ep)
	if perr != nil {
		refuse(w, r, ep, perr)
		return
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	cl := &client{cancel: cancel}
	cl.state.Store(stateConnecting)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		refuseUnavailable(w, r, ep, maestro.CodeOverloaded, "server is shutting down", nil, 1)
		return
	}
	s.clients[cl] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer s.remove(cl)
	// The streaming switch is read only now that the client is registered: switching streaming off
	// stores the new value before it calls StopStreaming, so a switch made before this line is seen
	// here, and one made after it closes this client through CloseAll. Read before registering, a
	// switch in between would have left this socket open with streaming off.
	if s.opts.StreamingEnabled != nil && !s.opts.StreamingEnabled() {
		refuseUnavailable(w, r, ep, maestro.CodeFeatureDisabled, "WebSocket streaming is switched off (flag "+s.opts.StreamingFlag+")",
			map[string]any{"flag": s.opts.StreamingFlag}, 30)
		return
	}

	// Subscribe before the handshake completes: every event committed after the client sees the 101 is
	// then certain to reach it.
	replay := p.hasSince && (s.opts.ReplayEnabled == nil || s.opts.ReplayEnabled())
	sub := s.opts.Hub.Subscribe(events.SubscribeOptions{
		Replay: replay, Since: p.since, Resync: p.hasSince && !replay, Filter: p.filter(), Buffer: s.opts.Buffer,
	})
	defer sub.Close()

	mode := websocket.CompressionContextTakeover
	if s.opts.DisableCompression {
		mode = websocket.CompressionDisabled
	}
	log := s.log.With("request_id", maestro.RequestIDFrom(r.Context()), "path", r.URL.Path, "remote", r.RemoteAddr)
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, CompressionMode: mode, CompressionThreshold: s.opts.CompressionThreshold,
	})
	if err != nil {
		log.Debug("websocket handshake failed", "error", err)
		return // Accept has answered the request
	}
	log.Debug("websocket client connected", "since", p.since, "replay", replay)
	s.serveConn(ctx, log, conn, cl, sub, ep)
}

// remove forgets a client.
func (s *Server) remove(cl *client) {
	cl.state.Store(stateClosed)
	s.mu.Lock()
	delete(s.clients, cl)
	s.mu.Unlock()
}

// Status reports the connected clients for /ws-status (SPEC §2.3).
func (s *Server) Status() maestro.WSStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := maestro.WSStatus{ConnectedClients: len(s.clients), Clients: make([]maestro.WSClient, 0, len(s.clients))}
	for cl := range s.clients {
		rs := cl.state.Load()
		st.Clients = append(st.Clients, maestro.WSClient{ReadyState: int(rs), ReadyStateText: readyStateText[rs]})
	}
	return st
}

// CloseAll closes every open socket with code and reason (1013 when streaming is switched off). It does
// not wait; sockets still being set up close as soon as they are open.
func (s *Server) CloseAll(code websocket.StatusCode, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for cl := range s.clients {
		cl.cancel(closeCause{code: code, reason: reason})
	}
}

// StopStreaming closes every open socket with 1013 (try again later): what switching the ws-streaming
// flag off does to open sockets, while StreamingEnabled refuses new ones.
func (s *Server) StopStreaming() {
	s.CloseAll(websocket.StatusTryAgainLater, "streaming switched off")
}

// Shutdown refuses new upgrades, closes every socket with 1001 (going away) and waits until their
// handlers have returned or ctx ends. http.Server.Shutdown does not wait for hijacked connections, so
// the server's lifecycle calls this beside it.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.CloseAll(websocket.StatusGoingAway, "server shutting down")
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
