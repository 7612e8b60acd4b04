package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Backups takes online backups of the live database into the backups directory (DATA_DIR/backups) and
// keeps its retention (BACKUP_KEEP files, the oldest deleted first): on demand (POST
// /api/v2/admin/backup) and on a schedule (BACKUP_INTERVAL). It counts its results for /metrics and
// reports the backup component of /health: degraded from a failed backup until the next one succeeds.
type Backups struct {
	base
	dir  string
	keep int
	// mu makes backups run one at a time, so that pruning never races with a backup being named.
	mu          sync.Mutex
	succeeded   atomic.Uint64
	failed      atomic.Uint64
	lastSuccess atomic.Int64 // ms since the epoch; 0 before the first success
	// lastError is the reason of the last failure while no backup has succeeded since ("" otherwise).
	lastError atomic.Pointer[string]
}

func newBackups(b base) *Backups {
	return &Backups{base: b, dir: b.st.BackupDir(), keep: b.st.BackupKeep()}
}

// Dir is the directory backups go to.
func (b *Backups) Dir() string { return b.dir }

// Take takes one backup of kind (store.BackupManual, store.BackupScheduled) into the backups
// directory, then deletes the oldest backups beyond the retention. The backup is an online, consistent
// copy that passed PRAGMA integrity_check; on failure no file is left (store.Store.Backup). Each result
// is logged and counted. Errors: INTERNAL_ERROR or STORAGE_UNAVAILABLE with the cause.
func (b *Backups) Take(ctx context.Context, kind string) (maestro.BackupInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	info, err := b.take(ctx, kind)
	if err != nil && ctx.Err() != nil {
		// Stopped by shutdown or by the caller going away: not a failure of the backup itself, so it
		// is neither counted nor reported by Health. No file is left either way.
		b.log.Warn("backup interrupted", "kind", kind, "error", err)
		return maestro.BackupInfo{}, err
	}
	if err != nil {
		b.failed.Add(1)
		msg := fmt.Sprintf("backup failed at %s: %v", b.now().UTC().Format(time.RFC3339), err)
		b.lastError.Store(&msg)
		b.log.Error("backup failed", "kind", kind, "dir", b.dir, "error", err)
		return maestro.BackupInfo{}, err
	}
	b.succeeded.Add(1)
	b.lastSuccess.Store(info.TakenAt)
	b.lastError.Store(nil)
	b.log.Info("backup written", "kind", kind, "path", info.Path, "size_bytes", info.SizeBytes,
		"integrity", info.Integrity, "schema_version", info.SchemaVersion, "duration_ms", info.DurationMs)
	removed, err := store.PruneBackups(b.dir, b.keep)
	if err != nil {
		b.log.Warn("pruning old backups failed", "dir", b.dir, "error", err)
	}
	if len(removed) > 0 {
		b.log.Info("pruned old backups", "keep", b.keep, "removed", removed)
	}
	return info, nil
}

func (b *Backups) take(ctx context.Context, kind string) (maestro.BackupInfo, error) {
	at := b.now()
	dest := filepath.Join(b.dir, store.BackupFileName(at, kind))
	// Two backups within one millisecond get distinct names.
	for i := 0; i < 1000; i++ {
		if _, err := os.Lstat(dest); os.IsNotExist(err) {
			break
		}
		at = at.Add(time.Millisecond)
		dest = filepath.Join(b.dir, store.BackupFileName(at, kind))
	}
	return b.st.Backup(ctx, dest)
}

// Run takes a scheduled backup every interval until ctx ends. A failed backup is logged, counted and
// reported by Health; the schedule carries on.
func (b *Backups) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = b.Take(ctx, store.BackupScheduled)
		}
	}
}

// Health is the backup component of /health: degraded after a failed backup, until the next success.
func (b *Backups) Health() maestro.ComponentHealth {
	if msg := b.lastError.Load(); msg != nil {
		return maestro.ComponentHealth{Status: maestro.HealthDegraded, Reason: *msg}
	}
	return maestro.ComponentHealth{Status: maestro.HealthOK}
}

// Succeeded and Failed count the backups taken by this process, by result.
func (b *Backups) Succeeded() uint64 { return b.succeeded.Load() }

// Failed counts the backups of this process that failed.
func (b *Backups) Failed() uint64 { return b.failed.Load() }

// LastSuccess is when the last successful backup of this process started (zero before the first).
func (b *Backups) LastSuccess() time.Time {
	ms := b.lastSuccess.Load()
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
