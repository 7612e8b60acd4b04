package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Q runs domain-typed queries, either inside a write transaction (from InTx) or on the reader pool
// (from Read). Only a transactional Q can record events.
type Q struct {
	q      *db.Queries
	s      *Store
	tx     bool
	events []maestro.Event
	// x runs the hand-written queries (dynamic list filters, full-text search) that sqlc cannot express,
	// on the same connection or transaction as q.
	x db.DBTX
	// pooled says that x is the reader pool itself (Read), whose prepared list shapes queryShape uses.
	pooled bool
}

// c returns the context a query should run under. Inside a write transaction it is ctx without its
// cancellation: a cancelled statement interrupts the connection, and SQLite then rolls back the whole
// transaction — in a group commit, other requests' work with it (writer.go). Reads stay cancellable.
func (q *Q) c(ctx context.Context) context.Context {
	if q.tx {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// Read returns a Q on the reader pool, for reads outside any transaction.
func (s *Store) Read() *Q {
	return &Q{q: s.rq, s: s, x: s.r, pooled: true}
}

// InTx runs fn in one write transaction and commits it when fn returns nil; any error (or panic) rolls
// it back. Events recorded with Q.Emit are published, in seq order, only after the commit succeeded and
// before InTx returns, so the caller's response always follows its events.
//
// Write transactions are serialised through one writer goroutine that owns the writer connection; when
// requests queue up, it commits several of them together, each in its own savepoint (writer.go). A
// request whose ctx ends before it started is abandoned; once started it runs to the end.
//
// Idempotent creates run through Once, which claims the key and stores the result inside InTx.
//
// Writes go through the storage breaker: while the storage is failing they are refused at once with
// STORAGE_UNAVAILABLE (see breaker.go).
func (s *Store) InTx(ctx context.Context, fn func(q *Q) error) error {
	return s.breaker.run(func() error { return s.submit(ctx, fn) })
}

// Emit records an event in the outbox as part of the current transaction. The payload is marshalled
// now, so the event carries a snapshot of the entity as of this write.
func (q *Q) Emit(ctx context.Context, typ, projectID string, payload any) error {
	if !q.tx {
		return errors.New("store: Emit outside a transaction")
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("store: marshal %s payload: %w", typ, err)
	}
	now := q.s.now().UnixMilli()
	reqID := maestro.RequestIDFrom(ctx)
	seq, err := q.q.InsertEvent(q.c(ctx), db.InsertEventParams{
		Type:      typ,
		Payload:   string(data),
		ProjectID: nullString(projectID),
		RequestID: nullString(reqID),
		CreatedAt: now,
	})
	if err != nil {
		return mapErr(err)
	}
	q.events = append(q.events, maestro.Event{
		Seq: seq, Type: typ, Data: data, Timestamp: now, ProjectID: projectID, RequestID: reqID,
	})
	return nil
}

// Emitted returns the events recorded so far in this transaction (tests read them back).
func (q *Q) Emitted() []maestro.Event {
	return q.events
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

func nullStringPtr(s *string) sql.NullString {
	if s == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *s, Valid: true}
}

func nullInt64Ptr(v *int64) sql.NullInt64 {
	if v == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *v, Valid: true}
}

func stringPtr(ns sql.NullString) *string {
	if !ns.Valid {
		return nil
	}
	s := ns.String
	return &s
}

func int64Ptr(ni sql.NullInt64) *int64 {
	if !ni.Valid {
		return nil
	}
	v := ni.Int64
	return &v
}

// jsonList encodes a string list for a JSON TEXT column; nil becomes "[]".
func jsonList(items []string) string {
	if len(items) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(items) // a []string always marshals
	return string(b)
}

// parseList decodes a JSON TEXT list column, never returning nil.
func parseList(raw string) ([]string, error) {
	out := []string{}
	if raw == "" || raw == "[]" {
		// Most list columns are empty: skipping the JSON decoder for them makes long lists markedly
		// cheaper (four lists per task, a thousand tasks per page).
		return out, nil
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("store: corrupt JSON list %q: %w", raw, err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}
