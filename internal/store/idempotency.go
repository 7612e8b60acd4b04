package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Once runs the create fn in one write transaction (InTx), at most once per idempotency key. With idem
// nil it is InTx returning fn's result.
//
// With a key, the transaction first looks the key up. A key used within maestro.IdempotencyTTL for
// idem.Scope with the same request returns the result the first run stored, sets idem.Replayed and
// runs nothing; with a different request it is IDEMPOTENCY_KEY_REUSED. An unknown or expired key lets
// fn run, and fn's result is stored with the key in the same transaction, so that the key and what it
// created are committed together or not at all. Because write transactions are serialised, two
// concurrent requests with one key can never both create.
//
// The result is stored as the domain value's JSON (the store already holds such snapshots as event
// payloads) and decoded back into T on a replay: the layer that owns the wire renders a replay exactly as
// it rendered the first response.
func Once[T any](ctx context.Context, s *Store, idem *maestro.Idem, fn func(q *Q) (T, error)) (T, error) {
	var (
		out    T
		stored []byte
	)
	err := s.InTx(ctx, func(q *Q) error {
		if idem != nil {
			first, err := q.claimIdempotencyKey(ctx, idem)
			if err != nil {
				return err
			}
			if first != nil {
				// A replay writes nothing. It still counts as a success of the batch transaction: the result it
				// replays may have been stored by an earlier request of this very batch (writer.go).
				stored = first
				return nil
			}
		}
		res, err := fn(q)
		if err != nil {
			return err
		}
		out = res
		if idem == nil {
			return nil
		}
		return q.rememberResult(ctx, idem, res)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	if stored != nil {
		var first T
		dec := json.NewDecoder(bytes.NewReader(stored))
		dec.UseNumber() // numbers in free-form members (metadata) come back as written
		if err := dec.Decode(&first); err != nil {
			return first, fmt.Errorf("store: corrupt idempotent result of %s %s: %w", idem.Scope, idem.Key, err)
		}
		idem.Replayed = true
		return first, nil
	}
	return out, nil
}

// claimIdempotencyKey looks idem's key up inside the transaction. It returns the stored result of a
// key used within maestro.IdempotencyTTL for the same request, IDEMPOTENCY_KEY_REUSED for a different
// request, and nil for an unknown or expired key (the create may run).
func (q *Q) claimIdempotencyKey(ctx context.Context, idem *maestro.Idem) ([]byte, error) {
	r, err := q.q.GetIdempotencyKey(q.c(ctx), db.GetIdempotencyKeyParams{Route: idem.Scope, Key: idem.Key})
	if errors.Is(mapErr(err), ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err)
	}
	if r.CreatedAt < q.s.now().Add(-maestro.IdempotencyTTL).UnixMilli() || r.Status != resultFormat {
		// Expired, or stored by a version before results were domain values (a rendered response, which
		// this version cannot replay): the key is free again, and rememberResult overwrites the entry.
		return nil, nil
	}
	if r.RequestHash != idem.RequestHash {
		return nil, &maestro.Error{
			Code: maestro.CodeIdempotencyReused,
			Message: fmt.Sprintf("Idempotency-Key '%s' was already used for a different request to %s; "+
				"use a new key for a new request", idem.Key, idem.Scope),
			Details: map[string]any{"idempotencyKey": idem.Key},
		}
	}
	return r.Body, nil
}

// resultFormat marks an idempotency entry whose body is a domain result (JSON). The column held the
// HTTP status of a rendered response before; no such status is 0.
const resultFormat = 0

// rememberResult stores the result of the idempotent create this transaction runs.
func (q *Q) rememberResult(ctx context.Context, idem *maestro.Idem, result any) error {
	if !q.tx {
		return errors.New("store: idempotent result outside a transaction")
	}
	body, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("store: marshal idempotent result: %w", err)
	}
	err = q.q.PutIdempotencyKey(q.c(ctx), db.PutIdempotencyKeyParams{
		Route: idem.Scope, Key: idem.Key, Status: resultFormat, Body: body,
		Headers: "{}", RequestHash: idem.RequestHash, CreatedAt: q.s.now().UnixMilli(),
	})
	return mapErr(err)
}

// PruneIdempotencyKeys deletes the keys recorded before cutoff (ms) and returns how many went.
func (q *Q) PruneIdempotencyKeys(ctx context.Context, cutoff int64) (int64, error) {
	n, err := q.q.PruneIdempotencyKeys(q.c(ctx), cutoff)
	return n, mapErr(err)
}
