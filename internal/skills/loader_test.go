package skills_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/skills"
)

func TestLoader_Defaults(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeSkill(t, root, "bare", `{"name":"bare-name"}`, "-")
	writeSkill(t, root, "full", `{
		"name": "full-name", "version": "2.3.4", "description": "does things", "type": "custom",
		"assignTo": ["worker"], "capabilities": ["a", "b"], "dependencies": ["bare"],
		"author": "Ann", "license": "MIT", "config": {"depth": 2}, "priority": 100
	}`, "# Full\nDo it.\n")
	l, _ := newLoader(t, root)

	bare, err := l.GetSkill("bare")
	if err != nil {
		t.Fatal(err)
	}
	want := maestro.SkillDetail{
		SkillSummary: maestro.SkillSummary{ID: "bare", Name: "bare-name", Description: "", Type: "system", Version: "1.0.0"},
		AssignTo:     []string{}, Capabilities: []string{}, Dependencies: []string{}, Config: map[string]any{},
		Instructions: "",
	}
	if !reflect.DeepEqual(bare, want) {
		t.Errorf("bare skill:\n got %+v\nwant %+v", bare, want)
	}

	full, err := l.GetSkill("full")
	if err != nil {
		t.Fatal(err)
	}
	want = maestro.SkillDetail{
		SkillSummary: maestro.SkillSummary{ID: "full", Name: "full-name", Description: "does things", Type: "custom", Version: "2.3.4"},
		AssignTo:     []string{"worker"}, Capabilities: []string{"a", "b"}, Dependencies: []string{"bare"},
		Author: "Ann", License: "MIT", Config: map[string]any{"depth": float64(2)},
		Instructions: "# Full\nDo it.\n",
	}
	if !reflect.DeepEqual(full, want) {
		t.Errorf("full skill:\n got %+v\nwant %+v", full, want)
	}
}

func TestLoader_SortedByDirectoryName(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, id := range []string{"b", "a-1", "C", "a", "_x", ".hidden"} {
		writeSkill(t, root, id, `{"name":"n-`+id+`"}`, "-")
	}
	writeFile(t, filepath.Join(root, "README.md"), "not a skill")
	l, _ := newLoader(t, root)
	if got, want := ids(l.ListSkills()), []string{"C", "_x", "a", "a-1", "b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v (hidden directories and plain files are not skills)", got, want)
	}
}

func TestLoader_MissingRoot(t *testing.T) {
	t.Parallel()
	l, _ := newLoader(t, filepath.Join(t.TempDir(), "nope"))
	if got := l.ListSkills(); len(got) != 0 || got == nil {
		t.Fatalf("list = %#v, want an empty non-nil list", got)
	}
	if h := l.Health(); h.Status != maestro.HealthOK {
		t.Fatalf("a skills directory that never existed is no skills, not a fault: %+v", h)
	}
}

func TestLoader_RootIsAFile(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "skills")
	writeFile(t, root, "oops")
	l, _ := newLoader(t, root)
	if h := l.Health(); h.Status != maestro.HealthDegraded || !strings.Contains(h.Reason, root) {
		t.Fatalf("health %+v, want degraded naming %s", h, root)
	}
	if len(l.ListSkills()) != 0 {
		t.Fatal("no skills expected")
	}
}

func TestLoader_RoleSets(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeSkill(t, root, "maestro-cli", `{"name":"Maestro CLI"}`, "-")
	writeSkill(t, root, "maestro-worker", `{"name":"maestro-worker"}`, "-")
	writeSkill(t, root, "maestro-orchestrator", `{"name":"maestro-orchestrator","type":"nope"}`, "-") // invalid
	writeSkill(t, root, "other", `{"name":"other"}`, "-")
	l, _ := newLoader(t, root)

	tests := []struct {
		role string
		want []string
		code maestro.Code
	}{
		{"worker", []string{"maestro-cli", "maestro-worker"}, ""},
		{"orchestrator", []string{"maestro-cli"}, ""}, // the invalid orchestrator skill is left out
		{"Worker", nil, maestro.CodeValidation},
		{"", nil, maestro.CodeValidation},
		{"admin", nil, maestro.CodeValidation},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			got, err := l.SkillsForRole(tt.role)
			if code(err) != tt.code {
				t.Fatalf("err %v, want code %q", err, tt.code)
			}
			if tt.code != "" {
				return
			}
			if !reflect.DeepEqual(ids(got), tt.want) {
				t.Fatalf("ids %v, want %v", ids(got), tt.want)
			}
			if got[0].Name != "Maestro CLI" {
				t.Fatalf("role entries carry the manifest name: %+v", got[0])
			}
		})
	}
}

func TestLoader_InvalidSkills(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeSkill(t, root, "good", `{"name":"good"}`, "-")
	writeSkill(t, root, "badjson", "{\n  \"name\": \"x\",\n}", "-")
	writeSkill(t, root, "trailing", `{"name":"x"} {}`, "-")
	writeSkill(t, root, "empty", ``, "-")
	writeSkill(t, root, "array", `[]`, "-")
	writeSkill(t, root, "schema", `{"name":5,"type":"weird","assignTo":["worker","boss"],"config":[],"capabilities":"all"}`, "-")
	// No name is valid: the summary falls back to the directory name (SPEC §5: name||id).
	writeSkill(t, root, "noname", `{"description":"no name"}`, "-")
	writeFile(t, filepath.Join(root, "nomanifest", "skill.md"), "instructions only")
	if err := os.MkdirAll(filepath.Join(root, "dirmanifest", "manifest.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeSkill(t, root, "dirmd", `{"name":"dirmd"}`, "-")
	if err := os.MkdirAll(filepath.Join(root, "dirmd", "skill.md"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeSkill(t, root, "huge", `{"name":"huge","description":"`+strings.Repeat("x", 1<<20)+`"}`, "-")
	writeSkill(t, root, "bad name", `{"name":"spaces"}`, "-")
	l, _ := newLoader(t, root)

	if got := ids(l.ListSkills()); !reflect.DeepEqual(got, []string{"good", "noname"}) {
		t.Fatalf("served %v, want only the valid skills", got)
	}
	if s, err := l.GetSkill("noname"); err != nil || s.Name != "noname" {
		t.Fatalf("a skill without a name is named after its directory: %+v, %v", s, err)
	}
	inv := invalidByID(l)
	wantErrs := map[string][]string{
		"badjson":     {"manifest.json: invalid JSON", "line 3, column 1"},
		"trailing":    {"unexpected data after the top-level value"},
		"empty":       {"manifest.json: invalid JSON: unexpected end of file"},
		"array":       {"manifest.json: got array, want object"},
		"schema":      {"/name: got number, want string", "/type: value must be one of 'system', 'role', 'custom'", "/assignTo/1: value must be one of 'all', 'worker', 'orchestrator'", "/config: got array, want object", "/capabilities: got string, want array"},
		"nomanifest":  {"manifest.json is missing"},
		"dirmanifest": {"manifest.json: cannot be read: not a regular file"},
		"dirmd":       {"skill.md: cannot be read: not a regular file"},
		"huge":        {"manifest.json: cannot be read: larger than 1048576 bytes"},
		"bad name":    {"not a valid skill id"},
	}
	for id, fragments := range wantErrs {
		s, ok := inv[id]
		if !ok {
			t.Errorf("%s: not listed as invalid (invalid: %v)", id, inv)
			continue
		}
		if s.Path != filepath.Join(root, id) {
			t.Errorf("%s: path %q", id, s.Path)
		}
		all := strings.Join(s.Errors, "\n")
		for _, f := range fragments {
			if !strings.Contains(all, f) {
				t.Errorf("%s: errors %q lack %q", id, s.Errors, f)
			}
		}
	}
	if len(inv) != len(wantErrs) {
		t.Errorf("invalid %d skills, want %d: %v", len(inv), len(wantErrs), inv)
	}
	if n := len(inv["schema"].Errors); n < 5 {
		t.Errorf("every schema violation is listed, got %d: %q", n, inv["schema"].Errors)
	}

	// An invalid skill is not found, and the details say why.
	_, err := l.GetSkill("schema")
	var me *maestro.Error
	if code(err) != maestro.CodeNotFound || !asError(err, &me) || me.Message != "Skill not found: schema" || me.Details["errors"] == nil {
		t.Fatalf("GetSkill(invalid) = %#v", err)
	}
	if h := l.Health(); h.Status != maestro.HealthOK {
		t.Fatalf("invalid skills degrade only themselves, health = %+v", h)
	}
}

func TestLoader_IDValidation(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeSkill(t, root, "ok", `{"name":"ok"}`, "-")
	// A valid skill just outside the root: any traversal that reached it would return it.
	writeSkill(t, filepath.Dir(root), "outside", `{"name":"outside"}`, "-")
	l, _ := newLoader(t, root)

	bad := []string{
		"", ".", "..", "../outside", "..%2Foutside", "%2e%2e", "a/b", `a\b`, "/etc", "/etc/passwd",
		root, "ok/", "a b", "é", "x\x00y", strings.Repeat("a", 129),
	}
	for _, id := range bad {
		if _, err := l.GetSkill(id); code(err) != maestro.CodeValidation {
			t.Errorf("GetSkill(%q) = %v, want VALIDATION_ERROR", id, err)
		}
		if _, err := l.ReloadSkill(context.Background(), id); code(err) != maestro.CodeValidation {
			t.Errorf("ReloadSkill(%q) = %v, want VALIDATION_ERROR", id, err)
		}
	}
	for _, id := range []string{"ok", "a", "A.b_c-1", strings.Repeat("a", 128), "...", ".x"} {
		if err := maestro.ValidateSkillID(id); err != nil {
			t.Errorf("ValidateSkillID(%q) = %v, want ok", id, err)
		}
	}
	if _, err := l.GetSkill("ok"); err != nil {
		t.Fatal(err)
	}
}

func TestLoader_Symlinks(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root := filepath.Join(base, "skills")
	outside := filepath.Join(base, "outside")
	writeSkill(t, outside, "secret", `{"name":"secret"}`, "top secret")
	writeFile(t, filepath.Join(base, "secret.md"), "top secret")
	writeSkill(t, root, "real", `{"name":"real"}`, "real instructions")
	symlink(t, filepath.Join(outside, "secret"), filepath.Join(root, "escape-dir"))
	symlink(t, "../outside/secret", filepath.Join(root, "escape-rel"))
	symlink(t, filepath.Join(root, "real"), filepath.Join(root, "alias")) // inside: fine
	writeFile(t, filepath.Join(root, "mdlink", "manifest.json"), `{"name":"mdlink"}`)
	symlink(t, filepath.Join(base, "secret.md"), filepath.Join(root, "mdlink", "skill.md"))
	if err := os.MkdirAll(filepath.Join(root, "mlink"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, filepath.Join(outside, "secret", "manifest.json"), filepath.Join(root, "mlink", "manifest.json"))
	symlink(t, filepath.Join(base, "nowhere"), filepath.Join(root, "dangling"))
	l, _ := newLoader(t, root)

	if got := ids(l.ListSkills()); !reflect.DeepEqual(got, []string{"alias", "real"}) {
		t.Fatalf("served %v, want alias and real only", got)
	}
	alias, err := l.GetSkill("alias")
	if err != nil || alias.Instructions != "real instructions" {
		t.Fatalf("alias = %+v, %v", alias, err)
	}
	inv := invalidByID(l)
	for _, id := range []string{"escape-dir", "escape-rel", "mdlink", "mlink"} {
		s, ok := inv[id]
		if !ok || !strings.Contains(strings.Join(s.Errors, " "), "leaves the skills directory") {
			t.Errorf("%s: %+v, want invalid as an escaping symlink", id, s)
		}
		if d, err := l.GetSkill(id); code(err) != maestro.CodeNotFound || strings.Contains(d.Instructions, "secret") {
			t.Errorf("GetSkill(%s) = %+v, %v; want not found", id, d, err)
		}
		if d, err := l.ReloadSkill(context.Background(), id); code(err) != maestro.CodeNotFound || strings.Contains(d.Instructions, "secret") {
			t.Errorf("ReloadSkill(%s) = %+v, %v; want not found", id, d, err)
		}
	}
	for _, s := range l.InvalidSkills() {
		if strings.Contains(strings.Join(s.Errors, " "), "top secret") {
			t.Fatalf("content from outside the root leaked into errors: %+v", s)
		}
	}
	if _, ok := inv["dangling"]; !ok {
		t.Errorf("a dangling symlink is reported: %v", inv)
	}
}

func TestLoader_ReloadSkill(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeSkill(t, root, "one", `{"name":"one","version":"1.0.0"}`, "v1")
	l, ch := newLoader(t, root)
	ctx := context.Background()

	// Unchanged: served as is, nothing recorded.
	s, err := l.ReloadSkill(ctx, "one")
	if err != nil || s.Version != "1.0.0" || len(ch.all()) != 0 {
		t.Fatalf("reload unchanged = %+v, %v, changes %v", s, err, ch.all())
	}

	// Edited.
	writeSkill(t, root, "one", `{"name":"one","version":"1.1.0"}`, "v2")
	if s, err = l.ReloadSkill(ctx, "one"); err != nil || s.Version != "1.1.0" || s.Instructions != "v2" {
		t.Fatalf("reload edited = %+v, %v", s, err)
	}
	if g, _ := l.GetSkill("one"); g.Version != "1.1.0" {
		t.Fatalf("the reload is served afterwards: %+v", g)
	}
	assertChange(t, ch.all(), 0, maestro.SkillsChangedPayload{Changed: []string{"one"}})

	// Added (one skill reloaded by id without a full rescan).
	writeSkill(t, root, "two", `{"name":"two"}`, "-")
	if _, err = l.ReloadSkill(ctx, "two"); err != nil {
		t.Fatal(err)
	}
	assertChange(t, ch.all(), 1, maestro.SkillsChangedPayload{Added: []string{"two"}})

	// Broken: 404 with the reasons, listed as invalid.
	writeSkill(t, root, "two", `{"name":`, "-")
	if _, err = l.ReloadSkill(ctx, "two"); code(err) != maestro.CodeNotFound {
		t.Fatalf("reload broken = %v", err)
	}
	assertChange(t, ch.all(), 2, maestro.SkillsChangedPayload{Changed: []string{"two"}, Invalid: []string{"two"}})

	// Removed.
	if err := os.RemoveAll(filepath.Join(root, "one")); err != nil {
		t.Fatal(err)
	}
	if _, err = l.ReloadSkill(ctx, "one"); code(err) != maestro.CodeNotFound {
		t.Fatalf("reload removed = %v", err)
	}
	if got := ids(l.ListSkills()); len(got) != 0 {
		t.Fatalf("served %v after removal", got)
	}
	assertChange(t, ch.all(), 3, maestro.SkillsChangedPayload{Removed: []string{"one"}, Invalid: []string{"two"}})

	// Never existed: 404, nothing recorded.
	if _, err = l.ReloadSkill(ctx, "ghost"); code(err) != maestro.CodeNotFound {
		t.Fatalf("reload ghost = %v", err)
	}
	if n := len(ch.all()); n != 4 {
		t.Fatalf("%d changes recorded, want 4", n)
	}
}

func TestLoader_ReloadKeepsLastGoodWhenRootGone(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "skills")
	writeSkill(t, root, "keep", `{"name":"keep"}`, "-")
	l, ch := newLoader(t, root)
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if changed := l.Reload(context.Background()); changed {
		t.Fatal("a vanished directory is not a change of the set")
	}
	if got := ids(l.ListSkills()); !reflect.DeepEqual(got, []string{"keep"}) {
		t.Fatalf("served %v, want the last good set", got)
	}
	if h := l.Health(); h.Status != maestro.HealthDegraded || !strings.Contains(h.Reason, "missing") {
		t.Fatalf("health %+v", h)
	}
	if _, err := l.ReloadSkill(context.Background(), "keep"); code(err) != maestro.CodeNotFound {
		t.Fatalf("reload with the directory gone = %v", err)
	}
	if _, err := l.GetSkill("keep"); err != nil {
		t.Fatalf("a failed reload of one skill keeps the last good set: %v", err)
	}
	if len(ch.all()) != 0 {
		t.Fatalf("nothing changed, got %v", ch.all())
	}
}

func assertChange(t *testing.T, got []maestro.SkillsChangedPayload, i int, want maestro.SkillsChangedPayload) {
	t.Helper()
	for _, p := range []*[]string{&want.Added, &want.Changed, &want.Removed, &want.Invalid} {
		if *p == nil {
			*p = []string{}
		}
	}
	if len(got) <= i {
		t.Fatalf("change %d not recorded (have %v)", i, got)
	}
	if !reflect.DeepEqual(got[i], want) {
		t.Fatalf("change %d = %+v, want %+v", i, got[i], want)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func asError(err error, target **maestro.Error) bool {
	e, ok := err.(*maestro.Error)
	if ok {
		*target = e
	}
	return ok
}

var _ maestro.SkillCatalog = (*skills.Loader)(nil)
var _ maestro.HealthReporter = (*skills.Loader)(nil)

func TestLoader_PermissionDenied(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode; the not-a-regular-file and size cases cover unreadable files")
	}
	root := filepath.Join(t.TempDir(), "skills")
	writeSkill(t, root, "locked", `{"name":"locked"}`, "-")
	writeSkill(t, root, "open", `{"name":"open"}`, "-")
	if err := os.Chmod(filepath.Join(root, "locked", "manifest.json"), 0); err != nil {
		t.Fatal(err)
	}
	l, _ := newLoader(t, root)
	if s, ok := invalidByID(l)["locked"]; !ok || !strings.Contains(strings.Join(s.Errors, " "), "permission denied") {
		t.Fatalf("locked = %+v", s)
	}

	// The whole directory unreadable: the last good set stays and health says why.
	if err := os.Chmod(root, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(root, 0o755) })
	l.Reload(context.Background())
	if got := ids(l.ListSkills()); !reflect.DeepEqual(got, []string{"open"}) {
		t.Fatalf("served %v, want the last good set", got)
	}
	if h := l.Health(); h.Status != maestro.HealthDegraded || !strings.Contains(h.Reason, "permission denied") {
		t.Fatalf("health %+v", h)
	}
}
