package skills

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Notifier records that the set of skills changed (in production: a skills:changed event in the
// store's outbox, see StoreNotifier). An error is logged; the new set is served regardless.
type Notifier func(ctx context.Context, change maestro.SkillsChangedPayload) error

// Options configure a Loader.
type Options struct {
	// Dir is the skills root (SKILLS_DIR).
	Dir    string
	Logger *slog.Logger
	// Notify is called after every reload that changed something; nil records nothing.
	Notify Notifier
	// Debounce is how long the watcher waits after the last file event before reloading, so that an
	// editor's burst of writes becomes one reload (default 200 ms).
	Debounce time.Duration
	// PollInterval is how often the watcher checks for a missing skills directory to reappear, and how
	// often it rescans when the operating system cannot watch the directory (default 1 s).
	PollInterval time.Duration
}

// Loader serves the skills of one directory. Readers get an immutable snapshot through an atomic
// pointer; reloads are serialised by mu, build a new snapshot, swap it in, then notify.
type Loader struct {
	opts Options
	log  *slog.Logger

	snap   atomic.Pointer[snapshot]
	health atomic.Pointer[maestro.ComponentHealth]

	mu sync.Mutex // held by every reload; guards seen
	// seen is true once the directory has been read successfully. A directory that was never there is
	// simply "no skills" (SPEC §5); one that disappears after being read degrades health.
	seen bool
}

// snapshot is one consistent view of the skills directory. It is never modified once published.
type snapshot struct {
	byID map[string]*entry
	ids  []string // sorted
}

func newSnapshot(entries map[string]*entry) *snapshot {
	s := &snapshot{byID: entries, ids: make([]string, 0, len(entries))}
	for id := range entries {
		s.ids = append(s.ids, id)
	}
	sort.Strings(s.ids)
	return s
}

// New builds a Loader and reads the directory once (without notifying: nothing changed yet from a
// client's point of view). A missing directory means no skills; an unreadable one is logged and
// reported by Health.
func New(opts Options) *Loader {
	if abs, err := filepath.Abs(opts.Dir); err == nil {
		opts.Dir = abs // event names and error paths compare and read better absolute and clean
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 200 * time.Millisecond
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	l := &Loader{opts: opts, log: opts.Logger.With("component", "skills", "dir", opts.Dir)}
	l.snap.Store(newSnapshot(map[string]*entry{}))
	l.health.Store(&maestro.ComponentHealth{Status: maestro.HealthOK})
	l.reload(context.Background(), false)
	return l
}

// Reload rereads the whole directory now and notifies when something changed. It reports whether the
// set changed. The watcher calls it; so may anyone who wants a change picked up at once.
func (l *Loader) Reload(ctx context.Context) bool {
	return l.reload(ctx, true)
}

func (l *Loader) reload(ctx context.Context, notify bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	next, err := scan(l.opts.Dir)
	if err != nil {
		l.unavailable(err)
		return false
	}
	l.seen = true
	l.setHealth(maestro.ComponentHealth{Status: maestro.HealthOK})
	return l.publish(ctx, next, notify)
}

// scan reads every skill directory under root.
func scan(root string) (map[string]*entry, error) {
	d, err := openDir(root)
	if err != nil {
		return nil, err
	}
	defer d.close()
	names, err := d.list()
	if err != nil {
		return nil, err
	}
	entries := make(map[string]*entry, len(names))
	for _, name := range names {
		if e, ok := d.read(name); ok {
			entries[name] = e
		}
	}
	return entries, nil
}

// unavailable handles a skills root that cannot be read: the last good set stays; health degrades,
// except for a directory that never existed, which just means there are no skills. Called with mu held.
func (l *Loader) unavailable(err error) {
	missing := errors.Is(err, fs.ErrNotExist)
	if missing && !l.seen {
		return
	}
	n := len(l.snap.Load().ids)
	reason := fmt.Sprintf("skills directory %s is missing; serving the last good set (%d skills)", l.opts.Dir, n)
	if !missing {
		reason = fmt.Sprintf("skills directory %s cannot be read (%s); serving the last good set (%d skills)",
			l.opts.Dir, describe(err), n)
	}
	l.setHealth(maestro.ComponentHealth{Status: maestro.HealthDegraded, Reason: reason})
}

// setHealth stores h and logs transitions (not every repeat while polling). Called with mu held.
func (l *Loader) setHealth(h maestro.ComponentHealth) {
	old := l.health.Load()
	if *old == h {
		return
	}
	l.health.Store(&h)
	if h.Status == maestro.HealthOK {
		l.log.Info("skills directory available again")
	} else {
		l.log.Warn("skills directory unavailable", "reason", h.Reason)
	}
}

// publish swaps in a new set of entries and, when notify is set and something changed, records the
// change. Called with mu held, so changes are recorded in the order the snapshots were published.
func (l *Loader) publish(ctx context.Context, next map[string]*entry, notify bool) bool {
	old := l.snap.Load()
	change, changed := diff(old.byID, next)
	if !changed {
		return false
	}
	l.snap.Store(newSnapshot(next))
	l.log.Info("skills reloaded", "added", change.Added, "changed", change.Changed, "removed", change.Removed,
		"invalid", change.Invalid)
	for _, ids := range [][]string{change.Added, change.Changed} {
		for _, id := range ids {
			if e := next[id]; !e.valid() {
				l.log.Warn("invalid skill skipped", "skill", id, "errors", e.errs)
			}
		}
	}
	if notify && l.opts.Notify != nil {
		// The new set is already served, so the change must be recorded even if the caller stops
		// waiting (a client hanging up on a reload, shutdown during a watcher reload): the request ID
		// stays, the cancellation does not.
		if err := l.opts.Notify(context.WithoutCancel(ctx), change); err != nil {
			l.log.Error("recording skills:changed failed", "error", err)
		}
	}
	return true
}

// diff compares two sets of entries. Invalid lists every skill that is invalid in the new set, so a
// subscriber always knows the current state of each skill it has heard about.
func diff(old, next map[string]*entry) (maestro.SkillsChangedPayload, bool) {
	c := maestro.SkillsChangedPayload{Added: []string{}, Changed: []string{}, Removed: []string{}, Invalid: []string{}}
	for id, e := range next {
		o, ok := old[id]
		switch {
		case !ok:
			c.Added = append(c.Added, id)
		case o.digest != e.digest:
			c.Changed = append(c.Changed, id)
		}
		if !e.valid() {
			c.Invalid = append(c.Invalid, id)
		}
	}
	for id := range old {
		if _, ok := next[id]; !ok {
			c.Removed = append(c.Removed, id)
		}
	}
	for _, s := range [][]string{c.Added, c.Changed, c.Removed, c.Invalid} {
		sort.Strings(s)
	}
	return c, len(c.Added)+len(c.Changed)+len(c.Removed) > 0
}

// Health implements maestro.HealthReporter.
func (l *Loader) Health() maestro.ComponentHealth { return *l.health.Load() }

// ListSkills implements maestro.SkillCatalog.
func (l *Loader) ListSkills() []maestro.SkillDetail {
	s := l.snap.Load()
	out := make([]maestro.SkillDetail, 0, len(s.ids))
	for _, id := range s.ids {
		if e := s.byID[id]; e.valid() {
			out = append(out, e.skill)
		}
	}
	return out
}

// GetSkill implements maestro.SkillCatalog.
func (l *Loader) GetSkill(id string) (maestro.SkillDetail, error) {
	if err := maestro.ValidateSkillID(id); err != nil {
		return maestro.SkillDetail{}, err
	}
	return lookup(l.snap.Load(), id)
}

// lookup returns the valid skill id, or NOT_FOUND; for an invalid skill the error's details carry the
// reasons, so a user who gets 404 for a skill they can see on disk learns why.
func lookup(s *snapshot, id string) (maestro.SkillDetail, error) {
	e, ok := s.byID[id]
	if !ok {
		return maestro.SkillDetail{}, maestro.SkillNotFound(id)
	}
	if !e.valid() {
		err := maestro.SkillNotFound(id)
		err.Details = map[string]any{"invalid": true, "errors": e.errs}
		return maestro.SkillDetail{}, err
	}
	return e.skill, nil
}

// SkillsForRole implements maestro.SkillCatalog.
func (l *Loader) SkillsForRole(role string) ([]maestro.SkillDetail, error) {
	if err := maestro.ValidateSkillRole(role); err != nil {
		return nil, err
	}
	s := l.snap.Load()
	out := []maestro.SkillDetail{}
	for _, id := range maestro.SkillRoleSets[role] {
		if e, ok := s.byID[id]; ok && e.valid() {
			out = append(out, e.skill)
		}
	}
	return out, nil
}

// InvalidSkills implements maestro.SkillCatalog.
func (l *Loader) InvalidSkills() []maestro.InvalidSkill {
	s := l.snap.Load()
	out := []maestro.InvalidSkill{}
	for _, id := range s.ids {
		if e := s.byID[id]; !e.valid() {
			out = append(out, maestro.InvalidSkill{ID: e.id, Path: e.path, Errors: e.errs})
		}
	}
	return out
}

// ReloadSkill implements maestro.SkillCatalog: it re-reads one skill now, updates the served set (a
// skill gone from disk leaves it; an added one joins) and records skills:changed when that changed
// something. When the skills directory itself is unavailable, the last good set is left alone and the
// skill is reported as not found, with the reason in the details.
func (l *Loader) ReloadSkill(ctx context.Context, id string) (maestro.SkillDetail, error) {
	if err := maestro.ValidateSkillID(id); err != nil {
		return maestro.SkillDetail{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	d, err := openDir(l.opts.Dir)
	if err != nil {
		l.unavailable(err)
		nf := maestro.SkillNotFound(id)
		nf.Details = map[string]any{"reason": "the skills directory is unavailable: " + describe(err)}
		return maestro.SkillDetail{}, nf
	}
	l.seen = true
	e, ok := d.read(id)
	d.close()

	old := l.snap.Load()
	next := make(map[string]*entry, len(old.byID)+1)
	for k, v := range old.byID {
		next[k] = v
	}
	if ok {
		next[id] = e
	} else {
		delete(next, id)
	}
	l.publish(ctx, next, true)
	return lookup(l.snap.Load(), id)
}
