package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// sessionFromRow converts a session row plus its JSON list of linked task ids. Events and timeline are
// loaded separately (they can be long); callers that need them use GetSession.
func sessionFromRow(r db.GetSessionRow) (maestro.Session, error) {
	s := r.Session
	out := maestro.Session{
		ID: s.ID, ProjectID: s.ProjectID, Name: s.Name, AgentID: stringPtr(s.AgentID), Strategy: s.Strategy,
		Status: s.Status, StartedAt: s.StartedAt, LastActivity: s.LastActivity,
		CompletedAt: int64Ptr(s.CompletedAt), Hostname: s.Hostname, Platform: s.Platform,
		Events: []json.RawMessage{}, Timeline: []json.RawMessage{},
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
	return out, nil
}

// GetSession returns the session with its events and timeline, or ErrNotFound.
func (q *Q) GetSession(ctx context.Context, id string) (maestro.Session, error) {
	r, err := q.q.GetSession(ctx, id)
	if err != nil {
		return maestro.Session{}, mapErr(err)
	}
	s, err := sessionFromRow(r)
	if err != nil {
		return s, err
	}
	if s.Events, err = q.sessionEntries(ctx, q.q.ListSessionEventData, id); err != nil {
		return s, err
	}
	if s.Timeline, err = q.sessionEntries(ctx, q.q.ListSessionTimelineData, id); err != nil {
		return s, err
	}
	return s, nil
}

func (q *Q) sessionEntries(ctx context.Context, list func(context.Context, string) ([]string, error), id string) ([]json.RawMessage, error) {
	rows, err := list(ctx, id)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]json.RawMessage, len(rows))
	for i, r := range rows {
		out[i] = json.RawMessage(r)
	}
	return out, nil
}

// SessionExists reports whether a session with this id exists.
func (q *Q) SessionExists(ctx context.Context, id string) (bool, error) {
	ok, err := q.q.SessionExists(ctx, id)
	return ok, mapErr(err)
}

// TouchSession bumps a session's lastActivity to now (strictly increasing, D12).
func (q *Q) TouchSession(ctx context.Context, id string, now int64) error {
	return mapErr(q.q.TouchSession(ctx, db.TouchSessionParams{ID: id, Now: now}))
}
