package v2_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
	_ "modernc.org/sqlite"
)

func TestFlagsAPI(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	var etag string
	env.Run(t, []apitest.Case{
		{Name: "list", Method: "GET", Path: "/api/v2/flags", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			var body struct{ Items []map[string]any }
			r.Decode(t, &body)
			if len(body.Items) != len(flags.Definitions()) || len(body.Items) < 8 {
				t.Fatalf("%d flags", len(body.Items))
			}
			for _, f := range body.Items {
				if f["enabled"] != true || f["default"] != true || f["source"] != "default" || f["type"] != "boolean" ||
					f["updatedAt"] != nil || f["updatedBy"] != nil || f["description"] == "" {
					t.Errorf("flag %v", f)
				}
			}
		}},
		{Name: "get", Method: "GET", Path: "/api/v2/flags/task-search", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			etag = r.Header.Get("ETag")
			if etag == "" || r.Object(t)["key"] != "task-search" {
				t.Fatalf("%v %s", r.Header, r.Body)
			}
		}},
		{Name: "get unknown", Method: "GET", Path: "/api/v2/flags/dark-mode", Status: 404, Check: func(t *testing.T, r *apitest.Response) {
			problem(t, r, 404, "NOT_FOUND")
		}},
		{Name: "put without enabled", Method: "PUT", Path: "/api/v2/flags/task-search", Body: map[string]any{}, Status: 422},
		{Name: "put wrong type", Method: "PUT", Path: "/api/v2/flags/task-search", Body: map[string]any{"enabled": "no"}, Status: 422},
		{Name: "put unknown member", Method: "PUT", Path: "/api/v2/flags/task-search", Body: map[string]any{"enabled": false, "x": 1}, Status: 422},
		{Name: "put unknown flag", Method: "PUT", Path: "/api/v2/flags/dark-mode", Body: map[string]any{"enabled": false}, Status: 404},
		{Name: "put off", Method: "PUT", Path: "/api/v2/flags/task-search", Body: map[string]any{"enabled": false}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				f := r.Object(t)
				if f["enabled"] != false || f["source"] != "db" || f["updatedBy"] != "api:anonymous" || f["updatedAt"] == nil {
					t.Fatalf("%v", f)
				}
				if r.Header.Get("ETag") == etag {
					t.Fatal("ETag did not change")
				}
			}},
		{Name: "put with stale If-Match", Method: "PUT", Path: "/api/v2/flags/task-search", Body: map[string]any{"enabled": true},
			Header: []string{"If-Match", `"stale"`}, Status: 412},
		{Name: "delete = unset", Method: "DELETE", Path: "/api/v2/flags/task-search", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			f := r.Object(t)
			if f["enabled"] != true || f["source"] != "default" || f["updatedBy"] != nil {
				t.Fatalf("%v", f)
			}
			if r.Header.Get("ETag") != etag {
				t.Fatal("back at the default, the ETag should be the default's again")
			}
		}},
	})
	if r := env.Do("GET", "/api/v2/flags/task-search", nil, "If-None-Match", etag); r.Status != 304 || len(r.Body) != 0 {
		t.Fatalf("If-None-Match: %d %s", r.Status, r.Body)
	}

	// Every change: one flag:updated in the outbox, and an audit row with old and new value.
	var types []string
	for _, ev := range env.Outbox() {
		types = append(types, ev.Type)
	}
	if mustJSON(types) != `["flag:updated","flag:updated"]` {
		t.Fatalf("outbox = %v", types)
	}
	var p maestro.FlagUpdatedPayload
	if err := json.Unmarshal(env.Outbox()[0].Data, &p); err != nil || p.Key != "task-search" || p.Enabled || p.UpdatedBy != "api:anonymous" {
		t.Fatalf("payload %+v %v", p, err)
	}
	raw, err := sql.Open("sqlite", store.DSN(env.Store.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT method, route, entity_id, status, request_id, detail FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var method, route, entity, reqID, detail string
		var status int
		if err := rows.Scan(&method, &route, &entity, &status, &reqID, &detail); err != nil {
			t.Fatal(err)
		}
		if reqID == "" || status != 200 || route != "/api/v2/flags/{key}" || entity != "task-search" {
			t.Errorf("audit row %s %s %s %d %q", method, route, entity, status, reqID)
		}
		got = append(got, method+" "+detail)
	}
	want := []string{
		`PUT {"flag":"task-search","old":{"enabled":true,"source":"default"},"new":{"enabled":false,"source":"db"}}`,
		`DELETE {"flag":"task-search","old":{"enabled":false,"source":"db"},"new":{"enabled":true,"source":"default"}}`,
	}
	if mustJSON(got) != mustJSON(want) {
		t.Fatalf("audit = %v", got)
	}
}

// TestFlag_APIV2 checks the api-v2 gate: off, every v2 endpoint but flags (and admin, health) answers
// 404 FEATURE_DISABLED naming the flag — through /api/v2 and through API-Version: 2 — and v1 is
// untouched; back on, everything answers again.
func TestFlag_APIV2(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	proj := env.Project("P")
	task := env.Task(proj.ID, maestro.TaskCreate{})
	gated := []struct{ method, path string }{
		{"GET", "/api/v2/projects"}, {"POST", "/api/v2/projects"}, {"GET", "/api/v2/projects/" + proj.ID},
		{"PATCH", "/api/v2/projects/" + proj.ID}, {"DELETE", "/api/v2/projects/" + proj.ID},
		{"GET", "/api/v2/tasks"}, {"POST", "/api/v2/tasks"}, {"GET", "/api/v2/tasks/" + task.ID},
		{"GET", "/api/v2/tasks/" + task.ID + "/children"}, {"PATCH", "/api/v2/tasks/" + task.ID},
		{"DELETE", "/api/v2/tasks/" + task.ID},
	}
	count := func() int {
		t.Helper()
		ts, err := env.Services.Tasks.List(context.Background(), maestro.TaskFilter{})
		ps, err2 := env.Services.Projects.List(context.Background())
		if err != nil || err2 != nil {
			t.Fatal(err, err2)
		}
		return len(ts) + len(ps)
	}
	for _, on := range []bool{true, false, true} {
		if r := env.Do("PUT", "/api/v2/flags/api-v2", map[string]any{"enabled": on}); r.Status != 200 {
			t.Fatalf("toggle: %d %s", r.Status, r.Body)
		}
		before := count()
		for _, g := range gated {
			r := env.Do(g.method, g.path, map[string]any{"projectId": proj.ID, "title": "x", "name": "x"})
			if on {
				if r.Status == 404 && r.Object(t)["code"] == "FEATURE_DISABLED" {
					t.Errorf("%s %s gated while api-v2 is on", g.method, g.path)
				}
				continue
			}
			p := problem(t, r, 404, "FEATURE_DISABLED")
			if d, _ := p["details"].(map[string]any); d["flag"] != "api-v2" {
				t.Errorf("%s %s: details = %v", g.method, g.path, p["details"])
			}
		}
		// The unversioned path with API-Version: 2 is v2 too.
		r := env.Do("GET", "/api/tasks", nil, "API-Version", "2")
		if on != (r.Status == 200) {
			t.Errorf("API-Version: 2 with api-v2 %v: %d %s", on, r.Status, r.Body)
		}
		// Never gated: the flags, v1.
		if r := env.Do("GET", "/api/v2/flags", nil); r.Status != 200 {
			t.Errorf("flags list gated: %d", r.Status)
		}
		if r := env.Do("GET", "/api/tasks", nil); r.Status != 200 {
			t.Errorf("v1 gated: %d", r.Status)
		}
		// While off, no request reached a handler: nothing was created or deleted.
		if !on && count() != before {
			t.Errorf("gated requests changed data: %d rows before, %d after", before, count())
		}
	}
}

// TestFlag_TaskSearch checks the task-search gate on q: off → 404 FEATURE_DISABLED naming the flag;
// lists without q keep working; on again → search answers.
func TestFlag_TaskSearch(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	proj := env.Project("P")
	env.Task(proj.ID, maestro.TaskCreate{Title: "Fix login"})
	if p := getPage(t, env, "/api/v2/tasks?q=login"); len(p.Items) != 1 {
		t.Fatalf("search on: %v", p.ids())
	}
	if r := env.Do("PUT", "/api/v2/flags/task-search", map[string]any{"enabled": false}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	p := problem(t, env.Do("GET", "/api/v2/tasks?q=login", nil), 404, "FEATURE_DISABLED")
	if d, _ := p["details"].(map[string]any); d["flag"] != "task-search" {
		t.Fatalf("details = %v", p["details"])
	}
	if p := getPage(t, env, "/api/v2/tasks"); len(p.Items) != 1 {
		t.Fatal("a list without q must not be gated")
	}
	if r := env.Do("DELETE", "/api/v2/flags/task-search", nil); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if p := getPage(t, env, "/api/v2/tasks?q=login"); len(p.Items) != 1 {
		t.Fatal("search back on")
	}
}

// TestFlags_WSFlagsReachSubscribers checks what the WebSocket layer builds on: a change of ws-streaming
// or ws-replay through the API reaches OnChange subscribers before the response.
func TestFlags_WSFlagsReachSubscribers(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	got := make(chan string, 8)
	defer env.Flags.OnChange(func(c flags.Change) {
		state := "off"
		if c.Enabled {
			state = "on"
		}
		got <- string(c.Key) + "=" + state
	})()
	for _, step := range []struct {
		method, key string
		want        string
	}{{"PUT", "ws-streaming", "ws-streaming=off"}, {"PUT", "ws-replay", "ws-replay=off"}, {"DELETE", "ws-streaming", "ws-streaming=on"}} {
		var body any
		if step.method == "PUT" {
			body = map[string]any{"enabled": false}
		}
		if r := env.Do(step.method, "/api/v2/flags/"+step.key, body); r.Status != 200 {
			t.Fatal(r.Status)
		}
		select {
		case c := <-got:
			if c != step.want {
				t.Fatalf("got %s, want %s", c, step.want)
			}
		default:
			t.Fatalf("%s %s: subscribers not told before the response", step.method, step.key)
		}
	}
}
