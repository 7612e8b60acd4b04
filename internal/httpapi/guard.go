package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/origin"
)

// The guards of this file defend the server against a hostile page in the user's own browser (DESIGN
// §8): a loopback server without a token is reachable from every page the user visits. Two requests
// are refused before anything else runs, WebSocket upgrades included:
//
//   - a request whose Host header does not name this server (DNS rebinding: a page of evil.example
//     whose name now resolves to 127.0.0.1 sends "Host: evil.example"), and
//   - an unsafe method (POST, PUT, PATCH, DELETE) a browser sends from a foreign origin, as net/http's
//     CrossOriginProtection judges it (Sec-Fetch-Site, else Origin against Host), trusting the UI
//     origins of CORS_ORIGINS.
//
// The Content-Type rule (a body must be JSON) lives with the body reading, in body.go.

// hostGuard decides which Host headers name this server.
type hostGuard struct {
	names []string // lower-case host names and addresses, without ports
	any   bool     // ALLOWED_HOSTS=* (only ever with a token; config refuses it otherwise)
}

func newHostGuard(names []string) *hostGuard {
	g := &hostGuard{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(strings.Trim(strings.TrimSpace(n), "[]"), "."))
		switch n {
		case "":
		case "*":
			g.any = true
		default:
			g.names = append(g.names, n)
		}
	}
	return g
}

// allowed reports whether host (a Host header: name or address, with or without a port) names this
// server: a loopback name or address on any port, or one of the configured names. An empty Host (an
// HTTP/1.0 client) is allowed: a browser always sends one, so it cannot be a rebinding attack. It does
// not allocate.
func (g *hostGuard) allowed(host string) bool {
	if g.any || host == "" {
		return true
	}
	name := hostWithoutPort(host)
	name = strings.TrimSuffix(name, ".")
	if strings.EqualFold(name, "localhost") {
		return true
	}
	// Only what may be an address is parsed as one: a failed parse allocates its error.
	if looksLikeAddr(name) {
		if ip, err := netip.ParseAddr(name); err == nil && ip.Unmap().IsLoopback() {
			return true
		}
	}
	for _, n := range g.names {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// looksLikeAddr reports whether name may be an IP address: IPv4 starts with a digit, IPv6 has colons.
func looksLikeAddr(name string) bool {
	return name != "" && (('0' <= name[0] && name[0] <= '9') || strings.IndexByte(name, ':') >= 0)
}

// hostWithoutPort strips the port of a Host header value: "[::1]:3000" → "::1", "a:1" → "a"; a bare
// IPv6 address (more than one colon, no brackets) is returned whole.
func hostWithoutPort(host string) string {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			return host[1:i]
		}
		return host
	}
	if i := strings.IndexByte(host, ':'); i >= 0 && strings.IndexByte(host[i+1:], ':') < 0 {
		return host[:i]
	}
	return host
}

// maxEchoed bounds how much of a client-sent value an error message repeats.
const maxEchoed = 100

// guard refuses foreign Host headers and cross-origin unsafe requests (see the top of this file), in
// the request's version shape: 403 FORBIDDEN with a message saying what to configure. It runs outside
// the WebSocket branch, so upgrades are covered too.
//
// While the server drains for shutdown (draining set), every answer but a WebSocket handshake says
// Connection: close, so that a keep-alive client sends its next request on a new connection instead of
// on one the shutdown is about to close under it.
func guard(hosts *hostGuard, trusted *origin.Matcher, draining *atomic.Bool, next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	// Exact origins are trusted by net/http itself; the port-wildcard patterns of CORS_ORIGINS
	// ("http://localhost:*") cannot be given to it, so a refusal is overturned below when the
	// request's Origin matches one of them.
	for _, p := range trusted.Patterns() {
		if !strings.HasSuffix(p, ":*") {
			_ = cop.AddTrustedOrigin(strings.TrimRight(strings.TrimSpace(p), "/")) // malformed ones are matched below
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() && !isUpgrade(r) {
			w.Header().Set("Connection", "close")
		}
		if !hosts.allowed(r.Host) {
			apierr.Write(w, r, apierr.New(r.Context(), r.URL.Path, maestro.CodeForbidden,
				"Host "+quote(r.Host)+" does not name this server, so the request is refused (a guard against DNS rebinding); "+
					"to reach the server by that name, add it to ALLOWED_HOSTS"))
			return
		}
		if err := cop.Check(r); err != nil {
			if o := r.Header.Get("Origin"); o == "" || !trusted.Allowed(o) {
				if o == "" {
					o = "a foreign site"
				} else {
					o = quote(o)
				}
				apierr.Write(w, r, apierr.New(r.Context(), r.URL.Path, maestro.CodeForbidden,
					"cross-origin "+r.Method+" from "+o+" refused: only the origins of CORS_ORIGINS may change data from a browser"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// quote returns s in double quotes, cut to maxEchoed bytes.
func quote(s string) string {
	if len(s) > maxEchoed {
		s = s[:maxEchoed] + "…"
	}
	return `"` + s + `"`
}
