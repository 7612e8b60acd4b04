-- name: GetProject :one
SELECT * FROM projects WHERE id = ?;

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
