package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Options configure the services.
type Options struct {
	// Now is the clock; time.Now when nil. Tests inject a fixed or stepping clock.
	Now    func() time.Time
	Logger *slog.Logger
	// SessionDir is where spawn writes <SessionDir>/<sessionId>/manifest.json; made absolute by New (D27).
	SessionDir string
	// ServerURL is the bare origin spawned agents use to reach this server (MAESTRO_SERVER_URL).
	ServerURL string
	// Hostname is recorded on new sessions; os.Hostname() when empty.
	Hostname string
	// AuditRetention is how long audit entries are kept (90 days when zero).
	AuditRetention time.Duration
}

// Services bundles every use case over one store.
type Services struct {
	Projects *Projects
	Tasks    *Tasks
	// Leases is claiming tasks (task leases) and the ready set; its sweep runs with Leases.Run.
	Leases *Leases

	Sessions  *Sessions
	Queues    *Queues
	Templates *Templates
	// Audit is the audit log of mutating requests; its writer runs with Audit.Run.
	Audit *Audit
	// Predecessor imports the TypeScript predecessor's data directory.
	Predecessor *Predecessor
	// Backups takes online backups into the backups directory; its schedule runs with Backups.Run.
	Backups *Backups
}

// New wires the services over st.
func New(st *store.Store, opts Options) *Services {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	b := base{st: st, now: opts.Now, log: opts.Logger}
	return &Services{
		Projects: &Projects{base: b},
		Tasks:    &Tasks{base: b},
		Leases:   &Leases{base: b},

		Sessions:  newSessions(b, opts),
		Queues:    &Queues{base: b},
		Templates: &Templates{base: b},
		Audit:     newAudit(b, opts.AuditRetention),

		Predecessor: &Predecessor{base: b},
		Backups:     newBackups(b),
	}
}

// base is what every service shares: the store and the clock.
type base struct {
	st  *store.Store
	now func() time.Time
	log *slog.Logger
}

func (b base) nowMs() int64 { return b.now().UnixMilli() }

// notFound turns the store's ErrNotFound into the domain's not-found error for resource id, and passes
// every other error through.
func notFound(err error, resource, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return maestro.NotFound(resource, id)
	}
	return err
}

// firstErr returns the first non-nil error; it keeps long validation chains flat.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// dedupe returns items without repeats, keeping the first occurrence's order (D22). It never returns nil.
func dedupe(items []string) []string {
	out := make([]string, 0, len(items))
	seen := make(map[string]struct{}, len(items))
	for _, it := range items {
		if _, ok := seen[it]; ok {
			continue
		}
		seen[it] = struct{}{}
		out = append(out, it)
	}
	return out
}

// orEmpty returns items, or an empty non-nil list for nil (arrays are never null on the wire).
func orEmpty(items []string) []string {
	if items == nil {
		return []string{}
	}
	return items
}

// once runs fn in one write transaction, at most once per idempotency key of opts (store.Once), and
// leaves the create's result in *out: what fn put there, or on a replay the first request's result.
// Creates that honour Idempotency-Key (v2) run through it instead of InTx.
func once[T any](ctx context.Context, st *store.Store, opts []maestro.WriteOpts, out *T, fn func(q *store.Q) error) error {
	res, err := store.Once(ctx, st, maestro.OptsOf(opts).Idem, func(q *store.Q) (T, error) {
		if err := fn(q); err != nil {
			var zero T
			return zero, err
		}
		return *out, nil
	})
	if err != nil {
		return err
	}
	*out = res
	return nil
}
