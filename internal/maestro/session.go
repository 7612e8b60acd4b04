package maestro

import "encoding/json"

// Session statuses declared by the contract; v1 also stores others (the CLI sends "running").
const (
	SessionSpawning  = "spawning"
	SessionIdle      = "idle"
	SessionWorking   = "working"
	SessionRunning   = "running"
	SessionCompleted = "completed"
	SessionFailed    = "failed"
	SessionStopped   = "stopped"
)

// Session strategies. Only simple and queue can be spawned (D3).
const (
	StrategySimple = "simple"
	StrategyQueue  = "queue"
	StrategyTree   = "tree"
)

// Roles of spawned sessions and templates.
const (
	RoleWorker       = "worker"
	RoleOrchestrator = "orchestrator"
)

// DefaultSessionName is the name of a session created without one.
const DefaultSessionName = "Unnamed Session"

// Session is one agent's working session (SPEC §1.3). Events and Timeline hold their entries verbatim as
// JSON objects, because PATCH-appended entries are stored exactly as the client sent them.
type Session struct {
	ID           string            `json:"id"`
	ProjectID    string            `json:"projectId"`
	TaskIDs      []string          `json:"taskIds"`
	Name         string            `json:"name"`
	AgentID      *string           `json:"agentId,omitempty"`
	Env          map[string]string `json:"env"`
	Strategy     string            `json:"strategy"`
	Status       string            `json:"status"`
	StartedAt    int64             `json:"startedAt"`
	LastActivity int64             `json:"lastActivity"`
	CompletedAt  *int64            `json:"completedAt"`
	Hostname     string            `json:"hostname"`
	Platform     string            `json:"platform"`
	Events       []json.RawMessage `json:"events"`
	Timeline     []json.RawMessage `json:"timeline"`
	Metadata     json.RawMessage   `json:"metadata,omitempty"`
}

// TimelineEntry is a server-written session timeline entry (SPEC §1.4).
type TimelineEntry struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp int64           `json:"timestamp"`
	Message   string          `json:"message,omitempty"`
	TaskID    string          `json:"taskId,omitempty"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
}

// Timeline entry types the server writes itself.
const (
	TimelineSessionStarted = "session_started"
	TimelineSessionStopped = "session_stopped"
	TimelineTaskStarted    = "task_started"
	TimelineTaskCompleted  = "task_completed"
	TimelineProgress       = "progress"
)

// SessionEvent is a server-written entry of a session's free-form event log (SPEC §1.5).
type SessionEvent struct {
	ID        string          `json:"id"`
	Timestamp int64           `json:"timestamp"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data,omitempty"`
}
