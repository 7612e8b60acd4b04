-- name: InsertEvent :one
INSERT INTO events (type, payload, project_id, request_id, created_at)
VALUES (?, ?, ?, ?, ?)
RETURNING seq;

-- name: ListEventsSince :many
SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?;

-- name: EventSeqBounds :one
SELECT CAST(COALESCE(MIN(seq), 0) AS INTEGER) AS min_seq, CAST(COALESCE(MAX(seq), 0) AS INTEGER) AS max_seq FROM events;

-- name: PruneEvents :execrows
-- Deletes events older than the cutoff, but never one above max_prunable_seq (the newest rows are kept),
-- and never the newest event of all: seq is a plain INTEGER PRIMARY KEY (migration 00005), one more than
-- the largest in the table, so the row of the largest seq must stay for no seq ever to be reused.
DELETE FROM events WHERE events.created_at < @cutoff AND events.seq <= @max_prunable_seq
    AND events.seq < (SELECT MAX(newest.seq) FROM events AS newest);
