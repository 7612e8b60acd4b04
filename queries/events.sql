-- name: InsertEvent :one
INSERT INTO events (type, payload, project_id, request_id, created_at)
VALUES (?, ?, ?, ?, ?)
RETURNING seq;

-- name: ListEventsSince :many
SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?;

-- name: EventSeqBounds :one
SELECT CAST(COALESCE(MIN(seq), 0) AS INTEGER) AS min_seq, CAST(COALESCE(MAX(seq), 0) AS INTEGER) AS max_seq FROM events;

-- name: PruneEvents :execrows
-- Deletes events older than the cutoff, but never one above max_prunable_seq (the newest rows are kept).
DELETE FROM events WHERE created_at < @cutoff AND seq <= @max_prunable_seq;
