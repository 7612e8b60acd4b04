package app

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// runFlags runs `maestro-server flags args...` in-process against the database at path, the way an
// operator runs it next to a live server.
func runFlags(t *testing.T, path string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(append([]string{"flags"}, args...), "--db-path", path, "--data-dir", filepath.Dir(path))
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestFlagsCommand_WhileServing toggles flags with the command (its own store on the file, as another
// process would) while a server runs on the same database: each change is in effect in the server within
// a second, is broadcast through the outbox, and is audited with the OS user as actor.
func TestFlagsCommand_WhileServing(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	path := env.Store.Path()
	status := func() int { return env.Do("GET", "/api/v2/projects", nil).Status }
	within := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not in effect within 1s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if status() != 200 {
		t.Fatal("v2 off at start")
	}
	time.Sleep(2 * store.ChangePollInterval) // the server's change feed takes its baseline

	code, out, errOut := runFlags(t, path, "set", "api-v2", "off")
	if code != 0 || !strings.Contains(out, "api-v2: off") {
		t.Fatalf("set: %d %q %q", code, out, errOut)
	}
	within("flags set api-v2 off", func() bool { return status() == 404 })

	code, out, _ = runFlags(t, path, "list")
	if code != 0 || !strings.Contains(out, "KEY") {
		t.Fatalf("list: %d %s", code, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "api-v2 ") && (!strings.Contains(line, " off ") || !strings.Contains(line, "cli:")) {
			t.Errorf("list line %q", line)
		}
		if strings.HasPrefix(line, "task-search ") && !strings.Contains(line, " default ") {
			t.Errorf("list line %q", line)
		}
	}

	if code, out, _ = runFlags(t, path, "unset", "api-v2"); code != 0 || !strings.Contains(out, "api-v2: on (default)") {
		t.Fatalf("unset: %d %s", code, out)
	}
	within("flags unset api-v2", func() bool { return status() == 200 })

	doc := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(doc, []byte(`{"flags":{"api-v2":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off"},
		"task-search":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut = runFlags(t, path, "import", doc); code != 0 || !strings.Contains(out, "task-search: off") {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}
	within("flags import", func() bool { return status() == 404 })

	// Three commands, four changes: four flag:updated events in the outbox, four audit rows by the OS user.
	var n int
	for _, ev := range env.Outbox() {
		if ev.Type == maestro.EventFlagUpdated {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("%d flag:updated events, want 4", n)
	}
	raw, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var audits int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE actor LIKE 'cli:%' AND method = 'CLI' AND request_id LIKE 'cli-%'`).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if audits != 4 {
		t.Fatalf("%d audit rows, want 4", audits)
	}
}

func TestFlagsCommand_Errors(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.db")
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"flags":{"api-v2":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":{"if":[true,"on"]}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"set", "api-v2"}, 2, "usage"},
		{[]string{"set", "api-v2", "maybe"}, 2, "want on or off"},
		{[]string{"set", "dark-mode", "on"}, 2, "Flag with id 'dark-mode' not found"},
		{[]string{"unset"}, 2, "usage"},
		{[]string{"frob"}, 2, "usage"},
		{[]string{"import", bad}, 2, `flag "api-v2": targeting is not supported`},
		{[]string{"import", filepath.Join(t.TempDir(), "missing.json")}, 1, "no such file"},
	} {
		code, _, errOut := runFlags(t, path, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("flags %v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.msg)
		}
	}
}

// TestFlagsCommand_SchemaOfAnotherVersion checks that the command migrates only a brand-new database and
// refuses one whose schema is not this binary's, instead of migrating it under a running server.
func TestFlagsCommand_SchemaOfAnotherVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.db")
	if code, _, errOut := runFlags(t, path, "set", "task-search", "off"); code != 0 {
		t.Fatalf("fresh database: exit %d: %s", code, errOut)
	}
	db, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, _, errOut := runFlags(t, path, "list")
	if code != 1 || !strings.Contains(errOut, "migrate up") {
		t.Fatalf("older schema: exit %d, stderr %q", code, errOut)
	}
}
