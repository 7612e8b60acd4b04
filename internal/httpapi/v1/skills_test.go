package v1_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
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

// skillsEnv serves the skills under root; their changes are recorded in the Env's own outbox, and the
// loader reports its health as component "skills".
func skillsEnv(t *testing.T, root string) (*apitest.Env, *skills.Loader) {
	t.Helper()
	var env *apitest.Env
	l := skills.New(skills.Options{Dir: root, PollInterval: 100 * time.Millisecond,
		Notify: func(ctx context.Context, c maestro.SkillsChangedPayload) error {
			return skills.StoreNotifier(env.Store)(ctx, c)
		}})
	env = apitest.New(t, apitest.WithSkills(l), func(o *httpapi.Options) {
		o.Components = map[string]maestro.HealthReporter{"skills": l}
	})
	return env, l
}

// fixture is a skills directory with the predecessor's three skills (one invalid), another skill, a
// skill whose directory is called "role", and a secret skill just outside the root.
func fixture(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "skills")
	writeFile(t, filepath.Join(root, "maestro-cli", "manifest.json"),
		`{"name":"Maestro CLI","version":"1.2.0","description":"The CLI","type":"system","assignTo":["all"],"priority":100}`)
	writeFile(t, filepath.Join(root, "maestro-cli", "skill.md"), "# CLI\nUse the CLI.\n")
	writeFile(t, filepath.Join(root, "maestro-worker", "manifest.json"), `{"name":"maestro-worker","type":"role"}`)
	writeFile(t, filepath.Join(root, "maestro-orchestrator", "manifest.json"), `{"name":"maestro-orchestrator",`)
	writeFile(t, filepath.Join(root, "role", "manifest.json"), `{"name":"role-skill"}`)
	writeFile(t, filepath.Join(root, "alpha", "manifest.json"), `{"name":"alpha","description":"first"}`)
	writeFile(t, filepath.Join(base, "outside", "manifest.json"), `{"name":"outside"}`)
	writeFile(t, filepath.Join(base, "outside", "skill.md"), "SECRET")
	return root
}

func summary(id, name, desc, typ, version string) map[string]any {
	return map[string]any{"id": id, "name": name, "description": desc, "type": typ, "version": version}
}

// jsonEqual checks that the body decodes to want exactly (no missing or extra members).
func jsonEqual(want any) func(t *testing.T, r *apitest.Response) {
	return func(t *testing.T, r *apitest.Response) {
		t.Helper()
		var got any
		r.Decode(t, &got)
		raw, _ := json.Marshal(want)
		var w any
		_ = json.Unmarshal(raw, &w)
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("body\n got %s\nwant %s", r.Body, raw)
		}
	}
}

// legacyError checks the v1 error body (D9): code, message and status.
func legacyError(status int, code maestro.Code, message string) func(t *testing.T, r *apitest.Response) {
	return func(t *testing.T, r *apitest.Response) {
		t.Helper()
		b := r.Object(t)
		if b["error"] != true || b["statusCode"] != float64(status) || b["code"] != string(code) {
			t.Fatalf("error body %s", r.Body)
		}
		if message != "" && b["message"] != message {
			t.Fatalf("message %q, want %q", b["message"], message)
		}
		if _, ok := b["requestId"].(string); !ok {
			t.Fatalf("no requestId: %s", r.Body)
		}
	}
}

func TestSkillsAPI_V1(t *testing.T) {
	t.Parallel()
	root := fixture(t)
	env, _ := skillsEnv(t, root)

	list := []any{
		summary("alpha", "alpha", "first", "system", "1.0.0"),
		summary("maestro-cli", "Maestro CLI", "The CLI", "system", "1.2.0"),
		summary("maestro-worker", "maestro-worker", "", "role", "1.0.0"),
		summary("role", "role-skill", "", "system", "1.0.0"),
	}
	cli := summary("maestro-cli", "Maestro CLI", "The CLI", "system", "1.2.0")
	cli["instructions"] = "# CLI\nUse the CLI.\n"
	worker := summary("maestro-worker", "maestro-worker", "", "role", "1.0.0")
	worker["instructions"] = ""
	roleSkill := summary("role", "role-skill", "", "system", "1.0.0")
	roleSkill["instructions"] = ""

	env.Run(t, []apitest.Case{
		{Name: "list/sorted, invalid skipped", Method: "GET", Path: "/api/skills", Status: 200, Check: jsonEqual(list)},
		{Name: "list/v1 prefix", Method: "GET", Path: "/api/v1/skills", Status: 200, Check: jsonEqual(list)},
		{Name: "list/trailing slash", Method: "GET", Path: "/api/skills/", Status: 200, Check: jsonEqual(list)},
		{Name: "get/with instructions", Method: "GET", Path: "/api/skills/maestro-cli", Status: 200, Check: jsonEqual(cli)},
		{Name: "get/no skill.md", Method: "GET", Path: "/api/v1/skills/maestro-worker", Status: 200, Check: jsonEqual(worker)},
		{Name: "get/role is a skill id", Method: "GET", Path: "/api/skills/role", Status: 200, Check: jsonEqual(roleSkill)},
		{Name: "get/absent", Method: "GET", Path: "/api/skills/nope", Status: 404,
			Check: legacyError(404, maestro.CodeNotFound, "Skill not found: nope")},
		{Name: "get/invalid is not found, with reasons", Method: "GET", Path: "/api/skills/maestro-orchestrator", Status: 404,
			Check: func(t *testing.T, r *apitest.Response) {
				legacyError(404, maestro.CodeNotFound, "Skill not found: maestro-orchestrator")(t, r)
				d, _ := r.Object(t)["details"].(map[string]any)
				if errs, _ := d["errors"].([]any); len(errs) == 0 || !strings.Contains(errs[0].(string), "invalid JSON") {
					t.Fatalf("details %v", d)
				}
			}},
		{Name: "role/worker", Method: "GET", Path: "/api/skills/role/worker", Status: 200, Check: jsonEqual([]any{
			summary("Maestro CLI", "Maestro CLI", "The CLI", "system", "1.2.0"),
			summary("maestro-worker", "maestro-worker", "", "role", "1.0.0"),
		})},
		{Name: "role/orchestrator skips the invalid skill", Method: "GET", Path: "/api/v1/skills/role/orchestrator", Status: 200,
			Check: jsonEqual([]any{summary("Maestro CLI", "Maestro CLI", "The CLI", "system", "1.2.0")})},
		{Name: "role/bad", Method: "GET", Path: "/api/skills/role/admin", Status: 400,
			Check: legacyError(400, maestro.CodeValidation, `Role must be "worker" or "orchestrator"`)},
		{Name: "role/case matters", Method: "GET", Path: "/api/skills/role/Worker", Status: 400,
			Check: legacyError(400, maestro.CodeValidation, "")},
		{Name: "reload/unchanged", Method: "POST", Path: "/api/skills/alpha/reload", Status: 200, Check: jsonEqual(map[string]any{
			"id": "alpha", "name": "alpha", "description": "first", "type": "system", "version": "1.0.0", "reloaded": true,
		})},
		{Name: "reload/absent", Method: "POST", Path: "/api/skills/nope/reload", Status: 404,
			Check: legacyError(404, maestro.CodeNotFound, "Skill not found: nope")},
		{Name: "reload/bad id", Method: "POST", Path: "/api/v1/skills/..%2Foutside/reload", Status: 400,
			Check: legacyError(400, maestro.CodeValidation, "")},
	})
	if n := len(env.Outbox()); n != 0 {
		t.Fatalf("reads and no-op reloads record nothing, got %d events", n)
	}
}

func TestSkillsAPI_V1ReloadRecordsChange(t *testing.T) {
	t.Parallel()
	root := fixture(t)
	env, _ := skillsEnv(t, root)

	writeFile(t, filepath.Join(root, "alpha", "manifest.json"), `{"name":"alpha","version":"2.0.0"}`)
	writeFile(t, filepath.Join(root, "alpha", "skill.md"), "new text")
	// Without a watcher running, the served set changes only on reload.
	if r := env.Do("GET", "/api/skills/alpha", nil); !strings.Contains(string(r.Body), `"1.0.0"`) {
		t.Fatalf("changed before reload: %s", r.Body)
	}
	r := env.Do("POST", "/api/skills/alpha/reload", nil)
	if r.Status != 200 || r.Object(t)["version"] != "2.0.0" || r.Object(t)["reloaded"] != true {
		t.Fatalf("reload: %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", "/api/skills/alpha", nil); r.Object(t)["instructions"] != "new text" {
		t.Fatalf("after reload: %s", r.Body)
	}
	evs := env.Outbox()
	if len(evs) != 1 || evs[0].Type != maestro.EventSkillsChanged {
		t.Fatalf("outbox %+v", evs)
	}
	var p maestro.SkillsChangedPayload
	if err := json.Unmarshal(evs[0].Data, &p); err != nil {
		t.Fatal(err)
	}
	want := maestro.SkillsChangedPayload{Added: []string{}, Changed: []string{"alpha"}, Removed: []string{},
		Invalid: []string{"maestro-orchestrator"}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("payload %+v, want %+v", p, want)
	}
	if pub := env.Published.Events(); len(pub) != 1 || pub[0].Seq != evs[0].Seq {
		t.Fatalf("published after commit: %+v", pub)
	}

	// Removing the directory and reloading the skill: 404, gone from the list, recorded.
	if err := os.RemoveAll(filepath.Join(root, "alpha")); err != nil {
		t.Fatal(err)
	}
	if r := env.Do("POST", "/api/skills/alpha/reload", nil); r.Status != 404 {
		t.Fatalf("reload removed: %d %s", r.Status, r.Body)
	}
	for _, s := range env.Do("GET", "/api/skills", nil).Array(t) {
		if s.(map[string]any)["id"] == "alpha" {
			t.Fatal("removed skill still listed")
		}
	}
	if got := env.OutboxTypesSince(evs[0].Seq); !reflect.DeepEqual(got, []string{maestro.EventSkillsChanged}) {
		t.Fatalf("events after removal %v", got)
	}
}

func TestSkillsAPI_V1Traversal(t *testing.T) {
	t.Parallel()
	root := fixture(t)
	env, _ := skillsEnv(t, root)
	if err := os.Symlink(filepath.Join(filepath.Dir(root), "outside"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	env.Do("POST", "/api/skills/link/reload", nil) // make the loader look at the link

	for _, p := range []string{
		"/api/v1/skills/..%2Foutside", "/api/v1/skills/..%2F..%2Fetc%2Fpasswd", "/api/v1/skills/%2e%2e",
		"/api/v1/skills/%2Fetc", "/api/v1/skills/a%5Cb", "/api/v1/skills/a%20b", "/api/v1/skills/" + strings.Repeat("a", 129),
		"/api/v1/skills/%2e%2e/reload", "/api/skills/..%2Foutside", "/api/skills/%2e%2e%2foutside",
		"/api/skills/../outside", "/api/skills/link", "/api/v1/skills/..",
	} {
		for _, method := range []string{"GET", "POST"} {
			path := p
			if method == "POST" && !strings.HasSuffix(p, "/reload") {
				path += "/reload"
			}
			r := env.Do(method, path, nil)
			if r.Status < 400 && !(r.Status >= 300 && r.Status < 400) {
				t.Errorf("%s %s: %d %s", method, path, r.Status, r.Body)
			}
			if strings.Contains(string(r.Body), "SECRET") || strings.Contains(string(r.Body), `"outside"`) {
				t.Errorf("%s %s leaked the outside skill: %s", method, path, r.Body)
			}
		}
	}
	// Ids that reach the handler intact are refused with 400 VALIDATION_ERROR.
	for _, p := range []string{"/api/v1/skills/..%2Foutside", "/api/v1/skills/%2Fetc", "/api/v1/skills/a%20b",
		"/api/v1/skills/" + strings.Repeat("a", 129), "/api/skills/..%2Foutside", "/api/skills/%2Fetc"} {
		if r := env.Do("GET", p, nil); r.Status != 400 || r.Object(t)["code"] != "VALIDATION_ERROR" {
			t.Errorf("GET %s: %d %s", p, r.Status, r.Body)
		}
	}
	if r := env.Do("GET", "/api/skills/link", nil); r.Status != 404 {
		t.Errorf("a symlink out of the root is not a skill: %d %s", r.Status, r.Body)
	}
}

func TestSkillsAPI_V1NoDirectory(t *testing.T) {
	t.Parallel()
	env, _ := skillsEnv(t, filepath.Join(t.TempDir(), "missing"))
	env.Run(t, []apitest.Case{
		{Name: "list empty", Method: "GET", Path: "/api/skills", Status: 200, Check: jsonEqual([]any{})},
		{Name: "role empty", Method: "GET", Path: "/api/skills/role/worker", Status: 200, Check: jsonEqual([]any{})},
		{Name: "get", Method: "GET", Path: "/api/skills/x", Status: 404, Check: legacyError(404, maestro.CodeNotFound, "Skill not found: x")},
		{Name: "health ok", Method: "GET", Path: "/health", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
			b := r.Object(t)
			if b["status"] != "ok" || b["components"].(map[string]any)["skills"].(map[string]any)["status"] != "ok" {
				t.Fatalf("health %s", r.Body)
			}
		}},
	})
}

func TestSkillsAPI_V1HotReloadAndHealth(t *testing.T) {
	t.Parallel()
	root := fixture(t)
	env, l := skillsEnv(t, root)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Watch(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	listIDs := func() []string {
		var out []string
		for _, s := range env.Do("GET", "/api/skills", nil).Array(t) {
			out = append(out, s.(map[string]any)["id"].(string))
		}
		sort.Strings(out)
		return out
	}
	writeFile(t, filepath.Join(root, "zeta", "manifest.json"), `{"name":"zeta"}`)
	if !apitest.Eventually(t, 2*time.Second, func() bool { return env.Do("GET", "/api/skills/zeta", nil).Status == 200 }) {
		t.Fatal("added skill not served within 2s")
	}
	if !apitest.Eventually(t, 2*time.Second, func() bool {
		for _, ev := range env.Outbox() {
			if ev.Type == maestro.EventSkillsChanged && strings.Contains(string(ev.Data), `"added":["zeta"]`) {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("skills:changed not recorded: %+v", env.Outbox())
	}

	before := listIDs()
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	degraded := func() bool {
		b := env.Do("GET", "/health", nil).Object(t)
		return b["status"] == "degraded" &&
			b["components"].(map[string]any)["skills"].(map[string]any)["status"] == "degraded"
	}
	if !apitest.Eventually(t, 2*time.Second, degraded) {
		t.Fatalf("health not degraded: %s", env.Do("GET", "/health", nil).Body)
	}
	if got := listIDs(); !reflect.DeepEqual(got, before) {
		t.Fatalf("list %v after the directory went away, want the last good %v", got, before)
	}
	writeFile(t, filepath.Join(root, "omega", "manifest.json"), `{"name":"omega"}`)
	if !apitest.Eventually(t, 2*time.Second, func() bool {
		return reflect.DeepEqual(listIDs(), []string{"omega"}) && !degraded()
	}) {
		t.Fatalf("not recovered: %v %s", listIDs(), env.Do("GET", "/health", nil).Body)
	}
}
