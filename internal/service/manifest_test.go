package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/manifesttest"
)

// TestBuildManifest_ReproducesFixtures rebuilds each manifest the predecessor wrote from the same
// inputs and requires the very same bytes — shape, key order, indentation — except for the one quirk
// we deliberately drop: "skills": [""] for a spawn without skills is "skills": [] here.
func TestBuildManifest_ReproducesFixtures(t *testing.T) {
	t.Parallel()
	for name, want := range manifesttest.Fixtures() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var fx maestro.Manifest
			if err := json.Unmarshal(want, &fx); err != nil {
				t.Fatal(err)
			}
			tasks := make([]maestro.Task, len(fx.Tasks))
			for i, mt := range fx.Tasks {
				created, err := time.Parse(time.RFC3339Nano, mt.CreatedAt)
				if err != nil {
					t.Fatal(err)
				}
				tasks[i] = maestro.Task{
					ID: mt.ID, ProjectID: mt.ProjectID, ParentID: mt.ParentID, Title: mt.Title,
					Description: mt.Description, Priority: mt.Priority, CreatedAt: created.UnixMilli(),
					Dependencies: mt.Dependencies,
				}
			}
			var skills []string
			for _, s := range fx.Skills {
				if s != "" {
					skills = append(skills, s)
				}
			}
			project := maestro.Project{ID: fx.Tasks[0].ProjectID, WorkingDir: fx.Session.WorkingDirectory}
			m, err := buildManifest(fx.Role, fx.Strategy, project, tasks, skills, fx.TemplateID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := encodeManifest(m)
			if err != nil {
				t.Fatal(err)
			}
			expected := strings.Replace(string(want), "\"skills\": [\n    \"\"\n  ]", "\"skills\": []", 1)
			if string(got) != expected {
				t.Errorf("manifest differs from the predecessor's\n--- got\n%s\n--- want\n%s", got, expected)
			}
			if err := manifesttest.Validate(got); err != nil {
				t.Errorf("schema: %v", err)
			}
		})
	}
}

// TestBuildManifest_Combinations builds a manifest for every role × strategy × skills × working
// directory × parent task × template combination and checks each against the CLI's schema and the
// predecessor's key order.
func TestBuildManifest_Combinations(t *testing.T) {
	t.Parallel()
	parent := "task_1795628155811_w5qu9mr7p"
	for _, role := range []string{maestro.RoleWorker, maestro.RoleOrchestrator} {
		for _, strategy := range []string{maestro.StrategySimple, maestro.StrategyQueue} {
			for _, skills := range [][]string{nil, {"maestro-cli"}, {"a", "b"}} {
				for _, wd := range []string{"", "/work/project"} {
					for _, parentID := range []*string{nil, &parent} {
						for _, tmpl := range []string{"", "tmpl_1_x"} {
							name := fmt.Sprintf("%s/%s/skills=%d/wd=%t/parent=%t/tmpl=%t", role, strategy, len(skills), wd != "", parentID != nil, tmpl != "")
							tasks := []maestro.Task{
								{ID: "task_1", ProjectID: "proj_1", ParentID: parentID, Title: "One", Priority: "high", CreatedAt: 1795628155811, Dependencies: []string{}},
								{ID: "task_2", ProjectID: "proj_1", Title: "Two <&>", Description: "d", Priority: "", CreatedAt: 1795628155841},
							}
							m, err := buildManifest(role, strategy, maestro.Project{ID: "proj_1", WorkingDir: wd}, tasks, skills, tmpl)
							if err != nil {
								t.Fatalf("%s: %v", name, err)
							}
							data, err := encodeManifest(m)
							if err != nil {
								t.Fatal(err)
							}
							checkManifest(t, name, data)
							if skills == nil && !bytes.Contains(data, []byte(`"skills": []`)) {
								t.Errorf("%s: no skills must be written as [] (never [\"\"])\n%s", name, data)
							}
							if (wd == "") == bytes.Contains(data, []byte("workingDirectory")) {
								t.Errorf("%s: workingDirectory present=%t with workingDir %q", name, !(wd == ""), wd)
							}
							if (tmpl == "") == bytes.Contains(data, []byte("templateId")) {
								t.Errorf("%s: templateId present with template %q", name, tmpl)
							}
							if !bytes.Contains(data, []byte(`"Two <&>"`)) {
								t.Errorf("%s: HTML characters must not be escaped (JSON.stringify does not)", name)
							}
						}
					}
				}
			}
		}
	}
}

func checkManifest(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := manifesttest.Validate(data); err != nil {
		t.Errorf("%s: schema: %v\n%s", name, err, data)
	}
	if err := manifesttest.CheckKeyOrder(data); err != nil {
		t.Errorf("%s: key order: %v\n%s", name, err, data)
	}
}

func TestBuildManifest_Priority(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		priority string
		ok       bool
	}{
		{"low", true}, {"medium", true}, {"high", true}, {"critical", true}, {"", true},
		{"urgent", false}, {"High", false},
	} {
		tasks := []maestro.Task{{ID: "task_1", ProjectID: "p", Title: "t", Priority: tc.priority}}
		m, err := buildManifest(maestro.RoleWorker, maestro.StrategySimple, maestro.Project{}, tasks, nil, "")
		if (err == nil) != tc.ok {
			t.Errorf("priority %q: err = %v, want ok=%t", tc.priority, err, tc.ok)
			continue
		}
		if !tc.ok {
			if !strings.Contains(err.Error(), "task_1") || !strings.Contains(err.Error(), tc.priority) {
				t.Errorf("priority %q: error %q does not name the task and the priority", tc.priority, err)
			}
			continue
		}
		data, _ := encodeManifest(m)
		checkManifest(t, "priority "+tc.priority, data)
		if tc.priority == "" && bytes.Contains(data, []byte(`"priority"`)) {
			t.Errorf("an empty priority must be omitted:\n%s", data)
		}
	}
}

func TestIsoMillis(t *testing.T) {
	t.Parallel()
	if got := isoMillis(1795628155811); got != "2026-11-25T17:35:55.811Z" {
		t.Errorf("isoMillis = %s", got)
	}
	if got := isoMillis(1795628155000); got != "2026-11-25T17:35:55.000Z" {
		t.Errorf("isoMillis keeps zero milliseconds: %s", got)
	}
}

func TestWriteManifest(t *testing.T) {
	t.Parallel()
	t.Run("writes atomically and undoes", func(t *testing.T) {
		t.Parallel()
		root := filepath.Join(t.TempDir(), "sessions") // does not exist yet: mkdir -p
		path, undo, err := writeManifest(root, "sess_1", []byte(`{"a":1}`))
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(root, "sess_1", "manifest.json") {
			t.Errorf("path = %s", path)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != `{"a":1}` {
			t.Fatalf("file = %q, %v", b, err)
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
			t.Errorf("temporary files left behind: %v", entries)
		}
		undo()
		if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
			t.Errorf("undo left the session directory it created: %v", err)
		}
	})
	t.Run("undo keeps a directory it did not create", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		dir := filepath.Join(root, "sess_1")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		path, undo, err := writeManifest(root, "sess_1", []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		undo()
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("manifest still there after undo: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
			t.Errorf("undo touched files it did not write: %v", err)
		}
	})
	t.Run("fails cleanly when the session dir is a file", func(t *testing.T) {
		t.Parallel()
		root := filepath.Join(t.TempDir(), "sessions")
		if err := os.WriteFile(root, []byte("not a dir"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, undo, err := writeManifest(root, "sess_1", []byte(`{}`)); err == nil || undo != nil {
			t.Fatalf("err = %v, undo = %v; want an error and no undo", err, undo != nil)
		}
	})
	t.Run("fails without a session dir", func(t *testing.T) {
		t.Parallel()
		if _, _, err := writeManifest("", "sess_1", []byte(`{}`)); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestPlatformName(t *testing.T) {
	t.Parallel()
	for goos, want := range map[string]string{"windows": "win32", "linux": "linux", "darwin": "darwin"} {
		if got := platformName(goos); got != want {
			t.Errorf("platformName(%s) = %s, want %s", goos, got, want)
		}
	}
}

func TestDefaultTemplateContent_HasEveryPlaceholder(t *testing.T) {
	t.Parallel()
	// SPEC §6.3: every placeholder the CLI fills in; the orchestrator's outline leaves out ALL_TASKS.
	common := []string{"TASK_ID", "TASK_TITLE", "TASK_DESCRIPTION", "TASK_PRIORITY", "ACCEPTANCE_CRITERIA",
		"CODEBASE_CONTEXT", "RELATED_TASKS", "PROJECT_STANDARDS", "TASK_COUNT", "STRATEGY", "STRATEGY_INSTRUCTIONS"}
	want := map[string][]string{
		maestro.RoleWorker:       append(append([]string{}, common...), "ALL_TASKS"),
		maestro.RoleOrchestrator: common,
	}
	for role, names := range want {
		content := DefaultTemplateContent(role)
		if !strings.HasPrefix(content, "# ") {
			t.Errorf("%s: not a Markdown document with a title", role)
		}
		for _, n := range names {
			if !strings.Contains(content, "${"+n+"}") {
				t.Errorf("%s template lacks ${%s}", role, n)
			}
		}
		for _, cmd := range []string{"maestro whoami", "maestro status", "maestro update:progress", "maestro update:complete"} {
			if !strings.Contains(content, cmd) {
				t.Errorf("%s template does not mention %s", role, cmd)
			}
		}
	}
	if DefaultTemplateContent("tester") != "" {
		t.Error("unknown role has content")
	}
}

// TestNewSessions_D27AbsoluteSessionDir: a relative SESSION_DIR still yields absolute manifest paths.
func TestNewSessions_D27AbsoluteSessionDir(t *testing.T) {
	t.Parallel()
	s := newSessions(base{}, Options{SessionDir: filepath.Join("rel", "sessions"), Hostname: "h"})
	if !filepath.IsAbs(s.sessionDir) || !strings.HasSuffix(s.sessionDir, filepath.Join("rel", "sessions")) {
		t.Errorf("sessionDir = %s", s.sessionDir)
	}
	if s.hostname != "h" {
		t.Errorf("hostname = %s", s.hostname)
	}
	if def := newSessions(base{}, Options{}); def.hostname == "" {
		want, _ := os.Hostname()
		if want != "" {
			t.Errorf("hostname defaults to os.Hostname() = %s, got empty", want)
		}
	}
}
