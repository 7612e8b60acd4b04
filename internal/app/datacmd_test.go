package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/store"
)

func runCmd(t *testing.T, dataDir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(append(args, "--data-dir", dataDir), &out, &errb)
	return code, out.String(), errb.String()
}

func predecessorDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"projects/p1.json":      `{"id": "p1", "name": "One", "createdAt": 1, "updatedAt": 1}`,
		"tasks/p1/t1.json":      `{"id": "t1", "projectId": "p1", "title": "First", "createdAt": 2, "updatedAt": 2, "sessionIds": ["s1"]}`,
		"sessions/s1.json":      `{"id": "s1", "projectId": "p1", "taskId": "t1", "startedAt": 3}`,
		"tasks/p1/broken.json":  `{"id": "broken", "projectId": `,
		"templates/custom.json": `{"id": "tmpl_c", "name": "Mine", "role": "worker", "content": "hi", "isDefault": false}`,
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestImportCommand(t *testing.T) {
	t.Parallel()
	src := predecessorDir(t)
	data := filepath.Join(t.TempDir(), "data")
	db := filepath.Join(data, "maestro.db")

	// A dry run on a database that does not exist yet creates nothing.
	code, out, errOut := runCmd(t, data, "import", "--from", src, "--dry-run")
	if code != 0 || !strings.Contains(out, "dry run (nothing written)") || !strings.Contains(out, "corrupt") {
		t.Fatalf("dry run: %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("a dry run created %s (%v)", data, err)
	}

	code, out, errOut = runCmd(t, data, "import", "--from="+src, "--json")
	if code != 0 {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	var rep struct {
		Tasks    struct{ Imported, Corrupt int }
		Links    int
		Problems []struct{ Kind, File string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Tasks.Imported != 1 || rep.Tasks.Corrupt != 1 || rep.Links != 1 || len(rep.Problems) != 1 || rep.Problems[0].File != "tasks/p1/broken.json" {
		t.Fatalf("report %+v", rep)
	}

	// A dry run of an existing database writes nothing either: the file is byte for byte the same.
	before, _ := os.ReadFile(db)
	if code, out, _ := runCmd(t, data, "import", "--from", src, "--dry-run", "--update"); code != 0 || !strings.Contains(out, "existing") {
		t.Fatalf("dry run again: %d %s", code, out)
	}
	if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
		t.Error("a dry run changed the database file")
	}

	// While a server holds the database, import and migrate refuse and say what to do.
	lock, err := store.LockDB(db, "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	code, _, errOut = runCmd(t, data, "import", "--from", src)
	if code != 1 || !strings.Contains(errOut, "held by maestro-server serve") || !strings.Contains(errOut, "/api/v2/admin/import") {
		t.Errorf("import under a server: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, data, "migrate", "up"); code != 1 || !strings.Contains(errOut, "stop the server first") {
		t.Errorf("migrate up under a server: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, data, "migrate", "status"); code != 0 {
		t.Errorf("migrate status under a server: %d %s", code, errOut)
	}
}

func TestDataCommands_Usage(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, args := range [][]string{
		{"import"},
		{"import", "--from"},
		{"import", "--from", filepath.Join(data, "missing")},
		{"import", "--from", data, "--json=yes"},
		{"backup"},
		{"restore"},
	} {
		if code, _, _ := runCmd(t, data, args...); code != exitConfig {
			t.Errorf("%v: exit %d, want %d", args, code, exitConfig)
		}
	}
	if code, _, errOut := runCmd(t, data, "backup", filepath.Join(data, "b.db")); code != exitFail || !strings.Contains(errOut, "no database") {
		t.Errorf("backup without a database: %d %s", code, errOut)
	}
}
