package v2

import (
	"context"
	"encoding/json"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// SessionList is one page of sessions.
type SessionList struct {
	Items      []Session `json:"items"`
	NextCursor *string   `json:"nextCursor" nullable:"true" doc:"Pass as cursor for the next page; null on the last page."`
	Total      *int64    `json:"total,omitempty" doc:"Number of matching sessions; only with total=true."`
}

// EntryList is one page of a session's timeline or event log.
type EntryList struct {
	Items      []Entry `json:"items"`
	NextCursor *string `json:"nextCursor" nullable:"true" doc:"Pass as cursor for the next page; null on the last page."`
	Total      *int64  `json:"total,omitempty" doc:"Number of matching entries; only with total=true."`
}

// SessionCreateBody is the body of POST /api/v2/sessions.
type SessionCreateBody struct {
	ID        string            `json:"id,omitempty" pattern:"^[A-Za-z0-9_.-]{1,128}$" doc:"The id to create the session under (an agent registering itself); not only dots (., .., … are refused: they are no safe path segment); 409 CONFLICT when it is taken. Default: a new sess_… id."`
	ProjectID string            `json:"projectId" minLength:"1" maxLength:"128" doc:"The project; must exist (404)."`
	TaskIDs   []string          `json:"taskIds,omitempty" maxItems:"1000" doc:"Tasks to link, in order; each must exist (404). Duplicates are dropped. Default none."`
	Name      string            `json:"name,omitempty" maxLength:"512" doc:"Default \"Unnamed Session\"."`
	AgentID   string            `json:"agentId,omitempty" maxLength:"128"`
	Strategy  SessionStrategy   `json:"strategy,omitempty" doc:"Default simple. A label here: only a spawn creates a queue."`
	Status    SessionStatus     `json:"status,omitempty" doc:"Default idle."`
	Env       map[string]string `json:"env,omitempty" maxProperties:"1000" doc:"Environment variables (string values)."`
	Metadata  JSONObject        `json:"metadata,omitempty"`
}

// SessionPatchBody is the body of PATCH /api/v2/sessions/{id}: members present are set, absent (or null)
// ones are left alone. Timeline and event entries are not appended here (v1 does that): they are
// appended one at a time through the sub-collections, which check them and give each an id.
type SessionPatchBody struct {
	TaskIDs *[]string         `json:"taskIds,omitempty" maxItems:"1000" doc:"Replaces the linked tasks (each must exist); the tasks' sessionIds follow, and each task whose links changed gets task:updated."`
	Status  *SessionStatus    `json:"status,omitempty" doc:"completed, failed and stopped stamp completedAt (every time)."`
	AgentID *string           `json:"agentId,omitempty" minLength:"1" maxLength:"128"`
	Env     map[string]string `json:"env,omitempty" maxProperties:"1000" doc:"Merged into the session's env: the keys given are set, the others kept."`
}

// TimelineAppendBody is the body of POST /api/v2/sessions/{id}/timeline.
type TimelineAppendBody struct {
	Type     string     `json:"type,omitempty" pattern:"^[a-z][a-z0-9_]{0,63}$" doc:"The entry type: lower-case letters, digits and _, starting with a letter (e.g. progress, milestone, task_status_changed). Default progress."`
	Message  string     `json:"message" minLength:"1" maxLength:"262144" doc:"What happened (at most 256 KiB)."`
	TaskID   string     `json:"taskId,omitempty" maxLength:"128" doc:"The task the entry is about, recorded as given (a log entry may outlive its task)."`
	Metadata JSONObject `json:"metadata,omitempty"`
}

// EventAppendBody is the body of POST /api/v2/sessions/{id}/events.
type EventAppendBody struct {
	Type string          `json:"type" pattern:"^[a-z][a-z0-9_]{0,63}$" doc:"The event type: lower-case letters, digits and _, starting with a letter (e.g. file_modified)."`
	Data json.RawMessage `json:"data,omitempty" doc:"Any JSON value."`
}

// SessionFilters are the query filters of the session list.
type SessionFilters struct {
	ProjectID string          `query:"projectId" maxLength:"128" doc:"Only sessions of this project."`
	TaskID    string          `query:"taskId" maxLength:"128" doc:"Only sessions linked to this task."`
	Status    []SessionStatus `query:"status,explode" maxItems:"7" doc:"Only sessions with one of these statuses; repeat the parameter for several (status=idle&status=working)."`
	Active    bool            `query:"active" doc:"Hide completed sessions, and only those (v1's active=true)."`
	Sort      SessionSort     `query:"sort"`
}

type sessionListInput struct {
	PageParams
	SessionFilters
}

type sessionGetInput struct {
	IDPath
	IfNoneMatch string `header:"If-None-Match" doc:"An ETag of the session; 304 when it still matches."`
}

type sessionCreateInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"257" doc:"At most 255 characters (257 with the quotes of the structured-header form). Makes the create safe to retry: a repeated key returns the first response."`
	Body           SessionCreateBody
}

type sessionPatchInput struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"Update only if the session still has this ETag (else 412)."`
	Body    SessionPatchBody
}

type sessionTaskInput struct {
	ID     string `path:"id" maxLength:"128" doc:"The session id."`
	TaskID string `path:"taskId" maxLength:"128" doc:"The task id."`
}

type entryListInput struct {
	IDPath
	PageParams
	Type string    `query:"type" maxLength:"64" doc:"Only entries of this type."`
	Sort EntrySort `query:"sort"`
}

type timelineAppendInput struct {
	IDPath
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"257" doc:"At most 255 characters (257 with the quotes of the structured-header form). Makes the append safe to retry: a repeated key returns the first response."`
	Body           TimelineAppendBody
}

type eventAppendInput struct {
	IDPath
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"257" doc:"At most 255 characters (257 with the quotes of the structured-header form). Makes the append safe to retry: a repeated key returns the first response."`
	Body           EventAppendBody
}

type sessionListOutput struct{ Body SessionList }

type entryListOutput struct{ Body EntryList }

type entryOutput struct {
	Status int
	Body   Entry
}

type sessionOutput struct {
	Status   int
	ETag     string `header:"ETag" doc:"The session's version, for If-Match and If-None-Match."`
	Location string `header:"Location" doc:"The created session (creates only)."`
	Body     Session
}

func sessionResult(status int, s maestro.Session) *sessionOutput {
	out := &sessionOutput{Status: status, ETag: s.VersionTag(), Body: sessionDTO(s)}
	if status == http.StatusCreated {
		out.Location = Prefix + "/sessions/" + s.ID
	}
	return out
}

func entryPage(page maestro.Page[json.RawMessage]) *entryListOutput {
	return &entryListOutput{Body: EntryList{
		Items: rawEntries(page.Items), NextCursor: nextCursor(page.NextCursor), Total: page.Total,
	}}
}

// sessionsV2 holds what the Sessions operations need; each method serves one of them and is named
// after its operation ID.
type sessionsV2 struct {
	svc *service.Sessions
}

func registerSessions(api huma.API, d Deps) {
	const tag = "Sessions"
	item := Prefix + "/sessions/{id}"

	h := sessionsV2{svc: d.Services.Sessions}
	huma.Register(api, op("list-sessions", http.MethodGet, Prefix+"/sessions", tag, "List sessions",
		"Sessions matching every given filter, one page at a time, oldest first unless sort says otherwise. "+
			"Each filter and sort is served by an index.\n\n"+
			"Differences from v1: paginated; sessions come without events and timeline (see "+
			"/sessions/{id}/events and /sessions/{id}/timeline); status is repeatable and checked (422); sort is new."),
		h.listSessions)

	huma.Register(api, create(op("create-session", http.MethodPost, Prefix+"/sessions", tag, "Create a session",
		"Registers a session and links its tasks (each link adds a task_started entry to the timeline, after "+
			"session_started). Broadcasts `session:created`, then `task:session_added` per task. Answers 201 with the "+
			"session, its ETag and Location. The project and every task must exist (404); an id that is taken is "+
			"409 CONFLICT. To start an agent, use spawn instead: it also writes the manifest and tells the UI.",
		http.StatusConflict)),
		h.createSession)

	huma.Register(api, op("get-session", http.MethodGet, item, tag, "Get a session",
		"One session with its ETag (without its events and timeline, which are sub-collections); If-None-Match "+
			"answers 304 while it is unchanged.", http.StatusNotModified),
		h.getSession)

	huma.Register(api, op("update-session", http.MethodPatch, item, tag, "Update a session",
		"Sets the members present: taskIds (replacing the links; the tasks' sessionIds follow), status (completed, "+
			"failed and stopped stamp completedAt), agentId; env is merged. lastActivity always moves. Broadcasts "+
			"`session:updated`, then `task:updated` for each task whose links changed.\n\n"+
			"Differences from v1: unknown members and statuses outside the list are refused (422); events and timeline "+
			"entries are not appended here but through POST /sessions/{id}/events and /sessions/{id}/timeline.",
		http.StatusPreconditionFailed),
		h.updateSession)

	huma.Register(api, noContent(op("delete-session", http.MethodDelete, item, tag, "Delete a session",
		"Deletes a session with its events and timeline and unlinks it from its tasks (their updatedAt moves); its "+
			"queue and manifest directory are kept. Broadcasts `session:deleted`. Answers 204 (v1 answers 200 with a body).",
		http.StatusPreconditionFailed)),
		h.deleteSession)

	huma.Register(api, op("link-session-task", http.MethodPut, item+"/tasks/{taskId}", tag, "Link a task to a session",
		"Makes sure the task and the session are linked, and answers 200 with the session. A new link goes to the end "+
			"of both sides' lists, adds a task_started \"Added task to session\" timeline entry and broadcasts "+
			"`session:task_added`, then `task:session_added`. An existing link changes nothing and broadcasts nothing "+
			"(v1's POST adds a timeline entry every time). 404 when the session or the task does not exist."),
		h.linkSessionTask)

	huma.Register(api, noContent(op("unlink-session-task", http.MethodDelete, item+"/tasks/{taskId}", tag,
		"Unlink a task from a session",
		"Makes sure the task and the session are not linked, and answers 204. Removing a link adds a task_completed "+
			"\"Removed task from session\" timeline entry and broadcasts `session:task_removed`, then "+
			"`task:session_removed`; when there was no link nothing changes and nothing is broadcast. 404 when the "+
			"session or the task does not exist.")),
		h.unlinkSessionTask)

	huma.Register(api, op("list-session-timeline", http.MethodGet, item+"/timeline", tag, "List a session's timeline",
		"The session's timeline entries, one page at a time, in the order they were appended (sort=-appended for the "+
			"newest first). Entries appended while a client pages are never seen twice or missed. 404 when the session "+
			"does not exist."),
		h.listSessionTimeline)

	huma.Register(api, create(op("append-session-timeline", http.MethodPost, item+"/timeline", tag,
		"Append to a session's timeline",
		"Appends {id, type, timestamp, message, taskId?, metadata?} and answers 201 with the entry. lastActivity moves; "+
			"broadcasts `session:updated`. 404 when the session does not exist.")),
		h.appendSessionTimeline)

	huma.Register(api, op("list-session-events", http.MethodGet, item+"/events", tag, "List a session's event log",
		"The session's event-log entries, one page at a time, in the order they were appended (sort=-appended for "+
			"the newest first). Entries appended while a client pages are never seen twice or missed. 404 when the "+
			"session does not exist."),
		h.listSessionEvents)

	huma.Register(api, create(op("append-session-event", http.MethodPost, item+"/events", tag,
		"Append to a session's event log",
		"Appends {id, timestamp, type, data?} and answers 201 with the entry. lastActivity moves; broadcasts "+
			"`session:updated`. 404 when the session does not exist.")),
		h.appendSessionEvent)
}

func (h sessionsV2) listSessions(ctx context.Context, in *sessionListInput) (*sessionListOutput, error) {
	page, err := h.svc.Page(ctx, maestro.SessionQuery{
		ProjectID: in.ProjectID, TaskID: in.TaskID, Statuses: wire.Strings(in.Status), Active: in.Active,
		Sort: string(in.Sort), Limit: in.Limit, Cursor: in.Cursor, WithTotal: in.Total,
	})
	if err != nil {
		return nil, err
	}
	return &sessionListOutput{Body: SessionList{
		Items: mapItems(page.Items, sessionDTO), NextCursor: nextCursor(page.NextCursor), Total: page.Total,
	}}, nil
}

func (h sessionsV2) createSession(ctx context.Context, in *sessionCreateInput) (*sessionOutput, error) {
	b := in.Body
	taskIDs := b.TaskIDs
	if taskIDs == nil {
		taskIDs = []string{}
	}
	var agent *string
	if b.AgentID != "" {
		agent = &b.AgentID
	}
	s, err := h.svc.Create(ctx, maestro.SessionCreate{
		ID: b.ID, ProjectID: b.ProjectID, TaskIDs: &taskIDs, Name: b.Name, AgentID: agent,
		Strategy: string(b.Strategy), Status: string(b.Status), Env: b.Env, Metadata: json.RawMessage(b.Metadata),
	}, createOpts(ctx))
	if err != nil {
		return nil, err
	}
	return sessionResult(http.StatusCreated, s), nil
}

func (h sessionsV2) getSession(ctx context.Context, in *sessionGetInput) (*sessionOutput, error) {
	s, err := h.svc.GetHead(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := sessionResult(http.StatusOK, s)
	if notModified(in.IfNoneMatch, out.ETag) {
		return &sessionOutput{Status: http.StatusNotModified, ETag: out.ETag}, nil
	}
	return out, nil
}

func (h sessionsV2) updateSession(ctx context.Context, in *sessionPatchInput) (*sessionOutput, error) {
	b := in.Body
	s, err := h.svc.Update(ctx, in.ID, maestro.SessionPatch{
		TaskIDs: b.TaskIDs, Status: wire.StringPtr(b.Status), AgentID: b.AgentID, Env: b.Env,
	}, ifMatch(in.IfMatch, "Session '"+in.ID+"'"))
	if err != nil {
		return nil, err
	}
	return sessionResult(http.StatusOK, s), nil
}

func (h sessionsV2) deleteSession(ctx context.Context, in *deleteInput) (*struct{}, error) {
	return nil, h.svc.Delete(ctx, in.ID, ifMatch(in.IfMatch, "Session '"+in.ID+"'"))
}

func (h sessionsV2) linkSessionTask(ctx context.Context, in *sessionTaskInput) (*sessionOutput, error) {
	s, err := h.svc.EnsureLinked(ctx, in.ID, in.TaskID)
	if err != nil {
		return nil, err
	}
	return sessionResult(http.StatusOK, s), nil
}

func (h sessionsV2) unlinkSessionTask(ctx context.Context, in *sessionTaskInput) (*struct{}, error) {
	_, err := h.svc.EnsureUnlinked(ctx, in.ID, in.TaskID)
	return nil, err
}

func (h sessionsV2) listSessionTimeline(ctx context.Context, in *entryListInput) (*entryListOutput, error) {
	page, err := h.svc.Entries(ctx, maestro.EntryTimeline, maestro.EntryQuery{
		SessionID: in.ID, Type: in.Type, Sort: string(in.Sort), Limit: in.Limit, Cursor: in.Cursor, WithTotal: in.Total,
	})
	if err != nil {
		return nil, err
	}
	return entryPage(page), nil
}

func (h sessionsV2) appendSessionTimeline(ctx context.Context, in *timelineAppendInput) (*entryOutput, error) {
	b := in.Body
	e, err := h.svc.AppendTimeline(ctx, in.ID, maestro.TimelineAppend{
		Message: b.Message, Type: b.Type, TaskID: b.TaskID, Metadata: json.RawMessage(b.Metadata),
	}, createOpts(ctx))
	if err != nil {
		return nil, err
	}
	return &entryOutput{Status: http.StatusCreated, Body: Entry(e.Entry)}, nil
}

func (h sessionsV2) listSessionEvents(ctx context.Context, in *entryListInput) (*entryListOutput, error) {
	page, err := h.svc.Entries(ctx, maestro.EntryEvents, maestro.EntryQuery{
		SessionID: in.ID, Type: in.Type, Sort: string(in.Sort), Limit: in.Limit, Cursor: in.Cursor, WithTotal: in.Total,
	})
	if err != nil {
		return nil, err
	}
	return entryPage(page), nil
}

func (h sessionsV2) appendSessionEvent(ctx context.Context, in *eventAppendInput) (*entryOutput, error) {
	e, err := h.svc.AppendEvent(ctx, in.ID, maestro.SessionEventAppend{Type: in.Body.Type, Data: in.Body.Data}, createOpts(ctx))
	if err != nil {
		return nil, err
	}
	return &entryOutput{Status: http.StatusCreated, Body: Entry(e.Entry)}, nil
}
