package v2_test

import (
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestETags runs the conditional request flows on tasks and projects: GET gives an ETag, If-None-Match
// with it answers 304 without a body, a change moves the ETag, If-Match with the old one answers 412 and
// changes nothing, If-Match with the current one (or *) succeeds, weak tags never satisfy If-Match.
func TestETags(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"tasks", "projects"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			env := apitest.New(t)
			proj := env.Project("P")
			path := "/api/v2/projects/" + proj.ID
			patch := map[string]any{"description": "changed"}
			if kind == "tasks" {
				path = "/api/v2/tasks/" + env.Task(proj.ID, maestro.TaskCreate{}).ID
			}
			r := env.Do("GET", path, nil)
			etag := r.Header.Get("ETag")
			if r.Status != 200 || len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
				t.Fatalf("GET: %d, ETag %q (want a strong, quoted tag)", r.Status, etag)
			}
			if again := env.Do("GET", path, nil).Header.Get("ETag"); again != etag {
				t.Fatalf("ETag not stable: %s then %s", etag, again)
			}
			for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
				r := env.Do("GET", path, nil, "If-None-Match", inm)
				if r.Status != 304 || len(r.Body) != 0 || r.Header.Get("ETag") != etag {
					t.Fatalf("If-None-Match %s: %d %q %s", inm, r.Status, r.Header.Get("ETag"), r.Body)
				}
			}
			if r := env.Do("GET", path, nil, "If-None-Match", `"other"`); r.Status != 200 {
				t.Fatalf("non-matching If-None-Match: %d", r.Status)
			}

			// A matching If-Match lets the PATCH through and the ETag moves.
			r = env.Do("PATCH", path, patch, "If-Match", etag)
			if r.Status != 200 {
				t.Fatalf("PATCH with current If-Match: %d %s", r.Status, r.Body)
			}
			newTag := r.Header.Get("ETag")
			if newTag == etag || env.Do("GET", path, nil).Header.Get("ETag") != newTag {
				t.Fatalf("ETag after change: %s (was %s)", newTag, etag)
			}
			// The old ETag no longer matches: 412, and nothing changes.
			seq := env.LastSeq()
			p := problem(t, env.Do("PATCH", path, map[string]any{"description": "lost update"}, "If-Match", etag), 412, "PRECONDITION_FAILED")
			if d, _ := p["details"].(map[string]any); d["etag"] != newTag {
				t.Errorf("412 details = %v, want the current etag", p["details"])
			}
			if env.LastSeq() != seq || env.Do("GET", path, nil).Object(t)["description"] != "changed" {
				t.Fatal("a refused PATCH changed something")
			}
			problem(t, env.Do("PATCH", path, patch, "If-Match", "W/"+newTag), 412, "PRECONDITION_FAILED")
			problem(t, env.Do("DELETE", path, nil, "If-Match", etag), 412, "PRECONDITION_FAILED")
			if r := env.Do("PATCH", path, patch, "If-Match", `"x", `+newTag); r.Status != 200 {
				t.Fatalf("If-Match list with the current tag: %d", r.Status)
			}
			if r := env.Do("PATCH", path, patch, "If-Match", "*"); r.Status != 200 {
				t.Fatalf("If-Match *: %d", r.Status)
			}
			cur := env.Do("GET", path, nil).Header.Get("ETag")
			if kind == "projects" {
				// The project still has its task-less state; delete it conditionally.
				if r := env.Do("DELETE", path, nil, "If-Match", cur); r.Status != 204 {
					t.Fatalf("DELETE with current If-Match: %d %s", r.Status, r.Body)
				}
			} else if r := env.Do("DELETE", path, nil, "If-Match", cur); r.Status != 204 {
				t.Fatalf("DELETE with current If-Match: %d %s", r.Status, r.Body)
			}
			if r := env.Do("GET", path, nil); r.Status != 404 {
				t.Fatalf("after delete: %d", r.Status)
			}
		})
	}
}

// TestETag_ChangesWithLinks checks that a change the task's own PATCH did not make (a dependency being
// deleted) still moves its ETag, so If-Match protects against it.
func TestETag_ChangesWithDependencyDelete(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	proj := env.Project("P")
	dep := env.Task(proj.ID, maestro.TaskCreate{Title: "dep"})
	r := env.Do("POST", "/api/v2/tasks", map[string]any{"projectId": proj.ID, "title": "t", "dependencies": []string{dep.ID}})
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	tag := r.Header.Get("ETag")
	path := "/api/v2/tasks/" + r.Object(t)["id"].(string)
	if r := env.Do("DELETE", "/api/v2/tasks/"+dep.ID, nil); r.Status != 204 {
		t.Fatal(r.Status)
	}
	r = env.Do("GET", path, nil)
	if r.Header.Get("ETag") == tag || mustJSON(r.Object(t)["dependencies"]) != "[]" {
		t.Fatalf("after its dependency was deleted: ETag %s (was %s), %s", r.Header.Get("ETag"), tag, r.Body)
	}
	problem(t, env.Do("PATCH", path, map[string]any{"title": "x"}, "If-Match", tag), 412, "PRECONDITION_FAILED")
}
