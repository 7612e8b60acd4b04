package v2

import (
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Strict enums of v2 (DESIGN §4): the values v1 declares, plus the ones the CLI really sends (session
// status "running"). Each is a string type that provides its own schema, so the values are listed once,
// here: the OpenAPI document shows them, and huma answers a wrong value with 422 before any handler runs.

var (
	taskStatuses = []string{maestro.TaskTodo, maestro.TaskInProgress, maestro.TaskCompleted,
		maestro.TaskCancelled, maestro.TaskBlocked}
	taskPriorities = []string{maestro.PriorityLow, maestro.PriorityMedium, maestro.PriorityHigh,
		maestro.PriorityCritical}
	taskSessionStatuses = []string{"queued", "working", "needs_input", "blocked", "completed", "failed", "skipped"}
	// The sort lists are the domain's (the service checks them too).
	taskSorts       = maestro.TaskSorts
	projectSorts    = maestro.CreatedSorts
	sessionStatuses = []string{maestro.SessionSpawning, maestro.SessionIdle, maestro.SessionWorking,
		maestro.SessionRunning, maestro.SessionCompleted, maestro.SessionFailed, maestro.SessionStopped}
	sessionStrategies = []string{maestro.StrategySimple, maestro.StrategyQueue}
)

func enumSchema(doc string, values []string) *huma.Schema {
	enum := make([]any, len(values))
	for i, v := range values {
		enum[i] = v
	}
	return &huma.Schema{Type: huma.TypeString, Enum: enum,
		Description: doc + " One of: " + strings.Join(values, ", ") + "."}
}

// TaskStatus is a task status.
type TaskStatus string

// Schema implements huma.SchemaProvider.
func (TaskStatus) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Task status.", taskStatuses)
}

// TaskPriority is a task priority.
type TaskPriority string

// Schema implements huma.SchemaProvider.
func (TaskPriority) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Task priority.", taskPriorities)
}

// TaskSessionStatus is the status an agent session reports on a task.
type TaskSessionStatus string

// Schema implements huma.SchemaProvider.
func (TaskSessionStatus) Schema(huma.Registry) *huma.Schema {
	return enumSchema("The working session's status on the task.", taskSessionStatuses)
}

// TaskSort is a sort order of the task list.
type TaskSort string

// Schema implements huma.SchemaProvider.
func (TaskSort) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Sort order; a leading - reverses it. priority is most urgent first (critical, high, "+
		"medium, low), oldest first within a priority. relevance (the default with q) is best match first. "+
		"Default createdAt (oldest first).", taskSorts)
}

// ProjectSort is a sort order of the project list.
type ProjectSort string

// Schema implements huma.SchemaProvider.
func (ProjectSort) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Sort order; a leading - reverses it. Default createdAt (oldest first).", projectSorts)
}

var (
	sessionSorts  = maestro.SessionSorts
	entrySorts    = maestro.EntrySorts
	templateSorts = maestro.CreatedSorts
	roles         = []string{maestro.RoleWorker, maestro.RoleOrchestrator}
	spawnSources  = []string{maestro.SpawnSourceUI, maestro.SpawnSourceSession}
	queueStatuses = []string{maestro.QueueQueued, maestro.QueueProcessing, maestro.QueueCompleted,
		maestro.QueueFailed, maestro.QueueSkipped}
	importModes = []string{maestro.ImportNewIDs, maestro.ImportKeepIDs}
)

// SessionStatus is a session status.
type SessionStatus string

// Schema implements huma.SchemaProvider.
func (SessionStatus) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Session status (running is what the maestro CLI reports while an agent works).", sessionStatuses)
}

// SessionStrategy is how a session works through its tasks.
type SessionStrategy string

// Schema implements huma.SchemaProvider.
func (SessionStrategy) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Session strategy.", sessionStrategies)
}

// SessionSort is a sort order of the session list.
type SessionSort string

// Schema implements huma.SchemaProvider.
func (SessionSort) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Sort order; a leading - reverses it (-lastActivity: most recently active first). "+
		"Ties are broken by id. Default startedAt (oldest first).", sessionSorts)
}

// EntrySort is a sort order of a session's timeline or event log.
type EntrySort string

// Schema implements huma.SchemaProvider.
func (EntrySort) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Sort order: appended (the default) is the order the entries were appended in, "+
		"oldest first; -appended is newest first.", entrySorts)
}

// TemplateSort is a sort order of the template list.
type TemplateSort string

// Schema implements huma.SchemaProvider.
func (TemplateSort) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Sort order; a leading - reverses it. Default createdAt (oldest first).", templateSorts)
}

// Role is the role of a template or a spawned agent.
type Role string

// Schema implements huma.SchemaProvider.
func (Role) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Agent role.", roles)
}

// SpawnSource says who asked for a spawn.
type SpawnSource string

// Schema implements huma.SchemaProvider.
func (SpawnSource) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Who asks: ui (the default) or session (an agent; then sessionId names it).", spawnSources)
}

// QueueItemStatus is the status of a queue item.
type QueueItemStatus string

// Schema implements huma.SchemaProvider.
func (QueueItemStatus) Schema(huma.Registry) *huma.Schema {
	return enumSchema("Queue item status; completed, failed and skipped are final.", queueStatuses)
}

// ImportMode is how an import treats the document's ids.
type ImportMode string

// Schema implements huma.SchemaProvider.
func (ImportMode) Schema(huma.Registry) *huma.Schema {
	return enumSchema("new (the default) stores a copy under new ids and rewrites every reference; keep stores "+
		"every record under its document id (409 CONFLICT when one is taken).", importModes)
}
