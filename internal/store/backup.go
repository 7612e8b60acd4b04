package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/migrations"
)

// Errors of the backup file checks. Match them with errors.Is; the message says what was found.
var (
	// ErrNotDatabase means a file is not an SQLite database, or not one of this server.
	ErrNotDatabase = errors.New("store: not a maestro-server database")
	// ErrCorrupt means PRAGMA integrity_check found problems.
	ErrCorrupt = errors.New("store: database file fails integrity_check")
)

// sqliteHeader is the first 16 bytes of every SQLite 3 database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// Backup writes a consistent copy of the live database to dest. VACUUM INTO runs on a reader
// connection, so it copies one snapshot (every write committed before it started, none after) while
// writers carry on. The copy goes to a temporary name beside dest; it must pass PRAGMA integrity_check
// and be synced to disk before it is renamed to dest, so dest is either a complete, checked backup or
// absent: a failure at any step removes the temporary file. An existing dest is not overwritten.
func (s *Store) Backup(ctx context.Context, dest string) (maestro.BackupInfo, error) {
	start := s.now()
	if _, err := os.Lstat(dest); err == nil {
		return maestro.BackupInfo{}, fmt.Errorf("store: backup: %s already exists", dest)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o750); err != nil {
		return maestro.BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	tmp := tempName(dest)
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmp)
		}
	}()
	if err := s.BackupTo(ctx, tmp); err != nil {
		return maestro.BackupInfo{}, err
	}
	check, err := checkFile(ctx, tmp, dest)
	if err != nil {
		return maestro.BackupInfo{}, fmt.Errorf("store: backup copy: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return maestro.BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return maestro.BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	ok = true
	_ = syncDir(filepath.Dir(dest))
	st, err := os.Stat(dest)
	if err != nil {
		return maestro.BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	return maestro.BackupInfo{
		Path: dest, SizeBytes: st.Size(), Integrity: check.Integrity, SchemaVersion: check.SchemaVersion,
		TakenAt: start.UnixMilli(), DurationMs: s.now().Sub(start).Milliseconds(),
	}, nil
}

// BackupTo writes a consistent copy of the live database to dest with VACUUM INTO. It runs on a reader
// connection, so it sees one snapshot and does not block writers. It neither checks the copy nor
// protects dest from a partial file: Backup does both.
func (s *Store) BackupTo(ctx context.Context, dest string) error {
	if _, err := s.r.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("store: backup to %s: %w", dest, mapErr(err))
	}
	return nil
}

// FileCheck is what CheckFile found in a database file.
type FileCheck struct {
	Integrity string
	// SchemaVersion is the file's migration version; Latest the newest this binary knows.
	SchemaVersion, Latest int64
}

// CheckFile checks that path is a database of this server that a restore could serve: the SQLite
// header, PRAGMA integrity_check, and the goose schema version (which the caller compares with
// Latest). It opens the file for reading only and never changes it. Errors wrap ErrNotDatabase or
// ErrCorrupt and say what was found.
func CheckFile(ctx context.Context, path string) (FileCheck, error) {
	return checkFile(ctx, path, path)
}

// checkFile is CheckFile of the file at path, called name in messages.
func checkFile(ctx context.Context, path, name string) (FileCheck, error) {
	fc := FileCheck{Latest: LatestSchemaVersion()}
	f, err := os.Open(path)
	if err != nil {
		return fc, err
	}
	head := make([]byte, len(sqliteHeader))
	_, err = io.ReadFull(f, head)
	_ = f.Close()
	if err != nil || !bytes.Equal(head, sqliteHeader) {
		return fc, fmt.Errorf("%w: %s does not start with the SQLite header", ErrNotDatabase, name)
	}
	// Read-only, without the WAL pragmas of DSN: checking a file must not turn it into a WAL database
	// or leave -wal/-shm files behind.
	conn, err := sql.Open("sqlite", fileURI(path)+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return fc, err
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fc, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, mapErr(err))
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			_ = rows.Close()
			return fc, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
		}
		problems = append(problems, line)
	}
	if err := rows.Err(); err != nil {
		return fc, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, mapErr(err))
	}
	if len(problems) != 1 || problems[0] != "ok" {
		shown := problems[:min(len(problems), 5)]
		return fc, fmt.Errorf("%w: %s: %s", ErrCorrupt, name, strings.Join(shown, "; "))
	}
	fc.Integrity = "ok"
	var n int
	if err := conn.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('goose_db_version', 'projects', 'tasks')").Scan(&n); err != nil {
		return fc, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, mapErr(err))
	}
	if n != 3 {
		return fc, fmt.Errorf("%w: %s is an SQLite database without this server's tables", ErrNotDatabase, name)
	}
	if err := conn.QueryRowContext(ctx,
		"SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&fc.SchemaVersion); err != nil {
		return fc, fmt.Errorf("%w: %s: schema version: %v", ErrCorrupt, name, mapErr(err))
	}
	return fc, nil
}

// uriEscaper escapes what an SQLite URI filename gives a meaning: '%' (an escape), '?' (the query) and
// '#' (the fragment). A backup's name is the user's choice, and "b#1.db" must not open "b".
var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// fileURI is path as an SQLite URI filename ("file:…"), for a DSN that adds a query.
func fileURI(path string) string { return "file:" + uriEscaper.Replace(path) }

// LatestSchemaVersion is the newest migration version this binary knows.
func LatestSchemaVersion() int64 {
	var latest int64
	entries, _ := fs.ReadDir(migrations.FS, ".")
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		if v, err := strconv.ParseInt(num, 10, 64); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

// Backup files in the backups directory are named maestro-<UTC time>-<kind>.db; the fixed-width time
// makes the names sort oldest first, which is what pruning keeps to.
const (
	backupPrefix     = "maestro-"
	backupSuffix     = ".db"
	backupTimeLayout = "20060102T150405.000Z"
)

// Kinds of backup, the last part of a backup file name.
const (
	BackupScheduled = "scheduled"
	BackupManual    = "manual"
)

// BackupKindPreMigration is the kind of the backup taken before migrating to schema version v.
func BackupKindPreMigration(v int64) string { return fmt.Sprintf("pre-v%d", v) }

// BackupFileName is the name of a backup of a kind taken at t.
func BackupFileName(t time.Time, kind string) string {
	return backupPrefix + t.UTC().Format(backupTimeLayout) + "-" + kind + backupSuffix
}

// ListBackups returns the backup files in dir (the names BackupFileName makes), oldest first. Other
// files, a backup still being written among them, are not listed. A missing dir has none.
func ListBackups(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, backupPrefix) || !strings.HasSuffix(name, backupSuffix) {
			continue
		}
		stamp := strings.TrimPrefix(name, backupPrefix)
		if len(stamp) < len(backupTimeLayout) {
			continue
		}
		if _, err := time.Parse(backupTimeLayout, stamp[:len(backupTimeLayout)]); err != nil {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	slices.Sort(out)
	return out, nil
}

// PruneBackups deletes the oldest backup files of dir until at most keep remain, and returns the
// deleted paths. keep < 1 keeps one: pruning never deletes the newest backup.
func PruneBackups(dir string, keep int) ([]string, error) {
	keep = max(keep, 1)
	files, err := ListBackups(dir)
	if err != nil || len(files) <= keep {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, f := range files[:len(files)-keep] {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, f)
	}
	return removed, errors.Join(errs...)
}

// RestoreResult is what Restore did.
type RestoreResult struct {
	// Previous is where the database that was replaced now is ("" when there was none).
	Previous      string
	SchemaVersion int64
	Latest        int64
}

// Restore replaces the database at dbPath with the backup file src.
//
// It takes the database's lock first, so it refuses (ErrInUse) while a server or an import holds it.
// It copies src beside the database and checks the copy (CheckFile: header, integrity_check, schema
// version not newer than this binary's: else ErrSchemaTooNew naming both versions). It checkpoints the
// current database so that its WAL is empty, keeps it as <db>.before-restore-<time> (a hard link, so
// nothing is copied and the original stays in place until the swap), and renames the checked copy over
// dbPath: the swap is one atomic rename, and no WAL or shared-memory file of the old database is left
// to be replayed into the new one. A database whose WAL cannot be checkpointed (a damaged file) is moved
// aside with its -wal and -shm files instead.
func Restore(ctx context.Context, src, dbPath string, now time.Time) (RestoreResult, error) {
	var res RestoreResult
	lock, err := LockDB(dbPath, "restore")
	if err != nil {
		return res, err
	}
	defer func() { _ = lock.Unlock() }()

	// A file with a non-empty WAL beside it is a live database (its newest commits are in the WAL,
	// which a copy of the file alone would lose), not a backup.
	if st, err := os.Stat(src + "-wal"); err == nil && st.Size() > 0 {
		return res, fmt.Errorf("%w: %s has a non-empty write-ahead log (%s-wal): it is a live database, not a backup; "+
			"take a backup of it with 'maestro-server backup'", ErrNotDatabase, src, src)
	}
	tmp := tempName(dbPath)
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmp)
		}
	}()
	if err := copyFile(src, tmp); err != nil {
		return res, fmt.Errorf("store: restore: %w", err)
	}
	check, err := checkFile(ctx, tmp, src)
	res.SchemaVersion, res.Latest = check.SchemaVersion, check.Latest
	if err != nil {
		return res, err
	}
	if check.SchemaVersion > check.Latest {
		return res, fmt.Errorf("%w: backup %s is at schema version %d, this binary knows up to %d; restore it with a newer maestro-server",
			ErrSchemaTooNew, src, check.SchemaVersion, check.Latest)
	}
	if check.SchemaVersion == 0 {
		return res, fmt.Errorf("%w: backup %s has no applied migrations", ErrNotDatabase, src)
	}

	if _, err := os.Stat(dbPath); err == nil {
		res.Previous = fmt.Sprintf("%s.before-restore-%s", dbPath, now.UTC().Format("20060102T150405Z"))
		if err := setAside(ctx, dbPath, res.Previous); err != nil {
			return res, fmt.Errorf("store: restore: keep the current database: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("store: restore: %w", err)
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return res, fmt.Errorf("store: restore: %w", err)
	}
	ok = true
	_ = syncDir(filepath.Dir(dbPath))
	return res, nil
}

// setAside keeps the database at dbPath as prev before it is replaced: after a checkpoint that leaves
// no WAL, as a hard link (or a copy where links are not supported); otherwise by moving the database
// and its -wal and -shm files to prev's names.
func setAside(ctx context.Context, dbPath, prev string) error {
	if checkpoint(ctx, dbPath) == nil {
		if st, err := os.Stat(dbPath + "-wal"); err == nil && st.Size() > 0 {
			return fmt.Errorf("%s-wal is not empty after a checkpoint", dbPath)
		}
		_ = os.Remove(dbPath + "-wal")
		_ = os.Remove(dbPath + "-shm")
		if err := os.Link(dbPath, prev); err == nil {
			return nil
		}
		return copyFile(dbPath, prev)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(dbPath+suffix, prev+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// checkpoint folds the WAL of the database at path into the main file and truncates it.
func checkpoint(ctx context.Context, path string) error {
	conn, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return err
	}
	defer conn.Close()
	var busy, logFrames, done int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		return mapErr(err)
	}
	if busy != 0 {
		return errors.New("checkpoint blocked by another connection")
	}
	return nil
}

// tempName is a fresh temporary name beside path; ListBackups never lists it.
func tempName(path string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return path + ".tmp-" + hex.EncodeToString(b[:])
}

func copyFile(src, dest string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
