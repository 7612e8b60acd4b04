-- Every task read returns the task row plus its sessionIds in link order, read from the join table.

-- name: GetTask :one
SELECT sqlc.embed(t),
       CAST((SELECT json_group_array(l.session_id) FROM (SELECT session_id FROM task_sessions WHERE task_id = t.id ORDER BY task_pos) l) AS TEXT) AS session_ids
FROM tasks t WHERE t.id = ?;

-- name: TaskExists :one
SELECT EXISTS (SELECT 1 FROM tasks WHERE id = ?) AS task_exists;

-- name: ListTasks :many
SELECT sqlc.embed(t),
       CAST((SELECT json_group_array(l.session_id) FROM (SELECT session_id FROM task_sessions WHERE task_id = t.id ORDER BY task_pos) l) AS TEXT) AS session_ids
FROM tasks t
ORDER BY t.created_at, t.id;

-- name: ListTasksByProject :many
SELECT sqlc.embed(t),
       CAST((SELECT json_group_array(l.session_id) FROM (SELECT session_id FROM task_sessions WHERE task_id = t.id ORDER BY task_pos) l) AS TEXT) AS session_ids
FROM tasks t
WHERE t.project_id = @project_id
  AND (t.status = sqlc.narg('status') OR sqlc.narg('status') IS NULL)
  AND (CAST(@root_only AS INTEGER) = 0 OR t.parent_id IS NULL)
  AND (t.parent_id = sqlc.narg('parent_id') OR sqlc.narg('parent_id') IS NULL)
ORDER BY t.created_at, t.id;

-- name: ListTasksByParent :many
SELECT sqlc.embed(t),
       CAST((SELECT json_group_array(l.session_id) FROM (SELECT session_id FROM task_sessions WHERE task_id = t.id ORDER BY task_pos) l) AS TEXT) AS session_ids
FROM tasks t
WHERE t.parent_id = @parent_id
  AND (t.status = sqlc.narg('status') OR sqlc.narg('status') IS NULL)
ORDER BY t.created_at, t.id;

-- name: ListRootTasks :many
SELECT sqlc.embed(t),
       CAST((SELECT json_group_array(l.session_id) FROM (SELECT session_id FROM task_sessions WHERE task_id = t.id ORDER BY task_pos) l) AS TEXT) AS session_ids
FROM tasks t
WHERE t.parent_id IS NULL
  AND (t.status = sqlc.narg('status') OR sqlc.narg('status') IS NULL)
ORDER BY t.created_at, t.id;

-- name: ListTasksByStatus :many
SELECT sqlc.embed(t),
       CAST((SELECT json_group_array(l.session_id) FROM (SELECT session_id FROM task_sessions WHERE task_id = t.id ORDER BY task_pos) l) AS TEXT) AS session_ids
FROM tasks t
WHERE t.status = @status
ORDER BY t.created_at, t.id;

-- name: ListChildTaskIDs :many
SELECT id FROM tasks WHERE parent_id = ? ORDER BY created_at, id;

-- name: InsertTask :exec
INSERT INTO tasks (id, project_id, parent_id, title, description, status, session_status, priority,
                   initial_prompt, skill_ids, agent_ids, dependencies, created_at, updated_at, started_at, completed_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: UpdateTask :exec
UPDATE tasks
SET title = ?, description = ?, status = ?, session_status = ?, priority = ?, skill_ids = ?, agent_ids = ?,
    dependencies = ?, updated_at = ?, started_at = ?, completed_at = ?
WHERE id = ?;

-- name: TouchTask :exec
UPDATE tasks SET updated_at = MAX(updated_at + 1, @now) WHERE id = @id;

-- name: SetTaskSessionStatus :exec
UPDATE tasks SET session_status = @session_status, updated_at = MAX(updated_at + 1, @now) WHERE id = @id;

-- name: DetachChildTasks :exec
UPDATE tasks SET parent_id = NULL, updated_at = MAX(updated_at + 1, @now) WHERE parent_id = @parent_id;

-- name: DeleteTask :execrows
DELETE FROM tasks WHERE id = ?;

-- name: GetTaskRef :one
-- The few columns dependency validation needs: the project, and the task's own dependencies.
SELECT project_id, dependencies FROM tasks WHERE id = ?;
