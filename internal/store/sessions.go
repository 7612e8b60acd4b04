package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// sessionFromRow converts a session row plus the JSON arrays of its linked task ids, its events and its
// timeline entries. Every session query returns these same four columns, so all their row types convert
// to db.GetSessionRow.
func sessionFromRow(r db.GetSessionRow) (maestro.Session, error) {
	s := r.Session
	out := maestro.Session{
		ID: s.ID, ProjectID: s.ProjectID, Name: s.Name, AgentID: stringPtr(s.AgentID), Strategy: s.Strategy,
		Status: s.Status, StartedAt: s.StartedAt, LastActivity: s.LastActivity,
		CompletedAt: int64Ptr(s.CompletedAt), Hostname: s.Hostname, Platform: s.Platform,
	}
	var err error
	if out.TaskIDs, err = parseList(r.TaskIds); err != nil {
		return out, err
	}
	out.Env = map[string]string{}
	if err := json.Unmarshal([]byte(s.Env), &out.Env); err != nil {
		return out, fmt.Errorf("store: corrupt env of session %s: %w", s.ID, err)
	}
	if out.Env == nil {
		out.Env = map[string]string{}
	}
	if s.Metadata.Valid {
		out.Metadata = json.RawMessage(s.Metadata.String)
	}
	if out.Events, err = parseEntries(r.Events); err != nil {
		return out, fmt.Errorf("store: events of session %s: %w", s.ID, err)
	}
	if out.Timeline, err = parseEntries(r.Timeline); err != nil {
		return out, fmt.Errorf("store: timeline of session %s: %w", s.ID, err)
	}
	return out, nil
}

// parseEntries splits a JSON array of entries into its elements, never returning nil.
func parseEntries(raw string) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	if raw == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []json.RawMessage{}
	}
	return out, nil
}

func sessionsFromRows[R ~struct {
	Session  db.Session
	TaskIds  string
	Events   string
	Timeline string
}](rows []R) ([]maestro.Session, error) {
	out := make([]maestro.Session, len(rows))
	for i, r := range rows {
		s, err := sessionFromRow(db.GetSessionRow(r))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// GetSession returns the session with its task ids, events and timeline, or ErrNotFound.
func (q *Q) GetSession(ctx context.Context, id string) (maestro.Session, error) {
	r, err := q.q.GetSession(q.c(ctx), id)
	if err != nil {
		return maestro.Session{}, mapErr(err)
	}
	return sessionFromRow(r)
}

// ListSessions returns the sessions matching f, ordered by startedAt then id (D24). Each filter shape
// has its own query that seeks the most selective index: the task's links, then the project, then the
// status; the remaining filters are checked on the rows found.
func (q *Q) ListSessions(ctx context.Context, f maestro.SessionFilter) ([]maestro.Session, error) {
	var active int64
	if f.Active {
		active = 1
	}
	switch {
	case f.TaskID != "":
		rows, err := q.q.ListSessionsByTask(q.c(ctx), db.ListSessionsByTaskParams{
			TaskID: f.TaskID, ProjectID: nullString(f.ProjectID), Status: nullString(f.Status), ActiveOnly: active,
		})
		if err != nil {
			return nil, mapErr(err)
		}
		return sessionsFromRows(rows)
	case f.ProjectID != "":
		rows, err := q.q.ListSessionsByProject(q.c(ctx), db.ListSessionsByProjectParams{
			ProjectID: f.ProjectID, Status: nullString(f.Status), ActiveOnly: active,
		})
		if err != nil {
			return nil, mapErr(err)
		}
		return sessionsFromRows(rows)
	case f.Status != "":
		if f.Active && f.Status == maestro.SessionCompleted {
			return []maestro.Session{}, nil // "active" excludes exactly this status
		}
		rows, err := q.q.ListSessionsByStatus(q.c(ctx), f.Status)
		if err != nil {
			return nil, mapErr(err)
		}
		return sessionsFromRows(rows)
	case f.Active:
		rows, err := q.q.ListActiveSessions(q.c(ctx))
		if err != nil {
			return nil, mapErr(err)
		}
		return sessionsFromRows(rows)
	default:
		rows, err := q.q.ListSessions(q.c(ctx))
		if err != nil {
			return nil, mapErr(err)
		}
		return sessionsFromRows(rows)
	}
}

// SessionExists reports whether a session with this id exists.
func (q *Q) SessionExists(ctx context.Context, id string) (bool, error) {
	ok, err := q.q.SessionExists(q.c(ctx), id)
	return ok, mapErr(err)
}

// TouchSession bumps a session's lastActivity to now (strictly increasing, D12).
func (q *Q) TouchSession(ctx context.Context, id string, now int64) error {
	return mapErr(q.q.TouchSession(q.c(ctx), db.TouchSessionParams{ID: id, Now: now}))
}

// InsertSession stores a new session row. Its TaskIDs, Events and Timeline are ignored: links live in
// the join table and entries are appended with AppendSessionEvent and AppendTimeline. A duplicate id is
// ErrUnique.
func (q *Q) InsertSession(ctx context.Context, s maestro.Session) error {
	env, err := jsonEnv(s.Env)
	if err != nil {
		return err
	}
	return mapErr(q.q.InsertSession(q.c(ctx), db.InsertSessionParams{
		ID: s.ID, ProjectID: s.ProjectID, Name: s.Name, AgentID: nullStringPtr(s.AgentID), Env: env,
		Strategy: s.Strategy, Status: s.Status, StartedAt: s.StartedAt, LastActivity: s.LastActivity,
		CompletedAt: nullInt64Ptr(s.CompletedAt), Hostname: s.Hostname, Platform: s.Platform,
		Metadata: nullRaw(s.Metadata),
	}))
}

// UpdateSession stores the mutable fields of an existing session: agentId, env, status, lastActivity
// and completedAt.
func (q *Q) UpdateSession(ctx context.Context, s maestro.Session) error {
	env, err := jsonEnv(s.Env)
	if err != nil {
		return err
	}
	return mapErr(q.q.UpdateSession(q.c(ctx), db.UpdateSessionParams{
		ID: s.ID, AgentID: nullStringPtr(s.AgentID), Env: env, Status: s.Status,
		LastActivity: s.LastActivity, CompletedAt: nullInt64Ptr(s.CompletedAt),
	}))
}

// DeleteSession deletes a session and, through foreign keys, its links, events and timeline (its queue
// is kept); ErrNotFound when there was none.
func (q *Q) DeleteSession(ctx context.Context, id string) error {
	n, err := q.q.DeleteSession(q.c(ctx), id)
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// AppendSessionEvent appends one entry (a JSON object, stored as given) to a session's event log.
// typ is the entry's type, kept in its own column for inspection with sqlite3.
func (q *Q) AppendSessionEvent(ctx context.Context, sessionID, typ string, at int64, entry json.RawMessage) error {
	return mapErr(q.q.InsertSessionEvent(q.c(ctx), db.InsertSessionEventParams{
		SessionID: sessionID, Type: typ, CreatedAt: at, Data: string(entry),
	}))
}

// AppendTimeline appends one entry (a JSON object, stored as given) to a session's timeline.
func (q *Q) AppendTimeline(ctx context.Context, sessionID, typ string, at int64, entry json.RawMessage) error {
	return mapErr(q.q.InsertSessionTimeline(q.c(ctx), db.InsertSessionTimelineParams{
		SessionID: sessionID, Type: typ, CreatedAt: at, Data: string(entry),
	}))
}

// jsonEnv encodes a session env for its JSON TEXT column; nil becomes "{}".
func jsonEnv(env map[string]string) (string, error) {
	if len(env) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(env)
	if err != nil {
		return "", fmt.Errorf("store: encode env: %w", err)
	}
	return string(b), nil
}

// nullRaw stores absent JSON as SQL NULL.
func nullRaw(raw json.RawMessage) sql.NullString {
	if len(raw) == 0 {
		return sql.NullString{}
	}
	return sql.NullString{String: string(raw), Valid: true}
}
