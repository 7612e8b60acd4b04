package v2_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
)

// richProject builds a project with everything an export carries: a task tree with dependencies, a
// session created through v2 and one spawned by it (queue strategy, with its queue moved along), links
// whose two sides are in different orders, timeline and event entries (one appended verbatim through
// v1), values only v1 accepts, and links to another project that the export must leave out.
func richProject(t *testing.T, env *apitest.Env) (projectID string, ids map[string]string) {
	t.Helper()
	seedTemplates(t, env)
	p := create(t, env, "/api/v2/projects", map[string]any{"name": "Rich", "workingDir": "/src/rich", "description": "d"})["id"].(string)
	other := create(t, env, "/api/v2/projects", map[string]any{"name": "Other"})["id"].(string)
	task := func(body map[string]any) string {
		body["projectId"] = p
		return create(t, env, "/api/v2/tasks", body)["id"].(string)
	}
	r1 := task(map[string]any{"title": "root", "priority": "high", "initialPrompt": "go", "skillIds": []string{"go"}})
	c1 := task(map[string]any{"title": "child", "parentId": r1})
	r2 := task(map[string]any{"title": "second", "dependencies": []string{r1, c1}})
	x := create(t, env, "/api/v2/tasks", map[string]any{"projectId": other, "title": "elsewhere"})["id"].(string)

	s1 := create(t, env, "/api/v2/sessions", map[string]any{"projectId": p, "taskIds": []string{r2, r1}, "name": "lead",
		"agentId": "claude", "env": map[string]string{"K": "v"}, "metadata": map[string]any{"note": "n"}})["id"].(string)
	s2 := create(t, env, "/api/v2/sessions/spawn", map[string]any{"projectId": p, "taskIds": []string{r1, c1},
		"strategy": "queue", "spawnSource": "session", "sessionId": s1, "skills": []string{"go"}})["sessionId"].(string)
	must := func(r *apitest.Response, status int) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	must(env.Do("POST", "/api/v2/sessions/"+s2+"/queue/start", nil), 200)
	must(env.Do("POST", "/api/v2/sessions/"+s2+"/queue/fail", map[string]any{"reason": "red"}), 200)
	// The task side in another order than the session side.
	must(env.Do("PATCH", "/api/v2/tasks/"+r1, map[string]any{"sessionIds": []string{s2, s1}}), 200)
	must(env.Do("POST", "/api/v2/sessions/"+s1+"/timeline",
		`{"message": "about the child", "type": "milestone", "taskId": "`+c1+`", "metadata": {"b": 1, "a": 2}}`), 201)
	must(env.Do("POST", "/api/v2/sessions/"+s2+"/events", map[string]any{"type": "file_modified", "data": map[string]any{"file": "x.go"}}), 201)
	// v1 stores what v2 would refuse: an entry without id, a status outside the enums.
	must(env.Do("PATCH", "/api/sessions/"+s1, map[string]any{"status": "paused", "timeline": []any{map[string]any{"type": "note", "text": "raw"}}}), 200)
	must(env.Do("PATCH", "/api/tasks/"+c1, map[string]any{"status": "pending"}), 200)
	// Links that leave the project: s1 to another project's task, and another project's session to r1.
	must(env.Do("PUT", "/api/v2/sessions/"+s1+"/tasks/"+x, nil), 200)
	s3 := create(t, env, "/api/v2/sessions", map[string]any{"projectId": other, "taskIds": []string{r1}})["id"].(string)
	return p, map[string]string{"r1": r1, "c1": c1, "r2": r2, "x": x, "s1": s1, "s2": s2, "s3": s3, "other": other}
}

// export GETs a project's export and returns its raw body and its decoded document.
func export(t *testing.T, env *apitest.Env, projectID string) ([]byte, map[string]any) {
	t.Helper()
	r := env.Do("GET", "/api/v2/projects/"+projectID+"/export", nil)
	if r.Status != 200 {
		t.Fatalf("export: %d %s", r.Status, r.Body)
	}
	return r.Body, r.Object(t)
}

// comparable drops what legitimately differs between two exports of the same data (when they were taken,
// and the references to other projects, which an import never brings along) and canonicalises the JSON.
func comparable(t *testing.T, doc map[string]any) string {
	t.Helper()
	c := map[string]any{}
	for k, v := range doc {
		c[k] = v
	}
	delete(c, "exportedAt")
	delete(c, "omitted")
	return mustJSON(c)
}

type importResult struct {
	Project map[string]any    `json:"project"`
	IDs     string            `json:"ids"`
	IDMap   map[string]string `json:"idMap"`
	Counts  map[string]int    `json:"counts"`
}

// TestProjectExportImport_RoundTrip: export, import with new ids, export again: the same document but
// for the ids (every reference rewritten consistently); import with kept ids into a fresh database,
// export: the same document. Also the events of an import, 409 for kept ids already there, and an
// idempotent import.
func TestProjectExportImport_RoundTrip(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p, ids := richProject(t, env)
	raw, doc := export(t, env, p)

	// The document itself.
	if doc["format"] != "maestro.project-export" || doc["version"] != float64(1) || len(doc["tasks"].([]any)) != 3 ||
		len(doc["sessions"].([]any)) != 2 || len(doc["queues"].([]any)) != 1 {
		t.Fatalf("document %s", raw)
	}
	wantOmitted := []any{
		map[string]any{"kind": "link", "from": ids["r1"], "to": ids["s3"]},
		map[string]any{"kind": "link", "from": ids["s1"], "to": ids["x"]},
	}
	if got := mustJSON(doc["omitted"]); got != mustJSON(wantOmitted) {
		t.Fatalf("omitted %s\nwant %s", got, mustJSON(wantOmitted))
	}
	sessions := doc["sessions"].([]any)
	s1 := sessions[0].(map[string]any)
	if mustJSON(s1["taskIds"]) != mustJSON([]string{ids["r2"], ids["r1"]}) || s1["status"] != "paused" ||
		len(s1["timeline"].([]any)) != 6 || !strings.Contains(string(raw), `"metadata":{"b":1,"a":2}`) ||
		!strings.Contains(string(raw), `{"text":"raw","type":"note"}`) {
		t.Fatalf("session s1 %s", mustJSON(s1))
	}
	r1 := doc["tasks"].([]any)[0].(map[string]any)
	if mustJSON(r1["sessionIds"]) != mustJSON([]string{ids["s2"], ids["s1"]}) {
		t.Fatalf("task r1 sessionIds %v", r1["sessionIds"])
	}

	// Import with new ids, into the same database.
	seq := env.LastSeq()
	r := env.Do("POST", "/api/v2/projects/import", raw)
	if r.Status != 201 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	var res importResult
	r.Decode(t, &res)
	newID := res.Project["id"].(string)
	if res.IDs != "new" || newID == p || res.IDMap[p] != newID || len(res.IDMap) != 6 || r.Header.Get("Location") != "/api/v2/projects/"+newID ||
		mustJSON(res.Counts) != `{"events":1,"links":4,"queueItems":2,"queues":1,"sessions":2,"tasks":3,"timeline":9}` {
		t.Fatalf("import result %s %v", r.Body, r.Header)
	}
	want := []string{"project:created", "task:created", "task:created", "task:created", "session:created", "session:created", "queue:created"}
	if got := env.OutboxTypesSince(seq); mustJSON(got) != mustJSON(want) {
		t.Fatalf("import events %v", got)
	}
	raw2, doc2 := export(t, env, newID)
	// No reference to an old id is left. env (how an agent was started) and names (text, such as "Worker for
	// task_…") are kept as they were.
	withoutEnv := map[string]any{}
	if err := json.Unmarshal(raw2, &withoutEnv); err != nil {
		t.Fatal(err)
	}
	for _, s := range withoutEnv["sessions"].([]any) {
		delete(s.(map[string]any), "env")
		delete(s.(map[string]any), "name")
	}
	for from := range res.IDMap {
		if strings.Contains(mustJSON(withoutEnv), from) {
			t.Errorf("the copy still names %s: %s", from, mustJSON(withoutEnv))
		}
	}
	// Map the new ids back: the result must be the first export, byte for byte once canonical.
	back := string(raw2)
	for from, to := range res.IDMap {
		if from == to || strings.Contains(string(raw), to) {
			t.Fatalf("id %s was not renewed (%s)", from, to)
		}
		back = strings.ReplaceAll(back, to, from)
	}
	var docBack map[string]any
	if err := json.Unmarshal([]byte(back), &docBack); err != nil {
		t.Fatal(err)
	}
	if got, want := comparable(t, docBack), comparable(t, doc); got != want {
		t.Fatalf("export after import with new ids differs:\n%s\nwant\n%s", got, want)
	}
	// The copy is searchable (the full-text index follows the import).
	if found := getPage(t, env, "/api/v2/tasks?q=child&projectId="+newID); len(found.Items) != 1 || found.Items[0]["id"] != res.IDMap[ids["c1"]] {
		t.Fatalf("search in the copy: %v", found.Items)
	}
	if mustJSON(doc2["omitted"]) != "[]" {
		t.Fatalf("the copy has omitted references: %v", doc2["omitted"])
	}
	// The copy's spawned session names the copy of its parent.
	if meta := doc2["sessions"].([]any)[1].(map[string]any)["metadata"].(map[string]any); meta["spawnedBy"] != res.IDMap[ids["s1"]] {
		t.Fatalf("spawnedBy %v", meta["spawnedBy"])
	}

	// Keep ids, in the same database: every id is taken.
	seq = env.LastSeq()
	pr := problem(t, env.Do("POST", "/api/v2/projects/import?ids=keep", raw), 409, "CONFLICT")
	if n := pr["details"].(map[string]any)["count"]; n != float64(6) || !strings.Contains(pr["detail"].(string), p) {
		t.Fatalf("%v", pr)
	}
	if env.LastSeq() != seq || countProjects(t, env) != 3 {
		t.Fatal("a refused import stored something")
	}

	// Keep ids, into a fresh database: the same document again.
	fresh := apitest.New(t)
	r = fresh.Do("POST", "/api/v2/projects/import?ids=keep", raw)
	if r.Status != 201 {
		t.Fatalf("import keep: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &res)
	if res.IDs != "keep" || res.IDMap[ids["s2"]] != ids["s2"] || res.Project["id"] != p {
		t.Fatalf("%s", r.Body)
	}
	_, doc3 := export(t, fresh, p)
	if got, want := comparable(t, doc3), comparable(t, doc); got != want {
		t.Fatalf("export after import with kept ids differs:\n%s\nwant\n%s", got, want)
	}
	// What was imported works: the queue goes on, the session takes entries.
	if r := fresh.Do("POST", "/api/v2/sessions/"+ids["s2"]+"/queue/start", nil); r.Status != 200 ||
		r.Object(t)["item"].(map[string]any)["taskId"] != ids["c1"] {
		t.Fatalf("queue after import: %d %s", r.Status, r.Body)
	}

	// An Idempotency-Key makes a retried import import once.
	before := countProjects(t, fresh)
	a := fresh.Do("POST", "/api/v2/projects/import", raw, "Idempotency-Key", "imp-1")
	b := fresh.Do("POST", "/api/v2/projects/import", raw, "Idempotency-Key", "imp-1")
	if a.Status != 201 || b.Status != 201 || string(a.Body) != string(b.Body) || b.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("idempotent import: %d / %d %v", a.Status, b.Status, b.Header)
	}
	if n := countProjects(t, fresh); n != before+1 {
		t.Fatalf("%d projects, want %d", n, before+1)
	}
	problem(t, fresh.Do("GET", "/api/v2/projects/proj_x/export", nil), 404, "NOT_FOUND")
}

// TestProjectImport_Refused: a document with a reference to a missing record, links that disagree, a
// cycle or a wrong field is refused whole (422 naming the member), and nothing is stored.
func TestProjectImport_Refused(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p, ids := richProject(t, env)
	raw, _ := export(t, env, p)
	fresh := apitest.New(t)
	seq := fresh.LastSeq()
	mutate := func(f func(d map[string]any)) map[string]any {
		var d map[string]any
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		f(d)
		return d
	}
	task := func(d map[string]any, i int) map[string]any { return d["tasks"].([]any)[i].(map[string]any) }
	session := func(d map[string]any, i int) map[string]any { return d["sessions"].([]any)[i].(map[string]any) }
	for _, c := range []struct {
		name   string
		doc    map[string]any
		code   string
		detail string
	}{
		{"not an export", mutate(func(d map[string]any) { d["format"] = "something-else" }), "VALIDATION_ERROR", "format"},
		{"newer version", mutate(func(d map[string]any) { d["version"] = 2 }), "VALIDATION_ERROR", "version 2 is not supported"},
		{"missing parent", mutate(func(d map[string]any) { task(d, 1)["parentId"] = "task_gone" }), "VALIDATION_ERROR",
			"tasks[1].parentId names task 'task_gone', which is not in the document"},
		{"missing dependency", mutate(func(d map[string]any) { task(d, 2)["dependencies"] = []string{"task_gone"} }), "VALIDATION_ERROR",
			"tasks[2].dependencies names task 'task_gone'"},
		{"dependency cycle", mutate(func(d map[string]any) { task(d, 0)["dependencies"] = []string{ids["r2"]} }), "DEPENDENCY_CYCLE", "cycle"},
		{"parent cycle", mutate(func(d map[string]any) { task(d, 0)["parentId"] = ids["c1"] }), "VALIDATION_ERROR", "form a cycle"},
		{"session names a missing task", mutate(func(d map[string]any) {
			session(d, 0)["taskIds"] = append(session(d, 0)["taskIds"].([]any), "task_gone")
		}), "VALIDATION_ERROR", "sessions[0].taskIds names task 'task_gone'"},
		{"link on one side only", mutate(func(d map[string]any) { task(d, 0)["sessionIds"] = []string{ids["s2"]} }), "VALIDATION_ERROR", "both sides"},
		{"link on the other side only", mutate(func(d map[string]any) { session(d, 1)["taskIds"] = []string{ids["r1"]} }), "VALIDATION_ERROR", "both sides"},
		{"duplicate id", mutate(func(d map[string]any) { task(d, 1)["id"] = ids["r1"] }), "VALIDATION_ERROR", "unique"},
		{"task of another project", mutate(func(d map[string]any) { task(d, 1)["projectId"] = "proj_else" }), "VALIDATION_ERROR", "tasks[1].projectId"},
		{"queue of a missing session", mutate(func(d map[string]any) {
			d["queues"].([]any)[0].(map[string]any)["sessionId"] = "sess_gone"
		}), "VALIDATION_ERROR", "queues[0].sessionId"},
		{"queue item status", mutate(func(d map[string]any) {
			d["queues"].([]any)[0].(map[string]any)["items"].([]any)[0].(map[string]any)["status"] = "done"
		}), "VALIDATION_ERROR", "status"},
		{"entry not an object", mutate(func(d map[string]any) { session(d, 0)["events"] = []any{"x"} }), "VALIDATION_ERROR", ""},
		{"blank title", mutate(func(d map[string]any) { task(d, 0)["title"] = " " }), "VALIDATION_ERROR", "tasks[0].title"},
		{"unknown member", mutate(func(d map[string]any) { d["extra"] = true }), "VALIDATION_ERROR", ""},
		{"a member missing", mutate(func(d map[string]any) { delete(d, "queues") }), "VALIDATION_ERROR", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			pr := problem(t, fresh.Do("POST", "/api/v2/projects/import?ids=keep", c.doc), 422, c.code)
			if !strings.Contains(pr["detail"].(string), c.detail) {
				t.Fatalf("detail %q lacks %q", pr["detail"], c.detail)
			}
		})
	}
	problem(t, fresh.Do("POST", "/api/v2/projects/import?ids=copy", raw), 422, "VALIDATION_ERROR")
	if fresh.LastSeq() != seq || countProjects(t, fresh) != 0 {
		t.Fatalf("refused imports stored something: events %v", fresh.OutboxTypesSince(seq))
	}
	if n := countSessions(t, fresh); n != 0 {
		t.Fatalf("%d sessions stored", n)
	}
}

// TestProjectImport_LargeDocument: an import may exceed the 1 MiB body limit of every other request (a
// project's logs make documents big); other requests may not.
func TestProjectImport_LargeDocument(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := create(t, env, "/api/v2/projects", map[string]any{"name": "Big"})["id"].(string)
	s := create(t, env, "/api/v2/sessions", map[string]any{"projectId": p})["id"].(string)
	msg := strings.Repeat("x", 200<<10)
	for range 8 {
		create(t, env, "/api/v2/sessions/"+s+"/timeline", map[string]any{"message": msg})
	}
	raw, _ := export(t, env, p)
	if len(raw) < 3<<19 {
		t.Fatalf("document of %d bytes only", len(raw))
	}
	r := env.Do("POST", "/api/v2/projects/import", raw)
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var res importResult
	r.Decode(t, &res)
	if res.Counts["timeline"] != 9 {
		t.Fatalf("%s", r.Body)
	}
	problem(t, env.Do("POST", "/api/v2/projects", `{"name":"`+strings.Repeat("x", 3<<19)+`"}`), 413, "PAYLOAD_TOO_LARGE")
}
