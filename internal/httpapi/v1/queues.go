package v1

import (
	"context"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// QueueState is the reply of GET /sessions/{id}/queue.
type QueueState struct {
	Queue maestro.Queue      `json:"queue"`
	Stats maestro.QueueStats `json:"stats"`
}

// QueueItems is the reply of GET /sessions/{id}/queue/items.
type QueueItems struct {
	Items []maestro.QueueItem `json:"items"`
	Stats maestro.QueueStats  `json:"stats"`
}

// QueueTop is the reply of GET /sessions/{id}/queue/top.
type QueueTop struct {
	HasMore bool               `json:"hasMore" doc:"Whether a queued item is left."`
	Item    *maestro.QueueItem `json:"item" doc:"The next queued item, or null."`
	Message string             `json:"message,omitempty" doc:"Set when the queue is empty."`
}

// QueueStart is the reply of POST /sessions/{id}/queue/start.
type QueueStart struct {
	Success bool               `json:"success" doc:"Always true."`
	Item    *maestro.QueueItem `json:"item" doc:"The item now processing, or null when none was queued."`
	Empty   bool               `json:"empty,omitempty" doc:"True when no item was queued."`
	Message string             `json:"message"`
}

// QueueCompleted is the reply of POST /sessions/{id}/queue/complete.
type QueueCompleted struct {
	Success       bool               `json:"success"`
	CompletedItem *maestro.QueueItem `json:"completedItem"`
	NextItem      *maestro.QueueItem `json:"nextItem" doc:"The first queued item, or null."`
	HasMore       bool               `json:"hasMore"`
	Message       string             `json:"message" doc:"\"Completed <taskId>. Next: <nextId>\" or \"Completed <taskId>. Queue is empty.\""`
}

// QueueFailed is the reply of POST /sessions/{id}/queue/fail.
type QueueFailed struct {
	Success    bool               `json:"success"`
	FailedItem *maestro.QueueItem `json:"failedItem"`
	NextItem   *maestro.QueueItem `json:"nextItem" doc:"The first queued item, or null."`
	HasMore    bool               `json:"hasMore"`
	Message    string             `json:"message"`
}

// QueueSkipped is the reply of POST /sessions/{id}/queue/skip.
type QueueSkipped struct {
	Success     bool               `json:"success"`
	SkippedItem *maestro.QueueItem `json:"skippedItem"`
	NextItem    *maestro.QueueItem `json:"nextItem" doc:"The first queued item, or null."`
	HasMore     bool               `json:"hasMore"`
	Message     string             `json:"message"`
}

// QueuePushed is the reply of POST /sessions/{id}/queue/push.
type QueuePushed struct {
	Success bool              `json:"success"`
	Item    maestro.QueueItem `json:"item"`
}

// QueueFailBody is the body of POST /sessions/{id}/queue/fail.
type QueueFailBody struct {
	Reason *string `json:"reason" required:"false" doc:"Why the task failed; stored as failReason."`
}

// QueuePushBody is the body of POST /sessions/{id}/queue/push.
type QueuePushBody struct {
	TaskID *string `json:"taskId" required:"false" doc:"Required: the task to append."`
}

type queueFailInput struct {
	IDPath
	Body *QueueFailBody
}

type queuePushInput struct {
	IDPath
	Body *QueuePushBody
}

type queueStateOutput struct{ Body QueueState }
type queueItemsOutput struct{ Body QueueItems }
type queueTopOutput struct{ Body QueueTop }
type queueStartOutput struct{ Body QueueStart }
type queueCompletedOutput struct{ Body QueueCompleted }
type queueFailedOutput struct{ Body QueueFailed }
type queueSkippedOutput struct{ Body QueueSkipped }
type queuePushedOutput struct{ Body QueuePushed }

// queuePreamble is the part of every queue operation's description about the checks they share.
const queuePreamble = " Every queue route first checks that the session exists (404), uses the queue strategy (400) " +
	"and has a queue (404)."

// queuesV1 holds what the Queues operations need; each method serves one of them and is named
// after its operation ID.
type queuesV1 struct {
	svc *service.Queues
}

func registerQueues(api huma.API, d Deps) {
	const tag = "Queues"
	base := Prefix + "/sessions/{id}/queue"

	h := queuesV1{svc: d.Services.Queues}
	huma.Register(api, op("get-queue", http.MethodGet, base, tag, "Get a session's queue",
		"The queue with its items and per-status counts."+queuePreamble,
		http.StatusBadRequest, http.StatusNotFound),
		h.getQueue)

	huma.Register(api, op("list-queue-items", http.MethodGet, base+"/items", tag, "List a queue's items",
		"The items in order with per-status counts."+queuePreamble,
		http.StatusBadRequest, http.StatusNotFound),
		h.listQueueItems)

	huma.Register(api, op("get-queue-top", http.MethodGet, base+"/top", tag, "Peek at the next queued item",
		"The item `start` would take next."+queuePreamble,
		http.StatusBadRequest, http.StatusNotFound),
		h.getQueueTop)

	huma.Register(api, op("start-queue-item", http.MethodPost, base+"/start", tag, "Start the next queued item",
		"Moves the first queued item to processing and sets its task's sessionStatus to working; with nothing "+
			"queued answers `{item: null, empty: true}`. 400 while another item is processing. Broadcasts "+
			"`queue:item_started`."+queuePreamble,
		http.StatusBadRequest, http.StatusNotFound),
		h.startQueueItem)

	huma.Register(api, op("complete-queue-item", http.MethodPost, base+"/complete", tag,
		"Complete the processing item",
		"Marks the processing item completed and its task's sessionStatus completed. 400 when nothing is "+
			"processing. Broadcasts `queue:item_completed`."+queuePreamble,
		http.StatusBadRequest, http.StatusNotFound),
		h.completeQueueItem)

	huma.Register(api, op("fail-queue-item", http.MethodPost, base+"/fail", tag, "Fail the processing item",
		"Marks the processing item failed (with the reason, if any) and its task's sessionStatus failed. 400 "+
			"when nothing is processing. Broadcasts `queue:item_failed`."+queuePreamble,
		http.StatusBadRequest, http.StatusNotFound),
		h.failQueueItem)

	huma.Register(api, op("skip-queue-item", http.MethodPost, base+"/skip", tag, "Skip an item",
		"Marks the processing item, or else the first queued one, skipped (its task is left alone). 400 when "+
			"nothing is left to skip. Broadcasts `queue:item_skipped`."+queuePreamble,
		http.StatusBadRequest, http.StatusNotFound),
		h.skipQueueItem)

	huma.Register(api, op("push-queue-item", http.MethodPost, base+"/push", tag, "Append a task to a queue",
		"Appends the task as queued. 400 without taskId (checked before the queue) or when the task is already "+
			"in the queue, whatever its item's status; 404 for a missing task. Broadcasts `queue:item_pushed`."+
			queuePreamble,
		http.StatusBadRequest, http.StatusNotFound),
		h.pushQueueItem)
}

func (h queuesV1) getQueue(ctx context.Context, in *IDPath) (*queueStateOutput, error) {
	qu, err := h.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &queueStateOutput{Body: QueueState{Queue: qu, Stats: qu.Stats()}}, nil
}

func (h queuesV1) listQueueItems(ctx context.Context, in *IDPath) (*queueItemsOutput, error) {
	qu, err := h.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &queueItemsOutput{Body: QueueItems{Items: qu.Items, Stats: qu.Stats()}}, nil
}

func (h queuesV1) getQueueTop(ctx context.Context, in *IDPath) (*queueTopOutput, error) {
	it, err := h.svc.Top(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if it == nil {
		return &queueTopOutput{Body: QueueTop{HasMore: false, Message: service.QueueEmptyMessage}}, nil
	}
	return &queueTopOutput{Body: QueueTop{HasMore: true, Item: it}}, nil
}

func (h queuesV1) startQueueItem(ctx context.Context, in *IDPath) (*queueStartOutput, error) {
	step, err := h.svc.Start(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &queueStartOutput{Body: QueueStart{
		Success: true, Item: step.Item, Empty: step.Item == nil, Message: step.Message,
	}}, nil
}

func (h queuesV1) completeQueueItem(ctx context.Context, in *IDPath) (*queueCompletedOutput, error) {
	step, err := h.svc.Complete(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &queueCompletedOutput{Body: QueueCompleted{
		Success: true, CompletedItem: step.Item, NextItem: step.Next, HasMore: step.Next != nil, Message: step.Message,
	}}, nil
}

func (h queuesV1) failQueueItem(ctx context.Context, in *queueFailInput) (*queueFailedOutput, error) {
	b := wire.Deref(in.Body)
	step, err := h.svc.Fail(ctx, in.ID, wire.Str(b.Reason))
	if err != nil {
		return nil, err
	}
	return &queueFailedOutput{Body: QueueFailed{
		Success: true, FailedItem: step.Item, NextItem: step.Next, HasMore: step.Next != nil, Message: step.Message,
	}}, nil
}

func (h queuesV1) skipQueueItem(ctx context.Context, in *IDPath) (*queueSkippedOutput, error) {
	step, err := h.svc.Skip(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &queueSkippedOutput{Body: QueueSkipped{
		Success: true, SkippedItem: step.Item, NextItem: step.Next, HasMore: step.Next != nil, Message: step.Message,
	}}, nil
}

func (h queuesV1) pushQueueItem(ctx context.Context, in *queuePushInput) (*queuePushedOutput, error) {
	b := wire.Deref(in.Body)
	step, err := h.svc.Push(ctx, in.ID, wire.Str(b.TaskID))
	if err != nil {
		return nil, err
	}
	return &queuePushedOutput{Body: QueuePushed{Success: true, Item: *step.Item}}, nil
}
