package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// claimIdempotencyKey runs at the start of a transaction that carries an idempotent create. A key used
// within maestro.IdempotencyTTL on the same route answers with the first response (same request) or
// IDEMPOTENCY_KEY_REUSED (different request); an unknown or expired key lets the create run.
func (q *Q) claimIdempotencyKey(ctx context.Context) error {
	if q.idem == nil {
		return nil
	}
	r, err := q.q.GetIdempotencyKey(q.c(ctx), db.GetIdempotencyKeyParams{Route: q.idem.Route, Key: q.idem.Key})
	if errors.Is(mapErr(err), ErrNotFound) {
		return nil
	}
	if err != nil {
		return mapErr(err)
	}
	if r.CreatedAt < q.s.now().Add(-maestro.IdempotencyTTL).UnixMilli() {
		return nil // expired: the key is free again, and RememberResponse overwrites the old entry
	}
	if r.RequestHash != q.idem.RequestHash {
		return &maestro.Error{
			Code: maestro.CodeIdempotencyReused,
			Message: fmt.Sprintf("Idempotency-Key '%s' was already used for a different request to %s; "+
				"use a new key for a new request", q.idem.Key, q.idem.Route),
			Details: map[string]any{"idempotencyKey": q.idem.Key},
		}
	}
	header := map[string]string{}
	if err := json.Unmarshal([]byte(r.Headers), &header); err != nil {
		return fmt.Errorf("store: corrupt idempotency headers of %s %s: %w", q.idem.Route, q.idem.Key, err)
	}
	return &maestro.Replay{Response: maestro.StoredResponse{Status: int(r.Status), Header: header, Body: r.Body}}
}

// RememberResponse records the response of the idempotent create this transaction runs (a no-op when
// the request carried no Idempotency-Key). Services call it with the created resource as the last step
// of every create, so that the key and the resource are committed together or not at all.
func (q *Q) RememberResponse(ctx context.Context, created any) error {
	if q.idem == nil {
		return nil
	}
	if !q.tx {
		return errors.New("store: RememberResponse outside a transaction")
	}
	resp, err := q.idem.Respond(created)
	if err != nil {
		return fmt.Errorf("store: render idempotent response: %w", err)
	}
	header := resp.Header
	if header == nil {
		header = map[string]string{}
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("store: marshal idempotent response headers: %w", err)
	}
	err = q.q.PutIdempotencyKey(q.c(ctx), db.PutIdempotencyKeyParams{
		Route: q.idem.Route, Key: q.idem.Key, Status: int64(resp.Status), Body: resp.Body,
		Headers: string(hj), RequestHash: q.idem.RequestHash, CreatedAt: q.s.now().UnixMilli(),
	})
	if err != nil {
		return mapErr(err)
	}
	q.remembered = true
	return nil
}

// PruneIdempotencyKeys deletes the keys recorded before cutoff (ms) and returns how many went.
func (q *Q) PruneIdempotencyKeys(ctx context.Context, cutoff int64) (int64, error) {
	n, err := q.q.PruneIdempotencyKeys(q.c(ctx), cutoff)
	return n, mapErr(err)
}
