package store

import (
	"context"
)

// CheckWritable takes the database write lock (BEGIN IMMEDIATE) and releases it at once, for readiness
// probes: it fails when the writer is stuck past ctx's deadline or the file cannot be locked for
// writing. It writes nothing, so probes do not wake data_version watchers or grow the WAL.
func (s *Store) CheckWritable(ctx context.Context) error {
	select {
	case s.writeMu <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.writeMu }()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Rollback())
}

// MigrationsCurrent reports whether the database schema is at the newest version this binary knows.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, int64, int64, error) {
	cur, latest, err := s.SchemaVersions(ctx)
	if err != nil {
		return false, 0, 0, err
	}
	return cur == latest, cur, latest, nil
}
