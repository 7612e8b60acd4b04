package httpapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/maestro-hq/maestro-server/internal/origin"
)

// RequestIDHeader carries the request ID both ways (X-Request-ID). Like APIVersionHeader it is spelled
// in the canonical form net/http stores header names in, so that reading and setting it on every request
// does not canonicalise — and allocate — the name each time; names are case-insensitive on the wire.
const RequestIDHeader = "X-Request-Id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

// upgrades sends WebSocket upgrades on any path to ws (the UI dials ws://host:port with no path).
func upgrades(ws http.Handler, next http.Handler) http.Handler {
	if ws == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			ws.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ActorToken is the audit actor of a request that presented the configured API token.
const ActorToken = "token"

// openPaths never need the API token: health checks must work for supervisors without secrets.
var openPaths = map[string]bool{"/health": true, "/healthz": true, "/readyz": true}

// requireToken enforces the bearer token when one is configured (DESIGN §8). WebSocket upgrades may
// pass it as ?token= because browsers cannot set headers on a WebSocket. Comparison is constant-time.
//
// The docs pages also take the cookie of a docs login (docslogin.go). The health paths and OPTIONS
// requests are open, but never for an upgrade: the legacy socket is served
// on any path, so an upgrade to /health would otherwise open an event stream without the token.
func requireToken(token string, fl *flags.Flags, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte(token)
	docsCookie := docsCookieValue(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upgrade := isUpgrade(r)
		if !upgrade && (openPaths[strings.TrimRight(r.URL.Path, "/")] || r.Method == http.MethodOptions) {
			next.ServeHTTP(w, r)
			return
		}
		if !upgrade && isDocsPath(r.URL.Path) && fl.Enabled(r.Context(), flags.DocsLogin) {
			if answered, ok := docsAccess(w, r, token, docsCookie); answered {
				return
			} else if ok {
				next.ServeHTTP(w, r)
				return
			}
		}
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok && upgrade {
			got, ok = r.URL.Query().Get("token"), true
		}
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="maestro"`)
			apierr.Write(w, r, apierr.New(r.Context(), r.URL.Path, maestro.CodeUnauthorized,
				"missing or invalid bearer token"))
			return
		}
		// The caller proved it holds the token: the audit log and the services see it as the actor.
		obs.RequestInfoFrom(r.Context()).SetActor(ActorToken)
		next.ServeHTTP(w, r.WithContext(maestro.WithActor(r.Context(), ActorToken)))
	})
}

// bearer returns the credentials of an Authorization header of the Bearer scheme, whose name is
// case-insensitive (RFC 9110 §11.1): "bearer x" is as good as "Bearer x".
func bearer(header string) (string, bool) {
	const scheme = "Bearer "
	if len(header) < len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return "", false
	}
	return header[len(scheme):], true
}

// corsMethods are the methods browsers may use cross-origin.
const corsMethods = "GET, HEAD, PUT, PATCH, POST, DELETE"

// cors answers preflights and adds CORS headers for allowed origins only (D20): never `*`.
func cors(allowed *origin.Matcher, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := r.Header.Get("Origin")
		if o == "" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Origin")
		ok := allowed.Allowed(o)
		if ok {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Expose-Headers", "X-Request-ID, API-Version, ETag, Retry-After, Location, Idempotent-Replayed")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if !ok {
				apierr.Write(w, r, apierr.New(r.Context(), r.URL.Path, maestro.CodeForbidden,
					"origin "+o+" is not allowed"))
				return
			}
			w.Header().Set("Access-Control-Allow-Methods", corsMethods)
			if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
				w.Header().Set("Access-Control-Allow-Headers", h)
			}
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
