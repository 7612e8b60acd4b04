-- Feature flag overrides (internal/flags). A key without a row takes its coded default.

-- name: ListFeatureFlags :many
SELECT * FROM feature_flags ORDER BY key;

-- name: GetFeatureFlag :one
SELECT * FROM feature_flags WHERE key = ?;

-- name: UpsertFeatureFlag :exec
INSERT INTO feature_flags (key, enabled, description, updated_at, updated_by)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE
SET enabled = excluded.enabled, description = excluded.description, updated_at = excluded.updated_at,
    updated_by = excluded.updated_by;

-- name: DeleteFeatureFlag :execrows
DELETE FROM feature_flags WHERE key = ?;
