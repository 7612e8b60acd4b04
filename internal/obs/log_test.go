package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
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

// lines decodes JSON log lines.
func lines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON log line: %v\n%s", err, l)
		}
		out = append(out, m)
	}
	return out
}

func TestNewLogger_levels(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	l, err := NewLogger(LogOptions{Level: "info", Format: "json", Out: &buf})
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("shown")
	if _, err := l.SetLevel("debug"); err != nil {
		t.Fatal(err)
	}
	l.Debug("now shown")
	old, err := l.SetLevel("error")
	if err != nil || old != slog.LevelDebug {
		t.Fatalf("SetLevel: old %v err %v", old, err)
	}
	l.Warn("hidden again")
	if _, err := l.SetLevel("loud"); err == nil {
		t.Fatal("SetLevel accepted an unknown level")
	}
	var msgs []string
	for _, m := range lines(t, buf.String()) {
		msgs = append(msgs, m["msg"].(string))
	}
	if got := strings.Join(msgs, ","); got != "shown,now shown" {
		t.Fatalf("logged %q, want shown,now shown", got)
	}
}

func TestNewLogger_format(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	l, err := NewLogger(LogOptions{Format: "text", Out: &buf})
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hello", "k", "v")
	if !strings.Contains(buf.String(), "msg=hello k=v") {
		t.Fatalf("text format not used: %q", buf.String())
	}
	if _, err := NewLogger(LogOptions{Format: "xml", Out: &buf}); err == nil {
		t.Fatal("unknown format accepted")
	}
	// A buffer is not a terminal: the default is JSON.
	var jb syncBuffer
	l, _ = NewLogger(LogOptions{Out: &jb})
	l.Info("hello")
	lines(t, jb.String())
}

func TestNewLogger_fileRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "maestro.log")
	var out syncBuffer
	l, err := NewLogger(LogOptions{Format: "json", Out: &out, File: file, MaxSizeMB: 1, MaxBackups: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Write a little over 2 MiB: the file rotates at 1 MiB at least twice.
	pad := strings.Repeat("x", 1000)
	for i := 0; i < 2200; i++ {
		l.Info("filler", "i", i, "pad", pad)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var backups int
	for _, e := range entries {
		if e.Name() != "maestro.log" && strings.HasPrefix(e.Name(), "maestro-") {
			backups++
		}
	}
	if backups < 1 || backups > 2 {
		t.Fatalf("want 1 or 2 rotated files (MaxBackups 2), got %d: %v", backups, entries)
	}
	cur, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) > 1<<20 {
		t.Fatalf("current log file is %d bytes, above the 1 MiB rotation size", len(cur))
	}
	// Both destinations got every line.
	if n := strings.Count(out.String(), `"msg":"filler"`); n != 2200 {
		t.Fatalf("stderr got %d lines, want 2200", n)
	}
	lines(t, string(cur))
}

func TestNewLogger_unwritableFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A path under a regular file can never be created.
	if _, err := NewLogger(LogOptions{Out: &syncBuffer{}, File: filepath.Join(blocker, "x.log")}); err == nil {
		t.Fatal("NewLogger accepted a log file that cannot be created")
	}
}

func TestContextHandler_requestID(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	l, err := NewLogger(LogOptions{Format: "json", Out: &buf})
	if err != nil {
		t.Fatal(err)
	}
	ctx := maestro.WithRequestID(context.Background(), "req-1")
	l.InfoContext(ctx, "from context")
	l.With(RequestIDKey, "req-2").InfoContext(ctx, "scoped logger wins")
	l.InfoContext(ctx, "explicit", RequestIDKey, "req-3")
	l.Info("no context")
	rec := lines(t, buf.String())
	want := []any{"req-1", "req-2", "req-3", nil}
	for i, m := range rec {
		if m[RequestIDKey] != want[i] {
			t.Errorf("line %d (%s): request_id %v, want %v", i, m["msg"], m[RequestIDKey], want[i])
		}
		if strings.Count(buf.String(), "\n") != 4 {
			t.Fatal("wrong number of lines")
		}
	}
	// No line carries request_id twice.
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Count(l, `"request_id"`) > 1 {
			t.Errorf("duplicate request_id: %s", l)
		}
	}
}

func TestRequestInfo_nilSafe(t *testing.T) {
	t.Parallel()
	var ri *RequestInfo
	ri.SetRoute("/x", nil)
	ri.SetActor("a")
	ri.SetError(os.ErrClosed)
	if ri.Route() != "" || ri.Actor() != "" || ri.Err() != nil || !ri.MarkReported() {
		t.Fatal("nil RequestInfo is not inert")
	}
	_, ri = WithRequestInfo(context.Background())
	if !ri.MarkReported() || ri.MarkReported() {
		t.Fatal("MarkReported must report true exactly once")
	}
}
