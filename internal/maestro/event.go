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
