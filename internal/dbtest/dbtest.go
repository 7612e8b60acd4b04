package dbtest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/store"
)

// Option adjusts the store a test gets.
type Option func(*store.Options)

// WithClock makes the store stamp events with now.
func WithClock(now func() time.Time) Option {
	return func(o *store.Options) { o.Now = now }
}

// New opens a fresh migrated database in t.TempDir().
func New(t testing.TB, opts ...Option) *store.Store {
	t.Helper()
	o := store.Options{
		Path:     filepath.Join(t.TempDir(), "maestro.db"),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		NoBackup: true,
	}
	for _, opt := range opts {
		opt(&o)
	}
	st, err := store.Open(context.Background(), o)
	if err != nil {
		t.Fatalf("dbtest: open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("dbtest: close store: %v", err)
		}
	})
	return st
}

// Clock is a test clock that advances by Step on every call, so timestamps are distinct and ordered.
type Clock struct {
	mu   sync.Mutex
	t    time.Time
	Step time.Duration
}

// NewClock returns a clock starting at a fixed instant.
func NewClock() *Clock {
	return &Clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Step: time.Millisecond}
}

// Now returns the current instant and advances the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.t
	c.t = c.t.Add(c.Step)
	return now
}

// Advance moves the clock forward by d at once (lease expiry and other deadlines in tests).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
