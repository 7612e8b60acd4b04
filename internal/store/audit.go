package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// WriteAudit inserts a batch of audit entries in a write transaction of its own that does not advance
// CommitSeq: the audit log is read only by its own uncached listing, and a batch written after every
// burst of mutations would otherwise empty the representation cache a second time for nothing.
func (s *Store) WriteAudit(ctx context.Context, entries []maestro.AuditEntry) error {
	r := &writeReq{ctx: ctx, done: make(chan error, 1), quiet: true,
		fn: func(q *Q) error { return q.InsertAuditEntries(ctx, entries) }}
	return s.breaker.run(func() error { return s.submitReq(ctx, r) })
}

// InsertAuditEntries appends entries to the audit log (in the current transaction).
func (q *Q) InsertAuditEntries(ctx context.Context, entries []maestro.AuditEntry) error {
	for _, e := range entries {
		detail := sql.NullString{}
		if len(e.Detail) > 0 {
			b, err := json.Marshal(e.Detail)
			if err != nil {
				return err
			}
			detail = sql.NullString{String: string(b), Valid: true}
		}
		if err := q.q.InsertAuditEntry(q.c(ctx), db.InsertAuditEntryParams{
			At: e.At, Actor: e.Actor, Method: e.Method, Route: e.Route, EntityID: nullStringPtr(e.EntityID),
			Status: int64(e.Status), RequestID: e.RequestID, Detail: detail,
		}); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// ListAuditEntries returns up to f.Limit entries matching f, newest first.
func (q *Q) ListAuditEntries(ctx context.Context, f maestro.AuditFilter) ([]maestro.AuditEntry, error) {
	// Zero fields of f do not filter: they become NULL, which the query reads as "any".
	ni := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }
	rows, err := q.q.ListAuditEntries(q.c(ctx), db.ListAuditEntriesParams{
		BeforeID: ni(f.BeforeID), Actor: nullString(f.Actor), Method: nullString(f.Method), Route: nullString(f.Route),
		EntityID: nullString(f.EntityID), RequestID: nullString(f.RequestID), Status: ni(int64(f.Status)),
		Since: ni(f.Since), Until: ni(f.Until), Limit: int64(f.Limit),
	})
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]maestro.AuditEntry, len(rows))
	for i, r := range rows {
		e := maestro.AuditEntry{
			ID: r.ID, At: r.At, Actor: r.Actor, Method: r.Method, Route: r.Route, EntityID: stringPtr(r.EntityID),
			Status: int(r.Status), RequestID: r.RequestID,
		}
		if r.Detail.Valid {
			// A detail that no longer decodes is shown without it rather than failing the listing.
			_ = json.Unmarshal([]byte(r.Detail.String), &e.Detail)
		}
		out[i] = e
	}
	return out, nil
}

// PruneAuditEntries deletes at most batch entries older than cutoff (ms) and returns how many went.
func (q *Q) PruneAuditEntries(ctx context.Context, cutoff int64, batch int) (int64, error) {
	n, err := q.q.PruneAuditEntries(q.c(ctx), db.PruneAuditEntriesParams{Cutoff: cutoff, Batch: int64(batch)})
	return n, mapErr(err)
}
