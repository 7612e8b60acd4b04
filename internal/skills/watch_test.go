package skills_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/skills"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// within is the bound on how soon a change on disk is served.
const within = 2 * time.Second

// watch starts l.Watch until the test ends and checks that it stops with its context.
func watch(t *testing.T, l *skills.Loader) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Watch did not stop when its context was cancelled")
		}
	})
}

// storeLoader builds a loader whose changes go to a fresh database's outbox.
func storeLoader(t *testing.T, root string) (*skills.Loader, *store.Store) {
	t.Helper()
	st := dbtest.New(t)
	l := skills.New(skills.Options{Dir: root, Notify: skills.StoreNotifier(st), PollInterval: 100 * time.Millisecond})
	return l, st
}

// outbox returns the skills:changed payloads recorded in st, in seq order.
func outbox(t *testing.T, st *store.Store) []maestro.SkillsChangedPayload {
	t.Helper()
	evs, err := st.Read().EventsSince(context.Background(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var out []maestro.SkillsChangedPayload
	for _, ev := range evs {
		if ev.Type != maestro.EventSkillsChanged {
			t.Fatalf("unexpected event %s", ev.Type)
		}
		var p maestro.SkillsChangedPayload
		if err := json.Unmarshal(ev.Data, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// recorded reports whether some change in got lists id in the field picked by pick.
func recorded(got []maestro.SkillsChangedPayload, pick func(maestro.SkillsChangedPayload) []string, id string) bool {
	for _, p := range got {
		if slices.Contains(pick(p), id) {
			return true
		}
	}
	return false
}

func added(p maestro.SkillsChangedPayload) []string   { return p.Added }
func changed(p maestro.SkillsChangedPayload) []string { return p.Changed }
func removed(p maestro.SkillsChangedPayload) []string { return p.Removed }

func TestWatch_AddEditRemove(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeSkill(t, root, "a", `{"name":"a","version":"1.0.0"}`, "a1")
	l, st := storeLoader(t, root)
	watch(t, l)

	// Added: a new directory appears with its files.
	writeSkill(t, root, "b", `{"name":"b"}`, "b1")
	eventually(t, within, "added skill b served", func() bool {
		s, err := l.GetSkill("b")
		return err == nil && s.Instructions == "b1"
	})
	eventually(t, within, "skills:changed with b added", func() bool { return recorded(outbox(t, st), added, "b") })

	// Edited: only a file inside the skill's own directory changes (the root sees nothing).
	writeFile(t, filepath.Join(root, "a", "manifest.json"), `{"name":"a","version":"1.1.0"}`)
	eventually(t, within, "edited manifest of a served", func() bool {
		s, err := l.GetSkill("a")
		return err == nil && s.Version == "1.1.0"
	})
	// The directory added while watching is watched too.
	writeFile(t, filepath.Join(root, "b", "skill.md"), "b2")
	eventually(t, within, "edited skill.md of b served", func() bool {
		s, err := l.GetSkill("b")
		return err == nil && s.Instructions == "b2"
	})

	// Removed.
	if err := os.RemoveAll(filepath.Join(root, "a")); err != nil {
		t.Fatal(err)
	}
	eventually(t, within, "removed skill a gone", func() bool {
		return reflect.DeepEqual(ids(l.ListSkills()), []string{"b"})
	})
	eventually(t, within, "skills:changed with a removed", func() bool { return recorded(outbox(t, st), removed, "a") })

	got := outbox(t, st)
	if !recorded(got, changed, "a") || !recorded(got, changed, "b") {
		t.Fatalf("edits not recorded: %+v", got)
	}
	// In order: b added before a changed before a removed.
	pos := func(pick func(maestro.SkillsChangedPayload) []string, id string) int {
		return slices.IndexFunc(got, func(p maestro.SkillsChangedPayload) bool { return slices.Contains(pick(p), id) })
	}
	if !(pos(added, "b") < pos(changed, "a") && pos(changed, "a") < pos(removed, "a")) {
		t.Fatalf("events out of order: %+v", got)
	}
	if h := l.Health(); h.Status != maestro.HealthOK {
		t.Fatalf("health %+v", h)
	}
}

func TestWatch_InvalidEditIsReportedNotServed(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeSkill(t, root, "a", `{"name":"a"}`, "-")
	l, ch := newLoader(t, root)
	watch(t, l)

	writeFile(t, filepath.Join(root, "a", "manifest.json"), `{"name": 42}`)
	eventually(t, within, "broken a reported invalid", func() bool {
		_, bad := invalidByID(l)["a"]
		return bad && len(l.ListSkills()) == 0
	})
	eventually(t, within, "change lists a as invalid", func() bool {
		for _, p := range ch.all() {
			if slices.Contains(p.Changed, "a") && slices.Contains(p.Invalid, "a") {
				return true
			}
		}
		return false
	})
	writeFile(t, filepath.Join(root, "a", "manifest.json"), `{"name": "fixed"}`)
	eventually(t, within, "fixed a served again", func() bool {
		s, err := l.GetSkill("a")
		return err == nil && s.Name == "fixed"
	})
}

func TestWatch_BurstIsDebounced(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeSkill(t, root, "a", `{"name":"a","version":"0.0.0"}`, "-")
	l, ch := newLoader(t, root)
	watch(t, l)

	const writes = 30
	for i := 1; i <= writes; i++ {
		writeFile(t, filepath.Join(root, "a", "manifest.json"), fmt.Sprintf(`{"name":"a","version":"0.0.%d"}`, i))
	}
	eventually(t, within, "last write served", func() bool {
		s, err := l.GetSkill("a")
		return err == nil && s.Version == fmt.Sprintf("0.0.%d", writes)
	})
	// A burst of writes within a few milliseconds is one reload, or a few on a very busy machine;
	// never one per write.
	if n := len(ch.all()); n == 0 || n > 5 {
		t.Fatalf("%d changes recorded for a burst of %d writes", n, writes)
	}
}

func TestWatch_DirectoryRemovedKeepsLastGoodAndRecovers(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "skills")
	writeSkill(t, root, "a", `{"name":"a"}`, "a1")
	writeSkill(t, root, "b", `{"name":"b"}`, "-")
	l, st := storeLoader(t, root)
	watch(t, l)
	// Wait until the watcher is up and has done its first reload: a reload that ran in the middle of
	// RemoveAll would see a half-deleted directory and (rightly) serve that as the new set.
	writeSkill(t, root, "b", `{"name":"b","version":"2.0.0"}`, "-")
	eventually(t, within, "watcher running", func() bool {
		s, err := l.GetSkill("b")
		return err == nil && s.Version == "2.0.0"
	})
	base := len(outbox(t, st))

	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	eventually(t, within, "health degraded after the directory went away", func() bool {
		return l.Health().Status == maestro.HealthDegraded
	})
	if got := ids(l.ListSkills()); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("served %v, want the last good set", got)
	}
	if s, err := l.GetSkill("a"); err != nil || s.Instructions != "a1" {
		t.Fatalf("last good a = %+v, %v", s, err)
	}
	if n := len(outbox(t, st)) - base; n != 0 {
		t.Fatalf("a vanished directory records no change, got %d events", n)
	}

	// Restored, with different content: watching resumes and the new set is served.
	writeSkill(t, root, "a", `{"name":"a"}`, "a2")
	writeSkill(t, root, "c", `{"name":"c"}`, "-")
	eventually(t, within, "recovered with the restored directory's content", func() bool {
		s, err := l.GetSkill("a")
		return err == nil && s.Instructions == "a2" && reflect.DeepEqual(ids(l.ListSkills()), []string{"a", "c"}) &&
			l.Health().Status == maestro.HealthOK
	})
	eventually(t, within, "skills:changed for the restored directory", func() bool {
		got := outbox(t, st)
		return recorded(got, added, "c") && recorded(got, removed, "b") && recorded(got, changed, "a")
	})

	// Watching really resumed: an edit inside the restored directory is picked up.
	writeFile(t, filepath.Join(root, "c", "skill.md"), "c2")
	eventually(t, within, "edit after recovery served", func() bool {
		s, err := l.GetSkill("c")
		return err == nil && s.Instructions == "c2"
	})
}

func TestWatch_DirectoryCreatedLater(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "later")
	l, ch := newLoader(t, root)
	watch(t, l)
	if h := l.Health(); h.Status != maestro.HealthOK {
		t.Fatalf("no directory yet is not a fault: %+v", h)
	}
	writeSkill(t, root, "x", `{"name":"x"}`, "-")
	eventually(t, within, "skill in the new directory served", func() bool {
		_, err := l.GetSkill("x")
		return err == nil
	})
	eventually(t, within, "change recorded", func() bool { return recorded(ch.all(), added, "x") })
}

func TestWatch_DirectoryMovedAway(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root := filepath.Join(base, "skills")
	writeSkill(t, root, "a", `{"name":"a"}`, "-")
	l, _ := newLoader(t, root)
	watch(t, l)

	if err := os.Rename(root, filepath.Join(base, "moved")); err != nil {
		t.Fatal(err)
	}
	eventually(t, within, "degraded after the directory was moved away", func() bool {
		return l.Health().Status == maestro.HealthDegraded
	})
	// Edits in the moved directory are not the skills directory any more.
	writeSkill(t, filepath.Join(base, "moved"), "ghost", `{"name":"ghost"}`, "-")
	writeSkill(t, root, "b", `{"name":"b"}`, "-")
	eventually(t, within, "new directory at the configured path served", func() bool {
		return reflect.DeepEqual(ids(l.ListSkills()), []string{"b"}) && l.Health().Status == maestro.HealthOK
	})
}
