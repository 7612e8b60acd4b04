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
	// TimelineLeaseExpired is written to a session's timeline when its lease on a task ran out.
	TimelineLeaseExpired = "lease_expired"
)

// SessionEvent is a server-written entry of a session's free-form event log (SPEC §1.5).
type SessionEvent struct {
	ID        string          `json:"id"`
	Timestamp int64           `json:"timestamp"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// Server-written timeline messages (SPEC §1.4).
const (
	TimelineMsgCreated     = "Session created"
	TimelineMsgTaskStarted = "Started working on task"
	TimelineMsgTaskAdded   = "Added task to session"
	TimelineMsgTaskRemoved = "Removed task from session"
)

// SessionCreate is the input of a session create (SPEC §2.6). TaskIDs nil means the key was absent
// (then the legacy TaskID is used, if set).
type SessionCreate struct {
	// ID is the caller's id (the CLI's fallback registration); "" means the server makes one.
	ID        string
	ProjectID string
	TaskIDs   *[]string
	TaskID    string
	Name      string
	AgentID   *string
	Strategy  string
	Status    string
	Env       map[string]string
	// Metadata is any JSON object, stored as sent; absent when empty.
	Metadata json.RawMessage
}

// SessionPatch is a session PATCH: TaskIDs replaces the linked tasks, Status and AgentID replace, Env
// merges, Events and Timeline entries (JSON objects) are appended verbatim. Nil fields are left alone.
type SessionPatch struct {
	TaskIDs  *[]string
	Status   *string
	AgentID  *string
	Env      map[string]string
	Events   []json.RawMessage
	Timeline []json.RawMessage
}

// SessionFilter selects sessions for a v1 list; empty strings mean "no filter". Active drops only the
// sessions whose status is completed.
type SessionFilter struct {
	ProjectID string
	TaskID    string
	Status    string
	Active    bool
}

// SessionEventAppend is the input of an append to a session's event log (SPEC §2.6).
type SessionEventAppend struct {
	Type string
	// Data is any JSON value; absent when empty.
	Data json.RawMessage
}

// TimelineAppend is the input of an append to a session's timeline; Type defaults to progress.
type TimelineAppend struct {
	Message  string
	Type     string
	TaskID   string
	Metadata json.RawMessage
}

// TaskTimelineAppend is the input of a task progress report: an entry about the task, written to
// the timeline of the session SessionID.
type TaskTimelineAppend struct {
	Message   string
	SessionID string
	Type      string
}

// Spawn sources (SPEC §4.1).
const (
	SpawnSourceUI      = "ui"
	SpawnSourceSession = "session"
)

// SpawnRequest is the input of a spawn (SPEC §4.1). TaskIDs is kept raw because a
// wrong type there has its own error code (invalid_task_ids, D23), which the service decides.
type SpawnRequest struct {
	ProjectID   string
	TaskIDs     json.RawMessage
	Role        string
	Strategy    string
	SpawnSource string
	// SessionID is the parent session: required with spawnSource "session", recorded either way.
	SessionID   string
	SessionName string
	Skills      []string
	// Context is a JSON object stored in the session's metadata only; absent when empty.
	Context json.RawMessage
}

// SpawnResult is what a successful spawn made: the session (its env holds the spawn variables) and the
// absolute path of its manifest file.
type SpawnResult struct {
	Session      Session
	ManifestPath string
}

// Environment variables a spawn sets for the agent (SPEC §4.2 step 13).
const (
	EnvSessionID    = "MAESTRO_SESSION_ID"
	EnvManifestPath = "MAESTRO_MANIFEST_PATH"
	EnvServerURL    = "MAESTRO_SERVER_URL"
	EnvStrategy     = "MAESTRO_STRATEGY"
)

// The two append-only collections of a session.
const (
	EntryTimeline = "timeline"
	EntryEvents   = "events"
)

// SessionEntry is one entry appended to a session's timeline or event log, as stored: a JSON object.
type SessionEntry struct {
	SessionID string
	// Kind is EntryTimeline or EntryEvents.
	Kind  string
	Entry json.RawMessage
}
