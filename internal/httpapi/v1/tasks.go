package v1

import (
	"context"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TaskCreateBody is the body of task create (SPEC §2.5). Other keys (the UI sends `model`, `status`)
// are ignored.
type TaskCreateBody struct {
	ProjectID     *string  `json:"projectId" required:"false" doc:"Required: the project the task belongs to."`
	Title         *string  `json:"title" required:"false" doc:"Required, non-blank; trimmed."`
	Description   *string  `json:"description" required:"false"`
	Priority      *string  `json:"priority" required:"false" doc:"Defaults to medium; any string of at most 64 characters."`
	ParentID      *string  `json:"parentId" required:"false" doc:"Parent task id; must exist."`
	InitialPrompt *string  `json:"initialPrompt" required:"false"`
	SkillIDs      []string `json:"skillIds" required:"false"`
}

// TaskPatchBody is the body of task PATCH. Absent and null fields are left alone; lists replace.
type TaskPatchBody struct {
	Title         *string   `json:"title" required:"false"`
	Description   *string   `json:"description" required:"false"`
	Status        *string   `json:"status" required:"false" doc:"Any string of at most 64 characters; in_progress and completed stamp startedAt/completedAt the first time."`
	SessionStatus *string   `json:"sessionStatus" required:"false"`
	Priority      *string   `json:"priority" required:"false"`
	SessionIDs    *[]string `json:"sessionIds" required:"false" doc:"Replaces the linked sessions; the sessions' taskIds follow (D5)."`
	SkillIDs      *[]string `json:"skillIds" required:"false"`
	AgentIDs      *[]string `json:"agentIds" required:"false"`
	UpdateSource  *string   `json:"updateSource" required:"false" doc:"\"session\" applies only sessionStatus."`
	SessionID     *string   `json:"sessionId" required:"false" doc:"Sent by agents with updateSource; not stored."`
}

type taskCreateInput struct {
	Body *TaskCreateBody
}

type taskPatchInput struct {
	IDPath
	Body *TaskPatchBody
}

// taskListInput reads the list filters. parentId needs more than huma's query binding: an absent
// parentId, `?parentId=null` and `?parentId=` all mean different things (SPEC §2.5).
type taskListInput struct {
	ProjectID string `query:"projectId" doc:"Only tasks of this project."`
	Status    string `query:"status" doc:"Only tasks with this status."`
	ParentID  string `query:"parentId" doc:"'null' for root tasks; any other value (even empty) matches parentId exactly."`
	parentSet bool
}

func (in *taskListInput) Resolve(ctx huma.Context) []error {
	u := ctx.URL()
	_, in.parentSet = u.Query()["parentId"]
	return nil
}

type taskOutput struct{ Body maestro.Task }

type tasksOutput struct{ Body []maestro.Task }

// tasksV1 holds what the Tasks operations need; each method serves one of them and is named
// after its operation ID.
type tasksV1 struct {
	svc *service.Tasks
}

func registerTasks(api huma.API, d Deps) {
	const tag = "Tasks"

	h := tasksV1{svc: d.Services.Tasks}
	huma.Register(api, op("list-tasks", http.MethodGet, Prefix+"/tasks", tag, "List tasks",
		"Tasks matching every given filter, oldest first."),
		h.listTasks)

	huma.Register(api, created(op("create-task", http.MethodPost, Prefix+"/tasks", tag, "Create a task",
		"Creates a todo task and broadcasts `task:created`. Checks, in order: projectId present, title "+
			"non-blank, project exists, parent exists.",
		http.StatusBadRequest, http.StatusNotFound)),
		h.createTask)

	huma.Register(api, op("get-task", http.MethodGet, Prefix+"/tasks/{id}", tag, "Get a task", "The task with this id.",
		http.StatusNotFound),
		h.getTask)

	huma.Register(api, op("list-task-children", http.MethodGet, Prefix+"/tasks/{id}/children", tag,
		"List a task's children", "The direct children of a task, oldest first.", http.StatusNotFound),
		h.listTaskChildren)

	huma.Register(api, op("update-task", http.MethodPatch, Prefix+"/tasks/{id}", tag, "Update a task",
		"Applies the fields present (with updateSource \"session\", only sessionStatus) and always "+
			"broadcasts `task:updated`.",
		http.StatusBadRequest, http.StatusNotFound),
		h.updateTask)

	huma.Register(api, op("delete-task", http.MethodDelete, Prefix+"/tasks/{id}", tag, "Delete a task",
		"Deletes a task: its children become root tasks and its session links go (D6). Broadcasts "+
			"`task:updated` per child, `session:updated` per affected session, then `task:deleted`.",
		http.StatusNotFound),
		h.deleteTask)
}

func (h tasksV1) listTasks(ctx context.Context, in *taskListInput) (*tasksOutput, error) {
	f := maestro.TaskFilter{ProjectID: in.ProjectID, Status: in.Status}
	if in.parentSet {
		if in.ParentID == "null" {
			f.RootOnly = true
		} else {
			f.ParentSet, f.ParentID = true, in.ParentID
		}
	}
	ts, err := h.svc.List(ctx, f)
	if err != nil {
		return nil, err
	}
	return &tasksOutput{Body: ts}, nil
}

func (h tasksV1) createTask(ctx context.Context, in *taskCreateInput) (*taskOutput, error) {
	b := wire.Deref(in.Body)
	t, err := h.svc.Create(ctx, maestro.TaskCreate{
		ProjectID: wire.Str(b.ProjectID), Title: wire.Str(b.Title), Description: wire.Str(b.Description),
		Priority: wire.Str(b.Priority), ParentID: wire.Str(b.ParentID), InitialPrompt: wire.Str(b.InitialPrompt),
		SkillIDs: b.SkillIDs,
	})
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: t}, nil
}

func (h tasksV1) getTask(ctx context.Context, in *IDPath) (*taskOutput, error) {
	t, err := h.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: t}, nil
}

func (h tasksV1) listTaskChildren(ctx context.Context, in *IDPath) (*tasksOutput, error) {
	ts, err := h.svc.Children(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &tasksOutput{Body: ts}, nil
}

func (h tasksV1) updateTask(ctx context.Context, in *taskPatchInput) (*taskOutput, error) {
	b := wire.Deref(in.Body)
	t, err := h.svc.Update(ctx, in.ID, maestro.TaskPatch{
		Title: b.Title, Description: b.Description, Status: b.Status, SessionStatus: b.SessionStatus,
		Priority: b.Priority, SessionIDs: b.SessionIDs, SkillIDs: b.SkillIDs, AgentIDs: b.AgentIDs,
		UpdateSource: wire.Str(b.UpdateSource),
	})
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: t}, nil
}

func (h tasksV1) deleteTask(ctx context.Context, in *IDPath) (*SuccessOutput, error) {
	if err := h.svc.Delete(ctx, in.ID); err != nil {
		return nil, err
	}
	return &SuccessOutput{Body: Success{Success: true, ID: in.ID}}, nil
}
