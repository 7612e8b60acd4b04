package maestro

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

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

// EventFlusher is implemented by a publisher that can wait until published events are on the wire:
// AwaitWritten returns once every event up to seq has been written to each live subscriber's socket,
// or when the request's wait budget (EventWaitFrom) is spent, or ctx ends. Without a budget in ctx it
// returns at once. The store calls it after a commit on the caller's goroutine, never on its writer
// goroutine, so that the HTTP reply follows the request's events on every socket (DESIGN §12) while
// other requests keep committing.
type EventFlusher interface {
	AwaitWritten(ctx context.Context, seq int64)
}

// EventWait is one request's budget for waiting until its events are on every live socket (DESIGN
// §12). The HTTP layer puts one in each request's context (WithEventWait); the budget starts when the
// request first waits, so a request that commits several transactions waits at most once the bound in
// all. Work that answers nobody (background jobs, commands) carries none and never waits.
type EventWait struct {
	mu       sync.Mutex
	deadline time.Time
}

type eventWaitKey struct{}

// WithEventWait returns a context carrying a fresh EventWait.
func WithEventWait(ctx context.Context) context.Context {
	return context.WithValue(ctx, eventWaitKey{}, &EventWait{})
}

// EventWaitFrom returns the EventWait carried by ctx, or nil.
func EventWaitFrom(ctx context.Context) *EventWait {
	w, _ := ctx.Value(eventWaitKey{}).(*EventWait)
	return w
}

// Deadline returns the end of the request's wait budget: now+bound on the first call, the same instant
// on every later one.
func (w *EventWait) Deadline(now time.Time, bound time.Duration) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.deadline.IsZero() {
		w.deadline = now.Add(bound)
	}
	return w.deadline
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
	Source    string `json:"source"` // "db" (set) or "default" (unset)
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

// EventSpec documents one event type: its payload type and what emits it, named by use case and API
// version (the API documents name the routes). The catalogue drives the generated
// api/events.schema.json and the events page of the docs.
type EventSpec struct {
	Type      string
	Payload   any
	EmittedBy string
}

// EventCatalog is every event the server broadcasts (SPEC §3 plus D14 and the server's own).
var EventCatalog = []EventSpec{
	{EventProjectCreated, Project{}, "project create (v1, v2); project import"},
	{EventProjectUpdated, Project{}, "project update (v1 PUT, v2 PATCH)"},
	{EventProjectDeleted, IDPayload{}, "project delete (v1, v2)"},
	{EventTaskCreated, Task{}, "task create (v1, v2); project import (per task)"},
	{EventTaskUpdated, Task{}, "task update (v1, v2); task delete (each child made a root task, each task that depended on it); a session update of taskIds (each task whose list changed); task claims, lease releases and lease expiries (v2, MCP)"},
	{EventTaskDeleted, IDPayload{}, "task delete (v1, v2)"},
	{EventTaskLeaseExpired, LeaseExpiredPayload{}, "the lease sweep, when a claimed task's lease ran out (the task is back to todo); a claim (v2, MCP) that finds due leases of its project expires them first"},
	{EventTaskSessionAdded, TaskSessionPayload{}, "session create (v1, per task); linking a task to a session (v1, v2); spawn (per task)"},
	{EventTaskSessionRemoved, TaskSessionPayload{}, "unlinking a task from a session (v1, v2)"},
	{EventSessionCreated, Session{}, "session create (v1, v2; never spawn); project import (per session)"},
	{EventSessionSpawn, SpawnPayload{}, "spawn (v1, v2)"},
	{EventSessionUpdated, Session{}, "session update (v1, v2); session event and timeline appends (v1, v2); task progress report; spawn env update; link changes made from the task side"},
	{EventSessionDeleted, IDPayload{}, "session delete (v1, v2)"},
	{EventSessionTaskAdded, SessionTaskPayload{}, "linking a task to a session (v1, v2)"},
	{EventSessionTaskRemoved, SessionTaskPayload{}, "unlinking a task from a session (v1, v2)"},
	{EventQueueCreated, QueueCreatedPayload{}, "spawn with strategy queue (v1, v2); project import (per queue)"},
	{EventQueueItemStarted, QueueItemPayload{}, "queue start (v1, v2)"},
	{EventQueueItemCompleted, QueueItemPayload{}, "queue complete (v1, v2)"},
	{EventQueueItemFailed, QueueItemFailedPayload{}, "queue fail (v1, v2)"},
	{EventQueueItemSkipped, QueueItemPayload{}, "queue skip (v1, v2)"},
	{EventQueueItemPushed, QueueItemPayload{}, "queue push (v1, v2)"},
	{EventTemplateCreated, TemplatePayload{}, "template create (v1, v2)"},
	{EventTemplateUpdated, TemplatePayload{}, "template update (v1 PUT; v2 PUT and PATCH)"},
	{EventTemplateReset, TemplatePayload{}, "template reset (v1, v2)"},
	{EventTemplateDeleted, IDPayload{}, "template delete (v1, v2)"},
	{EventSkillsChanged, SkillsChangedPayload{}, "a change in the skills directory (hot reload) or a skill reload (v1)"},
	{EventFlagUpdated, FlagUpdatedPayload{}, "flag set or unset (v2; maestro-server flags set|unset|import)"},
}
