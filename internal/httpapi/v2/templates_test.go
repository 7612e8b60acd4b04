package v2_test

import (
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
)

// TestTemplatesV2 covers the template operations with their ETag flows, idempotent create, the default
// templates' protection and the strict roles.
func TestTemplatesV2(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	seedTemplates(t, env)
	defaults := allPages(t, env, "/api/v2/templates?limit=1")
	if len(defaults) != 2 || defaults[0]["role"] != "worker" || defaults[1]["role"] != "orchestrator" || defaults[0]["isDefault"] != true {
		t.Fatalf("defaults %v", defaults)
	}
	seq := env.LastSeq()
	body := map[string]any{"name": "Mine", "role": "worker", "content": "Do ${TASK_TITLE}"}
	r := env.Do("POST", "/api/v2/templates", body, "Idempotency-Key", "tmpl-1")
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	tmpl := r.Object(t)
	id := tmpl["id"].(string)
	etag := r.Header.Get("ETag")
	if tmpl["isDefault"] != false || r.Header.Get("Location") != "/api/v2/templates/"+id || etag == "" {
		t.Fatalf("%s %v", r.Body, r.Header)
	}
	if again := env.Do("POST", "/api/v2/templates", body, "Idempotency-Key", "tmpl-1"); again.Status != 201 || string(again.Body) != string(r.Body) {
		t.Fatalf("retry: %d %s", again.Status, again.Body)
	}
	path := "/api/v2/templates/" + id
	worker := defaults[0]["id"].(string)
	env.Run(t, []apitest.Case{
		{Name: "list: one role, newest first", Method: "GET", Path: "/api/v2/templates?role=worker&sort=-createdAt&total=true", Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				var p page
				r.Decode(t, &p)
				if mustJSON(p.ids()) != mustJSON([]string{id, worker}) || *p.Total != 2 {
					t.Fatalf("%s", r.Body)
				}
			}},
		{Name: "list: bad role", Method: "GET", Path: "/api/v2/templates?role=admin", Status: 422},
		{Name: "create: bad role", Method: "POST", Path: "/api/v2/templates", Body: map[string]any{"name": "x", "role": "admin", "content": "c"}, Status: 422,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 422, "VALIDATION_ERROR") }},
		{Name: "create: empty content", Method: "POST", Path: "/api/v2/templates", Body: map[string]any{"name": "x", "role": "worker", "content": ""}, Status: 422},
		{Name: "create: isDefault is not an input", Method: "POST", Path: "/api/v2/templates", Body: map[string]any{"name": "x", "role": "worker", "content": "c", "isDefault": true}, Status: 422},
		{Name: "get: unchanged", Method: "GET", Path: path, Header: []string{"If-None-Match", etag}, Status: 304},
		{Name: "patch: stale If-Match", Method: "PATCH", Path: path, Header: []string{"If-Match", `"0"`}, Body: map[string]any{"name": "N"}, Status: 412,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 412, "PRECONDITION_FAILED") }},
		{Name: "patch: name", Method: "PATCH", Path: path, Header: []string{"If-Match", etag}, Body: map[string]any{"name": "Renamed"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				o := r.Object(t)
				if o["name"] != "Renamed" || o["content"] != "Do ${TASK_TITLE}" || r.Header.Get("ETag") == etag {
					t.Fatalf("%s", r.Body)
				}
			}},
		{Name: "get: changed", Method: "GET", Path: path, Header: []string{"If-None-Match", etag}, Status: 200},
		{Name: "patch: nothing to set", Method: "PATCH", Path: path, Body: map[string]any{}, Status: 422},
		{Name: "patch: blank name", Method: "PATCH", Path: path, Body: map[string]any{"name": ""}, Status: 422},
		{Name: "patch: role is immutable", Method: "PATCH", Path: path, Body: map[string]any{"role": "orchestrator"}, Status: 422},
		{Name: "put", Method: "PUT", Path: path, Body: map[string]any{"name": "Whole", "content": "New"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if o := r.Object(t); o["name"] != "Whole" || o["content"] != "New" || o["role"] != "worker" {
					t.Fatalf("%s", r.Body)
				}
			}},
		{Name: "put: content missing", Method: "PUT", Path: path, Body: map[string]any{"name": "Whole"}, Status: 422},
		{Name: "reset", Method: "POST", Path: path + "/reset", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			if o := r.Object(t); o["name"] != "Whole" || !strings.Contains(o["content"].(string), "${TASK_ID}") {
				t.Fatalf("%s", r.Body)
			}
		}},
		{Name: "reset: stale If-Match", Method: "POST", Path: path + "/reset", Header: []string{"If-Match", etag}, Status: 412},
		{Name: "by role", Method: "GET", Path: "/api/v2/templates/role/worker", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			if r.Object(t)["id"] != worker || r.Header.Get("ETag") == "" {
				t.Fatalf("%s", r.Body)
			}
		}},
		{Name: "by role: bad role", Method: "GET", Path: "/api/v2/templates/role/admin", Status: 422},
		{Name: "default content", Method: "GET", Path: "/api/v2/templates/default/orchestrator", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			if o := r.Object(t); o["role"] != "orchestrator" || o["content"] == "" {
				t.Fatalf("%s", r.Body)
			}
		}},
		{Name: "default content: bad role", Method: "GET", Path: "/api/v2/templates/default/admin", Status: 422},
		{Name: "delete a default", Method: "DELETE", Path: "/api/v2/templates/" + worker, Status: 422,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 422, "BUSINESS_RULE_ERROR") }},
		{Name: "delete: stale If-Match", Method: "DELETE", Path: path, Header: []string{"If-Match", etag}, Status: 412},
		{Name: "delete", Method: "DELETE", Path: path, Status: 204},
		{Name: "get: gone", Method: "GET", Path: path, Status: 404, Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 404, "NOT_FOUND") }},
		{Name: "patch: gone", Method: "PATCH", Path: path, Body: map[string]any{"name": "x"}, Status: 404},
	})
	want := `["template:created","template:updated","template:updated","template:reset","template:deleted"]`
	if got := mustJSON(env.OutboxTypesSince(seq)); got != want {
		t.Fatalf("events %s\nwant %s", got, want)
	}
}
