package service_test

import (
	"archive/tar"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// unpackFixture unpacks testdata/predecessor-data.tar.gz (a data directory the TypeScript predecessor
// wrote: 490 projects, 520 tasks, 216 sessions, 4 queues, 2 default templates) into a temp dir.
func unpackFixture(t testing.TB) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "predecessor-data.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean(h.Name)
		if strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			t.Fatalf("fixture entry %q leaves the directory", h.Name)
		}
		dest := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dest, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := os.Create(dest)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(out, tr); err != nil {
				t.Fatal(err)
			}
			_ = out.Close()
		}
	}
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// record is one file of the data directory, decoded generically.
type record struct {
	file string
	m    map[string]any
}

// readRecords decodes every *.json file under dir/sub (recursively), skipping undecodable ones.
func readRecords(t testing.TB, dir, sub string) []record {
	t.Helper()
	var out []record
	_ = filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil {
			out = append(out, record{file: p, m: m})
		}
		return nil
	})
	return out
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

func importDir(t testing.TB, env *apitest.Env, dir string, opts maestro.PredecessorOptions) maestro.PredecessorReport {
	t.Helper()
	rep, err := env.Services.Predecessor.Import(context.Background(), os.DirFS(dir), opts)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

func get(t testing.TB, env *apitest.Env, path string) *apitest.Response {
	t.Helper()
	r := env.Do(http.MethodGet, path, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	return r
}

func TestPredecessorImport_Fixture(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	dir := unpackFixture(t)
	seqBefore := env.LastSeq()

	rep := importDir(t, env, dir, maestro.PredecessorOptions{})
	tally := func(imported, skipped int) maestro.ImportTally {
		return maestro.ImportTally{Imported: imported, Skipped: skipped}
	}
	for _, c := range []struct {
		name      string
		got, want maestro.ImportTally
	}{
		{"projects", rep.Projects, tally(490, 0)},
		{"tasks", rep.Tasks, tally(520, 0)},
		{"sessions", rep.Sessions, tally(216, 0)},
		{"queues", rep.Queues, tally(4, 0)},
		// Both templates are the predecessor's unedited defaults: ours are kept.
		{"templates", rep.Templates, tally(0, 2)},
	} {
		if c.got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, c.got, c.want)
		}
	}
	// 234 links listed by tasks, 241 by sessions; the 7 only sessions list are links too (D5).
	if rep.Links != 241 || rep.LinksDropped != 0 || rep.Events != 4 || rep.Timeline != 510 {
		t.Errorf("links %d (dropped %d), events %d, timeline %d; want 241, 0, 4, 510", rep.Links, rep.LinksDropped, rep.Events, rep.Timeline)
	}
	if got := env.LastSeq(); got != seqBefore {
		t.Errorf("the import recorded events (outbox seq %d -> %d); it must broadcast nothing", seqBefore, got)
	}

	projects := readRecords(t, dir, "projects")
	tasks := readRecords(t, dir, "tasks")
	sessions := readRecords(t, dir, "sessions")
	queues := readRecords(t, dir, "queues")
	if len(projects) != 490 || len(tasks) != 520 || len(sessions) != 216 || len(queues) != 4 {
		t.Fatalf("fixture: %d projects, %d tasks, %d sessions, %d queues", len(projects), len(tasks), len(sessions), len(queues))
	}

	// What each side of every link should read after the import: its own file order, then the links
	// only the other side listed, in that side's (createdAt|startedAt, id) order.
	byStart := func(recs []record, key string) []record {
		out := slices.Clone(recs)
		slices.SortFunc(out, func(a, b record) int {
			return cmp.Or(cmp.Compare(num(a.m[key]), num(b.m[key])), cmp.Compare(a.m["id"].(string), b.m["id"].(string)))
		})
		return out
	}
	wantSessionIDs := map[string][]string{}
	wantTaskIDs := map[string][]string{}
	for _, r := range tasks {
		wantSessionIDs[r.m["id"].(string)] = strs(r.m["sessionIds"])
	}
	for _, r := range sessions {
		wantTaskIDs[r.m["id"].(string)] = strs(r.m["taskIds"])
	}
	for _, s := range byStart(sessions, "startedAt") {
		sid := s.m["id"].(string)
		for _, tid := range strs(s.m["taskIds"]) {
			if !slices.Contains(wantSessionIDs[tid], sid) {
				wantSessionIDs[tid] = append(wantSessionIDs[tid], sid)
			}
		}
	}
	for _, tk := range byStart(tasks, "createdAt") {
		tid := tk.m["id"].(string)
		for _, sid := range strs(tk.m["sessionIds"]) {
			if !slices.Contains(wantTaskIDs[sid], tid) {
				wantTaskIDs[sid] = append(wantTaskIDs[sid], tid)
			}
		}
	}

	// Every record read back through v1 is what its file said (after D5 and D15).
	for _, r := range projects {
		got := get(t, env, "/api/projects/"+r.m["id"].(string)).Object(t)
		for k, v := range r.m {
			if k == "foo" { // an unknown key a PUT once merged in: not a project field (D15)
				if _, ok := got[k]; ok {
					t.Errorf("%s: unknown key %q served", r.file, k)
				}
				continue
			}
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s: %s = %v, want %v", r.file, k, got[k], v)
			}
		}
	}
	for _, r := range tasks {
		id := r.m["id"].(string)
		got := get(t, env, "/api/tasks/"+id).Object(t)
		for k, v := range r.m {
			if k == "sessionIds" {
				continue
			}
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s: %s = %v, want %v", r.file, k, got[k], v)
			}
		}
		if g := strs(got["sessionIds"]); !slices.Equal(g, wantSessionIDs[id]) {
			t.Errorf("%s: sessionIds %v, want %v", r.file, g, wantSessionIDs[id])
		}
	}
	for _, r := range sessions {
		id := r.m["id"].(string)
		got := get(t, env, "/api/sessions/"+id).Object(t)
		for k, v := range r.m {
			if k == "taskIds" {
				continue
			}
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s: %s = %v, want %v", r.file, k, got[k], v)
			}
		}
		if g := strs(got["taskIds"]); !slices.Equal(g, wantTaskIDs[id]) {
			t.Errorf("%s: taskIds %v, want %v", r.file, g, wantTaskIDs[id])
		}
	}
	for _, r := range queues {
		got := get(t, env, "/api/sessions/"+r.m["sessionId"].(string)+"/queue").Object(t)
		q := got["queue"].(map[string]any)
		for k, v := range r.m {
			if !reflect.DeepEqual(q[k], v) {
				t.Errorf("%s: %s = %v, want %v", r.file, k, q[k], v)
			}
		}
	}

	// Both sides of every link agree, over the whole lists.
	var fromTasks, fromSessions [][2]string
	for _, tk := range get(t, env, "/api/tasks").Array(t) {
		m := tk.(map[string]any)
		for _, sid := range strs(m["sessionIds"]) {
			fromTasks = append(fromTasks, [2]string{m["id"].(string), sid})
		}
	}
	for _, s := range get(t, env, "/api/sessions").Array(t) {
		m := s.(map[string]any)
		for _, tid := range strs(m["taskIds"]) {
			fromSessions = append(fromSessions, [2]string{tid, m["id"].(string)})
		}
	}
	sortPairs := func(p [][2]string) {
		slices.SortFunc(p, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	}
	sortPairs(fromTasks)
	sortPairs(fromSessions)
	if len(fromTasks) != 241 || !slices.Equal(fromTasks, fromSessions) {
		t.Errorf("link sides disagree: %d from tasks, %d from sessions", len(fromTasks), len(fromSessions))
	}

	// Our two defaults, and nothing of the predecessor's unedited ones.
	tmpls := get(t, env, "/api/templates").Array(t)
	if len(tmpls) != 2 {
		t.Fatalf("%d templates, want our 2 defaults: %v", len(tmpls), tmpls)
	}
	for _, tm := range tmpls {
		m := tm.(map[string]any)
		if m["isDefault"] != true || strings.HasPrefix(m["id"].(string), "tmpl_17956261066") {
			t.Errorf("template %v: want one of this server's defaults", m)
		}
	}

	// One audit row with the counts.
	audit := env.Do(http.MethodGet, "/api/v2/admin/audit?route=maestro-server+import", nil).Object(t)
	items := audit["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("%d audit rows for the import, want 1: %v", len(items), audit)
	}
	detail := items[0].(map[string]any)["detail"].(map[string]any)
	if detail["tasks"] != "imported=520 updated=0 existing=0 skipped=0 corrupt=0" {
		t.Errorf("audit detail %v", detail)
	}

	// A second run imports nothing new and changes nothing.
	snapshot := func() string {
		var b strings.Builder
		for _, p := range []string{"/api/projects", "/api/tasks", "/api/sessions", "/api/templates"} {
			b.Write(get(t, env, p).Body)
		}
		for _, r := range queues {
			b.Write(get(t, env, "/api/sessions/"+r.m["sessionId"].(string)+"/queue").Body)
		}
		return b.String()
	}
	before := snapshot()
	again := importDir(t, env, dir, maestro.PredecessorOptions{})
	for _, c := range []struct {
		name     string
		got      maestro.ImportTally
		existing int
	}{{"projects", again.Projects, 490}, {"tasks", again.Tasks, 520}, {"sessions", again.Sessions, 216}, {"queues", again.Queues, 4}} {
		if c.got != (maestro.ImportTally{Existing: c.existing}) {
			t.Errorf("second run %s: %+v, want %d existing and nothing else", c.name, c.got, c.existing)
		}
	}
	if again.Links != 0 || again.Events != 0 || again.Timeline != 0 {
		t.Errorf("second run stored links %d, events %d, timeline %d", again.Links, again.Events, again.Timeline)
	}
	if after := snapshot(); after != before {
		t.Error("a second run changed what v1 serves")
	}
	if got := env.LastSeq(); got != seqBefore {
		t.Errorf("the second run recorded events")
	}
}

// TestPredecessorImport_Problems adds broken and dangling records to the fixture: each is reported
// (corrupt, skipped or changed) and the rest imports.
func TestPredecessorImport_Problems(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	dir := unpackFixture(t)
	const proj = "proj_1795626227409_feys604u7" // a project of the fixture
	writeFiles(t, dir, map[string]string{
		// Corrupt: truncated JSON, wrong types, no id, an entry that is not an object.
		"projects/proj_truncated.json":           `{"id": "proj_truncated", "name": "Trunc`,
		"tasks/" + proj + "/task_wrongtype.json": `{"id": "task_wrongtype", "projectId": "` + proj + `", "title": 5}`,
		"sessions/sess_badenv.json":              `{"id": "sess_badenv", "projectId": "` + proj + `", "env": {"A": 1}}`,
		"sessions/sess_badentry.json":            `{"id": "sess_badentry", "projectId": "` + proj + `", "events": ["x"]}`,
		"queues/sess_q.json":                     `{"sessionId": "sess_q", "items": [{"taskId": "t", "status": "weird", "addedAt": 1}]}`,
		"templates/noid.json":                    `{"name": "x", "role": "worker", "content": "y"}`,
		"tasks/notes.txt":                        `not a record, ignored`,
		// Skipped: a task and a session whose project is gone, a template of an unknown role.
		"tasks/task_noproject.json":    `{"id": "task_noproject", "projectId": "proj_gone", "title": "Orphan"}`,
		"sessions/sess_noproject.json": `{"id": "sess_noproject", "projectId": "proj_gone"}`,
		"templates/tmpl_badrole.json":  `{"id": "tmpl_badrole", "name": "x", "role": "reviewer", "content": "y"}`,
		// Imported with a change: a dangling parentId (cleared) and a session listing a task that is gone.
		"tasks/task_legacyflat.json": `{"id": "task_legacyflat", "projectId": "` + proj + `", "title": "Flat", "parentId": "task_gone", "createdAt": 5, "updatedAt": 6}`,
		"sessions/sess_legacy.json":  `{"id": "sess_legacy", "projectId": "` + proj + `", "taskId": "task_legacyflat", "startedAt": 7, "lastActivity": 8}`,
		"sessions/sess_dangling.json": `{"id": "sess_dangling", "projectId": "` + proj + `", "taskIds": ["task_gone", "task_legacyflat"],
			"name": "Dangling", "env": {}, "strategy": "simple", "status": "idle", "startedAt": 9, "lastActivity": 9, "completedAt": null,
			"hostname": "h", "platform": "linux", "events": [], "timeline": []}`,
		// Imported as the predecessor served it: a queue whose session was deleted, naming a deleted task.
		"queues/sess_deleted.json": `{"sessionId": "sess_deleted", "strategy": "queue", "items": [{"taskId": "task_gone", "status": "queued", "addedAt": 3}], "currentIndex": -1, "createdAt": 3, "updatedAt": 3}`,
		// An edited default: imported with its text as a custom template.
		"templates/tmpl_edited.json": `{"id": "tmpl_edited", "name": "Default Worker Template", "role": "worker", "content": "my own words", "isDefault": true, "createdAt": 1, "updatedAt": 2}`,
	})

	rep := importDir(t, env, dir, maestro.PredecessorOptions{})
	for _, c := range []struct {
		name      string
		got, want maestro.ImportTally
	}{
		{"projects", rep.Projects, maestro.ImportTally{Imported: 490, Corrupt: 1}},
		{"tasks", rep.Tasks, maestro.ImportTally{Imported: 521, Skipped: 1, Corrupt: 1}},
		{"sessions", rep.Sessions, maestro.ImportTally{Imported: 218, Skipped: 1, Corrupt: 2}},
		{"queues", rep.Queues, maestro.ImportTally{Imported: 5, Corrupt: 1}},
		{"templates", rep.Templates, maestro.ImportTally{Imported: 1, Skipped: 3, Corrupt: 1}},
	} {
		if c.got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, c.got, c.want)
		}
	}
	if rep.Links != 241+2 || rep.LinksDropped != 1 {
		t.Errorf("links %d, dropped %d; want 243, 1", rep.Links, rep.LinksDropped)
	}
	type key struct{ kind, entity, file string }
	reported := map[key]string{}
	for _, p := range rep.Problems {
		reported[key{p.Kind, p.Entity, p.File}] = p.Message
	}
	for _, want := range []key{
		{maestro.ProblemCorrupt, "project", "projects/proj_truncated.json"},
		{maestro.ProblemCorrupt, "task", "tasks/" + proj + "/task_wrongtype.json"},
		{maestro.ProblemCorrupt, "session", "sessions/sess_badenv.json"},
		{maestro.ProblemCorrupt, "session", "sessions/sess_badentry.json"},
		{maestro.ProblemCorrupt, "queue", "queues/sess_q.json"},
		{maestro.ProblemCorrupt, "template", "templates/noid.json"},
		{maestro.ProblemSkipped, "task", "tasks/task_noproject.json"},
		{maestro.ProblemSkipped, "session", "sessions/sess_noproject.json"},
		{maestro.ProblemSkipped, "template", "templates/tmpl_badrole.json"},
		{maestro.ProblemChanged, "task", "tasks/task_legacyflat.json"},
		{maestro.ProblemChanged, "session", "sessions/sess_dangling.json"},
		{maestro.ProblemChanged, "template", "templates/tmpl_edited.json"},
	} {
		if _, ok := reported[want]; !ok {
			t.Errorf("not reported: %+v (reported: %v)", want, rep.Problems)
		}
	}
	if len(rep.Problems) != 14 { // the 12 above and the 2 unedited defaults
		t.Errorf("%d problems reported, want 14: %v", len(rep.Problems), rep.Problems)
	}

	// The legacy flat task imported, root (its parent is gone), linked from the legacy taskId session
	// and from the session whose other task is gone.
	task := get(t, env, "/api/tasks/task_legacyflat").Object(t)
	if task["parentId"] != nil || !slices.Equal(strs(task["sessionIds"]), []string{"sess_legacy", "sess_dangling"}) {
		t.Errorf("task_legacyflat: parentId %v, sessionIds %v", task["parentId"], task["sessionIds"])
	}
	if task["status"] != "todo" || task["priority"] != "medium" || len(task["skillIds"].([]any)) != 0 {
		t.Errorf("task_legacyflat defaults: %v", task)
	}
	// The loader's session defaults (SPEC §7).
	sess := get(t, env, "/api/sessions/sess_legacy").Object(t)
	want := map[string]any{"name": "Session sess_legacy", "strategy": "simple", "status": "idle", "env": map[string]any{},
		"events": []any{}, "timeline": []any{}, "taskIds": []any{"task_legacyflat"}}
	for k, v := range want {
		if !reflect.DeepEqual(sess[k], v) {
			t.Errorf("sess_legacy %s = %v, want %v", k, sess[k], v)
		}
	}
	if got := strs(get(t, env, "/api/sessions/sess_dangling").Object(t)["taskIds"]); !slices.Equal(got, []string{"task_legacyflat"}) {
		t.Errorf("sess_dangling taskIds %v", got)
	}
	for _, id := range []string{"task_wrongtype", "task_noproject"} {
		if r := env.Do(http.MethodGet, "/api/tasks/"+id, nil); r.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", id, r.Status)
		}
	}
	// The edited default serves its text for the role, ahead of our newer default, as the predecessor did.
	edited := get(t, env, "/api/templates/tmpl_edited").Object(t)
	if edited["content"] != "my own words" || edited["isDefault"] != false {
		t.Errorf("tmpl_edited: %v", edited)
	}
	if role := get(t, env, "/api/templates/role/worker").Object(t); role["id"] != "tmpl_edited" {
		t.Errorf("worker role template %v, want tmpl_edited", role["id"])
	}
	if n := len(get(t, env, "/api/templates").Array(t)); n != 3 {
		t.Errorf("%d templates, want our 2 defaults and the edited one", n)
	}
}

func TestPredecessorImport_DryRun(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	dir := unpackFixture(t)
	dry := importDir(t, env, dir, maestro.PredecessorOptions{DryRun: true})
	if !dry.DryRun || dry.Projects.Imported != 490 || dry.Tasks.Imported != 520 || dry.Links != 241 {
		t.Fatalf("dry run report: %+v", dry)
	}
	for _, p := range []string{"/api/projects", "/api/tasks", "/api/sessions", "/api/templates"} {
		if n := len(get(t, env, p).Array(t)); n != 0 {
			t.Errorf("after a dry run %s has %d records", p, n)
		}
	}
	if items := env.Do(http.MethodGet, "/api/v2/admin/audit", nil).Object(t)["items"].([]any); len(items) != 0 {
		t.Errorf("a dry run wrote %d audit rows", len(items))
	}
	real := importDir(t, env, dir, maestro.PredecessorOptions{})
	dry.DryRun = false
	if !reflect.DeepEqual(dry, real) {
		t.Errorf("the dry run predicted %+v, the import did %+v", dry, real)
	}
}

func TestPredecessorImport_Update(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	dir := writeDir(t, map[string]string{
		"projects/p1.json": `{"id": "p1", "name": "One", "createdAt": 1, "updatedAt": 1}`,
		"tasks/p1/t1.json": `{"id": "t1", "projectId": "p1", "title": "First", "createdAt": 2, "updatedAt": 2}`,
	})
	importDir(t, env, dir, maestro.PredecessorOptions{})
	writeFiles(t, dir, map[string]string{
		"projects/p1.json": `{"id": "p1", "name": "One renamed", "createdAt": 1, "updatedAt": 3}`,
		"tasks/p1/t1.json": `{"id": "t1", "projectId": "p1", "title": "First retitled", "status": "in_progress", "createdAt": 2, "updatedAt": 4}`,
	})
	keep := importDir(t, env, dir, maestro.PredecessorOptions{})
	if keep.Projects != (maestro.ImportTally{Existing: 1}) || keep.Tasks != (maestro.ImportTally{Existing: 1}) {
		t.Errorf("without --update: %+v %+v", keep.Projects, keep.Tasks)
	}
	if name := get(t, env, "/api/projects/p1").Object(t)["name"]; name != "One" {
		t.Errorf("without --update the project became %v", name)
	}
	upd := importDir(t, env, dir, maestro.PredecessorOptions{Update: true})
	if upd.Projects != (maestro.ImportTally{Updated: 1}) || upd.Tasks != (maestro.ImportTally{Updated: 1}) {
		t.Errorf("with --update: %+v %+v", upd.Projects, upd.Tasks)
	}
	task := get(t, env, "/api/tasks/t1").Object(t)
	if task["title"] != "First retitled" || task["status"] != "in_progress" || num(task["updatedAt"]) != 4 {
		t.Errorf("updated task: %v", task)
	}
	if again := importDir(t, env, dir, maestro.PredecessorOptions{Update: true}); again.Tasks != (maestro.ImportTally{Existing: 1}) {
		t.Errorf("a repeated --update changed the task again: %+v", again.Tasks)
	}
}

// TestPredecessorImport_LinkOrder checks each side's order when the sides disagree: a task lists s2
// then s1, s1 lists the task, s3 lists it too (only the session side knows that link), and s2's list
// names the task after another.
func TestPredecessorImport_LinkOrder(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	dir := writeDir(t, map[string]string{
		"projects/p.json":  `{"id": "p", "name": "P"}`,
		"tasks/p/t.json":   `{"id": "t", "projectId": "p", "title": "T", "createdAt": 1, "sessionIds": ["s2", "s1", "s2"]}`,
		"tasks/p/u.json":   `{"id": "u", "projectId": "p", "title": "U", "createdAt": 2, "sessionIds": ["s2"]}`,
		"sessions/s1.json": `{"id": "s1", "projectId": "p", "startedAt": 10, "taskIds": ["t"]}`,
		"sessions/s2.json": `{"id": "s2", "projectId": "p", "startedAt": 20, "taskIds": ["u"]}`,
		"sessions/s3.json": `{"id": "s3", "projectId": "p", "startedAt": 30, "taskIds": ["t"]}`,
	})
	rep := importDir(t, env, dir, maestro.PredecessorOptions{})
	if rep.Links != 4 {
		t.Errorf("%d links, want 4", rep.Links)
	}
	for path, want := range map[string][]string{
		"/api/tasks/t":     {"s2", "s1", "s3"},
		"/api/tasks/u":     {"s2"},
		"/api/sessions/s1": {"t"},
		"/api/sessions/s2": {"u", "t"},
		"/api/sessions/s3": {"t"},
	} {
		m := get(t, env, path).Object(t)
		list := m["sessionIds"]
		if list == nil {
			list = m["taskIds"]
		}
		if got := strs(list); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
}

func writeDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return dir
}

// TestPredecessorImport_EditedDefaults: an edited predecessor default never takes the role from a
// default the user edited here; it serves the role only while ours is unedited.
func TestPredecessorImport_EditedDefaults(t *testing.T) {
	t.Parallel()
	edited := map[string]string{
		"templates/w.json": `{"id": "tmpl_w", "name": "Default Worker Template", "role": "worker", "content": "their worker", "isDefault": true, "createdAt": 1, "updatedAt": 2}`,
		"templates/o.json": `{"id": "tmpl_o", "name": "Default Orchestrator Template", "role": "orchestrator", "content": "their orchestrator", "isDefault": true, "createdAt": 1, "updatedAt": 2}`,
	}
	env := apitest.New(t)
	ctx := context.Background()
	if err := env.Services.Templates.SeedDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	ourWorker := get(t, env, "/api/templates/role/worker").Object(t)
	if r := env.Do(http.MethodPut, "/api/templates/"+ourWorker["id"].(string), map[string]any{"content": "our worker, edited"}); r.Status != 200 {
		t.Fatalf("edit our default: %d %s", r.Status, r.Body)
	}
	rep := importDir(t, env, writeDir(t, edited), maestro.PredecessorOptions{})
	if rep.Templates != (maestro.ImportTally{Imported: 2}) {
		t.Fatalf("templates %+v", rep.Templates)
	}
	// Ours was edited: it keeps the worker role; the imported text is there, as a custom template.
	if w := get(t, env, "/api/templates/role/worker").Object(t); w["content"] != "our worker, edited" {
		t.Errorf("worker role serves %v", w["content"])
	}
	if w := get(t, env, "/api/templates/tmpl_w").Object(t); w["content"] != "their worker" || w["isDefault"] != false {
		t.Errorf("imported worker %v", w)
	}
	// Ours is unedited: the imported edited text serves the orchestrator role, as the predecessor did.
	if o := get(t, env, "/api/templates/role/orchestrator").Object(t); o["id"] != "tmpl_o" || o["content"] != "their orchestrator" {
		t.Errorf("orchestrator role serves %v", o)
	}
}

func TestPredecessorImport_NotADataDir(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, err := env.Services.Predecessor.Import(context.Background(), os.DirFS(writeDir(t, map[string]string{"notes.txt": "x"})), maestro.PredecessorOptions{})
	if maestro.ErrorCode(err) != maestro.CodeValidation || !strings.Contains(err.Error(), "not the predecessor's DATA_DIR") {
		t.Fatalf("err = %v", err)
	}
}
