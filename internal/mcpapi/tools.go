package mcpapi

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Project is a project as the tools show it.
type Project struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	WorkingDir  string `json:"workingDir" jsonschema:"the directory agents of this project work in"`
	Description string `json:"description"`
	CreatedAt   int64  `json:"createdAt"`
	UpdatedAt   int64  `json:"updatedAt"`
}

// Lease is the lease held on a task.
type Lease struct {
	SessionID  string `json:"sessionId" jsonschema:"the session holding the task"`
	AcquiredAt int64  `json:"acquiredAt" jsonschema:"when the task was claimed, ms since the epoch"`
	ExpiresAt  int64  `json:"expiresAt" jsonschema:"when the lease ends unless renewed, ms since the epoch"`
	Token      int64  `json:"token" jsonschema:"the fencing token: pass it as leaseToken to renew_lease, release_task, complete_task and update_task"`
}

// Task is a task as the tools show it (the v2 task, lease included).
type Task struct {
	ID            string   `json:"id"`
	ProjectID     string   `json:"projectId"`
	ParentID      *string  `json:"parentId"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Status        string   `json:"status" jsonschema:"todo, in_progress, completed, cancelled or blocked"`
	SessionStatus *string  `json:"sessionStatus"`
	Priority      string   `json:"priority" jsonschema:"low, medium, high or critical"`
	CreatedAt     int64    `json:"createdAt"`
	UpdatedAt     int64    `json:"updatedAt"`
	StartedAt     *int64   `json:"startedAt"`
	CompletedAt   *int64   `json:"completedAt"`
	InitialPrompt string   `json:"initialPrompt"`
	SessionIDs    []string `json:"sessionIds"`
	SkillIDs      []string `json:"skillIds"`
	Dependencies  []string `json:"dependencies" jsonschema:"tasks of the same project that must be completed before this one is ready"`
	Lease         *Lease   `json:"lease" jsonschema:"the lease held on the task; null when nobody holds it"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func taskOut(t maestro.Task) Task {
	out := Task{ID: t.ID, ProjectID: t.ProjectID, ParentID: t.ParentID, Title: t.Title, Description: t.Description,
		Status: t.Status, SessionStatus: t.SessionStatus, Priority: t.Priority, CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt, StartedAt: t.StartedAt, CompletedAt: t.CompletedAt, InitialPrompt: t.InitialPrompt,
		SessionIDs: nonNil(t.SessionIDs), SkillIDs: nonNil(t.SkillIDs), Dependencies: nonNil(t.Dependencies)}
	if l := t.Lease; l != nil {
		out.Lease = &Lease{SessionID: l.SessionID, AcquiredAt: l.AcquiredAt, ExpiresAt: l.ExpiresAt, Token: l.Token}
	}
	return out
}

func projectOut(p maestro.Project) Project {
	return Project{ID: p.ID, Name: p.Name, WorkingDir: p.WorkingDir, Description: p.Description,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// Tool inputs and outputs. Their JSON Schemas are generated from these types; the jsonschema tags are
// the descriptions a model reads.

type listProjectsIn struct {
	Limit  int    `json:"limit,omitempty" jsonschema:"page size, 1 to 500 (default 50)"`
	Cursor string `json:"cursor,omitempty" jsonschema:"nextCursor of the previous page"`
}

type projectsOut struct {
	Projects   []Project `json:"projects"`
	NextCursor string    `json:"nextCursor" jsonschema:"pass as cursor for the next page; empty on the last page"`
}

type listTasksIn struct {
	ProjectID string   `json:"projectId,omitempty" jsonschema:"only tasks of this project"`
	Status    []string `json:"status,omitempty" jsonschema:"only tasks with one of these statuses"`
	ParentID  string   `json:"parentId,omitempty" jsonschema:"only the children of this task"`
	SessionID string   `json:"sessionId,omitempty" jsonschema:"only tasks linked to this session"`
	Query     string   `json:"query,omitempty" jsonschema:"full-text search over title, description and initial prompt"`
	Limit     int      `json:"limit,omitempty" jsonschema:"page size, 1 to 500 (default 50)"`
	Cursor    string   `json:"cursor,omitempty" jsonschema:"nextCursor of the previous page"`
}

type tasksOut struct {
	Tasks      []Task `json:"tasks"`
	NextCursor string `json:"nextCursor" jsonschema:"pass as cursor for the next page; empty on the last page"`
}

type taskIDIn struct {
	TaskID string `json:"taskId" jsonschema:"the task"`
}

type createTaskIn struct {
	ProjectID     string   `json:"projectId" jsonschema:"the project"`
	Title         string   `json:"title"`
	Description   string   `json:"description,omitempty"`
	Priority      string   `json:"priority,omitempty" jsonschema:"low, medium (default), high or critical"`
	ParentID      string   `json:"parentId,omitempty" jsonschema:"the parent task, in the same project"`
	InitialPrompt string   `json:"initialPrompt,omitempty"`
	Dependencies  []string `json:"dependencies,omitempty" jsonschema:"tasks of the same project that must be completed first"`
}

type updateTaskIn struct {
	TaskID       string    `json:"taskId"`
	Title        *string   `json:"title,omitempty"`
	Description  *string   `json:"description,omitempty"`
	Status       *string   `json:"status,omitempty" jsonschema:"todo, in_progress, completed, cancelled or blocked"`
	Priority     *string   `json:"priority,omitempty" jsonschema:"low, medium, high or critical"`
	Dependencies *[]string `json:"dependencies,omitempty" jsonschema:"replaces the dependencies"`
	LeaseToken   *int64    `json:"leaseToken,omitempty" jsonschema:"your lease's token when you hold the task; without it a status change overrides the holder's lease"`
}

type claimNextIn struct {
	ProjectID       string `json:"projectId" jsonschema:"the project to take a task from"`
	SessionID       string `json:"sessionId" jsonschema:"your session id (MAESTRO_SESSION_ID)"`
	LeaseSeconds    int    `json:"leaseSeconds,omitempty" jsonschema:"how long the lease lasts unless renewed, 1 to 86400 (default 300)"`
	PriorityAtLeast string `json:"priorityAtLeast,omitempty" jsonschema:"only tasks of this priority or more urgent: low, medium, high or critical"`
	ParentID        string `json:"parentId,omitempty" jsonschema:"only children of this task"`
}

type claimTaskIn struct {
	TaskID       string `json:"taskId"`
	SessionID    string `json:"sessionId" jsonschema:"your session id (MAESTRO_SESSION_ID)"`
	LeaseSeconds int    `json:"leaseSeconds,omitempty" jsonschema:"how long the lease lasts unless renewed, 1 to 86400 (default 300)"`
}

type claimOut struct {
	Task *Task `json:"task" jsonschema:"the claimed task with its lease; null when no task is ready"`
}

type renewIn struct {
	TaskID       string `json:"taskId"`
	LeaseToken   int64  `json:"leaseToken" jsonschema:"lease.token of your claim"`
	LeaseSeconds int    `json:"leaseSeconds,omitempty" jsonschema:"the lease lasts this long from now, 1 to 86400 (default 300)"`
}

type releaseIn struct {
	TaskID     string `json:"taskId"`
	LeaseToken int64  `json:"leaseToken" jsonschema:"lease.token of your claim"`
	Status     string `json:"status,omitempty" jsonschema:"the status the task returns to: todo (default), blocked, cancelled or completed"`
}

type completeIn struct {
	TaskID     string `json:"taskId"`
	LeaseToken int64  `json:"leaseToken" jsonschema:"lease.token of your claim"`
}

type progressIn struct {
	TaskID    string `json:"taskId"`
	SessionID string `json:"sessionId" jsonschema:"your session id; the entry goes to its timeline"`
	Message   string `json:"message"`
	Type      string `json:"type,omitempty" jsonschema:"entry type, lower_snake_case (default progress)"`
}

type progressOut struct {
	TaskID    string `json:"taskId"`
	SessionID string `json:"sessionId"`
	Type      string `json:"type"`
	Message   string `json:"message"`
}

type readyIn struct {
	ProjectID string `json:"projectId"`
	ParentID  string `json:"parentId,omitempty" jsonschema:"only children of this task"`
	Limit     int    `json:"limit,omitempty" jsonschema:"page size, 1 to 500 (default 50)"`
	Cursor    string `json:"cursor,omitempty"`
}

// ReadyTask is one entry of a ready set.
type ReadyTask struct {
	Task      Task     `json:"task"`
	Ready     bool     `json:"ready" jsonschema:"every dependency is completed: claim_next_task would take it"`
	BlockedBy []string `json:"blockedBy" jsonschema:"the dependencies not completed yet"`
}

type readyOut struct {
	Tasks      []ReadyTask `json:"tasks" jsonschema:"todo tasks in the order claim_next_task considers them"`
	NextCursor string      `json:"nextCursor"`
}

var (
	taskStatuses   = []string{maestro.TaskTodo, maestro.TaskInProgress, maestro.TaskCompleted, maestro.TaskCancelled, maestro.TaskBlocked}
	taskPriorities = []string{maestro.PriorityLow, maestro.PriorityMedium, maestro.PriorityHigh, maestro.PriorityCritical}
	entryType      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// oneOf holds tool inputs to the strict enums of API v2.
func oneOf(field string, v *string, allowed []string) error {
	if v == nil || *v == "" || slices.Contains(allowed, *v) {
		return nil
	}
	return maestro.InvalidField(field, "%s must be one of %s", field, strings.Join(allowed, ", "))
}

func taskEntity(in, out any) string {
	switch x := in.(type) {
	case taskIDIn:
		return x.TaskID
	case updateTaskIn:
		return x.TaskID
	case claimTaskIn:
		return x.TaskID
	case renewIn:
		return x.TaskID
	case releaseIn:
		return x.TaskID
	case completeIn:
		return x.TaskID
	case progressIn:
		return x.TaskID
	}
	switch x := out.(type) {
	case Task:
		return x.ID
	case claimOut:
		if x.Task != nil {
			return x.Task.ID
		}
	}
	return ""
}

func ro() *mcp.ToolAnnotations { return &mcp.ToolAnnotations{ReadOnlyHint: true} }

func (a *api) addTools(s *mcp.Server) {
	svc := a.o.Services
	leases := func(ctx context.Context) error { return a.o.Flags.Require(ctx, flags.TaskLeases) }

	addTool(a, s, toolSpec{tool: &mcp.Tool{Name: "list_projects", Annotations: ro(),
		Description: "List the projects, oldest first, one page at a time."}},
		func(ctx context.Context, in listProjectsIn) (projectsOut, error) {
			page, err := svc.Projects.Page(ctx, maestro.ProjectQuery{Limit: in.Limit, Cursor: in.Cursor})
			if err != nil {
				return projectsOut{}, err
			}
			out := projectsOut{Projects: make([]Project, len(page.Items)), NextCursor: page.NextCursor}
			for i, p := range page.Items {
				out.Projects[i] = projectOut(p)
			}
			return out, nil
		})

	addTool(a, s, toolSpec{tool: &mcp.Tool{Name: "list_tasks", Annotations: ro(),
		Description: "List or search tasks (filters combine), oldest first or best match first with query, one page at a time."}},
		func(ctx context.Context, in listTasksIn) (tasksOut, error) {
			for _, st := range in.Status {
				if err := oneOf("status", &st, taskStatuses); err != nil {
					return tasksOut{}, err
				}
			}
			if in.Query != "" {
				if err := a.o.Flags.Require(ctx, flags.TaskSearch); err != nil {
					return tasksOut{}, err
				}
			}
			page, err := svc.Tasks.Page(ctx, maestro.TaskQuery{ProjectID: in.ProjectID, Statuses: in.Status,
				ParentID: in.ParentID, SessionID: in.SessionID, Search: in.Query, Limit: in.Limit, Cursor: in.Cursor})
			if err != nil {
				return tasksOut{}, err
			}
			if err := svc.Leases.Attach(ctx, page.Items); err != nil {
				return tasksOut{}, err
			}
			out := tasksOut{Tasks: make([]Task, len(page.Items)), NextCursor: page.NextCursor}
			for i, t := range page.Items {
				out.Tasks[i] = taskOut(t)
			}
			return out, nil
		})

	addTool(a, s, toolSpec{tool: &mcp.Tool{Name: "get_task", Annotations: ro(),
		Description: "Get one task, with its lease."}},
		func(ctx context.Context, in taskIDIn) (Task, error) {
			t, err := svc.Leases.Get(ctx, in.TaskID)
			return taskOut(t), err
		})

	addTool(a, s, toolSpec{mutate: true, entity: taskEntity, tool: &mcp.Tool{Name: "create_task",
		Description: "Create a todo task in a project (optionally a child of another, optionally with dependencies)."}},
		func(ctx context.Context, in createTaskIn) (Task, error) {
			if err := oneOf("priority", &in.Priority, taskPriorities); err != nil {
				return Task{}, err
			}
			t, err := svc.Tasks.Create(ctx, maestro.TaskCreate{ProjectID: in.ProjectID, Title: in.Title,
				Description: in.Description, Priority: in.Priority, ParentID: in.ParentID, InitialPrompt: in.InitialPrompt,
				Dependencies: in.Dependencies, SameProjectParent: true})
			return taskOut(t), err
		})

	addTool(a, s, toolSpec{mutate: true, entity: taskEntity, tool: &mcp.Tool{Name: "update_task",
		Description: "Change a task's title, description, status, priority or dependencies. If you hold the task, pass " +
			"leaseToken: a stale one fails with LEASE_TOKEN_STALE and changes nothing."}},
		func(ctx context.Context, in updateTaskIn) (Task, error) {
			if err := firstErr(oneOf("status", in.Status, taskStatuses), oneOf("priority", in.Priority, taskPriorities)); err != nil {
				return Task{}, err
			}
			if in.LeaseToken != nil {
				if err := leases(ctx); err != nil {
					return Task{}, err
				}
			}
			t, err := svc.Tasks.Update(ctx, in.TaskID, maestro.TaskPatch{Title: in.Title, Description: in.Description,
				Status: in.Status, Priority: in.Priority, Dependencies: in.Dependencies, LeaseToken: in.LeaseToken})
			return taskOut(t), err
		})

	addTool(a, s, toolSpec{mutate: true, entity: taskEntity, tool: &mcp.Tool{Name: "claim_next_task",
		Description: "Claim the project's next ready task for your session: the most urgent, then oldest, todo task " +
			"whose dependencies are all completed and that nobody holds. It becomes in_progress and you get a lease " +
			"(lease.token, lease.expiresAt). task is null when nothing is ready — try again later."}},
		func(ctx context.Context, in claimNextIn) (claimOut, error) {
			if err := firstErr(leases(ctx), oneOf("priorityAtLeast", &in.PriorityAtLeast, taskPriorities)); err != nil {
				return claimOut{}, err
			}
			t, err := svc.Leases.Next(ctx, maestro.NextRequest{ProjectID: in.ProjectID, PriorityAtLeast: in.PriorityAtLeast,
				ParentID: in.ParentID, ClaimRequest: maestro.ClaimRequest{SessionID: in.SessionID, LeaseSeconds: in.LeaseSeconds}})
			if err != nil || t == nil {
				return claimOut{}, err
			}
			out := taskOut(*t)
			return claimOut{Task: &out}, nil
		})

	addTool(a, s, toolSpec{mutate: true, entity: taskEntity, tool: &mcp.Tool{Name: "claim_task",
		Description: "Claim one named task for your session. Fails with TASK_NOT_CLAIMABLE when it is leased, not todo, " +
			"or waiting for a dependency (details.reason)."}},
		func(ctx context.Context, in claimTaskIn) (claimOut, error) {
			if err := leases(ctx); err != nil {
				return claimOut{}, err
			}
			t, err := svc.Leases.Claim(ctx, in.TaskID, maestro.ClaimRequest{SessionID: in.SessionID, LeaseSeconds: in.LeaseSeconds})
			if err != nil {
				return claimOut{}, err
			}
			out := taskOut(t)
			return claimOut{Task: &out}, nil
		})

	addTool(a, s, toolSpec{mutate: true, entity: taskEntity, tool: &mcp.Tool{Name: "renew_lease",
		Description: "Extend your lease on a task before it expires; an expired lease returns the task to todo for others."}},
		func(ctx context.Context, in renewIn) (Task, error) {
			if err := leases(ctx); err != nil {
				return Task{}, err
			}
			t, err := svc.Leases.Renew(ctx, in.TaskID, in.LeaseToken, in.LeaseSeconds)
			return taskOut(t), err
		})

	addTool(a, s, toolSpec{mutate: true, entity: taskEntity, tool: &mcp.Tool{Name: "release_task",
		Description: "Give a task back: end your lease and set its status (todo by default, or blocked, cancelled, completed)."}},
		func(ctx context.Context, in releaseIn) (Task, error) {
			if err := leases(ctx); err != nil {
				return Task{}, err
			}
			t, err := svc.Leases.Release(ctx, in.TaskID, maestro.LeaseRelease{Token: in.LeaseToken, Status: in.Status})
			return taskOut(t), err
		})

	addTool(a, s, toolSpec{mutate: true, entity: taskEntity, tool: &mcp.Tool{Name: "complete_task",
		Description: "Mark the task you hold completed, ending your lease. Fails with LEASE_TOKEN_STALE (and changes " +
			"nothing) when your lease expired or the task was claimed by someone else since."}},
		func(ctx context.Context, in completeIn) (Task, error) {
			if err := leases(ctx); err != nil {
				return Task{}, err
			}
			done := maestro.TaskCompleted
			t, err := svc.Tasks.Update(ctx, in.TaskID, maestro.TaskPatch{Status: &done, LeaseToken: &in.LeaseToken})
			return taskOut(t), err
		})

	addTool(a, s, toolSpec{mutate: true, entity: taskEntity, tool: &mcp.Tool{Name: "report_progress",
		Description: "Report progress on a task: appends an entry about it to your session's timeline (the UI shows it)."}},
		func(ctx context.Context, in progressIn) (progressOut, error) {
			if in.Type != "" && !entryType.MatchString(in.Type) {
				return progressOut{}, maestro.InvalidField("type", "type must match ^[a-z][a-z0-9_]{0,63}$")
			}
			got, err := svc.Tasks.Timeline(ctx, in.TaskID, maestro.TaskTimelineAppend{Message: in.Message, SessionID: in.SessionID, Type: in.Type})
			return progressOut{TaskID: in.TaskID, SessionID: got.SessionID, Type: got.Type, Message: got.Message}, err
		})

	addTool(a, s, toolSpec{tool: &mcp.Tool{Name: "get_ready_tasks", Annotations: ro(),
		Description: "The project's todo tasks in the order claim_next_task considers them, each with blockedBy: the " +
			"dependencies not completed yet (ready when empty)."}},
		func(ctx context.Context, in readyIn) (readyOut, error) {
			if err := leases(ctx); err != nil {
				return readyOut{}, err
			}
			page, err := svc.Leases.Ready(ctx, maestro.ReadyQuery{ProjectID: in.ProjectID, ParentID: in.ParentID,
				Limit: in.Limit, Cursor: in.Cursor})
			if err != nil {
				return readyOut{}, err
			}
			out := readyOut{Tasks: make([]ReadyTask, len(page.Items)), NextCursor: page.NextCursor}
			for i, r := range page.Items {
				out.Tasks[i] = ReadyTask{Task: taskOut(r.Task), Ready: len(r.BlockedBy) == 0, BlockedBy: nonNil(r.BlockedBy)}
			}
			return out, nil
		})
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
