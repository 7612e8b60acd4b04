package app

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/config"
	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testConfig loads a configuration from env (a mutable map standing in for the process environment).
func testConfig(t *testing.T, env map[string]string, mu *sync.Mutex) *config.Config {
	t.Helper()
	cfg, err := config.Load(config.Source{
		LookupEnv: func(k string) (string, bool) {
			mu.Lock()
			defer mu.Unlock()
			v, ok := env[k]
			return v, ok
		},
		Home: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestReloadConfig(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	env := map[string]string{"LOG_LEVEL": "info", "PORT": "3000", "MAESTRO_API_TOKEN": "first-token-0123456789"}
	cfg := testConfig(t, env, &mu)
	var logs lockedBuffer
	logger, err := obs.NewLogger(obs.LogOptions{Level: cfg.LogLevel, Format: "json", Out: &logs,
		Redactor: obs.NewRedactor(cfg.APIToken)})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("applies the level and names what needs a restart", func(t *testing.T) {
		mu.Lock()
		env["LOG_LEVEL"] = "debug"
		env["PORT"] = "4000"
		env["MAESTRO_API_TOKEN"] = "second-token-0123456789"
		mu.Unlock()
		reloadConfig(cfg, logger)
		if got := logger.Level.Level(); got.String() != "DEBUG" {
			t.Fatalf("level %s after reload, want DEBUG", got)
		}
		out := logs.String()
		for _, want := range []string{`"changed":"PORT,LOG_LEVEL,MAESTRO_API_TOKEN"`, `"needs_restart":"PORT,MAESTRO_API_TOKEN"`,
			`"previous_log_level":"info"`, `"log_level":"debug"`} {
			if !strings.Contains(out, want) {
				t.Errorf("reload log lacks %s:\n%s", want, out)
			}
		}
		if strings.Contains(out, "second-token") || strings.Contains(out, "first-token") {
			t.Errorf("reload logged a token value:\n%s", out)
		}
	})

	t.Run("an invalid configuration changes nothing", func(t *testing.T) {
		mu.Lock()
		env["LOG_LEVEL"] = "error"
		env["PORT"] = "not-a-port"
		mu.Unlock()
		reloadConfig(cfg, logger)
		if got := logger.Level.Level(); got.String() != "DEBUG" {
			t.Fatalf("level %s after an invalid reload, want it unchanged (DEBUG)", got)
		}
		if !strings.Contains(logs.String(), "configuration is invalid; nothing changed") ||
			!strings.Contains(logs.String(), "PORT=") {
			t.Fatalf("invalid reload not logged with its problems:\n%s", logs.String())
		}
	})

	t.Run("a level changed at run time is reset to the configured one", func(t *testing.T) {
		mu.Lock()
		env["LOG_LEVEL"] = "warn"
		env["PORT"] = "3000"
		env["MAESTRO_API_TOKEN"] = "first-token-0123456789"
		mu.Unlock()
		reloadConfig(cfg, logger)
		if got := logger.Level.Level(); got.String() != "WARN" {
			t.Fatalf("level %s, want WARN", got)
		}
	})
}

func TestRegisterStoreMetrics(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	svcs := service.New(st, service.Options{})
	ctx := context.Background()
	p, err := svcs.Projects.Create(ctx, maestro.ProjectCreate{Name: "P", WorkingDir: "/tmp"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 3; i++ {
		task, err := svcs.Tasks.Create(ctx, maestro.TaskCreate{ProjectID: p.ID, Title: "t"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, task.ID)
	}
	done := "completed"
	if _, err := svcs.Tasks.Update(ctx, ids[0], maestro.TaskPatch{Status: &done}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg := &config.Config{DBPath: st.Path()}
	registerStoreMetrics(reg, st, cfg, svcs)
	want := `
# HELP maestro_tasks Tasks by status.
# TYPE maestro_tasks gauge
maestro_tasks{status="completed"} 1
maestro_tasks{status="todo"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "maestro_tasks"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"maestro_db_size_bytes", "maestro_disk_free_bytes", "maestro_db_open_connections",
		"maestro_audit_entries_written_total"} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n == 0 {
			t.Errorf("%s: %d samples, %v", name, n, err)
		}
	}
}

// TestRegisterStoreMetrics_boundedStatuses: v1 stores any status string, and 300 made-up ones used to
// make 300 series that never went away (issue 9). They count under "other", and a status nobody has any
// more has no series.
func TestRegisterStoreMetrics_boundedStatuses(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	svcs := service.New(st, service.Options{})
	ctx := context.Background()
	p, err := svcs.Projects.Create(ctx, maestro.ProjectCreate{Name: "P", WorkingDir: "/tmp"})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	registerStoreMetrics(reg, st, &config.Config{DBPath: st.Path()}, svcs)
	var ids []string
	for i := range 300 {
		task, err := svcs.Tasks.Create(ctx, maestro.TaskCreate{ProjectID: p.ID, Title: "t"})
		if err != nil {
			t.Fatal(err)
		}
		status := fmt.Sprintf("made-up-%d", i)
		if _, err := svcs.Tasks.Update(ctx, task.ID, maestro.TaskPatch{Status: &status}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, task.ID)
	}
	want := `
# HELP maestro_tasks Tasks by status.
# TYPE maestro_tasks gauge
maestro_tasks{status="other"} 300
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "maestro_tasks"); err != nil {
		t.Fatal(err)
	}
	todo := maestro.TaskTodo
	for _, id := range ids {
		if _, err := svcs.Tasks.Update(ctx, id, maestro.TaskPatch{Status: &todo}); err != nil {
			t.Fatal(err)
		}
	}
	want = `
# HELP maestro_tasks Tasks by status.
# TYPE maestro_tasks gauge
maestro_tasks{status="todo"} 300
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "maestro_tasks"); err != nil {
		t.Fatal(err)
	}
}
