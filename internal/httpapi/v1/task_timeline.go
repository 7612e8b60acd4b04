package v1

import (
	"context"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TaskTimelineBody is the body of POST /tasks/{id}/timeline.
type TaskTimelineBody struct {
	Message   *string `json:"message" required:"false" doc:"Required."`
	SessionID *string `json:"sessionId" required:"false" doc:"Required: the session whose timeline gets the entry."`
	Type      *string `json:"type" required:"false" doc:"Defaults to progress; any string of at most 64 characters."`
}

// TaskTimelineResult is the reply of POST /tasks/{id}/timeline.
type TaskTimelineResult struct {
	Success   bool   `json:"success" doc:"Always true."`
	TaskID    string `json:"taskId"`
	SessionID string `json:"sessionId"`
	Message   string `json:"message"`
	Type      string `json:"type"`
}

type taskTimelineInput struct {
	IDPath
	Body *TaskTimelineBody
}

type taskTimelineOutput struct{ Body TaskTimelineResult }

// taskTimelineV1 holds what the TaskTimeline operations need; each method serves one of them and is named
// after its operation ID.
type taskTimelineV1 struct {
	svc *service.Tasks
}

func registerTaskTimeline(api huma.API, d Deps) {
	h := taskTimelineV1{svc: d.Services.Tasks}
	huma.Register(api, op("add-task-timeline", http.MethodPost, Prefix+"/tasks/{id}/timeline", "Tasks",
		"Report progress on a task",
		"Appends {type, message, taskId} to the timeline of the given session and broadcasts `session:updated`. "+
			"Checks, in order: message, sessionId, the task, the session.",
		http.StatusBadRequest, http.StatusNotFound),
		h.addTaskTimeline)
}

func (h taskTimelineV1) addTaskTimeline(ctx context.Context, in *taskTimelineInput) (*taskTimelineOutput, error) {
	b := wire.Deref(in.Body)
	e, err := h.svc.Timeline(ctx, in.ID, maestro.TaskTimelineAppend{
		Message: wire.Str(b.Message), SessionID: wire.Str(b.SessionID), Type: wire.Str(b.Type),
	})
	if err != nil {
		return nil, err
	}
	return &taskTimelineOutput{Body: TaskTimelineResult{
		Success: true, TaskID: in.ID, SessionID: e.SessionID, Message: e.Message, Type: e.Type,
	}}, nil
}
