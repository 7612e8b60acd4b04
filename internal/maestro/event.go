package maestro

import "encoding/json"

// Event types broadcast to WebSocket clients (SPEC §3 plus D14). The names are the wire contract.
const (
	EventProjectCreated = "project:created"
	EventProjectUpdated = "project:updated"
	EventProjectDeleted = "project:deleted"

	EventTaskCreated        = "task:created"
	EventTaskUpdated        = "task:updated"
	EventTaskDeleted        = "task:deleted"
	EventTaskSessionAdded   = "task:session_added"
	EventTaskSessionRemoved = "task:session_removed"
	EventTaskLeaseExpired   = "task:lease_expired"

	EventSessionCreated     = "session:created"
	EventSessionSpawn       = "session:spawn"
	EventSessionUpdated     = "session:updated"
	EventSessionDeleted     = "session:deleted"
	EventSessionTaskAdded   = "session:task_added"
	EventSessionTaskRemoved = "session:task_removed"

	EventQueueCreated       = "queue:created"
	EventQueueItemStarted   = "queue:item_started"
	EventQueueItemCompleted = "queue:item_completed"
	EventQueueItemFailed    = "queue:item_failed"
	EventQueueItemSkipped   = "queue:item_skipped"
	EventQueueItemPushed    = "queue:item_pushed"

	EventTemplateCreated = "template:created"
	EventTemplateUpdated = "template:updated"
	EventTemplateReset   = "template:reset"
	EventTemplateDeleted = "template:deleted"

	EventSkillsChanged = "skills:changed"
	EventFlagUpdated   = "flag:updated"
)

// Event is one broadcast event as stored in the outbox: Seq is its durable, strictly increasing position.
// Data is the payload snapshot taken when the event was recorded.
type Event struct {
	Seq       int64           `json:"seq"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	Timestamp int64           `json:"timestamp"`
	ProjectID string          `json:"-"`
	RequestID string          `json:"-"`
}

// EventPublisher receives events after the transaction that recorded them committed, in seq order.
// Implementations must not block: a slow subscriber is their problem, not the writer's.
type EventPublisher interface {
	Publish(events []Event)
}

// IDPayload is the payload of the *:deleted events.
type IDPayload struct {
	ID string `json:"id"`
}

// TaskSessionPayload is the payload of task:session_added and task:session_removed.
type TaskSessionPayload struct {
	TaskID    string `json:"taskId"`
	SessionID string `json:"sessionId"`
}

// SessionTaskPayload is the payload of session:task_added and session:task_removed.
type SessionTaskPayload struct {
	SessionID string `json:"sessionId"`
	TaskID    string `json:"taskId"`
}

// QueueCreatedPayload is the payload of queue:created.
type QueueCreatedPayload struct {
	SessionID string `json:"sessionId"`
	Queue     Queue  `json:"queue"`
}

// QueueItemPayload is the payload of queue:item_started, queue:item_completed, queue:item_skipped and
// queue:item_pushed.
type QueueItemPayload struct {
	SessionID string `json:"sessionId"`
	TaskID    string `json:"taskId"`
}

// QueueItemFailedPayload is the payload of queue:item_failed.
type QueueItemFailedPayload struct {
	SessionID string `json:"sessionId"`
	TaskID    string `json:"taskId"`
	Reason    string `json:"reason"`
}

// TemplatePayload is the payload of template:created, template:updated and template:reset.
type TemplatePayload struct {
	Template Template `json:"template"`
}

// SkillsChangedPayload is the payload of skills:changed: which skill ids appeared, changed, went away or
// are now invalid after a reload of the skills directory.
type SkillsChangedPayload struct {
	Added   []string `json:"added"`
	Changed []string `json:"changed"`
	Removed []string `json:"removed"`
	Invalid []string `json:"invalid"`
}

// FlagUpdatedPayload is the payload of flag:updated.
type FlagUpdatedPayload struct {
	Key       string `json:"key"`
	Enabled   bool   `json:"enabled"`
	Default   bool   `json:"default"`
	Source    string `json:"source" doc:"Where the value comes from: db (set) or default (unset)."`
	UpdatedBy string `json:"updatedBy"`
	UpdatedAt int64  `json:"updatedAt"`
}

// SpawnPayload is the payload of session:spawn (SPEC §4.3): everything the UI needs to open a terminal.
type SpawnPayload struct {
	Session         Session           `json:"session"`
	Command         string            `json:"command"`
	Cwd             string            `json:"cwd"`
	EnvVars         map[string]string `json:"envVars"`
	Manifest        json.RawMessage   `json:"manifest"`
	ProjectID       string            `json:"projectId"`
	TaskIDs         []string          `json:"taskIds"`
	SpawnSource     string            `json:"spawnSource"`
	ParentSessionID *string           `json:"parentSessionId"`
	IsSpawnCreated  bool              `json:"_isSpawnCreated"`
}

// EventSpec documents one event type: its payload type and what emits it. The catalogue drives the
// generated api/events.schema.json and the events page of the docs.
type EventSpec struct {
	Type      string
	Payload   any
	EmittedBy string
}

// EventCatalog is every event the server broadcasts (SPEC §3 plus D14 and the server's own).
var EventCatalog = []EventSpec{
	{EventProjectCreated, Project{}, "POST /api/projects, POST /api/v2/projects; POST /api/v2/projects/import"},
	{EventProjectUpdated, Project{}, "PUT /api/projects/{id}, PATCH /api/v2/projects/{id}"},
	{EventProjectDeleted, IDPayload{}, "DELETE /api/projects/{id}, DELETE /api/v2/projects/{id}"},
	{EventTaskCreated, Task{}, "POST /api/tasks, POST /api/v2/tasks; POST /api/v2/projects/import (per task)"},
	{EventTaskUpdated, Task{}, "PATCH /api/tasks/{id}, PATCH /api/v2/tasks/{id}; task delete (each child made a root task, each task that depended on it); session PATCH of taskIds (each task whose list changed); task claims, lease releases and expiries"},
	{EventTaskDeleted, IDPayload{}, "DELETE /api/tasks/{id}, DELETE /api/v2/tasks/{id}"},
	{EventTaskLeaseExpired, LeaseExpiredPayload{}, "the lease sweep, when a claimed task's lease ran out (the task is back to todo); a claim that finds due leases of its project expires them first"},
	{EventTaskSessionAdded, TaskSessionPayload{}, "POST /api/sessions (per task); POST /api/sessions/{id}/tasks/{taskId}, PUT /api/v2/sessions/{id}/tasks/{taskId}; spawn (per task)"},
	{EventTaskSessionRemoved, TaskSessionPayload{}, "DELETE /api/sessions/{id}/tasks/{taskId} (v1 and v2)"},
	{EventSessionCreated, Session{}, "POST /api/sessions, POST /api/v2/sessions (never spawn); POST /api/v2/projects/import (per session)"},
	{EventSessionSpawn, SpawnPayload{}, "POST /api/sessions/spawn, POST /api/v2/sessions/spawn"},
	{EventSessionUpdated, Session{}, "PATCH /api/sessions/{id} (v1 and v2); session events and timeline appends (v1 and v2); task timeline; spawn env update; link changes made from the task side"},
	{EventSessionDeleted, IDPayload{}, "DELETE /api/sessions/{id}, DELETE /api/v2/sessions/{id}"},
	{EventSessionTaskAdded, SessionTaskPayload{}, "POST /api/sessions/{id}/tasks/{taskId}, PUT /api/v2/sessions/{id}/tasks/{taskId}"},
	{EventSessionTaskRemoved, SessionTaskPayload{}, "DELETE /api/sessions/{id}/tasks/{taskId} (v1 and v2)"},
	{EventQueueCreated, QueueCreatedPayload{}, "spawn with strategy queue (v1 and v2); POST /api/v2/projects/import (per queue)"},
	{EventQueueItemStarted, QueueItemPayload{}, "POST /api/sessions/{id}/queue/start (v1 and v2)"},
	{EventQueueItemCompleted, QueueItemPayload{}, "POST /api/sessions/{id}/queue/complete (v1 and v2)"},
	{EventQueueItemFailed, QueueItemFailedPayload{}, "POST /api/sessions/{id}/queue/fail (v1 and v2)"},
	{EventQueueItemSkipped, QueueItemPayload{}, "POST /api/sessions/{id}/queue/skip (v1 and v2)"},
	{EventQueueItemPushed, QueueItemPayload{}, "POST /api/sessions/{id}/queue/push (v1 and v2)"},
	{EventTemplateCreated, TemplatePayload{}, "POST /api/templates, POST /api/v2/templates"},
	{EventTemplateUpdated, TemplatePayload{}, "PUT /api/templates/{id}, PUT and PATCH /api/v2/templates/{id}"},
	{EventTemplateReset, TemplatePayload{}, "POST /api/templates/{id}/reset (v1 and v2)"},
	{EventTemplateDeleted, IDPayload{}, "DELETE /api/templates/{id}, DELETE /api/v2/templates/{id}"},
	{EventSkillsChanged, SkillsChangedPayload{}, "a change in the skills directory (hot reload) or POST /api/skills/{id}/reload"},
	{EventFlagUpdated, FlagUpdatedPayload{}, "PUT/DELETE /api/v2/flags/{key}; maestro-server flags set|unset|import"},
}
