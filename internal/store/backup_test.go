package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/store"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestStore_Backup_ConcurrentWriters takes a backup while writers keep committing: every write
// acknowledged before the backup started is in it, and the copy passes integrity_check.
func TestStore_Backup_ConcurrentWriters(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	if err := st.InTx(ctx, func(q *store.Q) error { return q.InsertProject(ctx, project("p")) }); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		acked []string
		n     atomic.Int64
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("t%d", n.Add(1))
				if err := st.InTx(ctx, func(q *store.Q) error { return q.InsertTask(ctx, task(id, "p")) }); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	// Let the writers get going, then note what was acknowledged and back up at once.
	for n.Load() < 200 {
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	dest := filepath.Join(t.TempDir(), "b", "backup.db")
	info, err := st.Backup(ctx, dest)
	// Writers keep going during the backup; stop them only after it.
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info.Integrity != "ok" || info.SizeBytes <= 0 || info.SchemaVersion != store.LatestSchemaVersion() || info.Path != dest {
		t.Errorf("backup info %+v", info)
	}
	check, err := store.CheckFile(ctx, dest)
	if err != nil || check.Integrity != "ok" {
		t.Fatalf("backup fails its check: %+v %v", check, err)
	}
	cp, err := sql.Open("sqlite", "file:"+dest+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	have := map[string]bool{}
	rows, err := cp.Query("SELECT id FROM tasks")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		have[id] = true
	}
	_ = rows.Close()
	for _, id := range before {
		if !have[id] {
			t.Fatalf("task %s was acknowledged before the backup started but is not in it (%d of %d in the backup)", id, len(have), n.Load())
		}
	}
	if len(have) < len(before) {
		t.Fatalf("backup holds %d tasks, %d were acknowledged before it", len(have), len(before))
	}
}

// TestStore_Backup_FileNamesWithURICharacters: the backup file is named by the user, and SQLite reads
// "file:" names as URIs, where '#' starts a fragment, '?' a query and '%' an escape. The copy must be
// checked under its own name, not under what precedes the '#', and then restore from it must work.
func TestStore_Backup_FileNamesWithURICharacters(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	if err := st.InTx(ctx, func(q *store.Q) error { return q.InsertProject(ctx, project("p")) }); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"b#1.db", "b?x=1.db", "b%41.db", "b 1.db"} {
		dest := filepath.Join(dir, name)
		info, err := st.Backup(ctx, dest)
		if err != nil {
			t.Errorf("backup to %q: %v", name, err)
			continue
		}
		if info.Path != dest || info.Integrity != "ok" {
			t.Errorf("backup to %q: %+v", name, info)
		}
		if _, err := store.CheckFile(ctx, dest); err != nil {
			t.Errorf("check %q: %v", name, err)
		}
	}
}

// TestOpen_PathWithURICharacters: DB_PATH is the user's, and the store opens it as an SQLite URI, so a
// '#', '?' or '%' in it must name that very file, not what precedes the '#' or an unescaped name.
func TestOpen_PathWithURICharacters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, name := range []string{"a#1.db", "a?x=1.db", "a%41.db"} {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		st, err := store.Open(ctx, store.Options{Path: path})
		if err != nil {
			t.Errorf("open %q: %v", name, err)
			continue
		}
		if err := st.InTx(ctx, func(q *store.Q) error { return q.InsertProject(ctx, project("p")) }); err != nil {
			t.Errorf("write %q: %v", name, err)
		}
		_ = st.Close()
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("open %q created %v instead", name, names)
		}
	}
}

// TestStore_Backup_NoPartialFile: a failed backup leaves nothing behind, and an existing file is never
// overwritten.
func TestStore_Backup_NoPartialFile(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Backup(ctx, filepath.Join(dir, "x.db")); err == nil {
		t.Fatal("a backup with a cancelled context succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed backup left %v", entries)
	}
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Backup(context.Background(), existing); err == nil {
		t.Fatal("a backup overwrote an existing file")
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("existing file changed to %q", b)
	}
}

func TestLockDB(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "maestro.db")
	l, err := store.LockDB(path, "serve")
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.LockDB(path, "import")
	if !errors.Is(err, store.ErrInUse) || !strings.Contains(err.Error(), "maestro-server serve (pid ") {
		t.Fatalf("second lock: %v, want ErrInUse naming the server", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := store.LockDB(path, "import")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	_ = l2.Unlock()
}

// backupWithTask makes a backup file holding project p and task id.
func backupWithTask(t *testing.T, id string) string {
	t.Helper()
	st := dbtest.New(t)
	ctx := context.Background()
	if err := st.InTx(ctx, func(q *store.Q) error {
		if err := q.InsertProject(ctx, project("p")); err != nil {
			return err
		}
		return q.InsertTask(ctx, task(id, "p"))
	}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "backup.db")
	if _, err := st.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	return dest
}

func TestRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	good := backupWithTask(t, "t-backup")

	corruptPages := filepath.Join(t.TempDir(), "corrupt.db")
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the header page, scribble over the rest: the file still looks like SQLite.
	for i := 4096; i < len(raw); i++ {
		raw[i] = byte(i * 7)
	}
	if err := os.WriteFile(corruptPages, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	notSQLite := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(notSQLite, []byte(strings.Repeat("not a database ", 400)), 0o644); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(t.TempDir(), "newer.db")
	copyTo(t, good, newer)
	func() {
		db, err := sql.Open("sqlite", "file:"+newer)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, 1)"); err != nil {
			t.Fatal(err)
		}
	}()

	// liveDB is a database with one task, closed (as after a server stopped), and its path.
	liveDB := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "maestro.db")
		st, err := store.Open(ctx, store.Options{Path: path, NoBackup: true, Logger: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(q *store.Q) error {
			if err := q.InsertProject(ctx, project("p")); err != nil {
				return err
			}
			return q.InsertTask(ctx, task("t-live", "p"))
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}

	for _, c := range []struct {
		name    string
		src     string
		hold    bool // a server holds the database
		wantErr error
		wantMsg string
	}{
		{name: "running server", src: good, hold: true, wantErr: store.ErrInUse, wantMsg: "maestro-server serve"},
		{name: "not sqlite", src: notSQLite, wantErr: store.ErrNotDatabase, wantMsg: "SQLite header"},
		{name: "corrupt pages", src: corruptPages, wantErr: store.ErrCorrupt},
		{name: "newer schema", src: newer, wantErr: store.ErrSchemaTooNew,
			wantMsg: fmt.Sprintf("schema version 999, this binary knows up to %d", store.LatestSchemaVersion())},
		{name: "missing file", src: filepath.Join(t.TempDir(), "nope.db"), wantErr: os.ErrNotExist},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := liveDB(t)
			if c.hold {
				l, err := store.LockDB(path, "serve")
				if err != nil {
					t.Fatal(err)
				}
				defer l.Unlock()
			}
			before, _ := os.ReadFile(path)
			_, err := store.Restore(ctx, c.src, path, time.Now())
			if !errors.Is(err, c.wantErr) || !strings.Contains(fmt.Sprint(err), c.wantMsg) {
				t.Fatalf("restore: %v, want %v containing %q", err, c.wantErr, c.wantMsg)
			}
			after, _ := os.ReadFile(path)
			if string(before) != string(after) {
				t.Error("a refused restore changed the database")
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") || strings.Contains(e.Name(), "before-restore") {
					t.Errorf("a refused restore left %s", e.Name())
				}
			}
		})
	}

	// A server killed with its WAL full of commits: the restore folds them into the kept database.
	t.Run("crashed server's WAL", func(t *testing.T) {
		t.Parallel()
		live := filepath.Join(t.TempDir(), "maestro.db")
		st, err := store.Open(ctx, store.Options{Path: live, NoBackup: true, Logger: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.InTx(ctx, func(q *store.Q) error {
			if err := q.InsertProject(ctx, project("p")); err != nil {
				return err
			}
			return q.InsertTask(ctx, task("t-in-wal", "p"))
		}); err != nil {
			t.Fatal(err)
		}
		// Copying the open database and its WAL is what a crash leaves on disk.
		path := filepath.Join(t.TempDir(), "maestro.db")
		copyTo(t, live, path)
		copyTo(t, live+"-wal", path+"-wal")
		if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
			t.Fatalf("the WAL is empty (%v): the case is not set up", err)
		}
		// The live database itself cannot be restored from: its WAL is not in the file.
		if _, err := store.Restore(ctx, live, filepath.Join(t.TempDir(), "x.db"), time.Now()); !errors.Is(err, store.ErrNotDatabase) ||
			!strings.Contains(err.Error(), "write-ahead log") {
			t.Errorf("restore from a live database: %v", err)
		}
		res, err := store.Restore(ctx, good, path, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		prev, err := store.Open(ctx, store.Options{Path: res.Previous, NoBackup: true, NoMigrate: true, Logger: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		defer prev.Close()
		if ok, _ := prev.Read().TaskExists(ctx, "t-in-wal"); !ok {
			t.Error("the kept database lost the commits of its WAL")
		}
		if _, err := os.Stat(path + "-wal"); err == nil {
			if fi, _ := os.Stat(path + "-wal"); fi.Size() > 0 {
				t.Error("the old WAL is left beside the restored database")
			}
		}
	})

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		path := liveDB(t)
		now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
		res, err := store.Restore(ctx, good, path, now)
		if err != nil {
			t.Fatal(err)
		}
		wantPrev := path + ".before-restore-20261204T200000Z"
		if res.Previous != wantPrev || res.SchemaVersion != store.LatestSchemaVersion() {
			t.Errorf("result %+v", res)
		}
		for _, f := range []string{path + "-wal", path + "-shm"} {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("%s of the old database left beside the restored one", f)
			}
		}
		st, err := store.Open(ctx, store.Options{Path: path, NoBackup: true, Logger: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if ok, _ := st.Read().TaskExists(ctx, "t-backup"); !ok {
			t.Error("the restored database lacks the backup's task")
		}
		if ok, _ := st.Read().TaskExists(ctx, "t-live"); ok {
			t.Error("the restored database still has the old task")
		}
		prev, err := store.Open(ctx, store.Options{Path: wantPrev, NoBackup: true, NoMigrate: true, Logger: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		defer prev.Close()
		if ok, _ := prev.Read().TaskExists(ctx, "t-live"); !ok {
			t.Error("the kept previous database lacks its task")
		}
	})
}

func copyTo(t *testing.T, src, dest string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dest, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPruneBackups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var names []string
	for i := 0; i < 5; i++ {
		kind := store.BackupScheduled
		if i == 1 {
			kind = store.BackupKindPreMigration(3)
		}
		names = append(names, store.BackupFileName(base.Add(time.Duration(i)*time.Hour), kind))
	}
	others := []string{"notes.txt", "maestro.db", "maestro-x.db", store.BackupFileName(base, "manual") + ".tmp-abc"}
	for _, n := range append(append([]string{}, names...), others...) {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := store.PruneBackups(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || filepath.Base(removed[0]) != names[0] || filepath.Base(removed[1]) != names[1] {
		t.Errorf("removed %v, want the two oldest", removed)
	}
	left, _ := store.ListBackups(dir)
	if len(left) != 3 || filepath.Base(left[0]) != names[2] {
		t.Errorf("left %v", left)
	}
	for _, n := range others {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s is not a backup but was removed", n)
		}
	}
}

// TestStore_PreMigrationBackup: opening a database one migration behind backs it up into the backups
// directory, under its retention.
func TestStore_PreMigrationBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "maestro.db")
	st, err := store.Open(ctx, store.Options{Path: path, NoBackup: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MigrateDown(ctx); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	backups := filepath.Join(dir, "backups")
	// Two old backups already there, and a retention of two: the oldest goes.
	for i := 0; i < 2; i++ {
		name := store.BackupFileName(time.Date(2020, 1, 1, i, 0, 0, 0, time.UTC), store.BackupScheduled)
		_ = os.MkdirAll(backups, 0o755)
		if err := os.WriteFile(filepath.Join(backups, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err = store.Open(ctx, store.Options{Path: path, BackupKeep: 2, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	files, _ := store.ListBackups(backups)
	latest := store.LatestSchemaVersion()
	if len(files) != 2 || !strings.HasSuffix(files[1], fmt.Sprintf("-pre-v%d.db", latest)) {
		t.Fatalf("backups %v, want the newer old one and the pre-v%d one", files, latest)
	}
	check, err := store.CheckFile(ctx, files[1])
	if err != nil || check.SchemaVersion != latest-1 {
		t.Errorf("pre-migration backup: %+v %v, want schema version %d", check, err, latest-1)
	}
}
