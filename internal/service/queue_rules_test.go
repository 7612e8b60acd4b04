package service_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// queueFixture is a session spawned with the queue strategy over three tasks.
type queueFixture struct {
	*fixture
	session string
	tasks   []maestro.Task
}

func newQueueFixture(t *testing.T) *queueFixture {
	t.Helper()
	f := newFixture(t)
	q := &queueFixture{fixture: f, tasks: []maestro.Task{f.task("one"), f.task("two"), f.task("three")}}
	res, err := f.svcs.Sessions.Spawn(f.ctx, maestro.SpawnRequest{
		ProjectID: f.project.ID, Strategy: maestro.StrategyQueue,
		TaskIDs: taskIDs(q.tasks[0].ID, q.tasks[1].ID, q.tasks[2].ID),
	})
	if err != nil {
		t.Fatal(err)
	}
	q.session = res.Session.ID
	// The tasks as the spawn left them: the baseline of "unchanged".
	for i, task := range q.tasks {
		if q.tasks[i], err = f.svcs.Tasks.Get(f.ctx, task.ID); err != nil {
			t.Fatal(err)
		}
	}
	return q
}

// queueOp is one queue operation of a scenario.
type queueOp string

const (
	opStart    queueOp = "start"
	opComplete queueOp = "complete"
	opFail     queueOp = "fail"
	opSkip     queueOp = "skip"
)

func (q *queueFixture) run(op queueOp) (maestro.QueueStep, error) {
	s := q.svcs.Queues
	switch op {
	case opStart:
		return s.Start(q.ctx, q.session)
	case opComplete:
		return s.Complete(q.ctx, q.session)
	case opFail:
		return s.Fail(q.ctx, q.session, "broken")
	case opSkip:
		return s.Skip(q.ctx, q.session)
	}
	q.t.Fatalf("unknown op %q", op)
	return maestro.QueueStep{}, nil
}

// TestQueueService_transitions runs sequences of queue operations and checks, after the last one, its
// error code and message, the item statuses, and the sessionStatus of the tasks (SPEC §6.1, D14).
func TestQueueService_transitions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		ops      []queueOp
		want     maestro.Code
		message  string
		statuses []string // of the three items after the ops
		taskSS   []string // sessionStatus of the three tasks after the ops ("" = unchanged)
	}{
		{name: "start takes the first queued", ops: []queueOp{opStart},
			message: "Started processing task #0", statuses: []string{"processing", "queued", "queued"}, taskSS: []string{"working", "", ""}},
		{name: "second start while processing", ops: []queueOp{opStart, opStart}, want: maestro.CodeValidation,
			statuses: []string{"processing", "queued", "queued"}, taskSS: []string{"working", "", ""}},
		{name: "complete moves on", ops: []queueOp{opStart, opComplete},
			message: "Completed #0. Next: #1", statuses: []string{"completed", "queued", "queued"}, taskSS: []string{"completed", "", ""}},
		{name: "fail records the failure", ops: []queueOp{opStart, opFail},
			message: "Failed #0. Next: #1", statuses: []string{"failed", "queued", "queued"}, taskSS: []string{"failed", "", ""}},
		{name: "complete without start", ops: []queueOp{opComplete}, want: maestro.CodeValidation,
			statuses: []string{"queued", "queued", "queued"}, taskSS: []string{"", "", ""}},
		{name: "fail without start", ops: []queueOp{opFail}, want: maestro.CodeValidation,
			statuses: []string{"queued", "queued", "queued"}, taskSS: []string{"", "", ""}},
		{name: "skip without start skips the first queued", ops: []queueOp{opSkip},
			message: "Skipped #0. Next: #1", statuses: []string{"skipped", "queued", "queued"}, taskSS: []string{"", "", ""}},
		{name: "skip while processing skips the processing item and leaves its task", ops: []queueOp{opStart, opSkip},
			message: "Skipped #0. Next: #1", statuses: []string{"skipped", "queued", "queued"}, taskSS: []string{"working", "", ""}},
		{name: "the last item empties the queue", ops: []queueOp{opSkip, opSkip, opStart, opComplete},
			message: "Completed #2. Queue is empty.", statuses: []string{"skipped", "skipped", "completed"}, taskSS: []string{"", "", "completed"}},
		{name: "start with nothing queued changes nothing", ops: []queueOp{opSkip, opSkip, opSkip, opStart},
			message: service.QueueNoQueuedToStart, statuses: []string{"skipped", "skipped", "skipped"}, taskSS: []string{"", "", ""}},
		{name: "skip with nothing left", ops: []queueOp{opSkip, opSkip, opSkip, opSkip}, want: maestro.CodeValidation,
			statuses: []string{"skipped", "skipped", "skipped"}, taskSS: []string{"", "", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			q := newQueueFixture(t)
			var (
				step maestro.QueueStep
				err  error
			)
			for i, op := range c.ops {
				step, err = q.run(op)
				if i < len(c.ops)-1 && err != nil {
					t.Fatalf("op %d (%s): %v", i, op, err)
				}
			}
			wantCode(t, string(c.ops[len(c.ops)-1]), err, c.want)
			if c.message != "" {
				want := c.message
				for i, task := range q.tasks {
					want = strings.ReplaceAll(want, "#"+strconv.Itoa(i), task.ID)
				}
				if step.Message != want {
					t.Errorf("message %q, want %q", step.Message, want)
				}
			}
			qu, err := q.svcs.Queues.Get(q.ctx, q.session)
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range qu.Items {
				if it.TaskID != q.tasks[i].ID || it.Status != c.statuses[i] {
					t.Errorf("item %d = %s %s, want %s %s", i, it.TaskID, it.Status, q.tasks[i].ID, c.statuses[i])
				}
			}
			for i, task := range q.tasks {
				got, err := q.svcs.Tasks.Get(q.ctx, task.ID)
				if err != nil {
					t.Fatal(err)
				}
				want := c.taskSS[i]
				if want == "" {
					want = sessionStatusOf(task.SessionStatus)
				}
				if sessionStatusOf(got.SessionStatus) != want {
					t.Errorf("task %d sessionStatus %q, want %q", i, sessionStatusOf(got.SessionStatus), want)
				}
			}
		})
	}
}

// TestQueueService_refusals checks the preamble every queue operation shares and the rules of push.
func TestQueueService_refusals(t *testing.T) {
	t.Parallel()
	q := newQueueFixture(t)
	simple, err := q.svcs.Sessions.Spawn(q.ctx, maestro.SpawnRequest{ProjectID: q.project.ID, TaskIDs: taskIDs(q.tasks[0].ID)})
	if err != nil {
		t.Fatal(err)
	}
	extra := q.task("extra")
	for _, c := range []struct {
		name string
		run  func() error
		want maestro.Code
	}{
		{"get: unknown session", func() error { _, err := q.svcs.Queues.Get(q.ctx, "sess_nope"); return err }, maestro.CodeNotFound},
		{"get: not a queue session", func() error { _, err := q.svcs.Queues.Get(q.ctx, simple.Session.ID); return err }, maestro.CodeValidation},
		{"start: not a queue session", func() error { _, err := q.svcs.Queues.Start(q.ctx, simple.Session.ID); return err }, maestro.CodeValidation},
		{"push: unknown session", func() error { _, err := q.svcs.Queues.Push(q.ctx, "sess_nope", extra.ID); return err }, maestro.CodeNotFound},
		{"push: not a queue session", func() error { _, err := q.svcs.Queues.Push(q.ctx, simple.Session.ID, extra.ID); return err }, maestro.CodeValidation},
		{"push: no task id", func() error { _, err := q.svcs.Queues.Push(q.ctx, q.session, ""); return err }, maestro.CodeValidation},
		{"push: unknown task", func() error { _, err := q.svcs.Queues.Push(q.ctx, q.session, "task_nope"); return err }, maestro.CodeNotFound},
		{"push: task already queued", func() error { _, err := q.svcs.Queues.Push(q.ctx, q.session, q.tasks[1].ID); return err }, maestro.CodeValidation},
		{"push: a new task", func() error { _, err := q.svcs.Queues.Push(q.ctx, q.session, extra.ID); return err }, ""},
		{"push: the same task again", func() error { _, err := q.svcs.Queues.Push(q.ctx, q.session, extra.ID); return err }, maestro.CodeValidation},
	} {
		// Sequential: the pushes build on each other.
		wantCode(t, c.name, c.run(), c.want)
	}
	qu, err := q.svcs.Queues.Get(q.ctx, q.session)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(qu.Items); n != 4 || qu.Items[3].TaskID != extra.ID || qu.Items[3].Status != maestro.QueueQueued {
		t.Fatalf("queue after the pushes: %+v", qu.Items)
	}
}

func sessionStatusOf(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
