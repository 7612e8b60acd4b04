package skills

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch keeps the served set current until ctx is done (MED-07). It watches the skills root and each
// skill directory with fsnotify (inotify watches one directory level, so a skill's own directory needs
// a watch of its own for edits of its files), waits for a quiet period (Options.Debounce) after the last
// event, then rereads the whole directory; a change is recorded through Options.Notify.
//
// fsnotify cannot watch a directory that does not exist: while the root is missing, Watch polls for it
// every Options.PollInterval and resumes watching when it is back (rereading it at once). When the
// operating system refuses a watcher (inotify limits), Watch falls back to rereading on every poll.
func (l *Loader) Watch(ctx context.Context) {
	warned := false
	for ctx.Err() == nil {
		if fi, err := os.Stat(l.opts.Dir); err != nil || !fi.IsDir() {
			// Missing (or replaced by a file): the last good set stays served. Reload records the state
			// for Health when the directory was there before.
			l.Reload(ctx)
			if !sleep(ctx, l.opts.PollInterval) {
				return
			}
			continue
		}
		w, err := fsnotify.NewWatcher()
		if err != nil {
			if !warned {
				l.log.Warn("cannot watch the skills directory; rereading it periodically instead", "error", err,
					"interval", l.opts.PollInterval)
				warned = true
			}
			l.Reload(ctx)
			if !sleep(ctx, l.opts.PollInterval) {
				return
			}
			continue
		}
		l.follow(ctx, w)
		// The root went away, was replaced, or could not be watched: look again after a pause (never
		// in a tight loop), and resume watching if it is there.
		if !sleep(ctx, l.opts.PollInterval) {
			return
		}
	}
}

// follow runs one fsnotify watcher until ctx is done or the root goes away, then closes it. The watches
// are set up before the first reload, so no change falls between reading and watching.
func (l *Loader) follow(ctx context.Context, w *fsnotify.Watcher) {
	defer w.Close()
	ws := &watchSet{w: w, l: l}
	present := ws.sync()
	l.Reload(ctx)
	if !present {
		return
	}

	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			// Watch a new skill directory at once, so that files written into it right after it was
			// created are not missed; the reload after the quiet period reads whatever came before.
			if ev.Has(fsnotify.Create) && filepath.Dir(ev.Name) == l.opts.Dir {
				ws.add(filepath.Base(ev.Name))
			}
			quiet.Reset(l.opts.Debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			// Usually an overflow: events were lost, so reread everything.
			l.log.Warn("watching the skills directory", "error", err)
			quiet.Reset(l.opts.Debounce)
		case <-quiet.C:
			present := ws.sync()
			l.Reload(ctx)
			if !present {
				return // the root is gone or was moved away: poll for it in Watch
			}
		}
	}
}

// watchSet keeps a watcher's watches equal to the root plus its skill directories.
type watchSet struct {
	w      *fsnotify.Watcher
	l      *Loader
	warned bool
}

// sync (re)adds the root and every skill directory and drops watches of directories that went away.
// Adding a watched path again is cheap and re-attaches it if the directory was replaced, so sync does
// not need to know which watches the kernel dropped. It reports whether the root is there and watched.
func (s *watchSet) sync() bool {
	root := s.l.opts.Dir
	if err := s.w.Add(root); err != nil {
		return false
	}
	d, err := openDir(root)
	if err != nil {
		return false
	}
	names, err := d.list()
	if err != nil {
		d.close()
		return false
	}
	want := map[string]bool{root: true}
	for _, name := range names {
		if _, err := d.resolve(name); err != nil {
			continue // leaves the root (never served, so not watched either) or dangles
		}
		p := filepath.Join(root, name)
		want[p] = true
		s.addPath(p)
	}
	d.close()
	for _, p := range s.w.WatchList() {
		if !want[p] {
			_ = s.w.Remove(p) // already gone is fine
		}
	}
	return true
}

// add watches the skill directory name when it is a directory inside the root.
func (s *watchSet) add(name string) {
	p := filepath.Join(s.l.opts.Dir, name)
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		return
	}
	d, err := openDir(s.l.opts.Dir)
	if err != nil {
		return
	}
	defer d.close()
	if _, err := d.resolve(name); err == nil {
		s.addPath(p)
	}
}

func (s *watchSet) addPath(p string) {
	if err := s.w.Add(p); err != nil && !s.warned {
		// Typically the inotify watch limit. Edits inside this skill are then seen only when something
		// else in the root changes; say so once.
		s.l.log.Warn("cannot watch a skill directory; edits inside it may be picked up late", "path", p, "error", err)
		s.warned = true
	}
}

// sleep waits for d or until ctx is done; it reports whether the full time passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
