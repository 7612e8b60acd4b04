package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// manualClock only moves when the test says so, so lease expiry is decided by the test, not by how
// fast the machine is.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder keeps every event the store publishes, in order.
type recorder struct {
	mu     sync.Mutex
	events []maestro.Event
}

func (r *recorder) Publish(evs []maestro.Event) {
	r.mu.Lock()
	r.events = append(r.events, evs...)
	r.mu.Unlock()
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, e := range r.events {
		out[i] = e.Type
	}
	return out
}

type leaseFixture struct {
	svcs    *service.Services
	clock   *manualClock
	rec     *recorder
	project maestro.Project
	st      *store.Store
}

func newLeaseFixture(t testing.TB) *leaseFixture {
	t.Helper()
	clock := newManualClock()
	st := dbtest.New(t, dbtest.WithClock(clock.Now))
	rec := &recorder{}
	st.SetPublisher(rec)
	svcs := service.New(st, service.Options{Now: clock.Now})
	p, err := svcs.Projects.Create(context.Background(), maestro.ProjectCreate{Name: "agents"})
	if err != nil {
		t.Fatal(err)
	}
	return &leaseFixture{svcs: svcs, clock: clock, rec: rec, project: p, st: st}
}

func (f *leaseFixture) task(t *testing.T, title, priority string, deps ...string) maestro.Task {
	t.Helper()
	// Distinct createdAt values make "oldest first" well defined.
	f.clock.Advance(time.Millisecond)
	task, err := f.svcs.Tasks.Create(context.Background(), maestro.TaskCreate{
		ProjectID: f.project.ID, Title: title, Priority: priority, Dependencies: deps,
	})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func (f *leaseFixture) session(t *testing.T) maestro.Session {
	t.Helper()
	s, err := f.svcs.Sessions.Create(context.Background(), maestro.SessionCreate{ProjectID: f.project.ID, TaskIDs: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *leaseFixture) next(t *testing.T, sessionID string) *maestro.Task {
	t.Helper()
	got, err := f.svcs.Leases.Next(context.Background(), maestro.NextRequest{
		ProjectID: f.project.ID, ClaimRequest: maestro.ClaimRequest{SessionID: sessionID, LeaseSeconds: 60},
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (f *leaseFixture) complete(t *testing.T, task *maestro.Task) {
	t.Helper()
	done := maestro.TaskCompleted
	if _, err := f.svcs.Tasks.Update(context.Background(), task.ID, maestro.TaskPatch{Status: &done, LeaseToken: &task.Lease.Token}); err != nil {
		t.Fatal(err)
	}
}

// TestLeaseService_Next_race has 100 goroutines claim the next task of one project until nothing is
// ready: no task may be handed out twice, and every task must be handed out once.
func TestLeaseService_Next_race(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t)
	const tasks, claimers = 100, 100
	want := make([]string, 0, tasks)
	for i := range tasks {
		want = append(want, f.task(t, fmt.Sprintf("t%d", i), maestro.PriorityMedium).ID)
	}
	sessions := make([]string, claimers)
	for i := range sessions {
		sessions[i] = f.session(t).ID
	}
	var mu sync.Mutex
	claimed := map[string]string{}
	var doubles []string
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	for i := range claimers {
		wg.Go(func() {
			for {
				got, err := f.svcs.Leases.Next(context.Background(), maestro.NextRequest{
					ProjectID: f.project.ID, ClaimRequest: maestro.ClaimRequest{SessionID: sessions[i], LeaseSeconds: 60},
				})
				if err != nil {
					errs <- err
					return
				}
				if got == nil {
					return
				}
				mu.Lock()
				if prev, ok := claimed[got.ID]; ok {
					doubles = append(doubles, got.ID+" by "+prev+" and "+sessions[i])
				}
				claimed[got.ID] = sessions[i]
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Next: %v", err)
	}
	if len(doubles) > 0 {
		t.Fatalf("%d double claims: %v", len(doubles), doubles)
	}
	if len(claimed) != tasks {
		t.Fatalf("%d of %d tasks claimed", len(claimed), tasks)
	}
	for _, id := range want {
		task, err := f.svcs.Leases.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if task.Status != maestro.TaskInProgress || task.Lease == nil || task.Lease.SessionID != claimed[id] || task.Lease.Token != 1 {
			t.Fatalf("task %s after the race: status %s, lease %+v, claimed by %s", id, task.Status, task.Lease, claimed[id])
		}
		if !slices.Contains(task.SessionIDs, claimed[id]) {
			t.Fatalf("task %s is not linked to its claimer %s: %v", id, claimed[id], task.SessionIDs)
		}
	}
}

// TestLeaseService_Next_order checks that Next follows the dependencies — a chain is handed out one
// link at a time, a diamond's join only after both branches — and otherwise priority, then age.
func TestLeaseService_Next_order(t *testing.T) {
	t.Parallel()
	t.Run("chain", func(t *testing.T) {
		t.Parallel()
		f := newLeaseFixture(t)
		a := f.task(t, "a", maestro.PriorityLow)
		b := f.task(t, "b", maestro.PriorityCritical, a.ID)
		c := f.task(t, "c", maestro.PriorityCritical, b.ID)
		s := f.session(t).ID
		for _, want := range []maestro.Task{a, b, c} {
			got := f.next(t, s)
			if got == nil || got.ID != want.ID {
				t.Fatalf("next = %v, want %s (%s)", got, want.ID, want.Title)
			}
			if again := f.next(t, s); again != nil {
				t.Fatalf("while %s is in progress, next handed out %s (%s)", want.Title, again.ID, again.Title)
			}
			f.complete(t, got)
		}
		if got := f.next(t, s); got != nil {
			t.Fatalf("after the chain, next = %s", got.ID)
		}
	})
	t.Run("diamond", func(t *testing.T) {
		t.Parallel()
		f := newLeaseFixture(t)
		top := f.task(t, "top", maestro.PriorityMedium)
		left := f.task(t, "left", maestro.PriorityMedium, top.ID)
		right := f.task(t, "right", maestro.PriorityHigh, top.ID)
		join := f.task(t, "join", maestro.PriorityCritical, left.ID, right.ID)
		s := f.session(t).ID
		got := f.next(t, s)
		if got == nil || got.ID != top.ID {
			t.Fatalf("first = %v, want top", got)
		}
		f.complete(t, got)
		// Both branches are ready now: the more urgent one first, then the other, while the first runs.
		r := f.next(t, s)
		l := f.next(t, s)
		if r == nil || r.ID != right.ID || l == nil || l.ID != left.ID {
			t.Fatalf("branches = %v, %v; want right then left", r, l)
		}
		if x := f.next(t, s); x != nil {
			t.Fatalf("join handed out before its dependencies completed: %s", x.Title)
		}
		f.complete(t, r)
		if x := f.next(t, s); x != nil {
			t.Fatalf("join handed out with left still in progress: %s", x.Title)
		}
		ready, err := f.svcs.Leases.Ready(context.Background(), maestro.ReadyQuery{ProjectID: f.project.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(ready.Items) != 1 || ready.Items[0].Task.ID != join.ID || !slices.Equal(ready.Items[0].BlockedBy, []string{left.ID}) {
			t.Fatalf("ready set = %+v, want join blocked by left", ready.Items)
		}
		f.complete(t, l)
		if x := f.next(t, s); x == nil || x.ID != join.ID {
			t.Fatalf("last = %v, want join", x)
		}
	})
	t.Run("priority then age", func(t *testing.T) {
		t.Parallel()
		f := newLeaseFixture(t)
		old := f.task(t, "old medium", maestro.PriorityMedium)
		urgent := f.task(t, "critical", maestro.PriorityCritical)
		young := f.task(t, "young medium", maestro.PriorityMedium)
		low := f.task(t, "low", maestro.PriorityLow)
		ready, err := f.svcs.Leases.Ready(context.Background(), maestro.ReadyQuery{ProjectID: f.project.ID})
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, it := range ready.Items {
			order = append(order, it.Task.ID)
		}
		want := []string{urgent.ID, old.ID, young.ID, low.ID}
		if !slices.Equal(order, want) {
			t.Fatalf("ready order %v, want %v", order, want)
		}
		s := f.session(t).ID
		for _, id := range want {
			if got := f.next(t, s); got == nil || got.ID != id {
				t.Fatalf("next = %v, want %s", got, id)
			}
		}
	})
}

// TestLeaseService_Sweep expires a lease with the injected clock: the task goes back to todo, the
// session's timeline says why, task:lease_expired is recorded, and the next claim gets a larger token.
func TestLeaseService_Sweep(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t)
	ctx := context.Background()
	task := f.task(t, "work", maestro.PriorityMedium)
	s := f.session(t)
	got, err := f.svcs.Leases.Next(ctx, maestro.NextRequest{ProjectID: f.project.ID,
		ClaimRequest: maestro.ClaimRequest{SessionID: s.ID, LeaseSeconds: 30}})
	if err != nil || got == nil {
		t.Fatalf("Next = %v, %v", got, err)
	}
	f.clock.Advance(29 * time.Second)
	if n, err := f.svcs.Leases.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the expiry ended %d leases (%v)", n, err)
	}
	f.clock.Advance(time.Second)
	before := len(f.rec.types())
	if n, err := f.svcs.Leases.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep at the expiry ended %d leases (%v), want 1", n, err)
	}
	after, err := f.svcs.Leases.Get(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != maestro.TaskTodo || after.Lease != nil {
		t.Fatalf("after the sweep: status %s, lease %+v", after.Status, after.Lease)
	}
	types := f.rec.types()[before:]
	if !slices.Equal(types, []string{maestro.EventTaskUpdated, maestro.EventTaskLeaseExpired, maestro.EventSessionUpdated}) {
		t.Fatalf("sweep events %v", types)
	}
	f.rec.mu.Lock()
	var payload maestro.LeaseExpiredPayload
	err = json.Unmarshal(f.rec.events[before+1].Data, &payload)
	f.rec.mu.Unlock()
	if err != nil || payload.TaskID != task.ID || payload.SessionID != s.ID || payload.Token != 1 || payload.Task.Status != maestro.TaskTodo {
		t.Fatalf("task:lease_expired payload %+v (%v)", payload, err)
	}
	sess, err := f.svcs.Sessions.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var last maestro.TimelineEntry
	if err := json.Unmarshal(sess.Timeline[len(sess.Timeline)-1], &last); err != nil {
		t.Fatal(err)
	}
	if last.Type != maestro.TimelineLeaseExpired || last.TaskID != task.ID || last.Message == "" {
		t.Fatalf("last timeline entry %+v, want lease_expired for the task", last)
	}
	again := f.next(t, s.ID)
	if again == nil || again.ID != task.ID || again.Lease.Token != 2 {
		t.Fatalf("re-claim = %+v, want the task with token 2", again)
	}
	if n, err := f.svcs.Leases.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep ended %d leases (%v)", n, err)
	}
}

// TestLeaseService_fencing checks the fencing rule: once a lease expired and the task was claimed again,
// the first holder's token is stale for every operation (409 LEASE_TOKEN_STALE) and changes nothing;
// the new holder's token works; a change without a token overrides the lease.
func TestLeaseService_fencing(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t)
	ctx := context.Background()
	task := f.task(t, "contested", maestro.PriorityMedium)
	s1, s2 := f.session(t), f.session(t)
	first, err := f.svcs.Leases.Claim(ctx, task.ID, maestro.ClaimRequest{SessionID: s1.ID, LeaseSeconds: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svcs.Leases.Claim(ctx, task.ID, maestro.ClaimRequest{SessionID: s2.ID, LeaseSeconds: 10}); maestro.ErrorCode(err) != maestro.CodeTaskNotClaimable {
		t.Fatalf("claim of a leased task: %v, want TASK_NOT_CLAIMABLE", err)
	}
	f.clock.Advance(11 * time.Second)
	// No sweep ran: the explicit claim expires the due lease itself and takes the task over.
	second, err := f.svcs.Leases.Claim(ctx, task.ID, maestro.ClaimRequest{SessionID: s2.ID, LeaseSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	if second.Lease.Token <= first.Lease.Token {
		t.Fatalf("tokens did not grow: %d then %d", first.Lease.Token, second.Lease.Token)
	}
	stale := first.Lease.Token
	done, title := maestro.TaskCompleted, "renamed by a stale agent"
	before, err := f.svcs.Leases.Get(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	events := len(f.rec.types())
	for _, c := range []struct {
		name string
		do   func() error
	}{
		{"complete", func() error {
			_, err := f.svcs.Tasks.Update(ctx, task.ID, maestro.TaskPatch{Status: &done, Title: &title, LeaseToken: &stale})
			return err
		}},
		{"renew", func() error { _, err := f.svcs.Leases.Renew(ctx, task.ID, stale, 60); return err }},
		{"release", func() error {
			_, err := f.svcs.Leases.Release(ctx, task.ID, maestro.LeaseRelease{Token: stale})
			return err
		}},
	} {
		if err := c.do(); maestro.ErrorCode(err) != maestro.CodeLeaseTokenStale {
			t.Fatalf("%s with the stale token: %v, want LEASE_TOKEN_STALE", c.name, err)
		}
	}
	now, err := f.svcs.Leases.Get(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if now.UpdatedAt != before.UpdatedAt || now.Title != before.Title || now.Status != maestro.TaskInProgress ||
		*now.Lease != *before.Lease || len(f.rec.types()) != events {
		t.Fatalf("a stale token changed something: before %+v / %+v, after %+v / %+v", before, before.Lease, now, now.Lease)
	}
	// The holder renews, then finishes with its token: the lease ends with the task.
	f.clock.Advance(time.Second)
	renewed, err := f.svcs.Leases.Renew(ctx, task.ID, second.Lease.Token, 120)
	if err != nil || renewed.Lease.ExpiresAt != f.clock.Now().UnixMilli()+120_000 {
		t.Fatalf("renew = %+v, %v", renewed.Lease, err)
	}
	finished, err := f.svcs.Tasks.Update(ctx, task.ID, maestro.TaskPatch{Status: &done, LeaseToken: &second.Lease.Token})
	if err != nil || finished.Status != maestro.TaskCompleted || finished.Lease != nil {
		t.Fatalf("finish with the live token = %+v, %v", finished, err)
	}

	// An override: a change of status without a token ends the lease and notes it for the audit row.
	other := f.task(t, "overridden", maestro.PriorityMedium)
	held, err := f.svcs.Leases.Claim(ctx, other.ID, maestro.ClaimRequest{SessionID: s1.ID})
	if err != nil {
		t.Fatal(err)
	}
	actx, notes := maestro.WithAuditNotes(ctx)
	blocked := maestro.TaskBlocked
	over, err := f.svcs.Tasks.Update(actx, other.ID, maestro.TaskPatch{Status: &blocked})
	if err != nil || over.Status != maestro.TaskBlocked || over.Lease != nil {
		t.Fatalf("override = %+v, %v", over, err)
	}
	if notes.Map()["leaseOverride"] == "" {
		t.Fatalf("override left no audit note: %v", notes.Map())
	}
	if _, err := f.svcs.Leases.Renew(ctx, other.ID, held.Lease.Token, 60); maestro.ErrorCode(err) != maestro.CodeLeaseTokenStale {
		t.Fatalf("renew after an override: %v, want LEASE_TOKEN_STALE", err)
	}
}

// TestLeaseService_Claim_errors covers the refusals of an explicit claim and of Next's inputs.
func TestLeaseService_Claim_errors(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t)
	ctx := context.Background()
	dep := f.task(t, "dep", maestro.PriorityMedium)
	waiting := f.task(t, "waiting", maestro.PriorityMedium, dep.ID)
	s := f.session(t)
	cancelled := maestro.TaskCancelled
	closed := f.task(t, "closed", maestro.PriorityMedium)
	if _, err := f.svcs.Tasks.Update(ctx, closed.ID, maestro.TaskPatch{Status: &cancelled}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, task string
		req        maestro.ClaimRequest
		code       maestro.Code
		reason     string
	}{
		{"no session id", dep.ID, maestro.ClaimRequest{}, maestro.CodeValidation, ""},
		{"lease too long", dep.ID, maestro.ClaimRequest{SessionID: s.ID, LeaseSeconds: maestro.MaxLeaseSeconds + 1}, maestro.CodeValidation, ""},
		{"unknown session", dep.ID, maestro.ClaimRequest{SessionID: "nope"}, maestro.CodeNotFound, ""},
		{"unknown task", "task_nope", maestro.ClaimRequest{SessionID: s.ID}, maestro.CodeNotFound, ""},
		{"blocked", waiting.ID, maestro.ClaimRequest{SessionID: s.ID}, maestro.CodeTaskNotClaimable, maestro.NotClaimableBlocked},
		{"not todo", closed.ID, maestro.ClaimRequest{SessionID: s.ID}, maestro.CodeTaskNotClaimable, maestro.NotClaimableStatus},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svcs.Leases.Claim(ctx, c.task, c.req)
			if maestro.ErrorCode(err) != c.code {
				t.Fatalf("Claim: %v, want %s", err, c.code)
			}
			if c.reason != "" && maestro.AsError(err).Details["reason"] != c.reason {
				t.Fatalf("reason %v, want %s", maestro.AsError(err).Details, c.reason)
			}
		})
	}
	if _, err := f.svcs.Leases.Next(ctx, maestro.NextRequest{ProjectID: f.project.ID, PriorityAtLeast: "urgent",
		ClaimRequest: maestro.ClaimRequest{SessionID: s.ID}}); maestro.ErrorCode(err) != maestro.CodeValidation {
		t.Fatalf("Next with an unknown priority: %v", err)
	}
	if _, err := f.svcs.Leases.Next(ctx, maestro.NextRequest{ProjectID: "proj_nope",
		ClaimRequest: maestro.ClaimRequest{SessionID: s.ID}}); maestro.ErrorCode(err) != maestro.CodeNotFound {
		t.Fatalf("Next in an unknown project: %v", err)
	}
	got, err := f.svcs.Leases.Next(ctx, maestro.NextRequest{ProjectID: f.project.ID, PriorityAtLeast: maestro.PriorityHigh,
		ClaimRequest: maestro.ClaimRequest{SessionID: s.ID}})
	if err != nil || got != nil {
		t.Fatalf("Next of high priority or more = %v, %v; want nothing", got, err)
	}
}
