-- name: ListEntityCounts :many
SELECT kind, status, n FROM entity_counts ORDER BY kind, status;
