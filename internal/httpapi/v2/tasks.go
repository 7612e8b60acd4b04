package v2

import (
	"context"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TaskList is one page of tasks.
type TaskList struct {
	Items      []Task  `json:"items"`
	NextCursor *string `json:"nextCursor" nullable:"true" doc:"Pass as cursor for the next page; null on the last page."`
	Total      *int64  `json:"total,omitempty" doc:"Number of matching tasks; only with total=true."`
}

// TaskCreateBody is the body of POST /api/v2/tasks. New tasks are todo.
type TaskCreateBody struct {
	ProjectID     string       `json:"projectId" minLength:"1" maxLength:"128" doc:"The project; must exist."`
	Title         string       `json:"title" minLength:"1" maxLength:"512" doc:"Non-blank; trimmed."`
	Description   string       `json:"description,omitempty" maxLength:"262144"`
	Priority      TaskPriority `json:"priority,omitempty" doc:"Default medium."`
	ParentID      string       `json:"parentId,omitempty" maxLength:"128" doc:"Parent task; must exist in the same project (v1 accepts any project)."`
	InitialPrompt string       `json:"initialPrompt,omitempty" maxLength:"262144"`
	SkillIDs      []string     `json:"skillIds,omitempty" maxItems:"1000"`
	Dependencies  []string     `json:"dependencies,omitempty" maxItems:"1000" doc:"Tasks of the same project this one depends on; each must exist."`
}

// TaskPatchBody is the body of PATCH /api/v2/tasks/{id}: members present are set, absent (or null) ones
// are left alone, lists replace. Unlike v1 there is no updateSource and no ignored member: anything
// unknown is 422.
type TaskPatchBody struct {
	Title         *string            `json:"title,omitempty" minLength:"1" maxLength:"512" doc:"Non-blank; trimmed."`
	Description   *string            `json:"description,omitempty" maxLength:"262144"`
	Status        *TaskStatus        `json:"status,omitempty" doc:"in_progress and completed stamp startedAt / completedAt the first time."`
	SessionStatus *TaskSessionStatus `json:"sessionStatus,omitempty"`
	Priority      *TaskPriority      `json:"priority,omitempty"`
	SessionIDs    *[]string          `json:"sessionIds,omitempty" maxItems:"1000" doc:"Replaces the linked sessions (each must exist); the sessions' taskIds follow."`
	SkillIDs      *[]string          `json:"skillIds,omitempty" maxItems:"1000"`
	AgentIDs      *[]string          `json:"agentIds,omitempty" maxItems:"1000"`
	Dependencies  *[]string          `json:"dependencies,omitempty" maxItems:"1000" doc:"Replaces the dependencies: tasks of the same project, never the task itself, and never closing a cycle (422 DEPENDENCY_CYCLE)."`
}

// TaskFilters are the query filters of the task list.
type TaskFilters struct {
	ProjectID    string       `query:"projectId" maxLength:"128" doc:"Only tasks of this project."`
	Status       []TaskStatus `query:"status,explode" maxItems:"5" doc:"Only tasks with one of these statuses; repeat the parameter for several (status=todo&status=blocked)."`
	Priority     TaskPriority `query:"priority" doc:"Only tasks with this priority."`
	ParentID     string       `query:"parentId" maxLength:"128" doc:"Only the children of this task."`
	Root         bool         `query:"root" doc:"Only tasks without a parent (not with parentId)."`
	SessionID    string       `query:"sessionId" maxLength:"128" doc:"Only tasks linked to this session."`
	UpdatedSince int64        `query:"updatedSince" minimum:"0" doc:"Only tasks with updatedAt >= this (ms since the epoch): pass the largest updatedAt seen to sync changes."`
	Q            string       `query:"q" maxLength:"256" doc:"Full-text search over title, description and initialPrompt (every word must match; words match as prefixes). Gated by the task-search flag."`
	Sort         TaskSort     `query:"sort"`
	sinceSet     bool
}

// Resolve notes whether updatedSince was given (0 is a valid value).
func (f *TaskFilters) Resolve(ctx huma.Context) []error {
	u := ctx.URL()
	f.sinceSet = u.Query().Has("updatedSince")
	return nil
}

func (f *TaskFilters) query(p PageParams) maestro.TaskQuery {
	tq := maestro.TaskQuery{
		ProjectID: f.ProjectID, Statuses: wire.Strings(f.Status), Priority: string(f.Priority), ParentID: f.ParentID,
		Root: f.Root, SessionID: f.SessionID, Search: f.Q, Sort: string(f.Sort),
		Limit: p.Limit, Cursor: p.Cursor, WithTotal: p.Total,
	}
	if f.sinceSet {
		since := f.UpdatedSince
		tq.UpdatedSince = &since
	}
	return tq
}

type taskListInput struct {
	PageParams
	TaskFilters
}

type taskChildrenInput struct {
	IDPath
	PageParams
	Sort TaskSort `query:"sort"`
}

type taskGetInput struct {
	IDPath
	IfNoneMatch string `header:"If-None-Match" doc:"An ETag of the task; 304 when it still matches."`
}

type taskCreateInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"257" doc:"At most 255 characters (257 with the quotes of the structured-header form). Makes the create safe to retry: a repeated key returns the first response."`
	Body           TaskCreateBody
}

type taskPatchInput struct {
	IDPath
	IfMatch    string `header:"If-Match" doc:"Update only if the task still has this ETag (else 412)."`
	LeaseToken string `header:"Lease-Token" maxLength:"20" pattern:"^[0-9]+$" doc:"The fencing token of the lease the caller holds on the task (lease.token). With it, a stale token (the lease expired, was released or re-claimed) gets 409 LEASE_TOKEN_STALE and changes nothing. Without it, a status change of a leased task overrides the lease: allowed, it ends the lease, and the audit log says so. Gated by the task-leases flag."`
	Body       TaskPatchBody
}

type taskListOutput struct{ Body TaskList }

type taskOutput struct {
	Status   int
	ETag     string `header:"ETag" doc:"The task's version, for If-Match and If-None-Match."`
	Location string `header:"Location" doc:"The created task (creates only)."`
	Body     Task
}

func taskResult(status int, t maestro.Task) *taskOutput {
	out := &taskOutput{Status: status, ETag: t.VersionTag(), Body: taskDTO(t)}
	if status == http.StatusCreated {
		out.Location = Prefix + "/tasks/" + t.ID
	}
	return out
}

func taskPage(page maestro.Page[maestro.Task]) *taskListOutput {
	return &taskListOutput{Body: TaskList{
		Items: mapItems(page.Items, taskDTO), NextCursor: nextCursor(page.NextCursor), Total: page.Total,
	}}
}

// tasksV2 holds what the Tasks operations need; each method serves one of them and is named
// after its operation ID.
type tasksV2 struct {
	svc    *service.Tasks
	leases *service.Leases
	flags  *flags.Flags
}

func registerTasks(api huma.API, d Deps) {
	const tag = "Tasks"

	h := tasksV2{svc: d.Services.Tasks, leases: d.Services.Leases, flags: d.Flags}
	huma.Register(api, op("list-tasks", http.MethodGet, Prefix+"/tasks", tag, "List tasks",
		"Tasks matching every given filter, one page at a time, oldest first unless sort says otherwise "+
			"(best match first with q). Each filter and sort is served by an index.\n\n"+
			"With q while the `task-search` flag is off: 404 FEATURE_DISABLED (details.flag = task-search).\n\n"+
			"Differences from v1: paginated; status is repeatable; root=true replaces parentId=null; "+
			"sessionId, priority, updatedSince, q and sort are new; enum values are checked (422)."),
		h.listTasks)

	huma.Register(api, create(op("create-task", http.MethodPost, Prefix+"/tasks", tag, "Create a task",
		"Creates a todo task and broadcasts `task:created`. Answers 201 with the task, its ETag and Location. "+
			"The project (and parent) must exist: 404 otherwise. Unlike v1, the parent must be in the same "+
			"project, and dependencies can be given (422 when one does not exist or is in another project).")),
		h.createTask)

	huma.Register(api, op("get-task", http.MethodGet, Prefix+"/tasks/{id}", tag, "Get a task",
		"One task with its ETag; If-None-Match answers 304 while it is unchanged.", http.StatusNotModified),
		h.getTask)

	huma.Register(api, op("list-task-children", http.MethodGet, Prefix+"/tasks/{id}/children", tag,
		"List a task's children", "The direct children of a task, one page at a time (404 when the task does not exist). "+
			"The same as GET /api/v2/tasks?parentId={id}."),
		h.listTaskChildren)

	huma.Register(api, op("update-task", http.MethodPatch, Prefix+"/tasks/{id}", tag, "Update a task",
		"Sets the members present and broadcasts `task:updated` (and `session:updated` for sessions whose "+
			"links changed). updatedAt always moves. Dependencies are checked inside the write: each must be a "+
			"task of the same project (422 VALIDATION_ERROR), and none may lead back to this task (422 "+
			"DEPENDENCY_CYCLE, with the cycle in details.cycle; a self-dependency is a cycle).\n\n"+
			"A leased task (see the claim operations): the holder sends its fencing token as Lease-Token; a stale "+
			"token gets 409 LEASE_TOKEN_STALE and changes nothing; a status other than in_progress ends the lease. "+
			"A status change without Lease-Token (a person, the UI, v1) is an override: it ends the lease and the "+
			"audit log says so.\n\n"+
			"Differences from v1: no updateSource (agents reporting progress send just sessionStatus), unknown "+
			"members and enum values outside the lists are refused (422), dependencies are settable.",
		http.StatusPreconditionFailed, http.StatusConflict),
		h.updateTask)

	huma.Register(api, noContent(op("delete-task", http.MethodDelete, Prefix+"/tasks/{id}", tag, "Delete a task",
		"Deletes a task: its children become root tasks, its session links go, and tasks that depended on it "+
			"lose that dependency. Broadcasts `task:updated` per changed task, `session:updated` per affected "+
			"session, then `task:deleted`. Answers 204 (v1 answers 200 with a body).",
		http.StatusPreconditionFailed)),
		h.deleteTask)
}

func (h tasksV2) listTasks(ctx context.Context, in *taskListInput) (*taskListOutput, error) {
	if in.Q != "" {
		if err := h.flags.Require(ctx, flags.TaskSearch); err != nil {
			return nil, err
		}
	}
	page, err := h.svc.Page(ctx, in.query(in.PageParams))
	if err != nil {
		return nil, err
	}
	if err := h.leases.Attach(ctx, page.Items); err != nil {
		return nil, err
	}
	return taskPage(page), nil
}

func (h tasksV2) createTask(ctx context.Context, in *taskCreateInput) (*taskOutput, error) {
	b := in.Body
	t, err := h.svc.Create(ctx, maestro.TaskCreate{
		ProjectID: b.ProjectID, Title: b.Title, Description: b.Description, Priority: string(b.Priority),
		ParentID: b.ParentID, InitialPrompt: b.InitialPrompt, SkillIDs: b.SkillIDs,
		Dependencies: b.Dependencies, SameProjectParent: true,
	}, createOpts(ctx))
	if err != nil {
		return nil, err
	}
	return taskResult(http.StatusCreated, t), nil
}

func (h tasksV2) getTask(ctx context.Context, in *taskGetInput) (*taskOutput, error) {
	t, err := h.leases.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := taskResult(http.StatusOK, t)
	if notModified(in.IfNoneMatch, out.ETag) {
		return &taskOutput{Status: http.StatusNotModified, ETag: out.ETag}, nil
	}
	return out, nil
}

func (h tasksV2) listTaskChildren(ctx context.Context, in *taskChildrenInput) (*taskListOutput, error) {
	page, err := h.svc.ChildrenPage(ctx, in.ID, maestro.TaskQuery{
		Sort: string(in.Sort), Limit: in.Limit, Cursor: in.Cursor, WithTotal: in.Total,
	})
	if err != nil {
		return nil, err
	}
	if err := h.leases.Attach(ctx, page.Items); err != nil {
		return nil, err
	}
	return taskPage(page), nil
}

func (h tasksV2) updateTask(ctx context.Context, in *taskPatchInput) (*taskOutput, error) {
	b := in.Body
	token, err := leaseToken(ctx, h.flags, in.LeaseToken, false)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.Update(ctx, in.ID, maestro.TaskPatch{
		Title: b.Title, Description: b.Description, Status: wire.StringPtr(b.Status),
		SessionStatus: wire.StringPtr(b.SessionStatus), Priority: wire.StringPtr(b.Priority), SessionIDs: b.SessionIDs,
		SkillIDs: b.SkillIDs, AgentIDs: b.AgentIDs, Dependencies: b.Dependencies, LeaseToken: token,
	}, ifMatch(in.IfMatch, "Task '"+in.ID+"'"))
	if err != nil {
		return nil, err
	}
	return taskResult(http.StatusOK, t), nil
}

func (h tasksV2) deleteTask(ctx context.Context, in *deleteInput) (*struct{}, error) {
	return nil, h.svc.Delete(ctx, in.ID, ifMatch(in.IfMatch, "Task '"+in.ID+"'"))
}
