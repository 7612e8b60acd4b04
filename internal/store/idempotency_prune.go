package store

import (
	"context"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// idempotencyPruneInterval is how often idempotency keys older than maestro.IdempotencyTTL are
// deleted. Expired keys are already ignored when looked up, so this only bounds the table's size.
const idempotencyPruneInterval = time.Hour

// PruneIdempotencyKeysEvery deletes expired idempotency keys now and then every hour until ctx ends
// (run it on its own goroutine). Failures are logged and retried at the next interval.
func (s *Store) PruneIdempotencyKeysEvery(ctx context.Context) {
	t := time.NewTicker(idempotencyPruneInterval)
	defer t.Stop()
	for {
		cutoff := s.now().Add(-maestro.IdempotencyTTL).UnixMilli()
		var n int64
		err := s.InTx(ctx, func(q *Q) error {
			var err error
			n, err = q.PruneIdempotencyKeys(ctx, cutoff)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("pruning expired idempotency keys failed; retrying later", "error", err)
		case n > 0:
			s.log.Info("pruned expired idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
