package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// entryQueries are the page queries of one session collection (queries/sessions.sql), with and without a
// type, in both orders, and its counts. Only these two collections exist, so a client never picks a table.
type entryQueries struct {
	page, pageDesc, typePage, typePageDesc func(ctx context.Context, q *db.Queries, sessionID, typ string, after, lim int64) ([]entryRow, error)
	count                                  func(ctx context.Context, q *db.Queries, sessionID, typ string) (int64, error)
}

// entryRow is one stored entry of either collection: the two tables have the same columns.
type entryRow = db.SessionTimeline

// asEntries converts event-log rows to entryRow.
func asEntries(rows []db.SessionEvent, err error) ([]entryRow, error) {
	out := make([]entryRow, len(rows))
	for i, r := range rows {
		out[i] = entryRow(r)
	}
	return out, err
}

var entryCollections = map[string]entryQueries{
	maestro.EntryTimeline: {
		page: func(ctx context.Context, q *db.Queries, sid, _ string, after, lim int64) ([]entryRow, error) {
			return q.ListTimelinePage(ctx, db.ListTimelinePageParams{SessionID: sid, AfterSeq: after, Lim: lim})
		},
		pageDesc: func(ctx context.Context, q *db.Queries, sid, _ string, after, lim int64) ([]entryRow, error) {
			return q.ListTimelinePageDesc(ctx, db.ListTimelinePageDescParams{SessionID: sid, AfterSeq: after, Lim: lim})
		},
		typePage: func(ctx context.Context, q *db.Queries, sid, typ string, after, lim int64) ([]entryRow, error) {
			return q.ListTimelineTypePage(ctx, db.ListTimelineTypePageParams{SessionID: sid, Type: typ, AfterSeq: after, Lim: lim})
		},
		typePageDesc: func(ctx context.Context, q *db.Queries, sid, typ string, after, lim int64) ([]entryRow, error) {
			return q.ListTimelineTypePageDesc(ctx, db.ListTimelineTypePageDescParams{SessionID: sid, Type: typ, AfterSeq: after, Lim: lim})
		},
		count: func(ctx context.Context, q *db.Queries, sid, typ string) (int64, error) {
			if typ != "" {
				return q.CountTimelineType(ctx, db.CountTimelineTypeParams{SessionID: sid, Type: typ})
			}
			return q.CountTimeline(ctx, sid)
		},
	},
	maestro.EntryEvents: {
		page: func(ctx context.Context, q *db.Queries, sid, _ string, after, lim int64) ([]entryRow, error) {
			return asEntries(q.ListEventsPage(ctx, db.ListEventsPageParams{SessionID: sid, AfterSeq: after, Lim: lim}))
		},
		pageDesc: func(ctx context.Context, q *db.Queries, sid, _ string, after, lim int64) ([]entryRow, error) {
			return asEntries(q.ListEventsPageDesc(ctx, db.ListEventsPageDescParams{SessionID: sid, AfterSeq: after, Lim: lim}))
		},
		typePage: func(ctx context.Context, q *db.Queries, sid, typ string, after, lim int64) ([]entryRow, error) {
			return asEntries(q.ListEventsTypePage(ctx, db.ListEventsTypePageParams{SessionID: sid, Type: typ, AfterSeq: after, Lim: lim}))
		},
		typePageDesc: func(ctx context.Context, q *db.Queries, sid, typ string, after, lim int64) ([]entryRow, error) {
			return asEntries(q.ListEventsTypePageDesc(ctx, db.ListEventsTypePageDescParams{SessionID: sid, Type: typ, AfterSeq: after, Lim: lim}))
		},
		count: func(ctx context.Context, q *db.Queries, sid, typ string) (int64, error) {
			if typ != "" {
				return q.CountEventsType(ctx, db.CountEventsTypeParams{SessionID: sid, Type: typ})
			}
			return q.CountEvents(ctx, sid)
		},
	},
}

// EntryPage returns one page of a session's timeline or event log (kind is maestro.EntryTimeline or
// maestro.EntryEvents), each entry as stored, keyset-paginated on the append sequence through the
// (session_id, seq) index. Entries appended while a client pages are never seen twice or skipped: with
// the oldest first they show up on later pages; with the newest first they are above the first page.
// Errors: VALIDATION_ERROR (a cursor of another query); the service has validated the sort.
func (q *Q) EntryPage(ctx context.Context, kind string, eq maestro.EntryQuery) (maestro.Page[json.RawMessage], error) {
	var page maestro.Page[json.RawMessage]
	qs, ok := entryCollections[kind]
	if !ok {
		return page, fmt.Errorf("store: unknown session collection %q", kind)
	}
	sortName := eq.Sort
	if sortName == "" {
		sortName = maestro.SortAppended
	}
	desc := false
	switch sortName {
	case maestro.SortAppended:
	case maestro.SortAppendedDesc:
		desc = true
	default:
		return page, unknownSort(sortName)
	}
	filter := fingerprint(kind, eq.SessionID, eq.Type)
	after, err := decodeCursor(eq.Cursor, sortName, filter)
	if err != nil {
		return page, err
	}
	if eq.WithTotal {
		n, err := qs.count(q.c(ctx), q.q, eq.SessionID, eq.Type)
		if err != nil {
			return page, mapErr(err)
		}
		page.Total = &n
	}
	// The first page starts before the first seq (or, newest first, after the last).
	from := int64(0)
	if desc {
		from = math.MaxInt64
	}
	if after != nil {
		from = after.Seq
	}
	run := qs.page
	switch {
	case eq.Type != "" && desc:
		run = qs.typePageDesc
	case eq.Type != "":
		run = qs.typePage
	case desc:
		run = qs.pageDesc
	}
	limit := pageLimit(eq.Limit)
	rows, err := run(q.c(ctx), q.q, eq.SessionID, eq.Type, from, int64(limit)+1)
	if err != nil {
		return page, mapErr(err)
	}
	keysetPage(&page, rows, limit, sortName, filter, func(r entryRow) (json.RawMessage, keyset) {
		return json.RawMessage(r.Data), keyset{Seq: r.Seq}
	})
	return page, nil
}
