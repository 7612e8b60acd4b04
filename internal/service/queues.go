package service

import (
	"context"
	"errors"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Queue messages the CLI shows to agents (SPEC §6.1).
const (
	QueueEmptyMessage    = "Queue is empty - all tasks processed"
	QueueNoQueuedToStart = "No queued tasks to start - queue is empty"
)

// taskWorking is the sessionStatus a task gets when its queue item starts.
const taskWorking = "working"

// Queues is the work queue use cases of sessions spawned with the queue strategy (SPEC §6.1). Every
// step runs in one transaction and records its queue:* event (D14). The task side effects (sessionStatus
// and updatedAt) are silent, as in the predecessor: no task:updated. A queue item whose task has been
// deleted still transitions; the missing task is skipped (D28).
type Queues struct{ base }

// loadQueue runs the preamble every queue route shares: the session must exist (NOT_FOUND), use the
// queue strategy (VALIDATION_ERROR "Session <id> does not use queue strategy"), and have a queue
// (NOT_FOUND). It returns the queue and the session's project (for the events).
func loadQueue(ctx context.Context, q *store.Q, sessionID string) (maestro.Queue, string, error) {
	projectID, err := requireQueueSession(ctx, q, sessionID)
	if err != nil {
		return maestro.Queue{}, "", err
	}
	qu, err := getQueue(ctx, q, sessionID)
	return qu, projectID, err
}

// requireQueueSession checks that the session exists and uses the queue strategy, and returns its project.
// It reads the session without its event log and timeline: agents poll the queue, and those logs grow
// without bound.
func requireQueueSession(ctx context.Context, q *store.Q, sessionID string) (string, error) {
	sess, err := q.GetSessionHead(ctx, sessionID)
	if err != nil {
		return "", notFound(err, "Session", sessionID)
	}
	if sess.Strategy != maestro.StrategyQueue {
		return "", maestro.Invalid("Session %s does not use queue strategy", sessionID)
	}
	return sess.ProjectID, nil
}

func getQueue(ctx context.Context, q *store.Q, sessionID string) (maestro.Queue, error) {
	qu, err := q.GetQueue(ctx, sessionID)
	return qu, notFound(err, "Queue", sessionID)
}

// firstWith returns the index of the first item with the status, or -1.
func firstWith(qu *maestro.Queue, status string) int {
	for i, it := range qu.Items {
		if it.Status == status {
			return i
		}
	}
	return -1
}

// Get returns a session's queue. Errors: NOT_FOUND (session, queue), VALIDATION_ERROR (not a queue
// session).
func (s *Queues) Get(ctx context.Context, sessionID string) (maestro.Queue, error) {
	qu, _, err := loadQueue(ctx, s.st.Read(), sessionID)
	return qu, err
}

// Top returns the next item start would take (the first queued one), or nil when none is left.
// Errors: as Get.
func (s *Queues) Top(ctx context.Context, sessionID string) (*maestro.QueueItem, error) {
	qu, _, err := loadQueue(ctx, s.st.Read(), sessionID)
	if err != nil {
		return nil, err
	}
	return qu.Next(), nil
}

// Start moves the first queued item to processing and sets its task's sessionStatus to working. With
// no queued item it changes nothing and returns a step without an item (even while one is processing).
// Records queue:item_started. Errors: as Get; VALIDATION_ERROR when an item is already processing.
func (s *Queues) Start(ctx context.Context, sessionID string) (maestro.QueueStep, error) {
	var step maestro.QueueStep
	err := s.st.InTx(ctx, func(q *store.Q) error {
		qu, projectID, err := loadQueue(ctx, q, sessionID)
		if err != nil {
			return err
		}
		idx := firstWith(&qu, maestro.QueueQueued)
		if idx < 0 {
			step.Message, step.Queue = QueueNoQueuedToStart, qu
			return nil
		}
		if p := firstWith(&qu, maestro.QueueProcessing); p >= 0 {
			return maestro.Invalid("Already processing task %s. Complete or fail it first.", qu.Items[p].TaskID)
		}
		now := s.nowMs()
		it := &qu.Items[idx]
		it.Status, it.StartedAt = maestro.QueueProcessing, &now
		qu.CurrentIndex = idx
		if err := s.save(ctx, q, &qu, idx, now); err != nil {
			return err
		}
		if err := q.SetTaskSessionStatus(ctx, it.TaskID, taskWorking, now); err != nil {
			return err
		}
		item := *it
		step = maestro.QueueStep{Item: &item, Next: qu.Next(), Message: "Started processing task " + it.TaskID, Queue: qu}
		return q.Emit(ctx, maestro.EventQueueItemStarted, projectID, maestro.QueueItemPayload{SessionID: sessionID, TaskID: it.TaskID})
	})
	return step, err
}

// Complete marks the processing item completed and its task's sessionStatus completed. Records
// queue:item_completed. Errors: as Get; VALIDATION_ERROR when nothing is processing.
func (s *Queues) Complete(ctx context.Context, sessionID string) (maestro.QueueStep, error) {
	return s.finish(ctx, sessionID, maestro.QueueCompleted, "")
}

// Fail marks the processing item failed (with the reason, when given) and its task's sessionStatus
// failed. Records queue:item_failed. Errors: as Complete.
func (s *Queues) Fail(ctx context.Context, sessionID, reason string) (maestro.QueueStep, error) {
	if err := maestro.CheckBytes("reason", reason, maestro.MaxTextBytes); err != nil {
		return maestro.QueueStep{}, err
	}
	return s.finish(ctx, sessionID, maestro.QueueFailed, reason)
}

func (s *Queues) finish(ctx context.Context, sessionID, status, reason string) (maestro.QueueStep, error) {
	var step maestro.QueueStep
	err := s.st.InTx(ctx, func(q *store.Q) error {
		qu, projectID, err := loadQueue(ctx, q, sessionID)
		if err != nil {
			return err
		}
		idx := firstWith(&qu, maestro.QueueProcessing)
		if idx < 0 {
			return maestro.Invalid(`No item currently being processed. Run "start" first.`)
		}
		now := s.nowMs()
		it := &qu.Items[idx]
		it.Status, it.CompletedAt = status, &now
		if reason != "" {
			it.FailReason = &reason
		}
		qu.CurrentIndex = -1
		if err := s.save(ctx, q, &qu, idx, now); err != nil {
			return err
		}
		// The item's status names the task's sessionStatus too: completed or failed.
		if err := q.SetTaskSessionStatus(ctx, it.TaskID, status, now); err != nil {
			return err
		}
		verb, event := "Completed", maestro.EventQueueItemCompleted
		var payload any = maestro.QueueItemPayload{SessionID: sessionID, TaskID: it.TaskID}
		if status == maestro.QueueFailed {
			verb, event = "Failed", maestro.EventQueueItemFailed
			payload = maestro.QueueItemFailedPayload{SessionID: sessionID, TaskID: it.TaskID, Reason: reason}
		}
		step = stepResult(*it, &qu, verb)
		return q.Emit(ctx, event, projectID, payload)
	})
	return step, err
}

// Skip marks the processing item, or else the first queued one, skipped; its task is left alone.
// Records queue:item_skipped. Errors: as Get; VALIDATION_ERROR when there is nothing left to skip.
func (s *Queues) Skip(ctx context.Context, sessionID string) (maestro.QueueStep, error) {
	var step maestro.QueueStep
	err := s.st.InTx(ctx, func(q *store.Q) error {
		qu, projectID, err := loadQueue(ctx, q, sessionID)
		if err != nil {
			return err
		}
		idx := firstWith(&qu, maestro.QueueProcessing)
		if idx < 0 {
			idx = firstWith(&qu, maestro.QueueQueued)
		}
		if idx < 0 {
			return maestro.Invalid("No items left in queue to skip")
		}
		now := s.nowMs()
		it := &qu.Items[idx]
		it.Status, it.CompletedAt = maestro.QueueSkipped, &now
		qu.CurrentIndex = -1
		if err := s.save(ctx, q, &qu, idx, now); err != nil {
			return err
		}
		step = stepResult(*it, &qu, "Skipped")
		return q.Emit(ctx, maestro.EventQueueItemSkipped, projectID, maestro.QueueItemPayload{SessionID: sessionID, TaskID: it.TaskID})
	})
	return step, err
}

// stepResult describes a finished item and what comes next:
// "<Verb> <taskId>. Next: <nextId>" or "<Verb> <taskId>. Queue is empty.".
func stepResult(done maestro.QueueItem, qu *maestro.Queue, verb string) maestro.QueueStep {
	next := qu.Next()
	msg := verb + " " + done.TaskID + ". Queue is empty."
	if next != nil {
		msg = verb + " " + done.TaskID + ". Next: " + next.TaskID
	}
	return maestro.QueueStep{Item: &done, Next: next, Message: msg, Queue: *qu}
}

// Push appends a task to the queue as queued and returns a step whose Item is the new item and Next the
// first queued one. Records queue:item_pushed. An Idempotency-Key (v2) is honoured.
// Errors: NOT_FOUND (session), VALIDATION_ERROR (not a queue session, then no taskId), NOT_FOUND
// (queue, then task), VALIDATION_ERROR "Task <id> already in queue" (whatever its item's status).
func (s *Queues) Push(ctx context.Context, sessionID, taskID string, opts ...maestro.WriteOpts) (maestro.QueueStep, error) {
	var step maestro.QueueStep
	err := once(ctx, s.st, opts, &step, func(q *store.Q) error {
		projectID, err := requireQueueSession(ctx, q, sessionID)
		if err != nil {
			return err
		}
		if taskID == "" {
			return maestro.InvalidField("taskId", "taskId is required")
		}
		qu, err := getQueue(ctx, q, sessionID)
		if err != nil {
			return err
		}
		ok, err := q.TaskExists(ctx, taskID)
		if err != nil {
			return err
		}
		if !ok {
			return maestro.NotFound("Task", taskID)
		}
		now := s.nowMs()
		item := maestro.QueueItem{TaskID: taskID, Status: maestro.QueueQueued, AddedAt: now}
		if err := q.AppendQueueItem(ctx, sessionID, item); err != nil {
			if errors.Is(err, store.ErrUnique) {
				return maestro.Invalid("Task %s already in queue", taskID)
			}
			return err
		}
		qu.UpdatedAt = maestro.NextStamp(now, qu.UpdatedAt)
		if err := q.UpdateQueue(ctx, qu); err != nil {
			return err
		}
		qu.Items = append(qu.Items, item)
		step = maestro.QueueStep{Item: &item, Next: qu.Next(), Message: "Pushed task " + taskID, Queue: qu}
		return q.Emit(ctx, maestro.EventQueueItemPushed, projectID, maestro.QueueItemPayload{SessionID: sessionID, TaskID: taskID})
	})
	return step, err
}

// save stores the changed item at idx and the queue's index, bumping its updatedAt (D12).
func (s *Queues) save(ctx context.Context, q *store.Q, qu *maestro.Queue, idx int, now int64) error {
	if err := q.UpdateQueueItem(ctx, qu.SessionID, idx, qu.Items[idx]); err != nil {
		return err
	}
	qu.UpdatedAt = maestro.NextStamp(now, qu.UpdatedAt)
	return q.UpdateQueue(ctx, *qu)
}
