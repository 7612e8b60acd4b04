-- Responses remembered for v2 Idempotency-Key retries.

-- name: GetIdempotencyKey :one
SELECT * FROM idempotency_keys WHERE route = ? AND key = ?;

-- name: PutIdempotencyKey :exec
-- Replaces an expired entry of the same route and key (callers check expiry first).
INSERT INTO idempotency_keys (route, key, status, body, headers, request_hash, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (route, key) DO UPDATE
SET status = excluded.status, body = excluded.body, headers = excluded.headers,
    request_hash = excluded.request_hash, created_at = excluded.created_at;

-- name: PruneIdempotencyKeys :execrows
DELETE FROM idempotency_keys WHERE created_at < ?;
