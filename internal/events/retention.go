package events

import (
	"context"
	"time"
)

// pruneBatch bounds how many events one retention transaction deletes, so that pruning a large backlog
// never holds the write lock for long.
const pruneBatch = 5000

// retain prunes the outbox at start and then every PruneInterval until ctx ends.
func (h *Hub) retain(ctx context.Context) {
	t := time.NewTicker(h.opts.PruneInterval)
	defer t.Stop()
	for {
		if n, err := h.Prune(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			h.log.Warn("events: pruning the outbox failed; retrying at the next interval", "error", err)
		} else if n > 0 {
			h.log.Info("events: pruned old events", "deleted", n, "retention", h.opts.Retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Prune deletes events older than the retention period, but never any of the newest KeepMin events, in
// batches of short transactions. It returns how many it deleted.
func (h *Hub) Prune(ctx context.Context) (int64, error) {
	oldest, newest, err := h.st.EventSeqBounds(ctx)
	if err != nil {
		return 0, err
	}
	maxPrunable := newest - h.opts.KeepMin
	if oldest == 0 || maxPrunable < oldest {
		return 0, nil
	}
	cutoff := h.opts.Now().Add(-h.opts.Retention).UnixMilli()
	var total int64
	for from := oldest; from <= maxPrunable; from += pruneBatch {
		upTo := min(maxPrunable, from+pruneBatch-1)
		n, err := h.st.PruneEvents(ctx, cutoff, upTo)
		if err != nil {
			return total, err
		}
		total += n
		if n < upTo-from+1 {
			// Events are stamped in seq order, so a batch that kept some has reached events newer than
			// the cutoff; the rest are newer still.
			break
		}
	}
	return total, nil
}
