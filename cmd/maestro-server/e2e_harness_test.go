package main

// End-to-end tests start the real binary on 127.0.0.1:0 and talk HTTP (and WebSocket) to it like the
// CLI and the UI do. This file is the shared harness; each topic has its own e2e_<topic>_test.go.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binPath is the maestro-server binary built once for all e2e tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "maestro-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "maestro-server")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build maestro-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// e2eServer is one running maestro-server process.
type e2eServer struct {
	t       testing.TB
	cmd     *exec.Cmd
	URL     string // http://127.0.0.1:<port>
	Addr    string // 127.0.0.1:<port>
	DataDir string
	// Dirs of the default environment, for tests that look at files the server writes.
	SessionDir string
	SkillsDir  string

	mu     sync.Mutex
	logs   bytes.Buffer
	exited chan struct{}
	err    error
}

// startServer starts the binary with a fresh data dir; env entries ("K=V") override the defaults.
func startServer(t testing.TB, env ...string) *e2eServer {
	t.Helper()
	root := t.TempDir()
	s := &e2eServer{
		t: t, DataDir: filepath.Join(root, "data"), SessionDir: filepath.Join(root, "sessions"),
		SkillsDir: filepath.Join(root, "skills"), exited: make(chan struct{}),
	}
	base := []string{
		"HOME=" + root, "PATH=" + os.Getenv("PATH"), "HOST=127.0.0.1", "PORT=0", "LOG_FORMAT=json",
		"LOG_LEVEL=info", "DATA_DIR=" + s.DataDir, "SESSION_DIR=" + s.SessionDir, "SKILLS_DIR=" + s.SkillsDir,
	}
	s.cmd = exec.Command(binPath, "serve")
	s.cmd.Env = append(base, env...)
	s.cmd.Dir = root
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout = io.Discard
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start maestro-server: %v", err)
	}
	ready := make(chan string, 1)
	go s.readLogs(stderr, ready)
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	select {
	case addr := <-ready:
		s.Addr, s.URL = addr, "http://"+addr
	case <-s.exited:
		t.Fatalf("maestro-server exited before listening: %v\n%s", s.err, s.Logs())
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Fatalf("maestro-server did not start listening within 30s\n%s", s.Logs())
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// readLogs collects stderr and reports the listen address from the "listening" log line.
func (s *e2eServer) readLogs(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Bytes()
		s.mu.Lock()
		s.logs.Write(line)
		s.logs.WriteByte('\n')
		s.mu.Unlock()
		if sent {
			continue
		}
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "maestro-server listening" && rec.Addr != "" {
			ready <- rec.Addr
			sent = true
		}
	}
}

// Logs returns everything the server logged so far.
func (s *e2eServer) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// Stop sends SIGTERM and waits for the process; it returns the exit code (-1 when it had to be killed).
func (s *e2eServer) Stop() int {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			return -1
		}
	}
	return s.cmd.ProcessState.ExitCode()
}

// Do sends a JSON request like the CLI does (Content-Type: application/json on every request) and
// returns the status and body.
func (s *e2eServer) Do(method, path string, body any, headers ...string) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		if str, ok := body.(string); ok {
			rd = strings.NewReader(str)
		} else {
			raw, err := json.Marshal(body)
			if err != nil {
				s.t.Fatal(err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// JSON sends a request, requires the status and decodes the body into out (when non-nil).
func (s *e2eServer) JSON(method, path string, body any, wantStatus int, out any) {
	s.t.Helper()
	status, raw := s.Do(method, path, body)
	if status != wantStatus {
		s.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, status, wantStatus, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}
