package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Sessions is the session use cases (SPEC §2.6) and spawning (SPEC §4).
type Sessions struct {
	base
	// sessionDir is the absolute directory spawn writes manifests under (D27).
	sessionDir string
	serverURL  string
	hostname   string
	platform   string
}

func newSessions(b base, opts Options) *Sessions {
	dir := opts.SessionDir
	if dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
	}
	host := opts.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	return &Sessions{base: b, sessionDir: dir, serverURL: opts.ServerURL, hostname: host, platform: platformName(runtime.GOOS)}
}

// platformName reports the operating system the way the predecessor (Node's os.platform()) did, which
// clients may compare against: Go's "windows" is Node's "win32"; the other names agree.
func platformName(goos string) string {
	if goos == "windows" {
		return "win32"
	}
	return goos
}

// validSessionID is the shape of a caller-chosen session id (D4): ids travel unencoded in URL paths
// (the CLI does not encode them) and name files, so they are restricted to a safe alphabet.
// Ids made of dots only (".", "..", "...") are refused too: as a path segment or a directory name they
// mean this or the parent directory.
var validSessionID = sessionIDMatcher{regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)}

type sessionIDMatcher struct{ re *regexp.Regexp }

// MatchString reports whether id is a valid caller-chosen session id.
func (m sessionIDMatcher) MatchString(id string) bool {
	return m.re.MatchString(id) && strings.Trim(id, ".") != ""
}

// isTerminalStatus reports whether a session status stamps completedAt (SPEC §1.3).
func isTerminalStatus(s string) bool {
	return s == maestro.SessionCompleted || s == maestro.SessionFailed || s == maestro.SessionStopped
}

// List returns the sessions matching f, ordered by startedAt then id (D24).
func (s *Sessions) List(ctx context.Context, f maestro.SessionFilter) ([]maestro.Session, error) {
	return s.st.Read().ListSessions(ctx, f)
}

// Get returns one session with its events and timeline. Errors: NOT_FOUND.
func (s *Sessions) Get(ctx context.Context, id string) (maestro.Session, error) {
	sess, err := s.st.Read().GetSession(ctx, id)
	return sess, notFound(err, "Session", id)
}

// Create registers a session (SPEC §2.6): it links each task (appending the session to the task's
// sessionIds and a task_started entry to the session's timeline) and records session:created, then
// task:session_added per task. Duplicate task ids are dropped (D22); a caller id must be free (D4).
// Errors: VALIDATION_ERROR (no taskIds, no projectId, bad field), NOT_FOUND (project, task),
// CONFLICT (the caller's id exists). An idempotency key (opts, v2) is honoured: see store.Once.
func (s *Sessions) Create(ctx context.Context, in maestro.SessionCreate, opts ...maestro.WriteOpts) (maestro.Session, error) {
	if in.TaskIDs == nil && in.TaskID != "" {
		in.TaskIDs = &[]string{in.TaskID}
	}
	if in.TaskIDs == nil {
		return maestro.Session{}, maestro.InvalidField("taskIds", "taskIds is required")
	}
	if in.ProjectID == "" {
		return maestro.Session{}, maestro.InvalidField("projectId", "Project ID is required")
	}
	if in.ID != "" && !validSessionID.MatchString(in.ID) {
		return maestro.Session{}, maestro.InvalidField("id",
			"Session id must be 1 to 128 characters of letters, digits, '_', '.' or '-', and not only dots")
	}
	if err := firstErr(
		maestro.CheckList("taskIds", *in.TaskIDs, maestro.MaxIDChars),
		maestro.CheckChars("name", in.Name, maestro.MaxNameChars),
		checkIDField("agentId", in.AgentID),
		validateEnum("strategy", &in.Strategy),
		validateEnum("status", &in.Status),
		validateEnv(in.Env),
		validateObject("metadata", in.Metadata),
	); err != nil {
		return maestro.Session{}, err
	}
	now := s.now()
	ms := now.UnixMilli()
	sess := maestro.Session{
		ID: in.ID, ProjectID: in.ProjectID, Name: in.Name, AgentID: in.AgentID, Env: in.Env,
		Strategy: in.Strategy, Status: in.Status, StartedAt: ms, LastActivity: ms,
		Hostname: s.hostname, Platform: s.platform, Metadata: nullIfJSONNull(in.Metadata),
	}
	if sess.ID == "" {
		sess.ID = maestro.NewID(maestro.PrefixSession, now)
	}
	if sess.Name == "" {
		sess.Name = maestro.DefaultSessionName
	}
	if sess.Strategy == "" {
		sess.Strategy = maestro.StrategySimple
	}
	if sess.Status == "" {
		sess.Status = maestro.SessionIdle
	}
	taskIDs := dedupe(*in.TaskIDs)
	var out maestro.Session
	err := once(ctx, s.st, opts, &out, func(q *store.Q) error {
		if err := q.RequireProject(ctx, in.ProjectID); err != nil {
			return notFound(err, "Project", in.ProjectID)
		}
		if err := requireTasks(ctx, q, taskIDs); err != nil {
			return err
		}
		if err := s.insertSession(ctx, q, sess, taskIDs); err != nil {
			return err
		}
		var err error
		if out, err = q.GetSession(ctx, sess.ID); err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventSessionCreated, out.ProjectID, out); err != nil {
			return err
		}
		return emitTaskSessionAdded(ctx, q, out.ProjectID, sess.ID, taskIDs)
	})
	return out, err
}

// insertSession stores a new session, its session_started timeline entry, and for each task a link
// (bumping the task's updatedAt) and a task_started entry. It records no event. A taken id is CONFLICT.
func (s *Sessions) insertSession(ctx context.Context, q *store.Q, sess maestro.Session, taskIDs []string) error {
	if err := q.InsertSession(ctx, sess); err != nil {
		if errors.Is(err, store.ErrUnique) {
			return maestro.Errorf(maestro.CodeConflict, "Session with id '%s' already exists", sess.ID)
		}
		return err
	}
	at := sess.StartedAt
	if err := s.appendEntry(ctx, q, sess.ID, maestro.TimelineEntry{
		Type: maestro.TimelineSessionStarted, Timestamp: at, Message: maestro.TimelineMsgCreated,
	}); err != nil {
		return err
	}
	for _, tid := range taskIDs {
		if _, err := q.Link(ctx, tid, sess.ID); err != nil {
			return err
		}
		if err := q.TouchTask(ctx, tid, at); err != nil {
			return err
		}
		if err := s.appendEntry(ctx, q, sess.ID, maestro.TimelineEntry{
			Type: maestro.TimelineTaskStarted, Timestamp: at, Message: maestro.TimelineMsgTaskStarted, TaskID: tid,
		}); err != nil {
			return err
		}
	}
	return nil
}

// Update applies a session PATCH (SPEC §2.6): taskIds replaces the linked tasks, and the tasks' side
// follows (D5: each task whose sessionIds changed gets its updatedAt bumped and, after session:updated,
// a task:updated); status and agentId replace; env merges; events and timeline entries are appended
// verbatim. completedAt is stamped on every change to completed, failed or stopped. lastActivity always
// moves (D12). Everything else in the body is ignored.
// Errors: VALIDATION_ERROR (bad field, an entry that is not a JSON object), NOT_FOUND (session, task),
// PRECONDITION_FAILED (v2 If-Match, checked against the session as stored before any change).
func (s *Sessions) Update(ctx context.Context, id string, p maestro.SessionPatch, opts ...maestro.WriteOpts) (maestro.Session, error) {
	if err := firstErr(
		validateEnum("status", p.Status),
		checkIDField("agentId", p.AgentID),
		validateList("taskIds", p.TaskIDs),
		validateEnv(p.Env),
		validateEntries("events", p.Events),
		validateEntries("timeline", p.Timeline),
	); err != nil {
		return maestro.Session{}, err
	}
	var out maestro.Session
	err := s.st.InTx(ctx, func(q *store.Q) error {
		// The stored row is all a PATCH changes (its logs are only appended to), and the precondition
		// compares lastActivity: the event log and timeline are read once, for the event, at the end.
		sess, err := q.GetSessionHead(ctx, id)
		if err != nil {
			return notFound(err, "Session", id)
		}
		if err := maestro.OptsOf(opts).IfMatch.Check(sess); err != nil {
			return err
		}
		now := s.nowMs()
		var changedTasks []string
		if p.TaskIDs != nil {
			ids := dedupe(*p.TaskIDs)
			if err := requireTasks(ctx, q, ids); err != nil {
				return err
			}
			if changedTasks, err = q.ReplaceTasksOfSession(ctx, id, ids); err != nil {
				return err
			}
			for _, tid := range changedTasks {
				if err := q.TouchTask(ctx, tid, now); err != nil {
					return err
				}
			}
		}
		if p.Status != nil {
			sess.Status = *p.Status
			if isTerminalStatus(sess.Status) {
				sess.CompletedAt = &now
			}
		}
		if p.AgentID != nil {
			sess.AgentID = p.AgentID
		}
		for k, v := range p.Env {
			sess.Env[k] = v
		}
		sess.LastActivity = maestro.NextStamp(now, sess.LastActivity)
		if err := q.UpdateSession(ctx, sess); err != nil {
			return err
		}
		for _, e := range p.Events {
			if err := q.AppendSessionEvent(ctx, id, entryType(e), now, compactJSON(e)); err != nil {
				return err
			}
		}
		for _, e := range p.Timeline {
			if err := q.AppendTimeline(ctx, id, entryType(e), now, compactJSON(e)); err != nil {
				return err
			}
		}
		if out, err = q.GetSession(ctx, id); err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventSessionUpdated, out.ProjectID, out); err != nil {
			return err
		}
		return tasksChanged(ctx, q, changedTasks)
	})
	return out, err
}

// Delete removes a session (SPEC §2.6): it is unlinked from its tasks (their updatedAt moves, no task
// event) and its events and timeline go with it; its queue and manifest directory are kept. Records
// session:deleted only. Errors: NOT_FOUND, PRECONDITION_FAILED (v2 If-Match).
func (s *Sessions) Delete(ctx context.Context, id string, opts ...maestro.WriteOpts) error {
	return s.st.InTx(ctx, func(q *store.Q) error {
		sess, err := q.GetSessionHead(ctx, id)
		if err != nil {
			return notFound(err, "Session", id)
		}
		if err := maestro.OptsOf(opts).IfMatch.Check(sess); err != nil {
			return err
		}
		now := s.nowMs()
		for _, tid := range sess.TaskIDs {
			if err := q.TouchTask(ctx, tid, now); err != nil {
				return err
			}
		}
		// The predecessor appended a session_stopped entry to the timeline just before deleting the
		// session, so nobody could ever read it; deleting the rows outright is the same to every client.
		if err := q.DeleteSession(ctx, id); err != nil {
			return err
		}
		return q.Emit(ctx, maestro.EventSessionDeleted, sess.ProjectID, maestro.IDPayload{ID: id})
	})
}

// AddEvent appends {id, timestamp, type, data} to a session's event log and records session:updated.
// Errors: VALIDATION_ERROR (no type; checked before the lookup), NOT_FOUND.
func (s *Sessions) AddEvent(ctx context.Context, id string, in maestro.SessionEventAppend) (maestro.Session, error) {
	sess, _, err := s.addEvent(ctx, id, in)
	return sess, err
}

// AppendEvent is AddEvent returning the entry it appended (v2 answers with the entry, not the session).
// An Idempotency-Key (v2) is honoured. Errors: as AddEvent.
func (s *Sessions) AppendEvent(ctx context.Context, id string, in maestro.SessionEventAppend, opts ...maestro.WriteOpts) (maestro.SessionEntry, error) {
	_, entry, err := s.addEvent(ctx, id, in, opts...)
	return entry, err
}

func (s *Sessions) addEvent(ctx context.Context, id string, in maestro.SessionEventAppend, opts ...maestro.WriteOpts) (maestro.Session, maestro.SessionEntry, error) {
	if in.Type == "" {
		return maestro.Session{}, maestro.SessionEntry{}, maestro.InvalidField("type", "type is required")
	}
	if err := validateEnum("type", &in.Type); err != nil {
		return maestro.Session{}, maestro.SessionEntry{}, err
	}
	return s.appendAndPublish(ctx, id, maestro.EntryEvents, opts, func(q *store.Q, now int64) (json.RawMessage, error) {
		entry, err := json.Marshal(maestro.SessionEvent{
			ID: maestro.NewID(maestro.PrefixEvent, s.now()), Timestamp: now, Type: in.Type,
			Data: nullIfJSONNull(in.Data),
		})
		if err != nil {
			return nil, err
		}
		return entry, q.AppendSessionEvent(ctx, id, in.Type, now, entry)
	})
}

// AddTimeline appends an entry to a session's timeline (type defaults to progress) and records
// session:updated. Errors: VALIDATION_ERROR (no message; checked before the lookup), NOT_FOUND.
func (s *Sessions) AddTimeline(ctx context.Context, id string, in maestro.TimelineAppend) (maestro.Session, error) {
	sess, _, err := s.addTimeline(ctx, id, in)
	return sess, err
}

// AppendTimeline is AddTimeline returning the entry it appended (v2 answers with the entry, not the
// session). An Idempotency-Key (v2) is honoured. Errors: as AddTimeline.
func (s *Sessions) AppendTimeline(ctx context.Context, id string, in maestro.TimelineAppend, opts ...maestro.WriteOpts) (maestro.SessionEntry, error) {
	_, entry, err := s.addTimeline(ctx, id, in, opts...)
	return entry, err
}

func (s *Sessions) addTimeline(ctx context.Context, id string, in maestro.TimelineAppend, opts ...maestro.WriteOpts) (maestro.Session, maestro.SessionEntry, error) {
	if in.Message == "" {
		return maestro.Session{}, maestro.SessionEntry{}, maestro.InvalidField("message", "message is required")
	}
	if in.Type == "" {
		in.Type = maestro.TimelineProgress
	}
	if err := firstErr(
		validateEnum("type", &in.Type),
		maestro.CheckBytes("message", in.Message, maestro.MaxTextBytes),
		maestro.CheckChars("taskId", in.TaskID, maestro.MaxIDChars),
		validateObject("metadata", in.Metadata),
	); err != nil {
		return maestro.Session{}, maestro.SessionEntry{}, err
	}
	return s.appendAndPublish(ctx, id, maestro.EntryTimeline, opts, func(q *store.Q, now int64) (json.RawMessage, error) {
		return s.appendTimelineEntry(ctx, q, id, maestro.TimelineEntry{
			Type: in.Type, Timestamp: now, Message: in.Message, TaskID: in.TaskID,
			Metadata: nullIfJSONNull(in.Metadata),
		})
	})
}

// appendAndPublish runs add (which appends one entry to the session's collection kind and returns it) in
// a transaction on an existing session, bumps its lastActivity, records session:updated with the session
// as it then is, and remembers the entry for an idempotent retry.
func (s *Sessions) appendAndPublish(ctx context.Context, id, kind string, opts []maestro.WriteOpts, add func(q *store.Q, now int64) (json.RawMessage, error)) (maestro.Session, maestro.SessionEntry, error) {
	var (
		out   maestro.Session
		entry maestro.SessionEntry
	)
	err := once(ctx, s.st, opts, &entry, func(q *store.Q) error {
		ok, err := q.SessionExists(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return maestro.NotFound("Session", id)
		}
		now := s.nowMs()
		raw, err := add(q, now)
		if err != nil {
			return err
		}
		entry = maestro.SessionEntry{SessionID: id, Kind: kind, Entry: raw}
		if out, err = sessionUpdated(ctx, q, id, now); err != nil {
			return err
		}
		return nil
	})
	return out, entry, err
}

// LinkTask links a task to a session (both sides, never twice) and appends a task_started "Added task to
// session" entry, even when they were already linked. Records session:task_added, then
// task:session_added. Errors: NOT_FOUND (session first, then task).
func (s *Sessions) LinkTask(ctx context.Context, sessionID, taskID string) (maestro.Session, error) {
	return s.changeLink(ctx, sessionID, taskID, true, false)
}

// UnlinkTask removes the link between a task and a session (no error when there was none) and appends
// a task_completed "Removed task from session" entry. Records session:task_removed, then
// task:session_removed. Errors: NOT_FOUND (session first, then task).
func (s *Sessions) UnlinkTask(ctx context.Context, sessionID, taskID string) (maestro.Session, error) {
	return s.changeLink(ctx, sessionID, taskID, false, false)
}

// EnsureLinked is LinkTask with a state's semantics (v2 PUT): when the task and the session are already
// linked it changes nothing, appends no entry and records no event. It returns the session as it then
// is. Errors: NOT_FOUND (session first, then task).
func (s *Sessions) EnsureLinked(ctx context.Context, sessionID, taskID string) (maestro.Session, error) {
	return s.changeLink(ctx, sessionID, taskID, true, true)
}

// EnsureUnlinked is UnlinkTask with a state's semantics (v2 DELETE): when there is no link it changes
// nothing, appends no entry and records no event. Errors: NOT_FOUND (session first, then task).
func (s *Sessions) EnsureUnlinked(ctx context.Context, sessionID, taskID string) (maestro.Session, error) {
	return s.changeLink(ctx, sessionID, taskID, false, true)
}

// changeLink links (link) or unlinks a task and a session. With ensure, a link already in the wanted
// state is left alone: nothing is written and no event recorded.
func (s *Sessions) changeLink(ctx context.Context, sessionID, taskID string, link, ensure bool) (maestro.Session, error) {
	var out maestro.Session
	err := s.st.InTx(ctx, func(q *store.Q) error {
		ok, err := q.SessionExists(ctx, sessionID)
		if err != nil {
			return err
		}
		if !ok {
			return maestro.NotFound("Session", sessionID)
		}
		task, err := q.GetTask(ctx, taskID)
		if err != nil {
			return notFound(err, "Task", taskID)
		}
		now := s.nowMs()
		entry := maestro.TimelineEntry{Timestamp: now, TaskID: taskID}
		sessionEvent, taskEvent := maestro.EventSessionTaskAdded, maestro.EventTaskSessionAdded
		if link {
			entry.Type, entry.Message = maestro.TimelineTaskStarted, maestro.TimelineMsgTaskAdded
			added, err := q.Link(ctx, taskID, sessionID)
			if err != nil {
				return err
			}
			if !added && ensure {
				out, err = q.GetSession(ctx, sessionID)
				return err
			}
			// SPEC §10: a task's updatedAt moves on a new link, and on any unlink.
			if added {
				if err := q.TouchTask(ctx, taskID, now); err != nil {
					return err
				}
			}
		} else {
			entry.Type, entry.Message = maestro.TimelineTaskCompleted, maestro.TimelineMsgTaskRemoved
			sessionEvent, taskEvent = maestro.EventSessionTaskRemoved, maestro.EventTaskSessionRemoved
			removed, err := q.Unlink(ctx, taskID, sessionID)
			if err != nil {
				return err
			}
			if !removed && ensure {
				out, err = q.GetSession(ctx, sessionID)
				return err
			}
			if err := q.TouchTask(ctx, taskID, now); err != nil {
				return err
			}
		}
		if err := s.appendEntry(ctx, q, sessionID, entry); err != nil {
			return err
		}
		if err := q.TouchSession(ctx, sessionID, now); err != nil {
			return err
		}
		if out, err = q.GetSession(ctx, sessionID); err != nil {
			return err
		}
		if err := q.Emit(ctx, sessionEvent, out.ProjectID, maestro.SessionTaskPayload{SessionID: sessionID, TaskID: taskID}); err != nil {
			return err
		}
		return q.Emit(ctx, taskEvent, task.ProjectID, maestro.TaskSessionPayload{TaskID: taskID, SessionID: sessionID})
	})
	return out, err
}

// appendEntry appends a server-written timeline entry, giving it a fresh evt_ id.
func (b base) appendEntry(ctx context.Context, q *store.Q, sessionID string, e maestro.TimelineEntry) error {
	_, err := b.appendTimelineEntry(ctx, q, sessionID, e)
	return err
}

// appendTimelineEntry is appendEntry returning the entry as stored.
func (b base) appendTimelineEntry(ctx context.Context, q *store.Q, sessionID string, e maestro.TimelineEntry) (json.RawMessage, error) {
	e.ID = maestro.NewID(maestro.PrefixEvent, b.now())
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return raw, q.AppendTimeline(ctx, sessionID, e.Type, e.Timestamp, raw)
}

// requireTasks returns NOT_FOUND for the first of ids that is not a task.
func requireTasks(ctx context.Context, q *store.Q, ids []string) error {
	for _, tid := range ids {
		ok, err := q.TaskExists(ctx, tid)
		if err != nil {
			return err
		}
		if !ok {
			return maestro.NotFound("Task", tid)
		}
	}
	return nil
}

// emitTaskSessionAdded records task:session_added for each task of a new session, in order.
func emitTaskSessionAdded(ctx context.Context, q *store.Q, projectID, sessionID string, taskIDs []string) error {
	for _, tid := range taskIDs {
		if err := q.Emit(ctx, maestro.EventTaskSessionAdded, projectID,
			maestro.TaskSessionPayload{TaskID: tid, SessionID: sessionID}); err != nil {
			return err
		}
	}
	return nil
}

// tasksChanged records task:updated, with the task as it now is, for each task whose session list just
// changed from the session side (D5).
func tasksChanged(ctx context.Context, q *store.Q, ids []string) error {
	for _, tid := range ids {
		t, err := q.GetTask(ctx, tid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventTaskUpdated, t.ProjectID, t); err != nil {
			return err
		}
	}
	return nil
}

// validateEnv bounds a session env: string values (the JSON decoder already checked the types), keys
// of at most 128 characters, values of at most 256 KiB, at most 1000 keys.
func validateEnv(env map[string]string) error {
	if len(env) > maestro.MaxListItems {
		return maestro.InvalidField("env", "env must have at most %d keys", maestro.MaxListItems)
	}
	for k, v := range env {
		if k == "" {
			return maestro.InvalidField("env", "env keys must not be empty")
		}
		if err := firstErr(
			maestro.CheckChars("env", k, maestro.MaxIDChars),
			maestro.CheckBytes("env."+k, v, maestro.MaxTextBytes),
		); err != nil {
			return err
		}
	}
	return nil
}

// validateObject requires raw, when present and not null, to be a JSON object (D10).
func validateObject(field string, raw json.RawMessage) error {
	raw = nullIfJSONNull(raw)
	if len(raw) == 0 {
		return nil
	}
	if !isJSONObject(raw) {
		return maestro.InvalidField(field, "%s must be a JSON object", field)
	}
	return nil
}

// validateEntries requires every appended event or timeline entry to be a JSON object (D10).
func validateEntries(field string, entries []json.RawMessage) error {
	if len(entries) > maestro.MaxListItems {
		return maestro.InvalidField(field, "%s must have at most %d entries", field, maestro.MaxListItems)
	}
	for i, e := range entries {
		if !isJSONObject(e) {
			return maestro.InvalidField(field, "%s[%d] must be a JSON object", field, i)
		}
	}
	return nil
}

func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{' && json.Valid(raw)
}

// nullIfJSONNull treats a JSON null like an absent value.
func nullIfJSONNull(raw json.RawMessage) json.RawMessage {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil
	}
	return raw
}

// compactJSON strips insignificant whitespace from a valid JSON value, keeping its keys, their order and
// every value exactly as sent.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

// entryType returns the "type" member of an appended entry when it is a string (kept in its own column
// for inspection), else "".
func entryType(raw json.RawMessage) string {
	var e struct {
		Type any `json:"type"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	if t, ok := e.Type.(string); ok {
		return t
	}
	return ""
}

// checkIDField bounds an id-like field to 128 characters.
func checkIDField(field string, v *string) error {
	if v == nil {
		return nil
	}
	return maestro.CheckChars(field, *v, maestro.MaxIDChars)
}

// roleTitle is a role as the start of a sentence ("Worker for task_1").
func roleTitle(role string) string {
	if role == "" {
		return ""
	}
	return strings.ToUpper(role[:1]) + role[1:]
}
