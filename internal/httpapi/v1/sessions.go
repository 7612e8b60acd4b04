package v1

import (
	"context"
	"encoding/json"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// SessionCreateBody is the body of session create (SPEC §2.6). Other keys are ignored, including the
// predecessor's internal `_suppressCreatedEvent` (D21).
type SessionCreateBody struct {
	ID        *string           `json:"id" required:"false" doc:"Caller-chosen id (the CLI's fallback registration): 1–128 of [A-Za-z0-9_.-]; 409 CONFLICT when taken (D4)."`
	ProjectID *string           `json:"projectId" required:"false" doc:"Required: the project the session works in."`
	TaskIDs   *[]string         `json:"taskIds" required:"false" doc:"Required (may be empty): tasks to link, in order; duplicates are dropped (D22)."`
	TaskID    *string           `json:"taskId" required:"false" doc:"Legacy: used as [taskId] when taskIds is absent."`
	Name      *string           `json:"name" required:"false" doc:"Defaults to \"Unnamed Session\"."`
	AgentID   *string           `json:"agentId" required:"false"`
	Strategy  *string           `json:"strategy" required:"false" doc:"Defaults to simple; any string of at most 64 characters. No queue is created here."`
	Status    *string           `json:"status" required:"false" doc:"Defaults to idle; any string of at most 64 characters (the CLI sends running)."`
	Env       map[string]string `json:"env" required:"false" doc:"String environment variables."`
	Metadata  json.RawMessage   `json:"metadata" required:"false" doc:"Any JSON object, stored as sent."`
}

// SessionPatchBody is the body of session PATCH. Other keys (name, metadata, strategy, completedAt…)
// are ignored.
type SessionPatchBody struct {
	TaskIDs  *[]string         `json:"taskIds" required:"false" doc:"Replaces the linked tasks; the tasks' sessionIds follow (D5)."`
	Status   *string           `json:"status" required:"false" doc:"Any string of at most 64 characters; completed, failed and stopped stamp completedAt."`
	AgentID  *string           `json:"agentId" required:"false"`
	Env      map[string]string `json:"env" required:"false" doc:"Merged into the session's env."`
	Events   []json.RawMessage `json:"events" required:"false" doc:"JSON objects appended verbatim to the event log."`
	Timeline []json.RawMessage `json:"timeline" required:"false" doc:"JSON objects appended verbatim to the timeline."`
}

// SessionEventBody is the body of POST /sessions/{id}/events.
type SessionEventBody struct {
	Type *string         `json:"type" required:"false" doc:"Required."`
	Data json.RawMessage `json:"data" required:"false" doc:"Any JSON value."`
}

// SessionTimelineBody is the body of POST /sessions/{id}/timeline.
type SessionTimelineBody struct {
	Message  *string         `json:"message" required:"false" doc:"Required."`
	Type     *string         `json:"type" required:"false" doc:"Defaults to progress; any string of at most 64 characters."`
	TaskID   *string         `json:"taskId" required:"false"`
	Metadata json.RawMessage `json:"metadata" required:"false" doc:"A JSON object."`
}

type sessionCreateInput struct {
	Body *SessionCreateBody
}

type sessionPatchInput struct {
	IDPath
	Body *SessionPatchBody
}

type sessionEventInput struct {
	IDPath
	Body *SessionEventBody
}

type sessionTimelineInput struct {
	IDPath
	Body *SessionTimelineBody
}

type sessionTaskPath struct {
	ID     string `path:"id" doc:"The session id."`
	TaskID string `path:"taskId" doc:"The task id."`
}

type sessionListInput struct {
	ProjectID string `query:"projectId" doc:"Only sessions of this project."`
	TaskID    string `query:"taskId" doc:"Only sessions linked to this task."`
	Status    string `query:"status" doc:"Only sessions with this status."`
	Active    string `query:"active" doc:"'true' hides completed sessions (and only those)."`
}

type sessionOutput struct{ Body maestro.Session }

type sessionsOutput struct{ Body []maestro.Session }

// sessionsV1 holds what the Sessions operations need; each method serves one of them and is named
// after its operation ID.
type sessionsV1 struct {
	svc *service.Sessions
}

func registerSessions(api huma.API, d Deps) {
	const tag = "Sessions"

	h := sessionsV1{svc: d.Services.Sessions}
	huma.Register(api, op("list-sessions", http.MethodGet, Prefix+"/sessions", tag, "List sessions",
		"Sessions matching every given filter, ordered by startedAt then id (D24)."),
		h.listSessions)

	huma.Register(api, created(op("create-session", http.MethodPost, Prefix+"/sessions", tag, "Create a session",
		"Registers a session and links its tasks (each gets a task_started timeline entry). Checks, in order: "+
			"taskIds present (legacy taskId accepted), projectId present, project exists, each task exists, "+
			"a caller id is free (409). Broadcasts `session:created`, then `task:session_added` per task.",
		http.StatusBadRequest, http.StatusNotFound, http.StatusConflict)),
		h.createSession)

	huma.Register(api, op("get-session", http.MethodGet, Prefix+"/sessions/{id}", tag, "Get a session",
		"A session with its event log and timeline.", http.StatusNotFound),
		h.getSession)

	huma.Register(api, op("update-session", http.MethodPatch, Prefix+"/sessions/{id}", tag, "Update a session",
		"Replaces taskIds (the tasks' side follows), status and agentId; merges env; appends events and "+
			"timeline entries verbatim. Broadcasts `session:updated`, then `task:updated` for each task whose "+
			"session list changed.",
		http.StatusBadRequest, http.StatusNotFound),
		h.updateSession)

	huma.Register(api, op("delete-session", http.MethodDelete, Prefix+"/sessions/{id}", tag, "Delete a session",
		"Deletes a session and unlinks it from its tasks; its queue and manifest directory are kept. "+
			"Broadcasts `session:deleted` only.",
		http.StatusNotFound),
		h.deleteSession)

	huma.Register(api, op("add-session-event", http.MethodPost, Prefix+"/sessions/{id}/events", tag,
		"Append to a session's event log",
		"Appends {id, timestamp, type, data} and broadcasts `session:updated`. type is checked before the session.",
		http.StatusBadRequest, http.StatusNotFound),
		h.addSessionEvent)

	huma.Register(api, op("add-session-timeline", http.MethodPost, Prefix+"/sessions/{id}/timeline", tag,
		"Append to a session's timeline",
		"Appends {id, type, timestamp, message, taskId?, metadata?} and broadcasts `session:updated`. message "+
			"is checked before the session.",
		http.StatusBadRequest, http.StatusNotFound),
		h.addSessionTimeline)

	huma.Register(api, op("link-session-task", http.MethodPost, Prefix+"/sessions/{id}/tasks/{taskId}", tag,
		"Link a task to a session",
		"Links both sides (never twice) and appends a task_started \"Added task to session\" timeline entry, "+
			"even when already linked. Broadcasts `session:task_added`, then `task:session_added`.",
		http.StatusNotFound),
		h.linkSessionTask)

	huma.Register(api, op("unlink-session-task", http.MethodDelete, Prefix+"/sessions/{id}/tasks/{taskId}", tag,
		"Unlink a task from a session",
		"Removes the link (no error when there was none) and appends a task_completed \"Removed task from "+
			"session\" timeline entry. Broadcasts `session:task_removed`, then `task:session_removed`.",
		http.StatusNotFound),
		h.unlinkSessionTask)
}

func (h sessionsV1) listSessions(ctx context.Context, in *sessionListInput) (*sessionsOutput, error) {
	ss, err := h.svc.List(ctx, maestro.SessionFilter{
		ProjectID: in.ProjectID, TaskID: in.TaskID, Status: in.Status, Active: in.Active == "true",
	})
	if err != nil {
		return nil, err
	}
	return &sessionsOutput{Body: ss}, nil
}

func (h sessionsV1) createSession(ctx context.Context, in *sessionCreateInput) (*sessionOutput, error) {
	b := wire.Deref(in.Body)
	s, err := h.svc.Create(ctx, maestro.SessionCreate{
		ID: wire.Str(b.ID), ProjectID: wire.Str(b.ProjectID), TaskIDs: b.TaskIDs, TaskID: wire.Str(b.TaskID),
		Name: wire.Str(b.Name), AgentID: b.AgentID, Strategy: wire.Str(b.Strategy), Status: wire.Str(b.Status),
		Env: b.Env, Metadata: b.Metadata,
	})
	if err != nil {
		return nil, err
	}
	return &sessionOutput{Body: s}, nil
}

func (h sessionsV1) getSession(ctx context.Context, in *IDPath) (*sessionOutput, error) {
	s, err := h.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &sessionOutput{Body: s}, nil
}

func (h sessionsV1) updateSession(ctx context.Context, in *sessionPatchInput) (*sessionOutput, error) {
	b := wire.Deref(in.Body)
	s, err := h.svc.Update(ctx, in.ID, maestro.SessionPatch{
		TaskIDs: b.TaskIDs, Status: b.Status, AgentID: b.AgentID, Env: b.Env,
		Events: b.Events, Timeline: b.Timeline,
	})
	if err != nil {
		return nil, err
	}
	return &sessionOutput{Body: s}, nil
}

func (h sessionsV1) deleteSession(ctx context.Context, in *IDPath) (*SuccessOutput, error) {
	if err := h.svc.Delete(ctx, in.ID); err != nil {
		return nil, err
	}
	return &SuccessOutput{Body: Success{Success: true, ID: in.ID}}, nil
}

func (h sessionsV1) addSessionEvent(ctx context.Context, in *sessionEventInput) (*sessionOutput, error) {
	b := wire.Deref(in.Body)
	s, err := h.svc.AddEvent(ctx, in.ID, maestro.SessionEventAppend{Type: wire.Str(b.Type), Data: b.Data})
	if err != nil {
		return nil, err
	}
	return &sessionOutput{Body: s}, nil
}

func (h sessionsV1) addSessionTimeline(ctx context.Context, in *sessionTimelineInput) (*sessionOutput, error) {
	b := wire.Deref(in.Body)
	s, err := h.svc.AddTimeline(ctx, in.ID, maestro.TimelineAppend{
		Message: wire.Str(b.Message), Type: wire.Str(b.Type), TaskID: wire.Str(b.TaskID), Metadata: b.Metadata,
	})
	if err != nil {
		return nil, err
	}
	return &sessionOutput{Body: s}, nil
}

func (h sessionsV1) linkSessionTask(ctx context.Context, in *sessionTaskPath) (*sessionOutput, error) {
	s, err := h.svc.LinkTask(ctx, in.ID, in.TaskID)
	if err != nil {
		return nil, err
	}
	return &sessionOutput{Body: s}, nil
}

func (h sessionsV1) unlinkSessionTask(ctx context.Context, in *sessionTaskPath) (*sessionOutput, error) {
	s, err := h.svc.UnlinkTask(ctx, in.ID, in.TaskID)
	if err != nil {
		return nil, err
	}
	return &sessionOutput{Body: s}, nil
}
