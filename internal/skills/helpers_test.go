package skills_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/skills"
)

// writeFile writes content to path, creating its directory.
func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeSkill creates root/id with a manifest and, unless instructions is "-", a skill.md.
func writeSkill(t testing.TB, root, id, manifest, instructions string) {
	t.Helper()
	writeFile(t, filepath.Join(root, id, "manifest.json"), manifest)
	if instructions != "-" {
		writeFile(t, filepath.Join(root, id, "skill.md"), instructions)
	}
}

// changes records every skills:changed a loader reports.
type changes struct {
	mu  sync.Mutex
	got []maestro.SkillsChangedPayload
}

func (c *changes) notify(_ context.Context, p maestro.SkillsChangedPayload) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, p)
	return nil
}

func (c *changes) all() []maestro.SkillsChangedPayload {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]maestro.SkillsChangedPayload(nil), c.got...)
}

// newLoader builds a loader over root that records its changes.
func newLoader(t testing.TB, root string) (*skills.Loader, *changes) {
	t.Helper()
	c := &changes{}
	return skills.New(skills.Options{Dir: root, Notify: c.notify, PollInterval: 100 * time.Millisecond}), c
}

// ids returns the ids of skills.
func ids(skills []maestro.SkillDetail) []string {
	out := []string{}
	for _, s := range skills {
		out = append(out, s.ID)
	}
	return out
}

// invalidByID returns the invalid skills keyed by id.
func invalidByID(l *skills.Loader) map[string]maestro.InvalidSkill {
	out := map[string]maestro.InvalidSkill{}
	for _, s := range l.InvalidSkills() {
		out[s.ID] = s
	}
	return out
}

// code returns the error code of err ("" for nil).
func code(err error) maestro.Code { return maestro.ErrorCode(err) }

// eventually polls cond every 10 ms until it holds or within passes; the assertion is the deadline,
// never a fixed sleep.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
