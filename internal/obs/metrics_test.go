package obs

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNewRegistry_collectors(t *testing.T) {
	t.Parallel()
	reg := NewRegistry("v1.2.3")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{"go_goroutines", "process_resident_memory_bytes", "go_build_info", "maestro_build_info"} {
		if !names[want] {
			t.Errorf("registry lacks %s", want)
		}
	}
	for _, mf := range mfs {
		if mf.GetName() == "maestro_build_info" {
			m := mf.GetMetric()[0]
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if m.GetGauge().GetValue() != 1 || labels["version"] != "v1.2.3" || labels["goversion"] == "" {
				t.Errorf("maestro_build_info: %v", m)
			}
		}
	}
}

func TestDBCollector(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	if err := os.WriteFile(db, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db+"-wal", make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	c := NewDBCollector(func() map[string]sql.DBStats {
		return map[string]sql.DBStats{
			"writer": {MaxOpenConnections: 1, OpenConnections: 1, InUse: 1, WaitCount: 3, WaitDuration: 2 * time.Second},
			"reader": {MaxOpenConnections: 8, OpenConnections: 2, Idle: 2},
		}
	}, db)
	want := `
# HELP maestro_db_size_bytes Size of the database file plus its write-ahead log, in bytes.
# TYPE maestro_db_size_bytes gauge
maestro_db_size_bytes 5096
# HELP maestro_db_wait_count_total Times a caller waited for a connection.
# TYPE maestro_db_wait_count_total counter
maestro_db_wait_count_total{pool="reader"} 0
maestro_db_wait_count_total{pool="writer"} 3
# HELP maestro_db_in_use_connections Connections in use.
# TYPE maestro_db_in_use_connections gauge
maestro_db_in_use_connections{pool="reader"} 0
maestro_db_in_use_connections{pool="writer"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"maestro_db_size_bytes", "maestro_db_wait_count_total", "maestro_db_in_use_connections"); err != nil {
		t.Fatal(err)
	}
}

func TestEntityCollector(t *testing.T) {
	t.Parallel()
	c := NewEntityCollector(func(context.Context) ([]EntityCount, error) {
		return []EntityCount{{"task", "todo", 3}, {"task", "completed", 0}, {"session", "running", 2}, {"other", "x", 9},
			{"task", "made-up-1", 1}, {"task", "made-up-2", 4}, {"session", "gone", 0}}, nil
	})
	// Statuses outside the contract add up under "other"; empty ones have no series (issue 9).
	want := `
# HELP maestro_tasks Tasks by status.
# TYPE maestro_tasks gauge
maestro_tasks{status="other"} 5
maestro_tasks{status="todo"} 3
# HELP maestro_sessions Sessions by status.
# TYPE maestro_sessions gauge
maestro_sessions{status="running"} 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	failing := NewEntityCollector(func(context.Context) ([]EntityCount, error) { return nil, errors.New("locked") })
	reg := prometheus.NewRegistry()
	reg.MustRegister(failing)
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("a failing count must surface as a gather error, got %v", err)
	}
}

func TestDiskCollector(t *testing.T) {
	t.Parallel()
	free, err := DiskFree(t.TempDir())
	if err != nil || free == 0 {
		t.Fatalf("DiskFree: %d, %v", free, err)
	}
	if n := testutil.CollectAndCount(NewDiskCollector(t.TempDir()), "maestro_disk_free_bytes"); n != 1 {
		t.Fatalf("disk collector produced %d metrics", n)
	}
	if _, err := DiskFree(filepath.Join(t.TempDir(), "missing", "dir")); err == nil {
		t.Fatal("DiskFree of a missing directory did not fail")
	}
}

func TestHTTPMetrics_methodLabel(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewHTTPMetrics(reg)
	m.Observe("BREW", "/x", 418, time.Millisecond, false)
	m.Observe("GET", "websocket", 101, time.Hour, true)
	if got := testutil.ToFloat64(m.requests.WithLabelValues("OTHER", "/x", "418")); got != 1 {
		t.Fatalf("unknown methods must collapse to OTHER, got %v", got)
	}
	if n := testutil.CollectAndCount(m.duration); n != 1 {
		t.Fatalf("hijacked connections must not be timed: %d histograms", n)
	}
}

func TestServeDebug(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	l, _ := NewLogger(LogOptions{Out: io.Discard})
	go func() { done <- ServeDebug(ctx, ln, l.Logger) }()
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
		resp, err := http.Get("http://" + ln.Addr().String() + p)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	// A DNS-rebinding page reaches the loopback listener under its own name: it must not read profiles.
	for host, want := range map[string]int{
		"evil.example":             http.StatusForbidden,
		"evil.example:" + port(ln): http.StatusForbidden,
		"10.0.0.5:" + port(ln):     http.StatusForbidden,
		"localhost:" + port(ln):    http.StatusOK,
		"[::1]:" + port(ln):        http.StatusOK,
		"127.0.0.1":                http.StatusOK,
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/debug/pprof/heap?debug=1", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ServeDebug: %v", err)
	}
}

func port(ln net.Listener) string {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

func TestRegister(t *testing.T) {
	t.Parallel()
	counter := func() prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "maestro_test_total", Help: "A test counter."})
	}
	t.Run("nil registry leaves the collector unregistered", func(t *testing.T) {
		c := counter()
		if got := Register(nil, c); got != c {
			t.Fatal("Register(nil, c) did not return c")
		}
	})
	t.Run("an equal collector shares the registered one", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		first := Register(reg, counter())
		second := Register(reg, counter())
		second.Inc()
		if got := testutil.ToFloat64(first); got != 1 {
			t.Fatalf("first counter = %v after incrementing the second, want 1", got)
		}
	})
	t.Run("another collector under the same name panics", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		Register(reg, counter())
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "maestro_test_total", Help: "A test counter."}))
	})
}
