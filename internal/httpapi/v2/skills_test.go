package v2_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/skills"
)

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// problem checks a v2 error: problem+json with status, code and requestId.
func wantProblem(status int, code maestro.Code) func(t *testing.T, r *apitest.Response) {
	return func(t *testing.T, r *apitest.Response) {
		t.Helper()
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("content type %q: %s", ct, r.Body)
		}
		b := r.Object(t)
		if b["status"] != float64(status) || b["code"] != string(code) || b["requestId"] == nil {
			t.Fatalf("problem %s", r.Body)
		}
	}
}

func TestSkillsAPI_V2(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "skills")
	writeFile(t, filepath.Join(root, "b-skill", "manifest.json"), `{
		"name":"B","version":"3.0.0","description":"bee","type":"custom","assignTo":["worker","orchestrator"],
		"capabilities":["x"],"dependencies":["a-skill"],"author":"Bo","license":"MIT","config":{"k":"v"}}`)
	writeFile(t, filepath.Join(root, "b-skill", "skill.md"), "B instructions")
	writeFile(t, filepath.Join(root, "a-skill", "manifest.json"), `{"name":"A"}`)
	writeFile(t, filepath.Join(root, "broken", "manifest.json"), `{"name":"broken","assignTo":"worker"}`)
	writeFile(t, filepath.Join(root, "nomanifest", "skill.md"), "x")
	l := skills.New(skills.Options{Dir: root})
	env := apitest.New(t, apitest.WithSkills(l))

	a := map[string]any{"id": "a-skill", "name": "A", "description": "", "type": "system", "version": "1.0.0",
		"assignTo": []any{}, "capabilities": []any{}, "dependencies": []any{}, "author": "", "license": "",
		"config": map[string]any{}}
	b := map[string]any{"id": "b-skill", "name": "B", "description": "bee", "type": "custom", "version": "3.0.0",
		"assignTo": []any{"worker", "orchestrator"}, "capabilities": []any{"x"}, "dependencies": []any{"a-skill"},
		"author": "Bo", "license": "MIT", "config": map[string]any{"k": "v"}}
	bFull := map[string]any{"instructions": "B instructions"}
	for k, v := range b {
		bFull[k] = v
	}
	equal := func(want any) func(t *testing.T, r *apitest.Response) {
		return func(t *testing.T, r *apitest.Response) {
			t.Helper()
			var got any
			r.Decode(t, &got)
			if !reflect.DeepEqual(got, want) {
				w, _ := json.Marshal(want)
				t.Fatalf("body\n got %s\nwant %s", r.Body, w)
			}
		}
	}

	env.Run(t, []apitest.Case{
		{Name: "list", Method: "GET", Path: "/api/v2/skills", Status: 200,
			Check: equal(map[string]any{"items": []any{a, b}, "nextCursor": nil})},
		{Name: "list via API-Version header", Method: "GET", Path: "/api/skills", Header: []string{"API-Version", "2"}, Status: 200,
			Check: equal(map[string]any{"items": []any{a, b}, "nextCursor": nil})},
		{Name: "get", Method: "GET", Path: "/api/v2/skills/b-skill", Status: 200, Check: equal(bFull)},
		{Name: "get absent", Method: "GET", Path: "/api/v2/skills/nope", Status: 404, Check: wantProblem(404, maestro.CodeNotFound)},
		{Name: "get invalid", Method: "GET", Path: "/api/v2/skills/broken", Status: 404, Check: func(t *testing.T, r *apitest.Response) {
			wantProblem(404, maestro.CodeNotFound)(t, r)
			if !strings.Contains(string(r.Body), "/assignTo: got string, want array") {
				t.Fatalf("reasons missing: %s", r.Body)
			}
		}},
		{Name: "get bad id", Method: "GET", Path: "/api/v2/skills/..%2Fetc", Status: 422, Check: wantProblem(422, maestro.CodeValidation)},
		{Name: "invalid", Method: "GET", Path: "/api/v2/skills/invalid", Status: 200, Check: equal(map[string]any{"items": []any{
			map[string]any{"id": "broken", "path": filepath.Join(root, "broken"),
				"errors": []any{"manifest.json: /assignTo: got string, want array"}},
			map[string]any{"id": "nomanifest", "path": filepath.Join(root, "nomanifest"),
				"errors": []any{"manifest.json is missing"}},
		}})},
	})
}

func TestSkillsAPI_V2Empty(t *testing.T) {
	t.Parallel()
	env := apitest.New(t) // no skills configured at all
	env.Run(t, []apitest.Case{
		{Name: "list", Method: "GET", Path: "/api/v2/skills", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			if strings.TrimSpace(string(r.Body)) != `{"items":[],"nextCursor":null}` {
				t.Fatalf("body %s", r.Body)
			}
		}},
		{Name: "invalid", Method: "GET", Path: "/api/v2/skills/invalid", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			if strings.TrimSpace(string(r.Body)) != `{"items":[]}` {
				t.Fatalf("body %s", r.Body)
			}
		}},
		{Name: "get", Method: "GET", Path: "/api/v2/skills/x", Status: 404, Check: wantProblem(404, maestro.CodeNotFound)},
		{Name: "v1 list", Method: "GET", Path: "/api/skills", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			if strings.TrimSpace(string(r.Body)) != `[]` {
				t.Fatalf("body %s", r.Body)
			}
		}},
	})
}
