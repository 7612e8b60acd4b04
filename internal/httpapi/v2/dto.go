package v2

import (
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// The v2 representations. They carry the same fields as v1 (clients can share models), with two
// differences: optional values are always present as null rather than omitted (sessionStatus), and
// the OpenAPI document describes every field.

// Project is a project in v2.
type Project struct {
	ID          string `json:"id" doc:"Project id (proj_…)."`
	Name        string `json:"name" doc:"Name, trimmed, never blank."`
	WorkingDir  string `json:"workingDir" doc:"Directory spawned agents start in; may be empty."`
	Description string `json:"description"`
	CreatedAt   int64  `json:"createdAt" doc:"Creation time, ms since the epoch."`
	UpdatedAt   int64  `json:"updatedAt" doc:"Last change, ms since the epoch; strictly increases with every change."`
}

func projectDTO(p maestro.Project) Project {
	return Project{ID: p.ID, Name: p.Name, WorkingDir: p.WorkingDir, Description: p.Description,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// Task is a task in v2.
type Task struct {
	ID            string   `json:"id" doc:"Task id (task_…)."`
	ProjectID     string   `json:"projectId" doc:"The project; immutable."`
	ParentID      *string  `json:"parentId" nullable:"true" doc:"The parent task, null for a root task; immutable."`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Status        string   `json:"status" doc:"todo, in_progress, completed, cancelled or blocked (v1 clients may have stored other values)."`
	SessionStatus *string  `json:"sessionStatus" nullable:"true" doc:"What the working session reports (queued, working, needs_input, blocked, completed, failed, skipped); null until set. v1 omits it instead."`
	Priority      string   `json:"priority" doc:"low, medium, high or critical (v1 clients may have stored other values)."`
	CreatedAt     int64    `json:"createdAt" doc:"Creation time, ms since the epoch."`
	UpdatedAt     int64    `json:"updatedAt" doc:"Last change, ms since the epoch; strictly increases with every change (links and dependency changes included)."`
	StartedAt     *int64   `json:"startedAt" nullable:"true" doc:"When the status first became in_progress; never cleared."`
	CompletedAt   *int64   `json:"completedAt" nullable:"true" doc:"When the status first became completed; never cleared."`
	InitialPrompt string   `json:"initialPrompt" doc:"Set at create only."`
	SessionIDs    []string `json:"sessionIds" doc:"Linked sessions, in link order."`
	SkillIDs      []string `json:"skillIds"`
	AgentIDs      []string `json:"agentIds"`
	Dependencies  []string `json:"dependencies" doc:"Tasks of the same project this one depends on."`
	Lease         *Lease   `json:"lease" required:"false" doc:"The lease an agent session holds on the task (see the claim operations); null when nobody holds it. Always present in responses; project exports leave it null and imports ignore it (leases are not carried over). v1 has no such member."`
}

// Lease is the lease held on a task. Its schema is nullable (huma allows that per struct, not per
// member of a struct type): a task nobody holds has lease null.
type Lease struct {
	_          struct{} `nullable:"true"`
	SessionID  string   `json:"sessionId" doc:"The session holding the task."`
	AcquiredAt int64    `json:"acquiredAt" doc:"When the task was claimed, ms since the epoch."`
	ExpiresAt  int64    `json:"expiresAt" doc:"When the lease ends unless renewed (PUT .../lease), ms since the epoch. An expired lease is swept: the task goes back to todo."`
	Token      int64    `json:"token" doc:"The fencing token; it grows with every claim of the task. Send it as the Lease-Token header to renew, release or finish the task; a stale one gets 409 LEASE_TOKEN_STALE."`
}

func leaseDTO(l *maestro.TaskLease) *Lease {
	if l == nil {
		return nil
	}
	return &Lease{SessionID: l.SessionID, AcquiredAt: l.AcquiredAt, ExpiresAt: l.ExpiresAt, Token: l.Token}
}

func taskDTO(t maestro.Task) Task {
	return Task{ID: t.ID, ProjectID: t.ProjectID, ParentID: t.ParentID, Title: t.Title, Description: t.Description,
		Status: t.Status, SessionStatus: t.SessionStatus, Priority: t.Priority, CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt, StartedAt: t.StartedAt, CompletedAt: t.CompletedAt, InitialPrompt: t.InitialPrompt,
		SessionIDs: nonNil(t.SessionIDs), SkillIDs: nonNil(t.SkillIDs), AgentIDs: nonNil(t.AgentIDs),
		Dependencies: nonNil(t.Dependencies), Lease: leaseDTO(t.Lease)}
}

// Flag is a feature flag in v2.
type Flag struct {
	Key         string  `json:"key" doc:"The flag key."`
	Type        string  `json:"type" enum:"boolean" doc:"Value type; every flag is a boolean."`
	Description string  `json:"description" doc:"What the flag gates."`
	Enabled     bool    `json:"enabled" doc:"The value in effect."`
	Default     bool    `json:"default" doc:"The coded default, in effect while the flag is not set."`
	Source      string  `json:"source" enum:"db,default" doc:"db when the flag is set, default when it is not."`
	UpdatedAt   *int64  `json:"updatedAt" nullable:"true" doc:"When it was set (ms); null at the default."`
	UpdatedBy   *string `json:"updatedBy" nullable:"true" doc:"Who set it, e.g. cli:alice or api:anonymous; null at the default."`
}

func flagDTO(s flags.State) Flag {
	f := Flag{Key: string(s.Key), Type: string(s.Type), Description: s.Description, Enabled: s.Enabled,
		Default: s.Default, Source: s.Source}
	if s.Source == flags.SourceDB {
		at, by := s.UpdatedAt, s.UpdatedBy
		f.UpdatedAt, f.UpdatedBy = &at, &by
	}
	return f
}

func nonNil(items []string) []string {
	if items == nil {
		return []string{}
	}
	return items
}
