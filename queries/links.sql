-- name: ListSessionIDsOfTask :many
SELECT session_id FROM task_sessions WHERE task_id = ? ORDER BY task_pos;

-- name: ListTaskIDsOfSession :many
SELECT task_id FROM task_sessions WHERE session_id = ? ORDER BY session_pos;

-- name: InsertLink :execrows
-- Appends the link at the end of both sides' lists; an existing link is left where it is.
INSERT INTO task_sessions (task_id, session_id, task_pos, session_pos)
VALUES (@task_id, @session_id,
        (SELECT COALESCE(MAX(task_pos) + 1, 0) FROM task_sessions WHERE task_id = @task_id),
        (SELECT COALESCE(MAX(session_pos) + 1, 0) FROM task_sessions WHERE session_id = @session_id))
ON CONFLICT (task_id, session_id) DO NOTHING;

-- name: DeleteLink :execrows
DELETE FROM task_sessions WHERE task_id = ? AND session_id = ?;

-- name: SetLinkTaskPos :exec
UPDATE task_sessions SET task_pos = ? WHERE task_id = ? AND session_id = ?;

-- name: SetLinkSessionPos :exec
UPDATE task_sessions SET session_pos = ? WHERE task_id = ? AND session_id = ?;
