package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrInUse means another process holds the database exclusively: a running server, or an import or
// restore in progress.
var ErrInUse = errors.New("store: database in use")

// Lock is the exclusive claim of one process on a database file: an advisory lock on the file
// <db>.lock beside it. `serve` holds it for as long as it runs, and import and restore take it before
// they touch the database, so that neither can run under a live server (and a server cannot start
// under them). The lock belongs to the open file, so the kernel releases it when the process ends in
// any way, kill -9 included: a stale lock file never blocks anyone.
//
// Commands that are meant to run beside a server (backup, flags) do not take it.
type Lock struct {
	f    *os.File
	path string
}

// LockPath is the lock file of a database file.
func LockPath(dbPath string) string { return dbPath + ".lock" }

// LockDB takes the lock of the database at dbPath for holder (a word like "serve" or "import", written
// into the lock file with the process id so that a refused command can say who holds it). When another
// process holds it, the error wraps ErrInUse and names that process.
func LockDB(dbPath, holder string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o750); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	path := LockPath(dbPath)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("store: open lock file: %w", err)
	}
	locked, err := tryLock(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	if !locked {
		who, _ := os.ReadFile(path)
		_ = f.Close()
		desc := strings.TrimSpace(string(who))
		if desc == "" {
			desc = "another process"
		}
		return nil, fmt.Errorf("%w: %s is held by %s (lock file %s)", ErrInUse, dbPath, desc, path)
	}
	// Who holds it, for the message of whoever is refused. Failing to write it loses only that message.
	if err := f.Truncate(0); err == nil {
		_, _ = fmt.Fprintf(f, "maestro-server %s (pid %d, since %s)\n", holder, os.Getpid(),
			time.Now().UTC().Format(time.RFC3339))
		_ = f.Sync()
	}
	return &Lock{f: f, path: path}, nil
}

// Unlock releases the lock. The lock file stays (removing it could race with a process that just
// opened it); its contents no longer matter once nobody holds the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the only descriptor releases the lock
	l.f = nil
	return err
}
