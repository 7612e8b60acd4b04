package service

import (
	"context"
	"encoding/json"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Page returns one page of the sessions matching sq (API v2), without their events and timeline (v2
// serves those as sub-collections). Errors: VALIDATION_ERROR (unknown sort, a cursor of another query).
func (s *Sessions) Page(ctx context.Context, sq maestro.SessionQuery) (maestro.Page[maestro.Session], error) {
	if err := checkSort(sq.Sort, maestro.SessionSorts); err != nil {
		return maestro.Page[maestro.Session]{}, err
	}
	return s.st.Read().SessionPage(ctx, sq)
}

// GetHead returns one session without its events and timeline (API v2). Errors: NOT_FOUND.
func (s *Sessions) GetHead(ctx context.Context, id string) (maestro.Session, error) {
	sess, err := s.st.Read().GetSessionHead(ctx, id)
	return sess, notFound(err, "Session", id)
}

// Entries returns one page of a session's timeline (kind maestro.EntryTimeline) or event log
// (maestro.EntryEvents), each entry as stored. The session check and the page read one snapshot.
// Errors: NOT_FOUND (session), VALIDATION_ERROR (unknown sort, a cursor of another query).
func (s *Sessions) Entries(ctx context.Context, kind string, eq maestro.EntryQuery) (maestro.Page[json.RawMessage], error) {
	var page maestro.Page[json.RawMessage]
	err := s.st.ReadTx(ctx, func(q *store.Q) error {
		ok, err := q.SessionExists(ctx, eq.SessionID)
		if err != nil {
			return err
		}
		if !ok {
			return maestro.NotFound("Session", eq.SessionID)
		}
		if err := checkSort(eq.Sort, maestro.EntrySorts); err != nil {
			return err
		}
		page, err = q.EntryPage(ctx, kind, eq)
		return err
	})
	return page, err
}
