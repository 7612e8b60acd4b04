package httpapi

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"golang.org/x/time/rate"
)

// loadShedder caps the requests served at once. Past the cap a request is answered 503 OVERLOADED with
// Retry-After immediately, instead of queueing until every client times out (DESIGN §8). WebSocket
// connections never reach it, and MCP event streams pass it uncounted: they are long-lived (longLived),
// and an idle stream holding a slot for its whole life would leave MaxInFlight-1 slots for the requests
// the cap is for. The health probes are never shed: a supervisor that sees 503 from /health restarts a server that is merely busy.
type loadShedder struct {
	max   int
	slots chan struct{}
}

func newLoadShedder(max int) *loadShedder {
	if max <= 0 {
		return nil
	}
	return &loadShedder{max: max, slots: make(chan struct{}, max)}
}

// full reports whether every slot is taken; readBody asks before reading a body it would only refuse.
func (l *loadShedder) full() bool { return l != nil && len(l.slots) == l.max }

// refuse answers 503 OVERLOADED. The connection is closed when the body has not been read, so that
// net/http does not drain it before answering.
func (l *loadShedder) refuse(w http.ResponseWriter, r *http.Request, bodyUnread bool) {
	if bodyUnread {
		w.Header().Set("Connection", "close")
	}
	apierr.Write(w, r, apierr.New(r.Context(), r.URL.Path, maestro.CodeOverloaded,
		fmt.Sprintf("server is at its limit of %d concurrent requests; retry shortly", l.max)))
}

// handler sheds load in front of next.
func (l *loadShedder) handler(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPaths[strings.TrimRight(r.URL.Path, "/")] || isMCPStream(r) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case l.slots <- struct{}{}:
			defer func() { <-l.slots }()
			next.ServeHTTP(w, r)
		default:
			l.refuse(w, r, false)
		}
	})
}

// shedLoad is newLoadShedder(max).handler(next).
func shedLoad(max int, next http.Handler) http.Handler { return newLoadShedder(max).handler(next) }

// needsDeadline says whether requestScope bounds r by the request timeout. Everything does but what is
// long-lived by design (WebSocket upgrades and MCP event streams: longLived) and the health probes,
// which touch no database (/readyz bounds each of its checks by readyTimeout) and are the requests a
// monitor sends most: a timer for each was a measurable part of a probe's cost.
func needsDeadline(r *http.Request) bool {
	return !longLived(r) && !openPaths[strings.TrimRight(r.URL.Path, "/")]
}

// longLived reports whether r opens a connection meant to stay open: a WebSocket upgrade, or the
// standalone event stream an MCP client opens with GET /mcp (Accept: text/event-stream) to hear what
// the server sends it outside a request. Neither is counted by load shedding (MaxInFlight bounds
// requests in progress, not idle listeners), bounded by the request deadline, or cut by the server's
// write timeout (see streamWrites).
func longLived(r *http.Request) bool {
	return isUpgrade(r) || isMCPStream(r)
}

// isMCPStream reports whether r is an MCP client's GET of its standalone event stream.
func isMCPStream(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.TrimRight(r.URL.Path, "/") == MCPPath &&
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// streamWrites lifts the server's write timeout (http.Server.WriteTimeout) from a long-lived stream, as
// a hijacked WebSocket connection escapes it: without this an MCP event stream was cut after 60 s. The
// stream still ends when its MCP session does — closed by the client, idle past the session timeout,
// or at shutdown.
func streamWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isMCPStream(r) {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		}
		next.ServeHTTP(w, r)
	})
}

// clientLimiter is a token bucket per client address (golang.org/x/time/rate). Loopback clients are
// exempt: on the default loopback bind every local agent, CLI and the UI share 127.0.0.1, so a per-address
// limit would throttle all of them together; the limit exists for servers exposed beyond this machine.
type clientLimiter struct {
	rps   rate.Limit
	burst int

	mu      sync.Mutex
	clients map[string]*clientBucket
	swept   time.Time
}

type clientBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// idleBucketTTL is how long an unused client bucket is kept; a full bucket carries no state worth more.
const idleBucketTTL = 5 * time.Minute

func (c *clientLimiter) allow(host string, now time.Time) (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.swept) > time.Minute {
		for h, b := range c.clients {
			if now.Sub(b.seen) > idleBucketTTL {
				delete(c.clients, h)
			}
		}
		c.swept = now
	}
	b := c.clients[host]
	if b == nil {
		b = &clientBucket{lim: rate.NewLimiter(c.rps, c.burst)}
		c.clients[host] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimit answers 429 RATE_LIMITED with Retry-After to a non-loopback client that exceeds rps
// (with bursts up to burst).
func rateLimit(rps float64, burst int, next http.Handler) http.Handler {
	if rps <= 0 {
		return next
	}
	if burst < 1 {
		burst = 1
	}
	lim := &clientLimiter{rps: rate.Limit(rps), burst: burst, clients: map[string]*clientBucket{}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			next.ServeHTTP(w, r)
			return
		}
		if ok, wait := lim.allow(host, time.Now()); !ok {
			// apierr sets Retry-After from retryAfterSeconds (and only from there: one header, one value).
			apierr.Write(w, r, apierr.FromError(r.Context(), r.URL.Path, &maestro.Error{
				Code:    maestro.CodeRateLimited,
				Message: fmt.Sprintf("too many requests from %s: the limit is %g per second", host, rps),
				Details: map[string]any{"retryAfterSeconds": int(math.Ceil(wait.Seconds()))},
			}))
			return
		}
		next.ServeHTTP(w, r)
	})
}
