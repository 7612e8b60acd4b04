package store

import (
	"context"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// GetQueue returns the queue of a session with its items in order, or ErrNotFound.
func (q *Q) GetQueue(ctx context.Context, sessionID string) (maestro.Queue, error) {
	r, err := q.q.GetQueue(q.c(ctx), sessionID)
	if err != nil {
		return maestro.Queue{}, mapErr(err)
	}
	rows, err := q.q.ListQueueItems(q.c(ctx), sessionID)
	if err != nil {
		return maestro.Queue{}, mapErr(err)
	}
	out := maestro.Queue{
		SessionID: r.SessionID, Strategy: maestro.StrategyQueue, CurrentIndex: int(r.CurrentIndex),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Items: make([]maestro.QueueItem, len(rows)),
	}
	for i, it := range rows {
		out.Items[i] = maestro.QueueItem{
			TaskID: it.TaskID, Status: it.Status, AddedAt: it.AddedAt, StartedAt: int64Ptr(it.StartedAt),
			CompletedAt: int64Ptr(it.CompletedAt), FailReason: stringPtr(it.FailReason),
		}
	}
	return out, nil
}

// InsertQueue stores a new queue and its items, in order.
func (q *Q) InsertQueue(ctx context.Context, qu maestro.Queue) error {
	if err := q.q.InsertQueue(q.c(ctx), db.InsertQueueParams{
		SessionID: qu.SessionID, CurrentIndex: int64(qu.CurrentIndex), CreatedAt: qu.CreatedAt, UpdatedAt: qu.UpdatedAt,
	}); err != nil {
		return mapErr(err)
	}
	for _, it := range qu.Items {
		if err := q.AppendQueueItem(ctx, qu.SessionID, it); err != nil {
			return err
		}
	}
	return nil
}

// AppendQueueItem adds an item at the end of a session's queue. A task already in the queue is ErrUnique.
func (q *Q) AppendQueueItem(ctx context.Context, sessionID string, it maestro.QueueItem) error {
	return mapErr(q.q.InsertQueueItem(q.c(ctx), db.InsertQueueItemParams{
		SessionID: sessionID, TaskID: it.TaskID, Status: it.Status, AddedAt: it.AddedAt,
	}))
}

// UpdateQueueItem stores the state of the item at index (its status, timestamps and fail reason).
func (q *Q) UpdateQueueItem(ctx context.Context, sessionID string, index int, it maestro.QueueItem) error {
	return mapErr(q.q.UpdateQueueItem(q.c(ctx), db.UpdateQueueItemParams{
		SessionID: sessionID, Position: int64(index), Status: it.Status, StartedAt: nullInt64Ptr(it.StartedAt),
		CompletedAt: nullInt64Ptr(it.CompletedAt), FailReason: nullStringPtr(it.FailReason),
	}))
}

// UpdateQueue stores a queue's current index and updatedAt.
func (q *Q) UpdateQueue(ctx context.Context, qu maestro.Queue) error {
	return mapErr(q.q.UpdateQueue(q.c(ctx), db.UpdateQueueParams{
		SessionID: qu.SessionID, CurrentIndex: int64(qu.CurrentIndex), UpdatedAt: qu.UpdatedAt,
	}))
}
