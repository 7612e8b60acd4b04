package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// targetFlags choose the server under test; every mode registers them.
type targetFlags struct {
	url    string
	server string
	env    string
}

func (f *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "benchmark the server already running at this loopback URL (e.g. http://127.0.0.1:3000)")
	fs.StringVar(&f.server, "server", "bin/maestro-server", "otherwise start this maestro-server binary on 127.0.0.1 with a fresh data directory")
	fs.StringVar(&f.env, "server-env", "", "extra K=V,K=V environment for the started server")
}

// target is the server under test.
type target struct {
	URL   string // http://127.0.0.1:port
	stop  func() error
	logs  *syncBuffer
	owned bool
	pid   int
}

// rss returns the resident memory of a server this tool started, from /proc.
func (t *target) rss() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// start returns the target: the given URL (loopback only: this tool generates real load), or a server
// started from the binary, which Close stops.
func (f *targetFlags) start() (*target, error) {
	if f.url != "" {
		u, err := url.Parse(f.url)
		if err != nil || u.Scheme != "http" {
			return nil, fmt.Errorf("-url must be an http URL: %q", f.url)
		}
		if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
			return nil, fmt.Errorf("-url must be a loopback address, not %s", h)
		}
		return &target{URL: strings.TrimRight(f.url, "/"), stop: func() error { return nil }}, nil
	}
	bin, err := filepath.Abs(f.server) // the server runs in its own temporary directory
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("server binary %s: %w (run `make build`, or pass -server or -url)", f.server, err)
	}
	dir, err := os.MkdirTemp("", "maestro-bench-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT=0", "LOG_FORMAT=json", "LOG_LEVEL=info",
		"DATA_DIR="+dir+"/data", "SESSION_DIR="+dir+"/sessions", "SKILLS_DIR="+dir+"/skills",
		"RATE_LIMIT=0", "MAX_IN_FLIGHT=100000")
	if f.env != "" {
		cmd.Env = append(cmd.Env, strings.Split(f.env, ",")...)
	}
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", f.server, err)
	}
	logs := &syncBuffer{}
	ready := make(chan string, 1)
	go readListening(stderr, logs, ready)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t := &target{logs: logs, owned: true, pid: cmd.Process.Pid}
	t.stop = func() error {
		defer os.RemoveAll(dir)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			return errors.New("server did not stop within 15s of SIGTERM; killed")
		}
	}
	select {
	case addr := <-ready:
		t.URL = "http://" + addr
		return t, nil
	case err := <-exited:
		os.RemoveAll(dir)
		return nil, fmt.Errorf("server exited at start: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		os.RemoveAll(dir)
		return nil, errors.New("server did not listen within 30s")
	}
}

// Close stops a server this tool started.
func (t *target) Close() error { return t.stop() }

// readListening keeps the server's log and reports its address from the "listening" line.
func readListening(r io.Reader, logs *syncBuffer, ready chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sent := false
	for sc.Scan() {
		logs.Write(append(sc.Bytes(), '\n'))
		var rec struct{ Msg, Addr string }
		if !sent && json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "maestro-server listening" && rec.Addr != "" {
			ready <- rec.Addr
			sent = true
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// postJSON sends a JSON request and decodes a JSON reply into out (when non-nil).
func postJSON(ctx context.Context, c *http.Client, method, u string, body, out any) (int, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, u, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(data, out)
	}
	return resp.StatusCode, nil
}
