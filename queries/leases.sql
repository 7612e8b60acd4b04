-- Task leases (migrations/00004_task_leases.sql). The pick of the next ready task is hand-written in
-- internal/store/leases.go: sqlc cannot resolve the columns of json_each.

-- name: GetTaskLease :one
SELECT task_id, token, session_id, acquired_at, expires_at FROM task_leases WHERE task_id = ?;

-- name: ListHeldLeases :many
-- The held leases of the given tasks (for v2 task reads).
SELECT task_id, token, session_id, acquired_at, expires_at FROM task_leases
WHERE session_id IS NOT NULL AND task_id IN (sqlc.slice('task_ids'));

-- name: AcquireTaskLease :one
-- Takes the lease of a task with the next fencing token; the caller has checked that nobody holds it.
INSERT INTO task_leases (task_id, token, session_id, acquired_at, expires_at)
VALUES (@task_id, 1, @session_id, @now, @expires_at)
ON CONFLICT (task_id) DO UPDATE
SET token = token + 1, session_id = excluded.session_id, acquired_at = excluded.acquired_at,
    expires_at = excluded.expires_at
RETURNING token;

-- name: RenewTaskLease :execrows
UPDATE task_leases SET expires_at = @expires_at
WHERE task_id = @task_id AND token = @token AND session_id IS NOT NULL;

-- name: EndTaskLease :execrows
-- Ends the lease of a task; the token is kept for the next claim.
UPDATE task_leases SET session_id = NULL, acquired_at = NULL, expires_at = NULL
WHERE task_id = @task_id AND session_id IS NOT NULL;

-- name: ListDueLeases :many
-- Held leases whose expiry has passed, soonest first, at most @max of them.
SELECT task_id, token, session_id, acquired_at, expires_at FROM task_leases
WHERE session_id IS NOT NULL AND expires_at <= @now
ORDER BY expires_at LIMIT @max;

-- name: ListDueLeasesOfProject :many
-- ListDueLeases for one project: the claim of a project's next task expires its due leases first. CROSS
-- JOIN makes SQLite start from the few held leases (the partial index) rather than walk all the tasks of
-- the project.
SELECT l.task_id, l.token, l.session_id, l.acquired_at, l.expires_at FROM task_leases l
CROSS JOIN tasks t ON t.id = l.task_id
WHERE l.session_id IS NOT NULL AND l.expires_at <= @now AND t.project_id = @project_id
ORDER BY l.expires_at;

-- name: ListTaskStatuses :many
-- The status of each of the given tasks (the dependencies of a ready set page).
SELECT id, status FROM tasks WHERE id IN (sqlc.slice('ids'));
