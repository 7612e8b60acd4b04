package v2_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/store"
)

func TestAdminBackup(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Project("Kept")
	r := env.Do("POST", "/api/v2/admin/backup", nil)
	if r.Status != 200 {
		t.Fatalf("backup: %d %s", r.Status, r.Body)
	}
	b := r.Object(t)
	path, _ := b["path"].(string)
	if b["integrity"] != "ok" || b["sizeBytes"].(float64) <= 0 || filepath.Dir(path) != env.Store.BackupDir() {
		t.Fatalf("backup answer %v (backups dir %s)", b, env.Store.BackupDir())
	}
	check, err := store.CheckFile(context.Background(), path)
	if err != nil || check.Integrity != "ok" {
		t.Fatalf("backup file: %+v %v", check, err)
	}
	if files, _ := store.ListBackups(env.Store.BackupDir()); len(files) != 1 {
		t.Errorf("backups %v", files)
	}

	if r := env.Do("PUT", "/api/v2/flags/admin-data", map[string]any{"enabled": false}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	p := problem(t, env.Do("POST", "/api/v2/admin/backup", nil), 404, "FEATURE_DISABLED")
	if d, _ := p["details"].(map[string]any); d["flag"] != "admin-data" {
		t.Fatalf("details = %v", p["details"])
	}
	problem(t, env.Do("POST", "/api/v2/admin/import", map[string]any{"from": t.TempDir()}), 404, "FEATURE_DISABLED")
	// api-v2 off does not gate the admin operations.
	if r := env.Do("PUT", "/api/v2/flags/admin-data", map[string]any{"enabled": true}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if r := env.Do("PUT", "/api/v2/flags/api-v2", map[string]any{"enabled": false}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if r := env.Do("POST", "/api/v2/admin/backup", nil); r.Status != 200 {
		t.Fatalf("backup with api-v2 off: %d %s", r.Status, r.Body)
	}
}

func TestAdminImport(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	dir := t.TempDir()
	for name, body := range map[string]string{
		"projects/p1.json": `{"id": "p1", "name": "One", "createdAt": 1, "updatedAt": 1}`,
		"tasks/p1/t1.json": `{"id": "t1", "projectId": "p1", "title": "First", "createdAt": 2, "updatedAt": 2, "sessionIds": ["s1"]}`,
		"sessions/s1.json": `{"id": "s1", "projectId": "p1", "taskIds": ["t1"], "startedAt": 3}`,
		"tasks/bad.json":   `{"id": `,
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env.Run(t, []apitest.Case{
		{Name: "relative path", Method: "POST", Path: "/api/v2/admin/import", Body: map[string]any{"from": "data"}, Status: 422},
		{Name: "not a directory", Method: "POST", Path: "/api/v2/admin/import", Body: map[string]any{"from": filepath.Join(dir, "nope")}, Status: 422},
		{Name: "dry run", Method: "POST", Path: "/api/v2/admin/import", Body: map[string]any{"from": dir, "dryRun": true}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				b := r.Object(t)
				if b["dryRun"] != true || b["tasks"].(map[string]any)["imported"] != 1.0 || b["tasks"].(map[string]any)["corrupt"] != 1.0 {
					t.Errorf("report %v", b)
				}
			}},
		{Name: "nothing written by the dry run", Method: "GET", Path: "/api/projects/p1", Status: 404},
		{Name: "import", Method: "POST", Path: "/api/v2/admin/import", Body: map[string]any{"from": dir}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				b := r.Object(t)
				if b["projects"].(map[string]any)["imported"] != 1.0 || b["links"] != 1.0 || len(b["problems"].([]any)) != 1 {
					t.Errorf("report %v", b)
				}
			}},
		{Name: "read back", Method: "GET", Path: "/api/tasks/t1", Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if ids := r.Object(t)["sessionIds"].([]any); len(ids) != 1 || ids[0] != "s1" {
					t.Errorf("sessionIds %v", ids)
				}
			}},
	})
}
