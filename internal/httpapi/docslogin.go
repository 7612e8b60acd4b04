package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// The docs pages with a token (DESIGN §8): a browser cannot send a bearer header while it navigates, so
// with MAESTRO_API_TOKEN set /docs?token=… exchanges the token for a cookie that opens the docs pages,
// their assets and the OpenAPI documents they fetch — and nothing else: the API still needs the bearer
// header. The cookie holds a digest of the token, not the token, is HttpOnly (no script reads it) and
// SameSite=Strict (no other site's page sends it), and is only ever accepted on GET and HEAD.

// docsCookieName is the cookie of a docs login.
const docsCookieName = "maestro_docs"

// docsCookieValue is what the docs cookie holds for token.
func docsCookieValue(token string) string {
	sum := sha256.Sum256([]byte("maestro-server docs login\x00" + token))
	return hex.EncodeToString(sum[:])
}

// isDocsPath reports whether p (as requested, before version routing) is a docs page, a docs asset or
// an OpenAPI document.
func isDocsPath(p string) bool {
	p = trimTrailingSlashes(p)
	if p == "/docs" || strings.HasPrefix(p, "/docs/") {
		return true
	}
	for _, prefix := range [...]string{"/api/v1", "/api/v2", "/api"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			return rest == "/docs" || strings.HasPrefix(rest, "/openapi")
		}
	}
	return false
}

// docsAccess handles a docs request under a token: the ?token= exchange (a 303 to the same page without
// the token, setting the cookie) and requests carrying the cookie. It reports whether the request was
// answered (the redirect) or let through (ok: call next); when neither, the bearer rule applies.
func docsAccess(w http.ResponseWriter, r *http.Request, token, cookie string) (answered, ok bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false, false
	}
	if q := r.URL.Query(); q.Has("token") {
		if subtle.ConstantTimeCompare([]byte(q.Get("token")), []byte(token)) != 1 {
			return false, false
		}
		http.SetCookie(w, &http.Cookie{
			Name: docsCookieName, Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
			Secure: r.TLS != nil,
		})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		// The token leaves the address bar (and the history) at once.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return true, false
	}
	c, err := r.Cookie(docsCookieName)
	return false, err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(cookie)) == 1
}
