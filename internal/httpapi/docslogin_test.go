package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
)

// TestDocsLogin: with a token, /docs?token=… trades it for an HttpOnly, SameSite=Strict cookie (and
// takes it out of the address bar); the cookie opens the docs pages, assets and OpenAPI documents, and
// nothing else — the API still needs the bearer header, and writes never take the cookie.
func TestDocsLogin(t *testing.T) {
	t.Parallel()
	const token = "0123456789abcdef0123"
	env := apitest.New(t, func(o *httpapi.Options) { o.APIToken = token })
	if r := env.Do("GET", "/docs", nil); r.Status != 401 {
		t.Fatalf("/docs without a login: %d", r.Status)
	}
	if r := env.Do("GET", "/docs?token=wrong-token-0123456789", nil); r.Status != 401 || r.Header.Get("Set-Cookie") != "" {
		t.Fatalf("/docs with a wrong token: %d %q", r.Status, r.Header.Get("Set-Cookie"))
	}
	r := env.Do("GET", "/api/v2/docs?token="+token+"&x=1", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/api/v2/docs?x=1" {
		t.Fatalf("login: %d Location %q", r.Status, r.Header.Get("Location"))
	}
	set := r.Header.Get("Set-Cookie")
	for _, want := range []string{"maestro_docs=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, token) {
		t.Errorf("the cookie holds the token itself: %q", set)
	}
	cookie := strings.SplitN(set, ";", 2)[0]
	for _, path := range []string{"/docs", "/api/v1/docs", "/api/v2/docs", "/api/v2/openapi.json", "/api/v1/openapi.yaml",
		"/docs/events", "/docs/events.schema.json", "/docs/assets/docs-init.js"} {
		if r := env.Do("GET", path, nil, "Cookie", cookie); r.Status != 200 {
			t.Errorf("%s with the docs cookie: %d", path, r.Status)
		}
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v2/tasks"}, {"GET", "/api/projects"}, {"GET", "/metrics"}, {"GET", "/ws-status"},
		{"POST", "/api/v2/projects"}, {"POST", "/docs"},
	} {
		if r := env.Do(c.method, c.path, `{"name":"x"}`, "Cookie", cookie); r.Status != 401 {
			t.Errorf("%s %s with only the docs cookie: %d", c.method, c.path, r.Status)
		}
	}
	if r := env.Do("GET", "/docs", nil, "Cookie", "maestro_docs=forged"); r.Status != 401 {
		t.Errorf("forged cookie: %d", r.Status)
	}
	// The bearer header keeps working on the docs too.
	if r := env.Do("GET", "/api/v2/openapi.json", nil, "Authorization", "Bearer "+token); r.Status != 200 {
		t.Errorf("openapi with the bearer: %d", r.Status)
	}
}

// TestDocsLogin_flagOff: with docs-login off, ?token= is no login and the cookie opens nothing.
func TestDocsLogin_flagOff(t *testing.T) {
	t.Parallel()
	const token = "0123456789abcdef0123"
	env := apitest.New(t, func(o *httpapi.Options) { o.APIToken = token })
	cookie := strings.SplitN(env.Do("GET", "/docs?token="+token, nil).Header.Get("Set-Cookie"), ";", 2)[0]
	if _, err := env.Flags.Set(context.Background(), "docs-login", false, flags.Origin{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if r := env.Do("GET", "/docs?token="+token, nil); r.Status != 401 {
		t.Errorf("login with the flag off: %d", r.Status)
	}
	if r := env.Do("GET", "/docs", nil, "Cookie", cookie); r.Status != 401 {
		t.Errorf("cookie with the flag off: %d", r.Status)
	}
}
