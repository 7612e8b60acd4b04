-- name: InsertAuditEntry :exec
INSERT INTO audit_log (at, actor, method, route, entity_id, status, request_id, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: ListAuditEntries :many
-- Newest first, keyed by id (the rowid): the cursor is the last id seen. Optional filters follow the
-- house pattern (col = narg OR narg IS NULL); the admin endpoint is not a hot path, so one query shape
-- serves every filter combination.
SELECT * FROM audit_log
WHERE (id < sqlc.narg('before_id') OR sqlc.narg('before_id') IS NULL)
  AND (actor = sqlc.narg('actor') OR sqlc.narg('actor') IS NULL)
  AND (method = sqlc.narg('method') OR sqlc.narg('method') IS NULL)
  AND (route = sqlc.narg('route') OR sqlc.narg('route') IS NULL)
  AND (entity_id = sqlc.narg('entity_id') OR sqlc.narg('entity_id') IS NULL)
  AND (request_id = sqlc.narg('request_id') OR sqlc.narg('request_id') IS NULL)
  AND (status = sqlc.narg('status') OR sqlc.narg('status') IS NULL)
  AND (at >= sqlc.narg('since') OR sqlc.narg('since') IS NULL)
  AND (at < sqlc.narg('until') OR sqlc.narg('until') IS NULL)
ORDER BY id DESC
LIMIT sqlc.arg('limit');

-- name: PruneAuditEntries :execrows
-- Deletes at most @batch entries older than @cutoff, oldest first, so that one prune never holds the
-- write lock for long; the caller repeats until nothing is left to delete.
DELETE FROM audit_log WHERE id IN (
    SELECT old.id FROM audit_log AS old WHERE old.at < @cutoff ORDER BY old.id LIMIT @batch
);
