package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// idempotencyPruneInterval is how often remembered Idempotency-Key responses older than
// maestro.IdempotencyTTL are deleted. Expired keys are already ignored when looked up, so this only
// bounds the table's size.
const idempotencyPruneInterval = time.Hour

// pruneIdempotencyKeys deletes expired idempotency keys now and then every interval until ctx ends.
func pruneIdempotencyKeys(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(idempotencyPruneInterval)
	defer t.Stop()
	for {
		cutoff := time.Now().Add(-maestro.IdempotencyTTL).UnixMilli()
		var n int64
		err := st.InTx(ctx, func(q *store.Q) error {
			var err error
			n, err = q.PruneIdempotencyKeys(ctx, cutoff)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("pruning expired idempotency keys failed; retrying later", "error", err)
		case n > 0:
			log.Info("pruned expired idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
