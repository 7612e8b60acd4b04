package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/httpapi/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// APIVersionHeader selects the version on the unversioned /api path and reports it on every response.
const APIVersionHeader = "API-Version"

// supportedVersions are the API versions this server serves.
var supportedVersions = []string{"1", "2"}

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

// requestVersion returns the API version a request is served in: the one its path names, else (on the
// unversioned /api path) the one its API-Version header selects, else 1. ok is false when the header
// asks for a version this server does not serve.
func requestVersion(r *http.Request) (v int, ok bool) {
	p := r.URL.Path
	if v := pathVersion(p); v != 0 {
		return v, true
	}
	if p == "/api" || strings.HasPrefix(p, "/api/") {
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

// withPathVersion returns r's context marked with the version the request is served in, for errors
// written before routeVersion ran (401, CORS refusals).
func withPathVersion(r *http.Request) context.Context {
	v, _ := requestVersion(r)
	return apierr.WithVersion(r.Context(), v)
}

// versionHeader sets API-Version on every response, including those written before routing (CORS
// preflights, 401s, WebSocket handshakes). routeVersion sets the same value again for routed requests.
func versionHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := requestVersion(r)
		w.Header().Set(APIVersionHeader, strconv.Itoa(v))
		next.ServeHTTP(w, r)
	})
}

// routeVersion serves the unversioned /api/... as /api/v1/... or, with `API-Version: 2`, as
// /api/v2/...; any other API-Version value is refused with 400 UNSUPPORTED_API_VERSION. It marks the
// request context with its version (for error shapes) and sets API-Version on every response.
func routeVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		v := pathVersion(p)
		if v == 0 && (p == "/api" || strings.HasPrefix(p, "/api/")) {
			switch h := strings.TrimSpace(r.Header.Get(APIVersionHeader)); h {
			case "", "1":
				v = 1
			case "2":
				v = 2
			default:
				w.Header().Set(APIVersionHeader, "1")
				e := apierr.New(r.Context(), p, maestro.CodeUnsupportedVer,
					"Unsupported API-Version '"+h+"'; supported: "+strings.Join(supportedVersions, ", "))
				e.(*apierr.LegacyErr).Details = map[string]any{"supported": supportedVersions}
				apierr.Write(w, r, e)
				return
			}
			r2 := r.Clone(r.Context())
			prefix := "/api/v" + strconv.Itoa(v)
			r2.URL.Path = prefix + strings.TrimPrefix(p, "/api")
			// Keep the escaped form in step: an id with an encoded "/" must reach the router as one
			// segment, exactly as it does on the versioned path.
			if r.URL.RawPath != "" {
				r2.URL.RawPath = prefix + strings.TrimPrefix(r.URL.RawPath, "/api")
			}
			r = r2
		}
		if v == 0 {
			v = 1 // /health, /ws-status and unknown paths answer in the v1 shape
		}
		w.Header().Set(APIVersionHeader, strconv.Itoa(v))
		next.ServeHTTP(w, r.WithContext(apierr.WithVersion(r.Context(), v)))
	})
}
