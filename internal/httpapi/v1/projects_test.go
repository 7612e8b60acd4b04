package v1_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// prefixes are the two places v1 is served: the versioned path and the unversioned one real clients use.
var prefixes = []string{"/api/v1", "/api"}

func wantError(status int, code, message string) func(t *testing.T, r *apitest.Response) {
	return func(t *testing.T, r *apitest.Response) {
		t.Helper()
		b := r.Object(t)
		if b["error"] != true || b["statusCode"] != float64(status) || b["code"] != code {
			t.Fatalf("error body %v, want status %d code %s", b, status, code)
		}
		if message != "" && b["message"] != message {
			t.Fatalf("message %q, want %q", b["message"], message)
		}
		if id, _ := b["requestId"].(string); id == "" || id != r.Header.Get("X-Request-ID") {
			t.Fatalf("requestId %q does not match X-Request-ID %q", b["requestId"], r.Header.Get("X-Request-ID"))
		}
	}
}

func TestProjectsAPI(t *testing.T) {
	t.Parallel()
	for _, prefix := range prefixes {
		t.Run(strings.TrimPrefix(prefix, "/"), func(t *testing.T) {
			t.Parallel()
			env := apitest.New(t)
			var id string
			var created maestro.Project
			env.Run(t, []apitest.Case{
				{Name: "list empty", Method: "GET", Path: prefix + "/projects", Status: 200,
					Check: func(t *testing.T, r *apitest.Response) {
						if string(r.Body) != "[]\n" && string(r.Body) != "[]" {
							t.Fatalf("body %q, want []", r.Body)
						}
					}},
				{Name: "create trims name, ignores extra keys, defaults fields", Method: "POST", Path: prefix + "/projects",
					Body: map[string]any{"name": "  Alpha  ", "extra": 1, "createdAt": 5, "updatedAt": 6}, Status: 201,
					Check: func(t *testing.T, r *apitest.Response) {
						r.Decode(t, &created)
						id = created.ID
						b := r.Object(t)
						if created.Name != "Alpha" || created.WorkingDir != "" || created.Description != "" {
							t.Fatalf("created %+v", created)
						}
						if !strings.HasPrefix(id, "proj_") || created.CreatedAt == 5 || b["extra"] != nil || b["$schema"] != nil {
							t.Fatalf("body %s", r.Body)
						}
						if len(b) != 6 {
							t.Fatalf("project has %d keys, want exactly 6: %s", len(b), r.Body)
						}
					}},
				{Name: "create without name", Method: "POST", Path: prefix + "/projects", Body: map[string]any{"description": "x"},
					Status: 400, Check: wantError(400, "VALIDATION_ERROR", "Project name is required")},
				{Name: "create blank name", Method: "POST", Path: prefix + "/projects", Body: map[string]any{"name": "   "},
					Status: 400, Check: wantError(400, "VALIDATION_ERROR", "Project name is required")},
				{Name: "create null name", Method: "POST", Path: prefix + "/projects", Body: `{"name":null}`,
					Status: 400, Check: wantError(400, "VALIDATION_ERROR", "Project name is required")},
				{Name: "create non-string name names the field (D10)", Method: "POST", Path: prefix + "/projects",
					Body: map[string]any{"name": 5}, Status: 400, Check: func(t *testing.T, r *apitest.Response) {
						wantError(400, "VALIDATION_ERROR", "")(t, r)
						if !strings.Contains(r.Object(t)["message"].(string), "name") {
							t.Fatalf("message does not name the field: %s", r.Body)
						}
					}},
				{Name: "create with empty body is {} (D8)", Method: "POST", Path: prefix + "/projects", Status: 400,
					Check: wantError(400, "VALIDATION_ERROR", "Project name is required")},
				{Name: "malformed JSON (D8)", Method: "POST", Path: prefix + "/projects", Body: `{"name":`, Status: 400,
					Check: wantError(400, "VALIDATION_ERROR", "")},
				{Name: "name too long (D19)", Method: "POST", Path: prefix + "/projects",
					Body: map[string]any{"name": strings.Repeat("n", maestro.MaxNameChars+1)}, Status: 400,
					Check: wantError(400, "VALIDATION_ERROR", "")},
				{Name: "list one", Method: "GET", Path: prefix + "/projects", Status: 200,
					Check: func(t *testing.T, r *apitest.Response) {
						if a := r.Array(t); len(a) != 1 {
							t.Fatalf("%d projects", len(a))
						}
					}},
			})
			env.Run(t, []apitest.Case{
				{Name: "get", Method: "GET", Path: prefix + "/projects/" + id, Status: 200},
				{Name: "get missing", Method: "GET", Path: prefix + "/projects/proj_nope", Status: 404,
					Check: wantError(404, "NOT_FOUND", "Project with id 'proj_nope' not found")},
				{Name: "put merges known keys only (D15), trims (D26)", Method: "PUT", Path: prefix + "/projects/" + id,
					Body: map[string]any{"name": " Beta ", "workingDir": "/w", "foo": "bar"}, Status: 200,
					Check: func(t *testing.T, r *apitest.Response) {
						var p maestro.Project
						r.Decode(t, &p)
						if p.Name != "Beta" || p.WorkingDir != "/w" || p.Description != "" || p.UpdatedAt <= created.UpdatedAt {
							t.Fatalf("updated %+v", p)
						}
						if r.Object(t)["foo"] != nil {
							t.Fatal("unknown key stored")
						}
					}},
				{Name: "put blank name", Method: "PUT", Path: prefix + "/projects/" + id, Body: map[string]any{"name": ""},
					Status: 400, Check: wantError(400, "VALIDATION_ERROR", "")},
				{Name: "put missing", Method: "PUT", Path: prefix + "/projects/proj_nope", Body: map[string]any{"name": "x"},
					Status: 404, Check: wantError(404, "NOT_FOUND", "")},
				{Name: "put with empty body still bumps updatedAt", Method: "PUT", Path: prefix + "/projects/" + id, Status: 200},
			})

			// A project with tasks, then with sessions only, cannot be deleted (422).
			task := env.Task(id, maestro.TaskCreate{})
			env.Run(t, []apitest.Case{
				{Name: "delete with tasks", Method: "DELETE", Path: prefix + "/projects/" + id, Status: 422,
					Check: wantError(422, "BUSINESS_RULE_ERROR", "Cannot delete project with existing tasks")},
			})
			if r := env.Do("DELETE", prefix+"/tasks/"+task.ID, nil); r.Status != 200 {
				t.Fatalf("delete task: %d %s", r.Status, r.Body)
			}
			seq := env.LastSeq()
			env.Run(t, []apitest.Case{
				{Name: "delete", Method: "DELETE", Path: prefix + "/projects/" + id, Status: 200,
					Check: func(t *testing.T, r *apitest.Response) {
						b := r.Object(t)
						if b["success"] != true || b["id"] != id {
							t.Fatalf("body %v", b)
						}
					}},
				{Name: "delete again", Method: "DELETE", Path: prefix + "/projects/" + id, Status: 404},
			})
			if got := env.OutboxTypesSince(seq); strings.Join(got, ",") != "project:deleted" {
				t.Fatalf("events %v", got)
			}
			evs := env.Outbox()
			if evs[0].Type != maestro.EventProjectCreated {
				t.Fatalf("first event %s", evs[0].Type)
			}
		})
	}
}

func TestProjectsAPI_EventsCarryTheRequestID(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	r := env.Do(http.MethodPost, "/api/projects", map[string]any{"name": "x"}, "X-Request-ID", "req-123")
	if r.Status != 201 || r.Header.Get("X-Request-ID") != "req-123" {
		t.Fatalf("%d %v", r.Status, r.Header)
	}
	evs := env.Outbox()
	if len(evs) != 1 || evs[0].RequestID != "req-123" {
		t.Fatalf("events %+v", evs)
	}
	if pub := env.Published.Events(); len(pub) != 1 || pub[0].Seq != evs[0].Seq {
		t.Fatalf("published %+v", pub)
	}
}
