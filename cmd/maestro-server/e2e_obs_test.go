package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// TestE2E_Observability runs the real binary with a log file and the debug listener, and checks what
// an operator relies on: probes, /metrics with the process collectors and entity gauges, pprof on the
// debug listener only, the log file, SIGHUP re-applying the configured log level, and the audit log
// flushed to the database by a graceful shutdown.
func TestE2E_Observability(t *testing.T) {
	t.Parallel()
	logFile := filepath.Join(t.TempDir(), "logs", "maestro.log")
	s := startServer(t, "DEBUG_ADDR=127.0.0.1:0", "LOG_FILE="+logFile, "LOG_MAX_SIZE_MB=1")

	for _, p := range []string{"/healthz", "/readyz"} {
		if status, body := s.Do("GET", p, nil); status != http.StatusOK {
			t.Fatalf("%s: %d %s", p, status, body)
		}
	}
	var project maestro.Project
	s.JSON("POST", "/api/projects", map[string]string{"name": "P", "workingDir": "/tmp"}, http.StatusCreated, &project)
	s.JSON("POST", "/api/tasks", map[string]string{"projectId": project.ID, "title": "T"}, http.StatusCreated, nil)

	status, metrics := s.Do("GET", "/metrics", nil)
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	for _, want := range []string{"process_resident_memory_bytes", "go_goroutines", "maestro_build_info{",
		`maestro_tasks{status="todo"} 1`, "maestro_db_size_bytes", "maestro_disk_free_bytes",
		`maestro_http_requests_total{code="201",method="POST",route="/api/v1/tasks"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// pprof answers on the debug listener, never on the API.
	var debugAddr string
	for _, line := range strings.Split(s.Logs(), "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(rec.Msg, "debug listener") {
			debugAddr = rec.Addr
		}
	}
	if debugAddr == "" {
		t.Fatalf("no debug listener logged:\n%s", s.Logs())
	}
	resp, err := http.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("pprof on the debug listener: %d", resp.StatusCode)
	}
	if status, _ := s.Do("GET", "/debug/pprof/", nil); status != http.StatusNotFound {
		t.Fatalf("pprof reachable on the API port: %d", status)
	}

	// SIGHUP re-reads the configuration and re-applies LOG_LEVEL (info) over a run-time change.
	s.JSON("PUT", "/api/v2/admin/log-level", map[string]string{"level": "error"}, http.StatusOK, nil)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var lvl struct{ Level string }
		s.JSON("GET", "/api/v2/admin/log-level", nil, http.StatusOK, &lvl)
		if lvl.Level == "info" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log level still %q after SIGHUP", lvl.Level)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The last mutation goes straight into a graceful shutdown: its audit entry must still be stored.
	s.JSON("PUT", "/api/projects/"+project.ID, map[string]string{"name": "renamed"}, http.StatusOK, nil)
	if code := s.Stop(); code != 0 {
		t.Fatalf("exit code %d\n%s", code, s.Logs())
	}
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(s.DataDir, "maestro.db"), NoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.Read().ListAuditEntries(context.Background(), maestro.AuditFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 || entries[0].Method != "PUT" || entries[0].Route != "/api/v1/projects/{id}" {
		t.Fatalf("audit log after shutdown: %+v", entries)
	}

	// The log file got the same JSON lines as stderr, request ids included.
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, want := range []string{`"msg":"request"`, `"route":"/api/v1/projects/{id}"`, `"request_id":`,
		"SIGHUP: configuration reloaded", `"msg":"maestro-server stopped"`} {
		if !strings.Contains(text, want) {
			t.Errorf("log file lacks %s", want)
		}
	}
}
