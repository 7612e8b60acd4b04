package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
)

// TestAPIVersionHeader covers header versioning on the unversioned /api path: absent or 1 is v1, 2 is
// v2, anything else is 400 UNSUPPORTED_API_VERSION (v1 shape, listing the supported versions); explicit
// /api/v1 and /api/v2 paths win over the header; and every response — errors, 404s, health, preflights —
// says which version answered.
func TestAPIVersionHeader(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("P")
	isV1List := func(t *testing.T, r *apitest.Response) {
		t.Helper()
		if !strings.HasPrefix(strings.TrimSpace(string(r.Body)), "[") {
			t.Fatalf("want a v1 array: %s", r.Body)
		}
	}
	isV2List := func(t *testing.T, r *apitest.Response) {
		t.Helper()
		if !strings.Contains(string(r.Body), `"items"`) {
			t.Fatalf("want a v2 page: %s", r.Body)
		}
	}
	cases := []struct {
		name, method, path string
		header             []string
		status             int
		version            string
		check              func(*testing.T, *apitest.Response)
	}{
		{"absent is v1", "GET", "/api/projects", nil, 200, "1", isV1List},
		{"1 is v1", "GET", "/api/projects", []string{"API-Version", "1"}, 200, "1", isV1List},
		{"1 with spaces", "GET", "/api/projects", []string{"API-Version", " 1 "}, 200, "1", isV1List},
		{"2 is v2", "GET", "/api/projects", []string{"API-Version", "2"}, 200, "2", isV2List},
		{"2 on a single resource", "GET", "/api/projects/" + p.ID, []string{"API-Version", "2"}, 200, "2",
			func(t *testing.T, r *apitest.Response) {
				if r.Header.Get("ETag") == "" {
					t.Fatal("v2 answers with an ETag")
				}
			}},
		{"2 error is problem+json", "GET", "/api/projects/nope", []string{"API-Version", "2"}, 404, "2",
			func(t *testing.T, r *apitest.Response) {
				if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
					t.Fatalf("content type %s", r.Header.Get("Content-Type"))
				}
			}},
		{"1 error is legacy", "GET", "/api/projects/nope", nil, 404, "1",
			func(t *testing.T, r *apitest.Response) {
				if o := r.Object(t); o["error"] != true || o["statusCode"] != float64(404) {
					t.Fatalf("%v", o)
				}
			}},
		{"2 where v2 has no such route", "POST", "/api/tasks/x/timeline", []string{"API-Version", "2"}, 404, "2", nil},
		{"explicit v1 path wins over header", "GET", "/api/v1/projects", []string{"API-Version", "2"}, 200, "1", isV1List},
		{"explicit v2 path wins over header", "GET", "/api/v2/projects", []string{"API-Version", "1"}, 200, "2", isV2List},
		{"explicit v2 path ignores a bad header", "GET", "/api/v2/projects", []string{"API-Version", "9"}, 200, "2", isV2List},
		{"health ignores the header", "GET", "/health", []string{"API-Version", "9"}, 200, "1", nil},
		{"unknown route", "GET", "/nope", nil, 404, "1", nil},
		{"unknown api route", "GET", "/api/nope", nil, 404, "1", nil},
		{"v2 unknown route", "GET", "/api/v2/nope", nil, 404, "2", nil},
		{"trailing slash", "GET", "/api/projects/", []string{"API-Version", "2"}, 200, "2", isV2List},
	}
	for _, bad := range []string{"3", "0", "v2", "2.0", "1,2", "latest", "-1", "１"} {
		cases = append(cases, struct {
			name, method, path string
			header             []string
			status             int
			version            string
			check              func(*testing.T, *apitest.Response)
		}{"unsupported " + bad, "POST", "/api/projects", []string{"API-Version", bad}, 400, "1",
			func(t *testing.T, r *apitest.Response) {
				o := r.Object(t)
				d, _ := o["details"].(map[string]any)
				if o["code"] != "UNSUPPORTED_API_VERSION" || o["error"] != true || o["statusCode"] != float64(400) ||
					o["requestId"] == "" || mustJSON(d["supported"]) != `["1","2"]` ||
					!strings.Contains(o["message"].(string), "1, 2") {
					t.Fatalf("%v", o)
				}
			}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(c.method, c.path, nil, c.header...)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d\n%s", r.Status, c.status, r.Body)
			}
			if got := r.Header.Get("API-Version"); got != c.version {
				t.Fatalf("API-Version %q, want %q", got, c.version)
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
	// A refused version created nothing.
	if r := env.Do("GET", "/api/projects", nil); len(r.Array(t)) != 1 {
		t.Fatalf("projects: %s", r.Body)
	}
}

// TestAPIVersionHeader_EarlyResponses checks that responses written before routing — a CORS preflight
// and a 401 — carry API-Version too, and that a 401 on v2 is a problem.
func TestAPIVersionHeader_EarlyResponses(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *httpapi.Options) {
		o.APIToken = "0123456789abcdef0123"
		o.CORSOrigins = []string{"http://localhost:*"}
	})
	r := env.Do("GET", "/api/tasks", nil, "API-Version", "2")
	if r.Status != 401 || r.Header.Get("API-Version") != "2" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("401: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := env.Do("GET", "/api/tasks", nil); r.Status != 401 || r.Header.Get("API-Version") != "1" {
		t.Fatalf("401 v1: %d %v", r.Status, r.Header)
	}
	req := httptest.NewRequest(http.MethodOptions, "/api/v2/tasks", nil)
	req.Header.Set("Origin", "http://localhost:1420")
	req.Header.Set("Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	env.Handler.ServeHTTP(w, req)
	if w.Code != 204 || w.Header().Get("API-Version") != "2" {
		t.Fatalf("preflight: %d %v", w.Code, w.Header())
	}
}
