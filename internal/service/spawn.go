package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// SpawnMessage is the message of a successful spawn reply (SPEC §4.2 step 17).
const SpawnMessage = "Spawn request sent to Agents UI"

// spawnMetadata is the metadata of a spawned session, in the predecessor's key order.
type spawnMetadata struct {
	Skills      []string        `json:"skills"`
	SpawnedBy   *string         `json:"spawnedBy"`
	SpawnSource string          `json:"spawnSource"`
	Role        string          `json:"role"`
	Strategy    string          `json:"strategy"`
	Context     json.RawMessage `json:"context"`
}

// spawnPlan is a validated spawn request.
type spawnPlan struct {
	in      maestro.SpawnRequest
	taskIDs []string
	tasks   []maestro.Task
	project maestro.Project
	parent  *string
}

// Spawn creates a session for an agent and asks the UI to start it (SPEC §4): it validates in the
// contract's order, then, in ONE transaction (D1), creates the session (status spawning, tasks linked,
// task_started entries), its queue for strategy queue, writes the manifest file (D2) and sets the
// session's env to the spawn variables. The manifest file is written before the commit and removed if
// the transaction does not commit, so a failed spawn stores nothing, writes nothing and sends nothing.
// Events, in order: session:updated, session:spawn, task:session_added per task, then queue:created for
// the queue strategy (D14); never session:created.
// Errors (SPEC §4.2): missing_project_id, invalid_task_ids, invalid_spawn_source, missing_session_id,
// parent_session_not_found, invalid_role, task_not_found, project_not_found, invalid_strategy,
// VALIDATION_ERROR (a field too long or of the wrong type, D23), manifest_generation_failed, and
// spawn_error for anything else (STORAGE_UNAVAILABLE and OVERLOADED keep their codes so that a full
// disk still reads as one). An idempotency key (opts, v2) is honoured: a repeated key returns the first
// result without running the spawn again; a reused key with another request is IDEMPOTENCY_KEY_REUSED.
func (s *Sessions) Spawn(ctx context.Context, in maestro.SpawnRequest, opts ...maestro.WriteOpts) (maestro.SpawnResult, error) {
	var (
		res  maestro.SpawnResult
		undo func()
	)
	// A v2 retry with the same Idempotency-Key gets the first result back instead of a second session
	// and a second manifest (the CLI retries spawns on 5xx and network errors).
	err := once(ctx, s.st, opts, &res, func(q *store.Q) error {
		plan, err := s.validateSpawn(ctx, q, in)
		if err != nil {
			return err
		}
		res, undo, err = s.createSpawned(ctx, q, plan)
		return err
	})
	if err != nil {
		if undo != nil {
			undo()
		}
		return maestro.SpawnResult{}, spawnError(err)
	}
	return res, nil
}

// validateSpawn checks a spawn request in the order of SPEC §4.2 steps 1–8, then the field limits.
func (s *Sessions) validateSpawn(ctx context.Context, q *store.Q, in maestro.SpawnRequest) (spawnPlan, error) {
	p := spawnPlan{in: in}
	if in.ProjectID == "" {
		return p, maestro.Errorf(maestro.CodeMissingProjectID, "projectId is required")
	}
	ids, ok := parseTaskIDs(in.TaskIDs)
	if !ok {
		return p, maestro.Errorf(maestro.CodeInvalidTaskIDs, "taskIds must be a non-empty array of task ids")
	}
	p.taskIDs = dedupe(ids)
	if p.in.SpawnSource == "" {
		p.in.SpawnSource = maestro.SpawnSourceUI
	}
	if p.in.SpawnSource != maestro.SpawnSourceUI && p.in.SpawnSource != maestro.SpawnSourceSession {
		return p, maestro.Errorf(maestro.CodeInvalidSpawnSource, "spawnSource must be 'ui' or 'session', not '%s'", p.in.SpawnSource)
	}
	if p.in.SpawnSource == maestro.SpawnSourceSession {
		if in.SessionID == "" {
			return p, maestro.Errorf(maestro.CodeMissingSessionID, "sessionId is required when spawnSource is 'session'")
		}
		ok, err := q.SessionExists(ctx, in.SessionID)
		if err != nil {
			return p, err
		}
		if !ok {
			return p, maestro.Errorf(maestro.CodeParentSessionMissing, "Parent session with id '%s' not found", in.SessionID)
		}
	}
	if in.SessionID != "" {
		parent := in.SessionID
		p.parent = &parent
	}
	if p.in.Role == "" {
		p.in.Role = maestro.RoleWorker
	}
	if !maestro.ValidRole(p.in.Role) {
		return p, maestro.Errorf(maestro.CodeInvalidRole, "role must be 'worker' or 'orchestrator', not '%s'", p.in.Role)
	}
	for _, tid := range p.taskIDs {
		t, err := q.GetTask(ctx, tid)
		if errors.Is(err, store.ErrNotFound) {
			e := maestro.Errorf(maestro.CodeTaskNotFound, "Task with id '%s' not found", tid)
			e.Details = map[string]any{"taskId": tid}
			return p, e
		}
		if err != nil {
			return p, err
		}
		p.tasks = append(p.tasks, t)
	}
	project, err := q.GetProject(ctx, in.ProjectID)
	if errors.Is(err, store.ErrNotFound) {
		return p, maestro.Errorf(maestro.CodeProjectNotFound, "Project with id '%s' not found", in.ProjectID)
	}
	if err != nil {
		return p, err
	}
	p.project = project
	if p.in.Strategy == "" {
		p.in.Strategy = maestro.StrategySimple
	}
	switch p.in.Strategy {
	case maestro.StrategySimple, maestro.StrategyQueue:
	case maestro.StrategyTree:
		// D3: the manifest schema has no tree strategy, so the predecessor accepted it here and then
		// failed with a 500 (which the CLI retries). Refuse it up front instead.
		return p, maestro.Errorf(maestro.CodeInvalidStrategy, "strategy 'tree' cannot be spawned: only 'simple' and 'queue' can")
	default:
		return p, maestro.Errorf(maestro.CodeInvalidStrategy, "strategy must be 'simple' or 'queue', not '%s'", p.in.Strategy)
	}
	return p, firstErr(
		maestro.CheckList("taskIds", p.taskIDs, maestro.MaxIDChars),
		maestro.CheckChars("sessionName", in.SessionName, maestro.MaxNameChars),
		maestro.CheckChars("sessionId", in.SessionID, maestro.MaxIDChars),
		maestro.CheckList("skills", in.Skills, maestro.MaxIDChars),
		validateObject("context", in.Context),
	)
}

// parseTaskIDs reads spawn's taskIds: a non-empty JSON array of strings.
func parseTaskIDs(raw json.RawMessage) ([]string, bool) {
	raw = nullIfJSONNull(raw)
	if len(raw) == 0 || bytes.TrimSpace(raw)[0] != '[' {
		return nil, false
	}
	var ids []string
	if err := json.Unmarshal(raw, &ids); err != nil || len(ids) == 0 {
		return nil, false
	}
	return ids, true
}

// createSpawned stores a validated spawn and records its events (SPEC §4.2 steps 9–16). On success it
// returns, besides the result, the undo function of the manifest file, for the caller to run should the
// commit fail.
func (s *Sessions) createSpawned(ctx context.Context, q *store.Q, p spawnPlan) (maestro.SpawnResult, func(), error) {
	now := s.now()
	ms := now.UnixMilli()
	in := p.in
	ctxJSON := compactJSON(nullIfJSONNull(in.Context))
	if len(ctxJSON) == 0 {
		ctxJSON = json.RawMessage("{}")
	}
	meta, err := json.Marshal(spawnMetadata{
		Skills: orEmpty(in.Skills), SpawnedBy: p.parent, SpawnSource: in.SpawnSource, Role: in.Role,
		Strategy: in.Strategy, Context: ctxJSON,
	})
	if err != nil {
		return maestro.SpawnResult{}, nil, err
	}
	name := in.SessionName
	if name == "" {
		name = roleTitle(in.Role) + " for " + p.taskIDs[0]
	}
	sess := maestro.Session{
		ID: maestro.NewID(maestro.PrefixSession, now), ProjectID: p.project.ID, Name: name, Env: map[string]string{},
		Strategy: in.Strategy, Status: maestro.SessionSpawning, StartedAt: ms, LastActivity: ms,
		Hostname: s.hostname, Platform: s.platform, Metadata: meta,
	}
	if err := s.insertSession(ctx, q, sess, p.taskIDs); err != nil {
		return maestro.SpawnResult{}, nil, err
	}
	if in.Strategy == maestro.StrategyQueue {
		qu := maestro.Queue{SessionID: sess.ID, CurrentIndex: -1, CreatedAt: ms, UpdatedAt: ms}
		for _, tid := range p.taskIDs {
			qu.Items = append(qu.Items, maestro.QueueItem{TaskID: tid, Status: maestro.QueueQueued, AddedAt: ms})
		}
		if err := q.InsertQueue(ctx, qu); err != nil {
			return maestro.SpawnResult{}, nil, err
		}
	}

	templateID := ""
	tmpl, err := q.TemplateOfRole(ctx, in.Role)
	switch {
	case err == nil:
		templateID = tmpl.ID
	case !errors.Is(err, store.ErrNotFound): // no template for the role: the manifest simply has none
		return maestro.SpawnResult{}, nil, err
	}
	manifest, err := buildManifest(in.Role, in.Strategy, p.project, p.tasks, in.Skills, templateID)
	if err != nil {
		return maestro.SpawnResult{}, nil, manifestError(err)
	}
	data, err := encodeManifest(manifest)
	if err != nil {
		return maestro.SpawnResult{}, nil, manifestError(err)
	}
	path, undo, err := writeManifest(s.sessionDir, sess.ID, data)
	if err != nil {
		return maestro.SpawnResult{}, nil, manifestError(err)
	}

	envVars := map[string]string{
		maestro.EnvSessionID:    sess.ID,
		maestro.EnvManifestPath: path,
		maestro.EnvServerURL:    s.serverURL,
		maestro.EnvStrategy:     in.Strategy,
	}
	sess.Env = envVars
	sess.LastActivity = maestro.NextStamp(s.nowMs(), sess.LastActivity)
	if err := q.UpdateSession(ctx, sess); err != nil {
		return maestro.SpawnResult{}, undo, err
	}
	out, err := q.GetSession(ctx, sess.ID)
	if err != nil {
		return maestro.SpawnResult{}, undo, err
	}
	if err := q.Emit(ctx, maestro.EventSessionUpdated, out.ProjectID, out); err != nil {
		return maestro.SpawnResult{}, undo, err
	}
	compactManifest, err := json.Marshal(manifest)
	if err != nil {
		return maestro.SpawnResult{}, undo, err
	}
	if err := q.Emit(ctx, maestro.EventSessionSpawn, out.ProjectID, maestro.SpawnPayload{
		Session: out, Command: "maestro " + in.Role + " init", Cwd: p.project.WorkingDir, EnvVars: envVars,
		Manifest: compactManifest, ProjectID: out.ProjectID, TaskIDs: p.taskIDs, SpawnSource: in.SpawnSource,
		ParentSessionID: p.parent, IsSpawnCreated: true,
	}); err != nil {
		return maestro.SpawnResult{}, undo, err
	}
	if err := emitTaskSessionAdded(ctx, q, out.ProjectID, sess.ID, p.taskIDs); err != nil {
		return maestro.SpawnResult{}, undo, err
	}
	if in.Strategy == maestro.StrategyQueue {
		qu, err := q.GetQueue(ctx, sess.ID)
		if err != nil {
			return maestro.SpawnResult{}, undo, err
		}
		if err := q.Emit(ctx, maestro.EventQueueCreated, out.ProjectID,
			maestro.QueueCreatedPayload{SessionID: sess.ID, Queue: qu}); err != nil {
			return maestro.SpawnResult{}, undo, err
		}
	}
	return maestro.SpawnResult{Session: out, ManifestPath: path}, undo, nil
}

func manifestError(err error) error {
	return &maestro.Error{Code: maestro.CodeManifestFailed, Message: "Failed to generate manifest: " + err.Error(), Err: err}
}

// spawnError gives every failure of a spawn one of spawn's codes (SPEC §4.2: "any other exception →
// 500 spawn_error"), except validation failures (D23) and storage unavailability, which keep theirs.
func spawnError(err error) error {
	e := maestro.AsError(err)
	switch e.Code {
	case maestro.CodeMissingProjectID, maestro.CodeInvalidTaskIDs, maestro.CodeInvalidSpawnSource,
		maestro.CodeMissingSessionID, maestro.CodeParentSessionMissing, maestro.CodeInvalidRole,
		maestro.CodeTaskNotFound, maestro.CodeProjectNotFound, maestro.CodeInvalidStrategy,
		maestro.CodeManifestFailed, maestro.CodeSpawnError, maestro.CodeValidation,
		maestro.CodeStorageDown, maestro.CodeOverloaded, maestro.CodeIdempotencyReused:
		return err
	}
	msg := "Failed to spawn session"
	if e.Code != maestro.CodeInternal {
		msg += ": " + e.Message
	}
	return &maestro.Error{Code: maestro.CodeSpawnError, Message: msg, Err: err}
}
