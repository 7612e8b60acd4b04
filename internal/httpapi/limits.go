package httpapi

import (
	"context"
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
// connections never reach it: they are long-lived and have their own limits. The health probes are
// never shed: a supervisor that sees 503 from /health restarts a server that is merely busy.
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
		if openPaths[strings.TrimRight(r.URL.Path, "/")] {
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

// withDeadline bounds every request's context by timeout, so a stuck query or a slow client cannot hold
// a request (and the writer) forever.
func withDeadline(timeout time.Duration, next http.Handler) http.Handler {
	if timeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
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
