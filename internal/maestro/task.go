package maestro

// Task statuses declared by the contract. v1 stores any string (SPEC §0 "Enums"); v2 accepts only these.
const (
	TaskTodo       = "todo"
	TaskInProgress = "in_progress"
	TaskCompleted  = "completed"
	TaskCancelled  = "cancelled"
	TaskBlocked    = "blocked"
)

// Task priorities. v1 defaults to medium and stores any string; v2 accepts these four.
const (
	PriorityLow      = "low"
	PriorityMedium   = "medium"
	PriorityHigh     = "high"
	PriorityCritical = "critical"
)

// UpdateSourceSession marks a task PATCH made by an agent session: only sessionStatus is applied.
const UpdateSourceSession = "session"

// Task is a unit of work in a project, optionally a child of another task (SPEC §1.2).
type Task struct {
	ID            string   `json:"id"`
	ProjectID     string   `json:"projectId"`
	ParentID      *string  `json:"parentId"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Status        string   `json:"status"`
	SessionStatus *string  `json:"sessionStatus,omitempty"`
	Priority      string   `json:"priority"`
	CreatedAt     int64    `json:"createdAt"`
	UpdatedAt     int64    `json:"updatedAt"`
	StartedAt     *int64   `json:"startedAt"`
	CompletedAt   *int64   `json:"completedAt"`
	InitialPrompt string   `json:"initialPrompt"`
	SessionIDs    []string `json:"sessionIds"`
	SkillIDs      []string `json:"skillIds"`
	AgentIDs      []string `json:"agentIds"`
	Dependencies  []string `json:"dependencies"`
	// Lease is the lease held on the task (API v2 reads only; never part of v1 bodies or event payloads).
	// Reads that do not look it up leave it nil.
	Lease *TaskLease `json:"-"`
}

// TaskCreate is the input of a task create (SPEC §2.5). Status is not an input: new tasks are todo.
type TaskCreate struct {
	ProjectID     string
	Title         string
	Description   string
	Priority      string
	ParentID      string
	InitialPrompt string
	SkillIDs      []string
	// Dependencies are ids of tasks of the same project this one depends on (API v2; v1 cannot set them).
	Dependencies []string
	// SameProjectParent requires the parent to belong to the task's project (API v2; v1 accepts a parent
	// in any project, as the predecessor did).
	SameProjectParent bool
}

// TaskPatch is a partial task update: nil fields are left alone, non-nil slices replace the stored list.
type TaskPatch struct {
	Title         *string
	Description   *string
	Status        *string
	SessionStatus *string
	Priority      *string
	SessionIDs    *[]string
	SkillIDs      *[]string
	AgentIDs      *[]string
	// Dependencies replaces the task's dependencies (API v2): each must be a task of the same project,
	// and no task may come to depend on itself, directly or through others.
	Dependencies *[]string
	// UpdateSource "session" restricts the update to SessionStatus (SPEC §2.5 rule 2).
	UpdateSource string
	// LeaseToken is the fencing token the caller presents (the v2 Lease-Token header); nil when it
	// presented none. With a token the update must come from the lease's holder; without one a status
	// change of a leased task is an override that ends the lease.
	LeaseToken *int64
}

// TaskFilter selects tasks for a v1 list. Empty strings mean "no filter", except that ParentSet with an
// empty ParentID means "parentId equals the empty string" (which matches nothing), as in the predecessor.
type TaskFilter struct {
	ProjectID string
	Status    string
	// RootOnly selects tasks without a parent (`?parentId=null`).
	RootOnly  bool
	ParentSet bool
	ParentID  string
}
