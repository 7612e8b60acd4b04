package v2_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

func TestProjectsV2_CRUD(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	seq := env.LastSeq()
	r := env.Do("POST", "/api/v2/projects", map[string]any{"name": "  Alpha ", "workingDir": "/src/a"})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	p := r.Object(t)
	id, _ := p["id"].(string)
	if p["name"] != "Alpha" || p["workingDir"] != "/src/a" || p["description"] != "" {
		t.Fatalf("%v", p)
	}
	if r.Header.Get("Location") != "/api/v2/projects/"+id || r.Header.Get("ETag") == "" || r.Header.Get("API-Version") != "2" {
		t.Fatalf("headers %v", r.Header)
	}
	env.Run(t, []apitest.Case{
		{Name: "create blank name", Method: "POST", Path: "/api/v2/projects", Body: map[string]any{"name": "  "}, Status: 422,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 422, "VALIDATION_ERROR") }},
		{Name: "create without name", Method: "POST", Path: "/api/v2/projects", Body: map[string]any{}, Status: 422},
		{Name: "create with unknown member", Method: "POST", Path: "/api/v2/projects", Body: map[string]any{"name": "x", "createdAt": 1}, Status: 422},
		{Name: "create malformed JSON", Method: "POST", Path: "/api/v2/projects", Body: `{"name":`, Status: 400,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 400, "VALIDATION_ERROR") }},
		{Name: "get", Method: "GET", Path: "/api/v2/projects/" + id, Status: 200},
		{Name: "get missing", Method: "GET", Path: "/api/v2/projects/proj_nope", Status: 404,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 404, "NOT_FOUND") }},
		{Name: "patch", Method: "PATCH", Path: "/api/v2/projects/" + id, Body: map[string]any{"description": "d"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				p := r.Object(t)
				if p["name"] != "Alpha" || p["description"] != "d" || p["workingDir"] != "/src/a" {
					t.Fatalf("%v", p)
				}
			}},
		{Name: "patch blank name", Method: "PATCH", Path: "/api/v2/projects/" + id, Body: map[string]any{"name": " "}, Status: 422},
		{Name: "put is not v2", Method: "PUT", Path: "/api/v2/projects/" + id, Body: map[string]any{"name": "x"}, Status: 404},
		{Name: "delete", Method: "DELETE", Path: "/api/v2/projects/" + id, Status: 204, Check: func(t *testing.T, r *apitest.Response) {
			if len(r.Body) != 0 {
				t.Fatalf("204 with a body: %s", r.Body)
			}
		}},
		{Name: "delete again", Method: "DELETE", Path: "/api/v2/projects/" + id, Status: 404},
	})
	if got := env.OutboxTypesSince(seq); mustJSON(got) != `["project:created","project:updated","project:deleted"]` {
		t.Fatalf("events %v", got)
	}
}

func TestProjectsV2_DeleteWithTasks(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("P")
	env.Task(p.ID, maestro.TaskCreate{})
	problem(t, env.Do("DELETE", "/api/v2/projects/"+p.ID, nil), 422, "BUSINESS_RULE_ERROR")
}

// TestProjectsV2_List pages through projects in both orders: every project exactly once, in order, and
// total only when asked.
func TestProjectsV2_List(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	var want []string
	for i := range 7 {
		want = append(want, env.Project(fmt.Sprint("P", i)).ID)
	}
	for _, sort := range []string{"createdAt", "-createdAt"} {
		var got []string
		path := "/api/v2/projects?limit=3&total=true&sort=" + sort
		pages := 0
		for {
			p := getPage(t, env, path)
			pages++
			if p.Total == nil || *p.Total != 7 {
				t.Fatalf("total = %v", p.Total)
			}
			got = append(got, p.ids()...)
			if p.NextCursor == nil {
				break
			}
			path = "/api/v2/projects?limit=3&total=true&sort=" + sort + "&cursor=" + *p.NextCursor
		}
		exp := slices.Clone(want)
		if sort == "-createdAt" {
			slices.Reverse(exp)
		}
		if pages != 3 || mustJSON(got) != mustJSON(exp) {
			t.Fatalf("sort %s: %d pages %v, want %v", sort, pages, got, exp)
		}
	}
	if p := getPage(t, env, "/api/v2/projects"); p.Total != nil || len(p.Items) != 7 || p.NextCursor != nil {
		t.Fatalf("default page: total %v, %d items", p.Total, len(p.Items))
	}
	for _, bad := range []string{"limit=0", "limit=501", "limit=x", "sort=name", "cursor=garbage", "total=maybe"} {
		problem(t, env.Do("GET", "/api/v2/projects?"+bad, nil), 422, "VALIDATION_ERROR")
	}
	// A cursor of one sort does not fit another.
	first := getPage(t, env, "/api/v2/projects?limit=2")
	problem(t, env.Do("GET", "/api/v2/projects?limit=2&sort=-createdAt&cursor="+*first.NextCursor, nil), 422, "VALIDATION_ERROR")
}
