package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2E_Foundation starts the real binary, checks health, makes a project and a task through both
// URL prefixes, finds the schema in the database file, and stops it cleanly with SIGTERM.
func TestE2E_Foundation(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	var health map[string]any
	s.JSON("GET", "/health", nil, 200, &health)
	if health["status"] != "ok" {
		t.Fatalf("health = %v", health)
	}

	var proj struct{ ID string }
	s.JSON("POST", "/api/projects", map[string]any{"name": "E2E", "workingDir": "/tmp/e2e"}, 201, &proj)
	var task struct {
		ID, ProjectID string
		SessionIDs    []string `json:"sessionIds"`
	}
	s.JSON("POST", "/api/v1/tasks", map[string]any{"projectId": proj.ID, "title": "Do it"}, 201, &task)
	if task.ProjectID != proj.ID || task.SessionIDs == nil {
		t.Fatalf("task = %+v", task)
	}
	var tasks []map[string]any
	s.JSON("GET", "/api/tasks?projectId="+proj.ID, nil, 200, &tasks)
	if len(tasks) != 1 {
		t.Fatalf("tasks = %v", tasks)
	}

	if code := s.Stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, s.Logs())
	}
	db := filepath.Join(s.DataDir, "maestro.db")
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("database file: %v", err)
	}
	if sqlite, err := exec.LookPath("sqlite3"); err == nil {
		out, err := exec.Command(sqlite, db, ".tables").CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3 .tables: %v\n%s", err, out)
		}
		for _, table := range []string{"projects", "tasks", "sessions", "task_sessions", "events", "templates"} {
			if !strings.Contains(string(out), table) {
				t.Errorf("sqlite3 .tables lacks %s:\n%s", table, out)
			}
		}
	}
}

// TestE2E_InvalidConfigExits2 checks that a bad setting stops the server with exit code 2 and names it.
func TestE2E_InvalidConfigExits2(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binPath, "serve")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PORT=99999", "LOG_LEVEL=loud"}
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want code 2\n%s", err, out)
	}
	for _, want := range []string{"PORT", "LOG_LEVEL"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not name %s:\n%s", want, out)
		}
	}
}
