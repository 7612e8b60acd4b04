package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// The v2 session list is built here, like the task list (taskpage.go): its filters (project, task,
// statuses, active) combine freely with four sorts and a keyset. Each filter is a plain term SQLite can
// seek an index on; TestListQueryPlans checks every shape. Pages carry no events or timeline: v2 serves
// those as their own paginated sub-collections, so a page of sessions costs the same however long the
// sessions' logs are.

// sessionColumns selects a session row (in db.Session's field order) plus its taskIds in link order.
const sessionColumns = `s.id, s.project_id, s.name, s.agent_id, s.env, s.strategy, s.status, s.started_at,
       s.last_activity, s.completed_at, s.hostname, s.platform, s.metadata,
       CAST((SELECT json_group_array(l.task_id) FROM (SELECT task_id FROM task_sessions WHERE session_id = s.id ORDER BY session_pos) l) AS TEXT) AS task_ids`

// sessionSort is one order of the session list: its column (ascending form; id breaks ties).
type sessionSort struct {
	column string
	desc   bool
	key    func(s db.Session) int64
}

var sessionSorts = map[string]sessionSort{
	maestro.SortStartedAt:        {column: "s.started_at", key: func(s db.Session) int64 { return s.StartedAt }},
	maestro.SortStartedAtDesc:    {column: "s.started_at", desc: true, key: func(s db.Session) int64 { return s.StartedAt }},
	maestro.SortLastActivity:     {column: "s.last_activity", key: func(s db.Session) int64 { return s.LastActivity }},
	maestro.SortLastActivityDesc: {column: "s.last_activity", desc: true, key: func(s db.Session) int64 { return s.LastActivity }},
}

// orderBy renders the ORDER BY list. With unindexed, the columns carry a unary +, which keeps SQLite from
// serving the order by walking the sort's index (see buildSessionList).
func (s sessionSort) orderBy(unindexed bool) string {
	col, id := s.column, "s.id"
	if unindexed {
		col, id = "+"+col, "+"+id
	}
	if s.desc {
		return col + " DESC, " + id + " DESC"
	}
	return col + ", " + id
}

// after is "strictly after the cursor row"; the first column is also bounded on its own so that SQLite
// seeks rather than filters (see taskSort.after), unless unindexed.
func (s sessionSort) after(unindexed bool) string {
	op, first := ">", ">="
	if s.desc {
		op, first = "<", "<="
	}
	col, id := s.column, "s.id"
	if unindexed {
		col, id = "+"+col, "+"+id
	}
	return col + " " + first + " ? AND (" + col + ", " + id + ") " + op + " (?, ?)"
}

// sessionListSQL is one v2 session list query under construction.
type sessionListSQL struct {
	from  string
	conds []string
	args  []any
	// unindexedSort keeps the sort from choosing the index (see buildSessionList).
	unindexedSort bool
}

// buildSessionList turns the filters of sq into SQL. A task filter drives the query from the task's few
// links (CROSS JOIN keeps that order); otherwise SQLite seeks whichever index fits the project, the
// statuses and the sort. active=true alone is two ranges of the status index (every status below
// "completed" and every one above), then a sort of the active sessions: left to itself SQLite would walk
// the sort's index over every session and skip the completed ones, which pile up over time and would
// make that a scan of nearly all sessions.
func buildSessionList(sq maestro.SessionQuery) sessionListSQL {
	var b sessionListSQL
	if sq.TaskID != "" {
		b.from = "task_sessions ts CROSS JOIN sessions s ON s.id = ts.session_id"
		b.conds = append(b.conds, "ts.task_id = ?")
		b.args = append(b.args, sq.TaskID)
	} else {
		b.from = "sessions s"
	}
	if sq.ProjectID != "" {
		b.conds = append(b.conds, "s.project_id = ?")
		b.args = append(b.args, sq.ProjectID)
	}
	statuses := sessionStatuses(sq)
	switch {
	case len(statuses) > 0:
		b.conds = append(b.conds, "s.status IN ("+placeholders(len(statuses))+")")
		for _, st := range statuses {
			b.args = append(b.args, st)
		}
	case sq.Active:
		b.conds = append(b.conds, "(s.status < 'completed' OR s.status > 'completed')")
		b.unindexedSort = sq.ProjectID == "" && sq.TaskID == ""
	}
	return b
}

// sessionStatuses returns the statuses to match: the requested ones, without completed when active.
func sessionStatuses(sq maestro.SessionQuery) []string {
	out := slices.Clone(sq.Statuses)
	if sq.Active {
		out = slices.DeleteFunc(out, func(s string) bool { return s == maestro.SessionCompleted })
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (b sessionListSQL) where(extra ...string) string {
	return where(append(slices.Clone(b.conds), extra...))
}

// sessionFilterFingerprint identifies the filters of sq, for cursor checks.
func sessionFilterFingerprint(sq maestro.SessionQuery) string {
	statuses := slices.Clone(sq.Statuses)
	slices.Sort(statuses)
	return fingerprint("sessions", sq.ProjectID, sq.TaskID, strings.Join(statuses, ","), strconv.FormatBool(sq.Active))
}

// SessionPage returns one page of the sessions matching sq, without their events and timeline.
// Errors: VALIDATION_ERROR (a cursor of another query); the service has validated the sort.
func (q *Q) SessionPage(ctx context.Context, sq maestro.SessionQuery) (maestro.Page[maestro.Session], error) {
	var page maestro.Page[maestro.Session]
	sortName := sq.Sort
	if sortName == "" {
		sortName = maestro.SortStartedAt
	}
	srt, ok := sessionSorts[sortName]
	if !ok {
		return page, unknownSort(sortName)
	}
	filter := sessionFilterFingerprint(sq)
	after, err := decodeCursor(sq.Cursor, sortName, filter)
	if err != nil {
		return page, err
	}
	limit := pageLimit(sq.Limit)
	if len(sq.Statuses) > 0 && len(sessionStatuses(sq)) == 0 {
		// Only completed was asked for, and active excludes exactly that status.
		page.Items = []maestro.Session{}
		if sq.WithTotal {
			var zero int64
			page.Total = &zero
		}
		return page, nil
	}
	b := buildSessionList(sq)
	if sq.WithTotal {
		if page.Total, err = q.countRows(ctx, "SELECT COUNT(*) FROM "+b.from+b.where(), b.args...); err != nil {
			return page, err
		}
	}
	args := slices.Clone(b.args)
	var extra []string
	if after != nil {
		extra = append(extra, srt.after(b.unindexedSort))
		args = append(args, after.A, after.A, after.ID)
	}
	query := "SELECT " + sessionColumns + " FROM " + b.from + b.where(extra...) + " ORDER BY " + srt.orderBy(b.unindexedSort) + " LIMIT ?"
	args = append(args, limit+1)
	err = readPage(ctx, q, &page, limit, sortName, filter, func(rows *sql.Rows) (maestro.Session, keyset, error) {
		var r db.GetSessionRow
		if err := rows.Scan(sessionScanDest(&r)...); err != nil {
			return maestro.Session{}, keyset{}, err
		}
		s, err := sessionFromRow(r)
		return s, keyset{A: srt.key(r.Session), ID: r.Session.ID}, err
	}, query, args...)
	return page, err
}

// sessionScanDest lists the scan destinations of sessionColumns.
func sessionScanDest(r *db.GetSessionRow) []any {
	s := &r.Session
	return []any{&s.ID, &s.ProjectID, &s.Name, &s.AgentID, &s.Env, &s.Strategy, &s.Status, &s.StartedAt,
		&s.LastActivity, &s.CompletedAt, &s.Hostname, &s.Platform, &s.Metadata, &r.TaskIds}
}

// GetSessionHead returns a session with its task ids but without its events and timeline (both empty),
// or ErrNotFound.
func (q *Q) GetSessionHead(ctx context.Context, id string) (maestro.Session, error) {
	r, err := q.q.GetSessionHead(q.c(ctx), id)
	if err != nil {
		return maestro.Session{}, mapErr(err)
	}
	return sessionFromRow(db.GetSessionRow{Session: r.Session, TaskIds: r.TaskIds})
}
