package v2

import (
	"context"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"
	"slices"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// QueueView is a queue with its counts and the item start would take next.
type QueueView struct {
	Queue Queue             `json:"queue"`
	Stats QueueStats        `json:"stats"`
	Next  OptionalQueueItem `json:"next" doc:"The first queued item (what start takes next); null when none is left."`
}

// QueueItemList is a queue's items. A queue holds the tasks of one agent session, so the list is never
// split: nextCursor is always null, in the shape of every other v2 list.
type QueueItemList struct {
	Items      []QueueItem `json:"items"`
	NextCursor *string     `json:"nextCursor" nullable:"true" doc:"Always null: the list is never split."`
	Stats      QueueStats  `json:"stats" doc:"Counts over the whole queue (not only the items listed)."`
}

// QueueFailBody is the body of POST /api/v2/sessions/{id}/queue/fail.
type QueueFailBody struct {
	Reason string `json:"reason,omitempty" maxLength:"262144" doc:"Why the task failed; stored as the item's failReason."`
}

// QueuePushBody is the body of POST /api/v2/sessions/{id}/queue/push.
type QueuePushBody struct {
	TaskID string `json:"taskId" minLength:"1" maxLength:"128" doc:"The task to append; it must exist (404) and not be in the queue yet (422)."`
}

type queueGetInput struct {
	IDPath
	IfNoneMatch string `header:"If-None-Match" doc:"An ETag of the queue; 304 when it still matches."`
}

type queueItemsInput struct {
	IDPath
	Status []QueueItemStatus `query:"status,explode" maxItems:"5" doc:"Only items with one of these statuses; repeat the parameter for several."`
}

type queueFailInput struct {
	IDPath
	Body *QueueFailBody
}

type queuePushInput struct {
	IDPath
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"257" doc:"At most 255 characters (257 with the quotes of the structured-header form). Makes the push safe to retry: a repeated key returns the first response."`
	Body           QueuePushBody
}

type queueViewOutput struct {
	Status int
	ETag   string `header:"ETag" doc:"The queue's version, for If-None-Match."`
	Body   QueueView
}

type queueItemsOutput struct{ Body QueueItemList }

type queueStepOutput struct {
	Status int
	ETag   string `header:"ETag" doc:"The queue's version after the step."`
	Body   QueueStep
}

func stepResult(status int, s maestro.QueueStep) *queueStepOutput {
	return &queueStepOutput{Status: status, ETag: s.Queue.VersionTag(), Body: queueStepDTO(s)}
}

// queueChecks is what every queue operation's description says about the checks they share.
const queueChecks = "\n\nEvery queue operation first checks that the session exists (404), was spawned with the queue " +
	"strategy (422 VALIDATION_ERROR) and has a queue (404)."

// queuesV2 holds what the Queues operations need; each method serves one of them and is named
// after its operation ID.
type queuesV2 struct {
	svc *service.Queues
}

func registerQueues(api huma.API, d Deps) {
	const tag = "Queues"
	base := Prefix + "/sessions/{id}/queue"

	h := queuesV2{svc: d.Services.Queues}
	huma.Register(api, op("get-queue", http.MethodGet, base, tag, "Get a session's queue",
		"The queue with its items, per-status counts, the item start would take next, and an ETag; If-None-Match "+
			"answers 304 while it is unchanged."+queueChecks, http.StatusNotModified),
		h.getQueue)

	huma.Register(api, op("list-queue-items", http.MethodGet, base+"/items", tag, "List a queue's items",
		"The items in queue order, optionally of some statuses, with the counts of the whole queue. Queues are "+
			"small (one agent's tasks), so the list comes in one page."+queueChecks),
		h.listQueueItems)

	huma.Register(api, op("start-queue-item", http.MethodPost, base+"/start", tag, "Start the next queued item",
		"Moves the first queued item to processing and sets its task's sessionStatus to working, then answers with "+
			"the step. With nothing queued it changes nothing and answers 200 with item null (agents poll this). 422 "+
			"while another item is processing. Broadcasts `queue:item_started`."+queueChecks),
		h.startQueueItem)

	huma.Register(api, op("complete-queue-item", http.MethodPost, base+"/complete", tag, "Complete the processing item",
		"Marks the processing item completed and its task's sessionStatus completed; answers with the step (next is "+
			"what start takes next). 422 when nothing is processing. Broadcasts `queue:item_completed`."+queueChecks),
		h.completeQueueItem)

	huma.Register(api, op("fail-queue-item", http.MethodPost, base+"/fail", tag, "Fail the processing item",
		"Marks the processing item failed, with the reason when one is given, and its task's sessionStatus failed; "+
			"answers with the step. 422 when nothing is processing. Broadcasts `queue:item_failed`."+queueChecks),
		h.failQueueItem)

	huma.Register(api, op("skip-queue-item", http.MethodPost, base+"/skip", tag, "Skip an item",
		"Marks the processing item, or else the first queued one, skipped (its task is left alone); answers with the "+
			"step. 422 when nothing is left to skip. Broadcasts `queue:item_skipped`."+queueChecks),
		h.skipQueueItem)

	huma.Register(api, create(op("push-queue-item", http.MethodPost, base+"/push", tag, "Append a task to a queue",
		"Appends the task as a queued item and answers 201 with the step (item is the new item). The task must exist "+
			"(404) and not be in the queue yet, whatever its item's status (422). Broadcasts `queue:item_pushed`."+
			queueChecks)),
		h.pushQueueItem)
}

func (h queuesV2) getQueue(ctx context.Context, in *queueGetInput) (*queueViewOutput, error) {
	qu, err := h.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	etag := qu.VersionTag()
	if notModified(in.IfNoneMatch, etag) {
		return &queueViewOutput{Status: http.StatusNotModified, ETag: etag}, nil
	}
	return &queueViewOutput{Status: http.StatusOK, ETag: etag, Body: QueueView{
		Queue: queueDTO(qu), Stats: statsDTO(qu.Stats()), Next: optionalItem(qu.Next()),
	}}, nil
}

func (h queuesV2) listQueueItems(ctx context.Context, in *queueItemsInput) (*queueItemsOutput, error) {
	qu, err := h.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	items := qu.Items
	if len(in.Status) > 0 {
		want := wire.Strings(in.Status)
		items = slices.DeleteFunc(slices.Clone(items), func(it maestro.QueueItem) bool {
			return !slices.Contains(want, it.Status)
		})
	}
	return &queueItemsOutput{Body: QueueItemList{Items: mapItems(items, queueItemDTO), Stats: statsDTO(qu.Stats())}}, nil
}

func (h queuesV2) startQueueItem(ctx context.Context, in *IDPath) (*queueStepOutput, error) {
	step, err := h.svc.Start(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return stepResult(http.StatusOK, step), nil
}

func (h queuesV2) completeQueueItem(ctx context.Context, in *IDPath) (*queueStepOutput, error) {
	step, err := h.svc.Complete(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return stepResult(http.StatusOK, step), nil
}

func (h queuesV2) failQueueItem(ctx context.Context, in *queueFailInput) (*queueStepOutput, error) {
	reason := ""
	if in.Body != nil {
		reason = in.Body.Reason
	}
	step, err := h.svc.Fail(ctx, in.ID, reason)
	if err != nil {
		return nil, err
	}
	return stepResult(http.StatusOK, step), nil
}

func (h queuesV2) skipQueueItem(ctx context.Context, in *IDPath) (*queueStepOutput, error) {
	step, err := h.svc.Skip(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return stepResult(http.StatusOK, step), nil
}

func (h queuesV2) pushQueueItem(ctx context.Context, in *queuePushInput) (*queueStepOutput, error) {
	step, err := h.svc.Push(ctx, in.ID, in.Body.TaskID, createOpts(ctx))
	if err != nil {
		return nil, err
	}
	return stepResult(http.StatusCreated, step), nil
}
