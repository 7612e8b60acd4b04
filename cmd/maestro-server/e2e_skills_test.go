package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestE2E_SkillsHotReload starts the real binary over a skills directory, changes the directory while
// it runs, and checks that the API follows within 2 s, that /health reports the skills component, and
// that the server still stops cleanly with the watcher running.
func TestE2E_SkillsHotReload(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(s.SkillsDir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type summary struct{ ID, Name, Version string }
	list := func() []summary {
		var out []summary
		s.JSON("GET", "/api/skills", nil, 200, &out)
		return out
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("not within 2s: %s\n%s", what, s.Logs())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// The directory does not exist at start: no skills, and that is not a fault.
	if got := list(); len(got) != 0 {
		t.Fatalf("skills at start: %v", got)
	}
	var health struct {
		Status     string
		Components map[string]struct{ Status string }
	}
	s.JSON("GET", "/health", nil, 200, &health)
	if health.Status != "ok" || health.Components["skills"].Status != "ok" {
		t.Fatalf("health %+v", health)
	}

	write("maestro-cli/manifest.json", `{"name":"maestro-cli","version":"1.0.0"}`)
	waitFor("the skill in the new directory is served", func() bool {
		got := list()
		return len(got) == 1 && got[0].ID == "maestro-cli"
	})
	write("maestro-cli/manifest.json", `{"name":"maestro-cli","version":"1.0.1"}`)
	waitFor("the edit is served", func() bool {
		got := list()
		return len(got) == 1 && got[0].Version == "1.0.1"
	})
	write("broken/manifest.json", `{"name": true}`)
	waitFor("the invalid skill is listed by v2", func() bool {
		var inv struct{ Items []struct{ ID string } }
		s.JSON("GET", "/api/v2/skills/invalid", nil, 200, &inv)
		return len(inv.Items) == 1 && inv.Items[0].ID == "broken"
	})

	if err := os.RemoveAll(s.SkillsDir); err != nil {
		t.Fatal(err)
	}
	waitFor("health degraded once the directory is gone", func() bool {
		s.JSON("GET", "/health", nil, 200, &health)
		return health.Status == "degraded" && health.Components["skills"].Status == "degraded"
	})
	if got := list(); len(got) != 1 || got[0].Version != "1.0.1" {
		t.Fatalf("last good set not kept: %v", got)
	}

	if code := s.Stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, s.Logs())
	}
}
