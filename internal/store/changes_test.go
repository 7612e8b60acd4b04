package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
	_ "modernc.org/sqlite"
)

// TestStore_SubscribeChanges checks that commits by this process and by a separate connection (as the
// flags command in another process makes) both wake subscribers.
func TestStore_SubscribeChanges(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ch, stop := st.SubscribeChanges()
	defer stop()

	ctx := context.Background()
	err := st.InTx(ctx, func(q *store.Q) error {
		return q.InsertProject(ctx, maestro.Project{ID: "p1", Name: "p", CreatedAt: 1, UpdatedAt: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	waitChange(t, ch)

	other, err := sql.Open("sqlite", store.DSN(st.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec("INSERT INTO feature_flags (key, enabled, updated_at) VALUES ('x', 1, 1)"); err != nil {
		t.Fatal(err)
	}
	waitChange(t, ch)

	select {
	case <-ch:
		t.Fatal("notified without a commit")
	case <-time.After(3 * store.ChangePollInterval):
	}
}

func waitChange(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no change notification within 5s")
	}
}
