package maestro

// Task leases (issue 14): an agent session claims a task for a while; the claim is a lease with a fencing
// token that grows with every claim of the task, so that an agent whose lease expired and was taken over
// can be told apart from the one that holds it now.

// Lease bounds, in seconds.
const (
	DefaultLeaseSeconds = 300
	MinLeaseSeconds     = 1
	MaxLeaseSeconds     = 86400
)

// TaskLease is the lease currently held on a task. It is never sent as it is: the API packages have
// their own representations of it.
type TaskLease struct {
	// SessionID is the session holding the task.
	SessionID string
	// AcquiredAt is when the lease was claimed, ms since the epoch.
	AcquiredAt int64
	// ExpiresAt is when the lease ends unless renewed, ms since the epoch.
	ExpiresAt int64
	// Token is the fencing token of this claim; it grows with every claim of the task.
	Token int64
}

// Why a task cannot be claimed (details.reason of TASK_NOT_CLAIMABLE).
const (
	NotClaimableLeased  = "leased"
	NotClaimableStatus  = "status"
	NotClaimableBlocked = "blocked"
)

// ClaimRequest is the input of a claim: which session takes the task, and for how long.
type ClaimRequest struct {
	SessionID    string
	LeaseSeconds int
}

// NextRequest is the input of a claim of the next ready task of a project.
type NextRequest struct {
	ClaimRequest
	ProjectID string
	// PriorityAtLeast, when set, only considers tasks of this priority or a more urgent one.
	PriorityAtLeast string
	// ParentID, when set, only considers the direct children of this task.
	ParentID string
}

// LeaseRelease is the input of a lease release: the token, and the status the task returns to (todo
// when empty).
type LeaseRelease struct {
	Token  int64
	Status string
}

// ReadyTask is one entry of a project's ready set: a todo task nobody holds, and the dependencies that
// are not completed yet (empty when the task is ready).
type ReadyTask struct {
	Task      Task
	BlockedBy []string
}

// ReadyQuery selects a page of a project's ready set.
type ReadyQuery struct {
	ProjectID string
	ParentID  string
	Limit     int
	Cursor    string
	WithTotal bool
}

// LeaseExpiredPayload is the payload of task:lease_expired: the session whose lease on the task ran
// out, that lease's (now stale) token and expiry, and the task as it now is (back to todo).
type LeaseExpiredPayload struct {
	TaskID    string `json:"taskId"`
	SessionID string `json:"sessionId"`
	Token     int64  `json:"token"`
	ExpiresAt int64  `json:"expiresAt"`
	Task      Task   `json:"task"`
}
