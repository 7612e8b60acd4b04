package service

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Audit limits.
const (
	// auditQueueSize bounds entries waiting to be written; beyond it entries are dropped and counted.
	auditQueueSize = 8192
	// auditBatch is the most entries one flush writes in one transaction.
	auditBatch = 512
	// auditFlushEvery is how long an entry may wait in memory before it is written.
	auditFlushEvery = 200 * time.Millisecond
	// auditPruneEvery is how often entries older than the retention are deleted.
	auditPruneEvery = time.Hour
	// auditPruneBatch is how many entries one prune transaction deletes at most.
	auditPruneBatch = 5000

	// DefaultAuditLimit and MaxAuditLimit bound one page of GET /api/v2/admin/audit.
	DefaultAuditLimit = 50
	MaxAuditLimit     = 500
)

// Audit is the audit log of mutating requests (DESIGN §7). Recording never waits for the database:
// Record puts the entry on a bounded in-memory queue, and a background writer (Run) stores queued
// entries in batches — one write transaction per batch, at most every 200 ms — instead of adding a
// write transaction to every request. The price: entries still queued when the process dies without a
// clean shutdown (kill -9, power loss) are lost, at most the last ~200 ms of mutations; a clean shutdown
// flushes everything. When the queue is full (the disk cannot keep up) entries are dropped and counted
// (Dropped), never blocking a request.
type Audit struct {
	base
	retention time.Duration
	queue     chan maestro.AuditEntry
	flushMu   sync.Mutex // one flush at a time, so entries are stored in queue order
	dropped   atomic.Uint64
	written   atomic.Uint64
}

func newAudit(b base, retention time.Duration) *Audit {
	if retention <= 0 {
		retention = 90 * 24 * time.Hour
	}
	return &Audit{base: b, retention: retention, queue: make(chan maestro.AuditEntry, auditQueueSize)}
}

// Record queues e for writing; it never blocks. It reports false when the queue was full and the entry
// was dropped.
func (a *Audit) Record(e maestro.AuditEntry) bool {
	if e.At == 0 {
		e.At = a.nowMs()
	}
	select {
	case a.queue <- e:
		return true
	default:
		if a.dropped.Add(1)%1000 == 1 {
			a.log.Warn("audit log queue full: dropping entries", "dropped_total", a.dropped.Load())
		}
		return false
	}
}

// Dropped is how many entries were dropped because the queue was full.
func (a *Audit) Dropped() uint64 { return a.dropped.Load() }

// Written is how many entries were stored.
func (a *Audit) Written() uint64 { return a.written.Load() }

// Run writes queued entries every 200 ms and prunes old ones every hour, until ctx is cancelled; then
// it writes whatever is still queued (call it after the HTTP server has drained, so nothing is left
// behind) and returns.
func (a *Audit) Run(ctx context.Context) {
	flush := time.NewTicker(auditFlushEvery)
	defer flush.Stop()
	prune := time.NewTicker(auditPruneEvery)
	defer prune.Stop()
	a.pruneLogged(ctx)
	for {
		select {
		case <-ctx.Done():
			// The server's context is gone; the final flush gets a short one of its own.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := a.Flush(fctx); err != nil {
				a.log.Error("writing the audit log at shutdown", "error", err)
			}
			cancel()
			return
		case <-flush.C:
			if err := a.Flush(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("writing the audit log", "error", err)
			}
		case <-prune.C:
			a.pruneLogged(ctx)
		}
	}
}

// Flush writes every entry queued so far, in batches. A failed batch is dropped (and counted): keeping
// it would grow memory without bound while the disk is failing, and the failure is logged. When ctx ends,
// Flush stops before the next batch; the batch it has taken off the queue is written all the same, since
// abandoning that write would lose its entries.
func (a *Audit) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	for {
		if len(a.queue) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err // what is still queued waits for the next flush
		}
		batch := make([]maestro.AuditEntry, 0, min(len(a.queue), auditBatch))
	fill:
		for len(batch) < auditBatch {
			select {
			case e := <-a.queue:
				batch = append(batch, e)
			default:
				break fill
			}
		}
		if len(batch) == 0 {
			return nil
		}
		wctx := context.WithoutCancel(ctx)
		err := a.st.WriteAudit(wctx, batch)
		if err != nil {
			a.dropped.Add(uint64(len(batch)))
			return err
		}
		a.written.Add(uint64(len(batch)))
	}
}

func (a *Audit) pruneLogged(ctx context.Context) {
	n, err := a.Prune(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Error("pruning the audit log", "error", err)
	case n > 0:
		a.log.Info("pruned the audit log", "deleted", n, "retention", a.retention.String())
	}
}

// Prune deletes entries older than the retention, in bounded transactions, and returns how many went.
func (a *Audit) Prune(ctx context.Context) (int64, error) {
	cutoff := a.now().Add(-a.retention).UnixMilli()
	var total int64
	for {
		var n int64
		err := a.st.InTx(ctx, func(q *store.Q) (err error) {
			n, err = q.PruneAuditEntries(ctx, cutoff, auditPruneBatch)
			return err
		})
		total += n
		if err != nil || n < auditPruneBatch {
			return total, err
		}
	}
}

// AuditPage is one page of the audit log.
type AuditPage struct {
	Items []maestro.AuditEntry
	// NextCursor continues the listing; empty on the last page.
	NextCursor string
}

// List returns one page of entries matching f, newest first, after writing whatever is queued (so
// that a client sees its own mutations). cursor is the NextCursor of the previous page, or empty.
// Errors: VALIDATION_ERROR for a malformed cursor or a limit outside 1..500.
func (a *Audit) List(ctx context.Context, f maestro.AuditFilter, cursor string) (AuditPage, error) {
	if f.Limit == 0 {
		f.Limit = DefaultAuditLimit
	}
	if f.Limit < 1 || f.Limit > MaxAuditLimit {
		return AuditPage{}, maestro.InvalidField("limit", "limit must be between 1 and %d", MaxAuditLimit)
	}
	if cursor != "" {
		id, err := decodeAuditCursor(cursor)
		if err != nil {
			return AuditPage{}, maestro.InvalidField("cursor", "cursor is not one this server issued")
		}
		f.BeforeID = id
	}
	if err := a.Flush(ctx); err != nil {
		a.log.ErrorContext(ctx, "writing the audit log before listing it", "error", err)
	}
	want := f.Limit
	f.Limit = want + 1 // one more tells whether there is a next page
	items, err := a.st.Read().ListAuditEntries(ctx, f)
	if err != nil {
		return AuditPage{}, err
	}
	page := AuditPage{Items: items}
	if len(items) > want {
		page.Items = items[:want]
		page.NextCursor = encodeAuditCursor(page.Items[want-1].ID)
	}
	return page, nil
}

// Cursors are opaque to clients: "a" + the last id seen, base64url-encoded.
func encodeAuditCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a" + strconv.FormatInt(id, 10)))
}

func decodeAuditCursor(c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	s, ok := strings.CutPrefix(string(raw), "a")
	if !ok {
		return 0, strconv.ErrSyntax
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, strconv.ErrSyntax
	}
	return id, nil
}
