package skills

import (
	"context"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// StoreNotifier records each change as a skills:changed event in st's outbox, in a transaction of its
// own; the store publishes it to WebSocket subscribers after the commit like every other event. Skills
// themselves are never stored.
func StoreNotifier(st *store.Store) Notifier {
	return func(ctx context.Context, change maestro.SkillsChangedPayload) error {
		return st.InTx(ctx, func(q *store.Q) error {
			return q.Emit(ctx, maestro.EventSkillsChanged, "", change)
		})
	}
}
