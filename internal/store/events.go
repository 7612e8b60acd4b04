package store

import (
	"context"
	"encoding/json"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// EventsSince returns up to limit outbox events with seq > after, in seq order.
func (q *Q) EventsSince(ctx context.Context, after int64, limit int) ([]maestro.Event, error) {
	rows, err := q.q.ListEventsSince(q.c(ctx), db.ListEventsSinceParams{Seq: after, Limit: int64(limit)})
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]maestro.Event, len(rows))
	for i, r := range rows {
		out[i] = maestro.Event{
			Seq: r.Seq, Type: r.Type, Data: json.RawMessage(r.Payload), Timestamp: r.CreatedAt,
			ProjectID: r.ProjectID.String, RequestID: r.RequestID.String,
		}
	}
	return out, nil
}

// EventSeqBounds returns the oldest and newest retained seq (0, 0 when the outbox is empty).
func (q *Q) EventSeqBounds(ctx context.Context) (oldest, newest int64, err error) {
	b, err := q.q.EventSeqBounds(q.c(ctx))
	if err != nil {
		return 0, 0, mapErr(err)
	}
	return b.MinSeq, b.MaxSeq, nil
}

// PruneEvents deletes events created before cutoff (ms) whose seq is at most maxPrunableSeq, and
// returns how many went.
func (q *Q) PruneEvents(ctx context.Context, cutoff, maxPrunableSeq int64) (int64, error) {
	n, err := q.q.PruneEvents(q.c(ctx), db.PruneEventsParams{Cutoff: cutoff, MaxPrunableSeq: maxPrunableSeq})
	return n, mapErr(err)
}

// EntityCount is the number of tasks or sessions in one status.
type EntityCount struct {
	Kind   string
	Status string
	N      int64
}

// EntityCounts returns the trigger-maintained per-status counts of tasks and sessions.
func (q *Q) EntityCounts(ctx context.Context) ([]EntityCount, error) {
	rows, err := q.q.ListEntityCounts(q.c(ctx))
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]EntityCount, len(rows))
	for i, r := range rows {
		out[i] = EntityCount{Kind: r.Kind, Status: r.Status, N: r.N}
	}
	return out, nil
}

// The outbox as the events hub reads and prunes it (events.Outbox): the reads go to the read pool, and
// each prune batch is a write transaction of its own, so that pruning never holds the write lock long.

// EventsSince returns up to limit outbox events with seq > after, in seq order.
func (s *Store) EventsSince(ctx context.Context, after int64, limit int) ([]maestro.Event, error) {
	return s.Read().EventsSince(ctx, after, limit)
}

// EventSeqBounds returns the oldest and newest retained seq (0, 0 when the outbox is empty).
func (s *Store) EventSeqBounds(ctx context.Context) (oldest, newest int64, err error) {
	return s.Read().EventSeqBounds(ctx)
}

// PruneEvents deletes, in one transaction, the events created before cutoff (ms) whose seq is at most
// maxPrunableSeq, and returns how many went.
func (s *Store) PruneEvents(ctx context.Context, cutoff, maxPrunableSeq int64) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(q *Q) error {
		var err error
		n, err = q.PruneEvents(ctx, cutoff, maxPrunableSeq)
		return err
	})
	return n, err
}
