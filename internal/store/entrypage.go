package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// entryTables maps a session collection to its table. The name is never taken from a client: only these
// two constants can reach the SQL.
var entryTables = map[string]string{
	maestro.EntryTimeline: "session_timeline",
	maestro.EntryEvents:   "session_events",
}

// EntryPage returns one page of a session's timeline or event log (kind is maestro.EntryTimeline or
// maestro.EntryEvents), each entry as stored, keyset-paginated on the append sequence through the
// (session_id, seq) index. Entries appended while a client pages are never seen twice or skipped: with
// the oldest first they show up on later pages; with the newest first they are above the first page.
// Errors: VALIDATION_ERROR (unknown sort, a cursor of another query).
func (q *Q) EntryPage(ctx context.Context, kind string, eq maestro.EntryQuery) (maestro.Page[json.RawMessage], error) {
	var page maestro.Page[json.RawMessage]
	table, ok := entryTables[kind]
	if !ok {
		return page, fmt.Errorf("store: unknown session collection %q", kind)
	}
	sortName := eq.Sort
	if sortName == "" {
		sortName = maestro.SortAppended
	}
	order, op := "seq", ">"
	switch sortName {
	case maestro.SortAppended:
	case maestro.SortAppendedDesc:
		order, op = "seq DESC", "<"
	default:
		return page, unknownSort(sortName)
	}
	filter := fingerprint(kind, eq.SessionID, eq.Type)
	after, err := decodeCursor(eq.Cursor, sortName, filter)
	if err != nil {
		return page, err
	}
	limit := pageLimit(eq.Limit)
	where := " WHERE session_id = ?"
	args := []any{eq.SessionID}
	if eq.Type != "" {
		where += " AND type = ?"
		args = append(args, eq.Type)
	}
	if eq.WithTotal {
		var total int64
		if err := q.x.QueryRowContext(q.c(ctx), "SELECT COUNT(*) FROM "+table+where, args...).Scan(&total); err != nil {
			return page, mapErr(err)
		}
		page.Total = &total
	}
	if after != nil {
		where += " AND seq " + op + " ?"
		args = append(args, after.Seq)
	}
	args = append(args, limit+1)
	rows, err := q.x.QueryContext(q.c(ctx), "SELECT seq, data FROM "+table+where+" ORDER BY "+order+" LIMIT ?", args...)
	if err != nil {
		return page, mapErr(err)
	}
	defer rows.Close()
	page.Items = make([]json.RawMessage, 0, min(limit, 64))
	var lastSeq int64
	more := false
	for rows.Next() {
		if len(page.Items) == limit {
			more = true
			break
		}
		var data string
		if err := rows.Scan(&lastSeq, &data); err != nil {
			return page, mapErr(err)
		}
		page.Items = append(page.Items, json.RawMessage(data))
	}
	if err := rows.Err(); err != nil {
		return page, mapErr(err)
	}
	if more {
		page.NextCursor = encodeCursor(keyset{Sort: sortName, Filter: filter, Seq: lastSeq})
	}
	return page, nil
}
