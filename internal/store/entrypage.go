package store

import (
	"context"
	"database/sql"
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
// Errors: VALIDATION_ERROR (a cursor of another query); the service has validated the sort.
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
	conds, args := []string{"session_id = ?"}, []any{eq.SessionID}
	if eq.Type != "" {
		conds, args = append(conds, "type = ?"), append(args, eq.Type)
	}
	if eq.WithTotal {
		if page.Total, err = q.countRows(ctx, "SELECT COUNT(*) FROM "+table+where(conds), args...); err != nil {
			return page, err
		}
	}
	if after != nil {
		conds, args = append(conds, "seq "+op+" ?"), append(args, after.Seq)
	}
	limit := pageLimit(eq.Limit)
	args = append(args, limit+1)
	err = readPage(ctx, q, &page, limit, sortName, filter, func(rows *sql.Rows) (json.RawMessage, keyset, error) {
		var seq int64
		var data string
		err := rows.Scan(&seq, &data)
		return json.RawMessage(data), keyset{Seq: seq}, err
	}, "SELECT seq, data FROM "+table+where(conds)+" ORDER BY "+order+" LIMIT ?", args...)
	return page, err
}
