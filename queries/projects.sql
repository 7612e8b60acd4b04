-- name: GetProject :one
SELECT * FROM projects WHERE id = ?;

-- name: ProjectExists :one
-- The check a create makes inside its write transaction: one index probe, no row to decode.
SELECT EXISTS (SELECT 1 FROM projects WHERE id = ?) AS project_exists;

-- name: ListProjects :many
SELECT * FROM projects ORDER BY created_at, id;

-- name: InsertProject :exec
INSERT INTO projects (id, name, working_dir, description, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?);

-- name: UpdateProject :exec
UPDATE projects SET name = ?, working_dir = ?, description = ?, updated_at = ? WHERE id = ?;

-- name: DeleteProject :execrows
DELETE FROM projects WHERE id = ?;

-- name: ProjectHasTasks :one
SELECT EXISTS (SELECT 1 FROM tasks WHERE project_id = ?) AS has_tasks;

-- name: ProjectHasSessions :one
SELECT EXISTS (SELECT 1 FROM sessions WHERE project_id = ?) AS has_sessions;

-- The v2 project list: one page in createdAt order, keyset-paginated on (created_at, id) through
-- projects_created. The first page passes the smallest (or, newest first, the largest) possible key, so
-- one query serves every page. created_at is also bounded on its own so that SQLite seeks the index.

-- name: ListProjectsPage :many
SELECT * FROM projects
WHERE created_at >= sqlc.arg(after_at)
  AND (created_at > sqlc.arg(after_at) OR (created_at = sqlc.arg(after_at) AND id > sqlc.arg(after_id)))
ORDER BY created_at, id
LIMIT sqlc.arg(lim);

-- name: ListProjectsPageDesc :many
SELECT * FROM projects
WHERE created_at <= sqlc.arg(after_at)
  AND (created_at < sqlc.arg(after_at) OR (created_at = sqlc.arg(after_at) AND id < sqlc.arg(after_id)))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: CountProjects :one
SELECT COUNT(*) FROM projects;
