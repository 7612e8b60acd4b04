package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// APIVersionHeader (API-Version, in canonical form: see RequestIDHeader) selects the version on the
// unversioned /api path and reports it on every response.
const APIVersionHeader = "Api-Version"

// supportedVersions are the API versions this server serves.
var supportedVersions = []string{"1", "2"}

// versionPrefixes are the path prefixes of the versions, indexed by version.
var versionPrefixes = [...]string{1: "/api/v1", 2: "/api/v2"}

// pathVersion returns the version a path explicitly names (/api/v1, /api/v2), or 0.
func pathVersion(p string) int {
	switch {
	case p == "/api/v1" || strings.HasPrefix(p, "/api/v1/"):
		return 1
	case p == "/api/v2" || strings.HasPrefix(p, "/api/v2/"):
		return 2
	}
	return 0
}

// isAPIPath reports whether p is under /api.
func isAPIPath(p string) bool { return p == "/api" || strings.HasPrefix(p, "/api/") }

// requestVersion returns the API version a request is served in: the one its path names, else (on the
// unversioned /api path) the one its API-Version header selects, else 1. ok is false when the header
// asks for a version this server does not serve.
func requestVersion(r *http.Request) (v int, ok bool) {
	p := r.URL.Path
	if v := pathVersion(p); v != 0 {
		return v, true
	}
	if isAPIPath(p) {
		switch strings.TrimSpace(r.Header.Get(APIVersionHeader)) {
		case "", "1":
			return 1, true
		case "2":
			return 2, true
		default:
			return 1, false
		}
	}
	return 1, true
}

// routedURL returns u as the router sees it when served in version v: without trailing slashes (the
// predecessor tolerated them), and with the unversioned /api/... moved under /api/v1 or /api/v2. The
// escaped form (RawPath) follows the same steps, so that an id with an encoded "/" reaches the router as
// one segment, exactly as it does on the versioned path. u itself is returned when nothing changes.
func routedURL(u *url.URL, v int) *url.URL {
	p, raw := trimTrailingSlashes(u.Path), trimTrailingSlashes(u.RawPath)
	if pathVersion(p) == 0 && isAPIPath(p) {
		prefix := versionPrefixes[v]
		p = prefix + strings.TrimPrefix(p, "/api")
		if raw != "" {
			raw = prefix + strings.TrimPrefix(raw, "/api")
		}
	}
	if p == u.Path && raw == u.RawPath {
		return u
	}
	out := *u
	out.Path, out.RawPath = p, raw
	return &out
}

// trimTrailingSlashes drops the trailing slashes of a path other than "/" ("" stays "").
func trimTrailingSlashes(p string) string {
	if len(p) <= 1 || p[len(p)-1] != '/' {
		return p
	}
	if p = strings.TrimRight(p, "/"); p == "" {
		return "/"
	}
	return p
}

// versionHeader works out the API version a request is served in: it sets API-Version on the response
// and marks the request context with it, so that every error takes that version's shape. In the chain
// requestScope does this once, outermost (withVersionHeader), so that every response has the header —
// including those written before routing (CORS preflights, 401s, 429s, WebSocket handshakes); tests of
// the inner layers wrap them in versionHeader instead.
func versionHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(withVersionHeader(w, r, r.Context())))
	})
}

// withVersionHeader sets the API-Version response header of r and returns ctx carrying the version, as
// versionHeader does; requestScope calls it so that the chain copies the request only once.
func withVersionHeader(w http.ResponseWriter, r *http.Request, ctx context.Context) context.Context {
	v, _ := requestVersion(r)
	w.Header().Set(APIVersionHeader, strconv.Itoa(v))
	return apierr.WithVersion(ctx, v)
}

// routeVersion hands the router the request with its path as routedURL makes it: trailing slashes
// dropped, and the unversioned /api/... served as /api/v1/... or, with `API-Version: 2`, as
// /api/v2/.... Any other API-Version value is refused with 400 UNSUPPORTED_API_VERSION (versionHeader
// has already answered it with API-Version: 1, in whose shape the error is).
func routeVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := requestVersion(r)
		if !ok {
			h := strings.TrimSpace(r.Header.Get(APIVersionHeader))
			apierr.Write(w, r, apierr.FromError(r.Context(), r.URL.Path, &maestro.Error{
				Code:    maestro.CodeUnsupportedVer,
				Message: "Unsupported API-Version '" + h + "'; supported: " + strings.Join(supportedVersions, ", "),
				Details: map[string]any{"supported": supportedVersions},
			}))
			return
		}
		if u := routedURL(r.URL, v); u != r.URL {
			// A shallow copy with its own URL, as http.StripPrefix makes: nothing downstream changes the
			// headers, so r.Clone's deep copy of them would be wasted on every request.
			r2 := new(http.Request)
			*r2 = *r
			r2.URL = u
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}
