package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/store"
)

func TestAudit_Prune(t *testing.T) {
	t.Parallel()
	clock := dbtest.NewClock()
	st := dbtest.New(t, dbtest.WithClock(clock.Now))
	svcs := service.New(st, service.Options{Now: clock.Now, AuditRetention: 24 * time.Hour})
	ctx := context.Background()
	now := clock.Now()
	for _, age := range []time.Duration{48 * time.Hour, 25 * time.Hour, 23 * time.Hour, time.Minute} {
		svcs.Audit.Record(maestro.AuditEntry{
			At: now.Add(-age).UnixMilli(), Actor: "anonymous", Method: "POST", Route: "/api/v1/projects",
			Status: 201, RequestID: "r-" + age.String(),
		})
	}
	if err := svcs.Audit.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := svcs.Audit.Prune(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Prune deleted %d (%v), want the 2 entries older than 24h", n, err)
	}
	page, err := svcs.Audit.List(ctx, maestro.AuditFilter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Items[0].RequestID != "r-1m0s" || page.Items[1].RequestID != "r-23h0m0s" {
		t.Fatalf("kept %+v", page.Items)
	}
	if svcs.Audit.Written() != 4 || svcs.Audit.Dropped() != 0 {
		t.Fatalf("written %d dropped %d", svcs.Audit.Written(), svcs.Audit.Dropped())
	}
}

func TestAudit_RunFlushesOnStop(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	svcs := service.New(st, service.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svcs.Audit.Run(ctx) }()
	for i := 0; i < 50; i++ {
		svcs.Audit.Record(maestro.AuditEntry{Actor: "anonymous", Method: "DELETE", Route: "/x", Status: 200, RequestID: "r"})
	}
	cancel()
	<-done
	// Read straight from the store: List would flush by itself.
	items, err := st.Read().ListAuditEntries(context.Background(), maestro.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 50 {
		t.Fatalf("%d entries stored after Run stopped, want 50", len(items))
	}
}

// TestAudit_StopDuringFlushLosesNothing stops Run while its periodic flush waits for a busy writer: the
// entries that flush took off the queue must still be stored, not dropped with the cancelled context.
func TestAudit_StopDuringFlushLosesNothing(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	svcs := service.New(st, service.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svcs.Audit.Run(ctx) }()
	time.Sleep(50 * time.Millisecond) // Run's start-up prune has gone through

	held, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- st.InTx(context.Background(), func(q *store.Q) error { close(held); <-release; return nil })
	}()
	<-held
	for range 20 {
		svcs.Audit.Record(maestro.AuditEntry{Actor: "anonymous", Method: "DELETE", Route: "/x", Status: 200, RequestID: "r"})
	}
	time.Sleep(400 * time.Millisecond) // a periodic flush has taken the entries and waits for the writer
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	<-done
	items, err := st.Read().ListAuditEntries(context.Background(), maestro.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 20 || svcs.Audit.Dropped() != 0 {
		t.Fatalf("%d entries stored, %d dropped after Run stopped mid-flush, want 20 and 0", len(items), svcs.Audit.Dropped())
	}
}
