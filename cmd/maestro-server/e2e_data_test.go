package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fixtureTarball is the predecessor's data directory the import tests read (kept in the repo once).
const fixtureTarball = "../../internal/service/testdata/predecessor-data.tar.gz"

// runCLI runs the binary as a command (not a server) with DATA_DIR=dataDir and returns its exit code
// and output.
func runCLI(t *testing.T, dataDir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = []string{"HOME=" + filepath.Dir(dataDir), "PATH=" + os.Getenv("PATH"), "DATA_DIR=" + dataDir, "USER=ops"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return code, stdout.String(), stderr.String()
}

func unpack(t *testing.T, tarball string) string {
	t.Helper()
	f, err := os.Open(tarball)
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
		if strings.HasPrefix(name, "..") || filepath.IsAbs(name) || h.Typeflag != tar.TypeReg {
			continue
		}
		dest := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dest, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestE2E_ImportPredecessorData imports the fixture with the real binary, starts the server on the
// result and reads the data over HTTP and a WebSocket; while it runs, import and restore refuse.
func TestE2E_ImportPredecessorData(t *testing.T) {
	t.Parallel()
	src := unpack(t, fixtureTarball)
	dataDir := filepath.Join(t.TempDir(), "data")

	code, out, errOut := runCLI(t, dataDir, "import", "--from", src, "--json")
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	var rep struct {
		Projects, Tasks, Sessions, Queues struct{ Imported int }
		Links                             int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("import --json: %v\n%s", err, out)
	}
	if rep.Projects.Imported != 490 || rep.Tasks.Imported != 520 || rep.Sessions.Imported != 216 || rep.Queues.Imported != 4 || rep.Links != 241 {
		t.Fatalf("import report %+v", rep)
	}
	// The plain report names the counts too.
	if code, out, _ := runCLI(t, dataDir, "import", "--from", src, "--dry-run"); code != 0 || !strings.Contains(out, "projects") || !strings.Contains(out, "490") {
		t.Fatalf("second import (dry run): %d\n%s", code, out)
	}

	s := startServer(t, "DATA_DIR="+dataDir)
	var projects []map[string]any
	s.JSON("GET", "/api/projects", nil, 200, &projects)
	if len(projects) != 490 {
		t.Fatalf("%d projects served, want 490", len(projects))
	}
	var task map[string]any
	s.JSON("GET", "/api/tasks/task_1795626223686_s5acrl5iw", nil, 200, &task)
	if task["title"] != "Test Task" || fmt.Sprint(task["sessionIds"]) != "[sess_1795626223695_20z08wfz3]" {
		t.Fatalf("imported task %v", task)
	}
	var sess map[string]any
	s.JSON("GET", "/api/sessions/sess_1795626223695_20z08wfz3", nil, 200, &sess)
	if fmt.Sprint(sess["taskIds"]) != "[task_1795626223686_s5acrl5iw]" {
		t.Fatalf("imported session %v", sess)
	}

	// A WebSocket client sees an imported record the moment it changes.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+s.Addr, nil)
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, s.Logs())
	}
	defer c.CloseNow()
	s.JSON("PATCH", "/api/tasks/task_1795626223686_s5acrl5iw", map[string]any{"status": "in_progress"}, 200, nil)
	_, raw, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Event string
		Data  map[string]any
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Event != "task:updated" || ev.Data["id"] != "task_1795626223686_s5acrl5iw" || ev.Data["projectId"] != "proj_1795626223683_xjsoyy0w8" ||
		fmt.Sprint(ev.Data["sessionIds"]) != "[sess_1795626223695_20z08wfz3]" {
		t.Fatalf("event %s", raw)
	}

	// The running server holds the database: import and restore refuse and say why.
	code, _, errOut = runCLI(t, dataDir, "import", "--from", src)
	if code != 1 || !strings.Contains(errOut, "held by maestro-server serve (pid") || !strings.Contains(errOut, "stop the server first") {
		t.Fatalf("import under a running server: exit %d: %s", code, errOut)
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	if code, out, errOut := runCLI(t, dataDir, "backup", backup); code != 0 {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, dataDir, "restore", backup)
	if code != 1 || !strings.Contains(errOut, "held by maestro-server serve") {
		t.Fatalf("restore under a running server: exit %d: %s", code, errOut)
	}
}

// TestE2E_BackupRestore backs up a serving database with the real binary while writers run, restores
// the backup into another data directory and serves it; the admin API backup shows in /metrics and
// /health.
func TestE2E_BackupRestore(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var proj struct{ ID string }
	s.JSON("POST", "/api/projects", map[string]any{"name": "Backed up"}, 201, &proj)

	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
		stop  atomic.Bool
	)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				var tk struct{ ID string }
				st, body := s.Do("POST", "/api/tasks", map[string]any{"projectId": proj.ID, "title": "w"})
				if st != 201 || json.Unmarshal(body, &tk) != nil {
					t.Errorf("create: %d %s", st, body)
					return
				}
				mu.Lock()
				acked = append(acked, tk.ID)
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 50 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	backup := filepath.Join(t.TempDir(), "backup.db")
	code, out, errOut := runCLI(t, s.DataDir, "backup", backup)
	stop.Store(true)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "integrity ok") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}

	// Restore into a fresh data directory and serve it.
	other := filepath.Join(t.TempDir(), "data")
	if code, out, errOut := runCLI(t, other, "restore", backup); code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	s2 := startServer(t, "DATA_DIR="+other)
	var tasks []map[string]any
	s2.JSON("GET", "/api/tasks?projectId="+proj.ID, nil, 200, &tasks)
	have := map[string]bool{}
	for _, tk := range tasks {
		have[tk["id"].(string)] = true
	}
	for _, id := range before {
		if !have[id] {
			t.Fatalf("task %s acknowledged before the backup is not served after the restore (%d served, %d acknowledged before)", id, len(have), len(before))
		}
	}

	// Restore over an existing database keeps it; a corrupt file is refused.
	s2.Stop()
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, []byte("SQLite format 3\x00 but not really a database at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, other, "restore", junk); code != 1 || !strings.Contains(errOut, "restore") {
		t.Fatalf("restore of a corrupt file: exit %d: %s", code, errOut)
	}
	code, out, errOut = runCLI(t, other, "restore", backup)
	if code != 0 || !strings.Contains(out, "previous database is kept as") {
		t.Fatalf("second restore: %d %s %s", code, out, errOut)
	}

	// The admin API backup, counted in /metrics, with the backup component in /health.
	var info struct {
		Path      string
		Integrity string
	}
	s.JSON("POST", "/api/v2/admin/backup", nil, 200, &info)
	if info.Integrity != "ok" || filepath.Dir(info.Path) != filepath.Join(s.DataDir, "backups") {
		t.Fatalf("admin backup %+v", info)
	}
	_, metrics := s.Do("GET", "/metrics", nil)
	for _, want := range []string{`maestro_backups_total{result="success"} 1`, `maestro_backups_total{result="failure"} 0`, "maestro_backup_last_success_timestamp_seconds "} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	var health struct {
		Components map[string]struct{ Status string }
	}
	s.JSON("GET", "/health", nil, 200, &health)
	if health.Components["backup"].Status != "ok" {
		t.Errorf("health components %+v", health.Components)
	}
}
