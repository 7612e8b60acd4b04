package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/maestro-hq/maestro-server/migrations"
	"github.com/pressly/goose/v3"
)

// ErrSchemaTooNew means the database was migrated by a newer binary than this one.
var ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")

func (s *Store) provider() (*goose.Provider, error) {
	return goose.NewProvider(goose.DialectSQLite3, s.w, migrations.FS)
}

// MigrationStatus describes one migration for `migrate status`.
type MigrationStatus struct {
	Version   int64
	Source    string
	Applied   bool
	AppliedAt time.Time
}

// SchemaVersions returns the database's schema version and the newest one this binary knows.
func (s *Store) SchemaVersions(ctx context.Context) (current, latest int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: read schema version: %w", err)
	}
	srcs := p.ListSources()
	if len(srcs) > 0 {
		latest = srcs[len(srcs)-1].Version
	}
	return current, latest, nil
}

func (s *Store) migrateUp(ctx context.Context, backup bool) error {
	current, latest, err := s.SchemaVersions(ctx)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("%w: database %s is at schema version %d, this binary knows up to %d; run a newer maestro-server",
			ErrSchemaTooNew, s.path, current, latest)
	}
	if current == latest {
		return nil
	}
	if current > 0 && backup {
		// The backup goes where every other backup goes, under the same retention (BACKUP_KEEP).
		dest := filepath.Join(s.backupDir, BackupFileName(s.now(), BackupKindPreMigration(latest)))
		info, err := s.Backup(ctx, dest)
		if err != nil {
			return fmt.Errorf("store: backup before migrating: %w", err)
		}
		s.log.Info("backed up database before migrating", "backup", info.Path, "size_bytes", info.SizeBytes,
			"from_version", current, "to_version", latest)
		if removed, err := PruneBackups(s.backupDir, s.backupKeep); err != nil {
			s.log.Warn("pruning old backups failed", "dir", s.backupDir, "error", err)
		} else if len(removed) > 0 {
			s.log.Info("pruned old backups", "removed", removed)
		}
	}
	_, err = s.MigrateUp(ctx)
	return err
}

// MigrateUp applies every pending migration and returns how many ran.
func (s *Store) MigrateUp(ctx context.Context) (int, error) {
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	for _, r := range res {
		s.log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return len(res), fmt.Errorf("store: migrate up: %w", err)
	}
	return len(res), nil
}

// MigrateDown rolls back the newest applied migration.
func (s *Store) MigrateDown(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	if _, err := p.Down(ctx); err != nil {
		return fmt.Errorf("store: migrate down: %w", err)
	}
	return nil
}

// MigrationStatuses lists every known migration and whether it is applied.
func (s *Store) MigrationStatuses(ctx context.Context) ([]MigrationStatus, error) {
	p, err := s.provider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, m := range st {
		out = append(out, MigrationStatus{
			Version: m.Source.Version, Source: m.Source.Path,
			Applied: m.State == goose.StateApplied, AppliedAt: m.AppliedAt,
		})
	}
	return out, nil
}
