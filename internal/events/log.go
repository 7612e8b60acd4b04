package events

import (
	"context"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// ReadEvents reads the durable event log for GET /api/v2/events: up to limit retained events with
// seq > after, in seq order. resync reports, like the socket's resync message, that the caller cannot
// continue from after — events after it were pruned, or after is beyond the newest event of this
// database — and must refetch its state and continue from newest; no events are returned then.
func (h *Hub) ReadEvents(ctx context.Context, after int64, limit int) (evs []maestro.Event, resync bool, newest int64, err error) {
	r := h.st
	oldest, newest, err := r.EventSeqBounds(ctx)
	if err != nil {
		return nil, false, 0, err
	}
	if after > newest || (after < newest && oldest > after+1) {
		return nil, true, newest, nil
	}
	if after == newest {
		return []maestro.Event{}, false, newest, nil
	}
	evs, err = r.EventsSince(ctx, after, limit)
	if err != nil {
		return nil, false, 0, err
	}
	if len(evs) > 0 && evs[0].Seq > after+1 {
		// Retention may have pruned past after between the two reads.
		if oldest, _, err = r.EventSeqBounds(ctx); err != nil {
			return nil, false, 0, err
		}
		if oldest > after+1 {
			return nil, true, newest, nil
		}
	}
	return evs, false, newest, nil
}
