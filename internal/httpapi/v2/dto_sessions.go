package v2

import (
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// Session is a session in v2. Unlike v1 it carries no events and no timeline: those grow without bound,
// so v2 serves them as paginated sub-collections (/sessions/{id}/events and /sessions/{id}/timeline).
type Session struct {
	ID           string            `json:"id" doc:"Session id (sess_…, or the id its creator chose)."`
	ProjectID    string            `json:"projectId" doc:"The project; immutable."`
	TaskIDs      []string          `json:"taskIds" doc:"Linked tasks, in link order."`
	Name         string            `json:"name"`
	AgentID      *string           `json:"agentId" nullable:"true" doc:"The agent working in the session; null until set. v1 omits it instead."`
	Env          map[string]string `json:"env" doc:"Environment variables; a spawn sets MAESTRO_SESSION_ID, MAESTRO_MANIFEST_PATH, MAESTRO_SERVER_URL and MAESTRO_STRATEGY."`
	Strategy     string            `json:"strategy" doc:"simple or queue (v1 clients may have stored other values); fixed at create."`
	Status       string            `json:"status" doc:"spawning, idle, working, running, completed, failed or stopped (v1 clients may have stored other values)."`
	StartedAt    int64             `json:"startedAt" doc:"Creation time, ms since the epoch."`
	LastActivity int64             `json:"lastActivity" doc:"Last change, ms since the epoch; strictly increases with every change of the session, its links, timeline or events."`
	CompletedAt  *int64            `json:"completedAt" nullable:"true" doc:"Stamped on every change to completed, failed or stopped."`
	Hostname     string            `json:"hostname" doc:"Host name of the server that created the session."`
	Platform     string            `json:"platform" doc:"Operating system of that server, as Node names it (darwin, linux, win32)."`
	Metadata     JSONObject        `json:"metadata" doc:"Set at create only; a spawn records skills, spawnedBy (the parent session), spawnSource, role, strategy and context here."`
}

func sessionDTO(s maestro.Session) Session {
	env := s.Env
	if env == nil {
		env = map[string]string{}
	}
	return Session{ID: s.ID, ProjectID: s.ProjectID, TaskIDs: nonNil(s.TaskIDs), Name: s.Name, AgentID: s.AgentID,
		Env: env, Strategy: s.Strategy, Status: s.Status, StartedAt: s.StartedAt, LastActivity: s.LastActivity,
		CompletedAt: s.CompletedAt, Hostname: s.Hostname, Platform: s.Platform, Metadata: JSONObject(s.Metadata)}
}

// SpawnResult is the answer of a v2 spawn.
type SpawnResult struct {
	SessionID    string  `json:"sessionId" doc:"The new session."`
	ManifestPath string  `json:"manifestPath" doc:"Absolute path of the manifest the agent reads (MAESTRO_MANIFEST_PATH)."`
	Message      string  `json:"message" doc:"What happens next: the UI opens a terminal when it receives session:spawn."`
	Session      Session `json:"session" doc:"The new session, status spawning; its env holds the spawn variables."`
}

func spawnDTO(r maestro.SpawnResult) SpawnResult {
	return SpawnResult{SessionID: r.Session.ID, ManifestPath: r.ManifestPath, Message: service.SpawnMessage, Session: sessionDTO(r.Session)}
}

// Template is a prompt template in v2.
type Template struct {
	ID        string `json:"id" doc:"Template id (tmpl_…)."`
	Name      string `json:"name"`
	Role      string `json:"role" doc:"worker or orchestrator; immutable."`
	Content   string `json:"content" doc:"Markdown with ${...} placeholders the CLI fills in."`
	IsDefault bool   `json:"isDefault" doc:"True for the two built-in templates, which cannot be deleted."`
	CreatedAt int64  `json:"createdAt" doc:"Creation time, ms since the epoch."`
	UpdatedAt int64  `json:"updatedAt" doc:"Last change, ms since the epoch; strictly increases with every change."`
}

func templateDTO(t maestro.Template) Template {
	return Template{ID: t.ID, Name: t.Name, Role: t.Role, Content: t.Content, IsDefault: t.IsDefault,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// QueueItem is one task of a queue in v2.
type QueueItem struct {
	TaskID      string  `json:"taskId" doc:"The task (kept as history when the task is deleted)."`
	Status      string  `json:"status" doc:"queued, processing, completed, failed or skipped."`
	AddedAt     int64   `json:"addedAt" doc:"When the item was queued, ms since the epoch."`
	StartedAt   *int64  `json:"startedAt" nullable:"true" doc:"When start took it; null before."`
	CompletedAt *int64  `json:"completedAt" nullable:"true" doc:"When it was completed, failed or skipped; null before."`
	FailReason  *string `json:"failReason" nullable:"true" doc:"Why it failed, when a reason was given."`
}

func queueItemDTO(it maestro.QueueItem) QueueItem {
	return QueueItem{TaskID: it.TaskID, Status: it.Status, AddedAt: it.AddedAt, StartedAt: it.StartedAt,
		CompletedAt: it.CompletedAt, FailReason: it.FailReason}
}

func optionalItem(it *maestro.QueueItem) OptionalQueueItem {
	if it == nil {
		return OptionalQueueItem{}
	}
	out := queueItemDTO(*it)
	return OptionalQueueItem{&out}
}

// Queue is the work queue of a session spawned with the queue strategy, in v2.
type Queue struct {
	SessionID    string      `json:"sessionId" doc:"The session the queue belongs to (and is keyed by)."`
	Strategy     string      `json:"strategy" doc:"Always queue."`
	Items        []QueueItem `json:"items" doc:"Every item, in queue order."`
	CurrentIndex int         `json:"currentIndex" doc:"Index of the processing item; -1 when none is."`
	CreatedAt    int64       `json:"createdAt" doc:"Creation time (the spawn), ms since the epoch."`
	UpdatedAt    int64       `json:"updatedAt" doc:"Last change, ms since the epoch; strictly increases with every step."`
}

func queueDTO(q maestro.Queue) Queue {
	strategy := q.Strategy
	if strategy == "" {
		strategy = maestro.StrategyQueue
	}
	return Queue{SessionID: q.SessionID, Strategy: strategy, Items: mapItems(q.Items, queueItemDTO),
		CurrentIndex: q.CurrentIndex, CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt}
}

// QueueStats counts a queue's items by status.
type QueueStats struct {
	Total      int `json:"total"`
	Queued     int `json:"queued"`
	Processing int `json:"processing"`
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"`
}

func statsDTO(s maestro.QueueStats) QueueStats {
	return QueueStats{Total: s.Total, Queued: s.Queued, Processing: s.Processing, Completed: s.Completed,
		Failed: s.Failed, Skipped: s.Skipped}
}

// QueueState is a queue with its counts.
type QueueState struct {
	Queue Queue      `json:"queue"`
	Stats QueueStats `json:"stats"`
}

// QueueStep is the answer of every v2 queue step (start, complete, fail, skip, push): the item the step
// changed, what comes next, and the queue as the step left it.
type QueueStep struct {
	Item    OptionalQueueItem `json:"item" doc:"The item this step changed (started, completed, failed, skipped or pushed); null when start found nothing queued."`
	Next    OptionalQueueItem `json:"next" doc:"The first queued item after the step (what start takes next); null when none is left."`
	HasMore bool              `json:"hasMore" doc:"Whether a queued item is left (next is not null)."`
	Message string            `json:"message" doc:"A sentence for people and agents, e.g. \"Completed task_1. Next: task_2\"."`
	Queue   Queue             `json:"queue" doc:"The queue after the step."`
	Stats   QueueStats        `json:"stats" doc:"Its counts after the step."`
}

func queueStepDTO(s maestro.QueueStep) QueueStep {
	return QueueStep{Item: optionalItem(s.Item), Next: optionalItem(s.Next), HasMore: s.Next != nil,
		Message: s.Message, Queue: queueDTO(s.Queue), Stats: statsDTO(s.Queue.Stats())}
}

// OptionalQueueItem is a queue item or null. huma cannot mark a field that refers to an object schema as
// nullable, so this type documents itself as "QueueItem or null" (anyOf), which code generators read as
// an optional item.
type OptionalQueueItem struct{ item *QueueItem }

// MarshalJSON implements json.Marshaler: the item, or null.
func (o OptionalQueueItem) MarshalJSON() ([]byte, error) { return json.Marshal(o.item) }

// Schema implements huma.SchemaProvider.
func (OptionalQueueItem) Schema(r huma.Registry) *huma.Schema {
	return &huma.Schema{AnyOf: []*huma.Schema{
		r.Schema(reflect.TypeOf(QueueItem{}), true, "QueueItem"),
		{Type: "null"},
	}}
}
