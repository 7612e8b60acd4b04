package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/sony/gobreaker/v2"
)

// BreakerRetryAfter is how long a refused write is told to wait, and how long the breaker stays open
// before it lets a probe through.
const BreakerRetryAfter = 2 * time.Second

// writeBreaker stops sending writes to a database whose storage is failing (disk full, I/O errors):
// after a write fails for storage reasons, writes are refused at once with 503 STORAGE_UNAVAILABLE and
// Retry-After, instead of each one queueing for the writer and failing slowly. Reads are untouched. A
// background probe writes to the file every BreakerRetryAfter while the breaker is not closed, and the
// first successful write (probe or request) closes it again (MED-11, DESIGN §8).
type writeBreaker struct {
	cb *gobreaker.CircuitBreaker[struct{}]

	mu      sync.Mutex
	lastErr string
	since   time.Time
}

func newWriteBreaker(s *Store) *writeBreaker {
	b := &writeBreaker{}
	b.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "storage-writes",
		MaxRequests: 1,
		Timeout:     BreakerRetryAfter,
		// A full disk or a failing device fails every write alike, so one storage failure is enough.
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
		// Only committed writes prove the storage works; only storage failures prove it does not. Every
		// other error (validation, not found, a cancelled request) says nothing about the disk.
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded:   func(err error) bool { return err != nil && !IsStorageFailure(err) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			b.mu.Lock()
			b.since = time.Now()
			last := b.lastErr
			b.mu.Unlock()
			if to == gobreaker.StateOpen && from == gobreaker.StateClosed {
				s.log.Error("database writes are failing; refusing writes until the storage recovers", "error", last)
			}
			if to == gobreaker.StateClosed {
				s.log.Info("database writes work again")
			}
		},
	})
	return b
}

// run executes one write transaction through the breaker.
func (b *writeBreaker) run(fn func() error) error {
	_, err := b.cb.Execute(func() (struct{}, error) {
		err := fn()
		if IsStorageFailure(err) {
			b.mu.Lock()
			b.lastErr = err.Error()
			b.mu.Unlock()
		}
		return struct{}{}, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &maestro.Error{
			Code:    maestro.CodeStorageDown,
			Message: "storage is unavailable (database writes are failing); reads still work, retry later",
			Details: map[string]any{"retryAfterSeconds": int(BreakerRetryAfter / time.Second)},
			Err:     err,
		}
	}
	return err
}

// Health reports the write path: ok while writes work, degraded (with the last storage error) while
// the breaker refuses them. It implements maestro.HealthReporter for the "database" component.
func (s *Store) Health() maestro.ComponentHealth {
	b := s.breaker
	if b.cb.State() == gobreaker.StateClosed {
		return maestro.ComponentHealth{Status: maestro.HealthOK}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return maestro.ComponentHealth{
		Status: maestro.HealthDegraded,
		Reason: fmt.Sprintf("writes refused since %s after a storage failure (%s); reads work",
			b.since.UTC().Format(time.RFC3339), b.lastErr),
	}
}

// WritesAvailable reports whether the write breaker is closed.
func (s *Store) WritesAvailable() bool {
	return s.breaker.cb.State() == gobreaker.StateClosed
}

// probeWrites runs until ctx ends: while the breaker is not closed it tries a minimal real write every
// BreakerRetryAfter, so the breaker closes soon after the storage recovers even when no client writes.
func (s *Store) probeWrites(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(BreakerRetryAfter / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.breaker.cb.State() == gobreaker.StateClosed {
			continue
		}
		err := s.InTx(ctx, func(q *Q) error { return q.touchHeader(ctx) })
		if err != nil && ctx.Err() == nil {
			s.log.Debug("storage probe failed", "error", err)
		}
	}
}

// touchHeader is the probe write: it bumps the file's user_version (which nothing else uses), a real
// write of the database header that goes through the WAL like any other.
func (q *Q) touchHeader(ctx context.Context) error {
	var v int64
	if err := q.x.QueryRowContext(q.c(ctx), "PRAGMA user_version").Scan(&v); err != nil {
		return mapErr(err)
	}
	_, err := q.x.ExecContext(q.c(ctx), fmt.Sprintf("PRAGMA user_version = %d", (v+1)%(1<<31)))
	return mapErr(err)
}

// LimitPages caps the database file at n pages on the writer connection (SQLite's max_page_count) and
// returns the cap in force; n of 0 lifts it. Writes that need more room fail with SQLITE_FULL exactly as
// on a full disk, which is how tests (and operators rehearsing an incident) exercise the breaker.
func (s *Store) LimitPages(ctx context.Context, n int64) (int64, error) {
	if n <= 0 {
		n = 1<<32 - 2 // SQLite's default maximum
	}
	select {
	case s.writeMu <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-s.writeMu }()
	var got int64
	err := s.w.QueryRowContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got)
	return got, mapErr(err)
}

// PageCount returns the number of pages the database file has now.
func (s *Store) PageCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "PRAGMA page_count").Scan(&n)
	return n, mapErr(err)
}
