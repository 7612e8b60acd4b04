-- +goose Up
-- API v2 (issue 6): indexes so that every v2 task list shape is an index seek, and what Idempotency-Key
-- replays need beyond 00001's idempotency_keys table.

-- Idempotency-Key: a fingerprint of the first request (a reused key with a different body is refused)
-- and the response headers to replay with the stored body (ETag, Location).
ALTER TABLE idempotency_keys ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN headers TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(headers));

-- v2 ?updatedSince= without other filters, and ?sort=updatedAt. The rowid (seq) every index ends with is
-- the keyset tie-breaker of the updatedAt sorts, so no id column is needed here.
CREATE INDEX tasks_updated ON tasks (updated_at);

-- v2 ?priority= without a project.
CREATE INDEX tasks_priority_created ON tasks (priority, created_at, id);

-- v2 ?sort=priority: most urgent first. The expression must stay identical to priorityRankSQL in
-- internal/store/taskpage.go, or SQLite stops using these indexes.
CREATE INDEX tasks_priority_rank ON tasks (
    (CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END),
    created_at, id
);
-- A project's tasks by priority, the board view of the UI.
CREATE INDEX tasks_project_priority_rank ON tasks (
    project_id,
    (CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END),
    created_at, id
);

-- +goose Down
DROP INDEX tasks_project_priority_rank;
DROP INDEX tasks_priority_rank;
DROP INDEX tasks_priority_created;
DROP INDEX tasks_updated;
ALTER TABLE idempotency_keys DROP COLUMN headers;
ALTER TABLE idempotency_keys DROP COLUMN request_hash;
