-- Every session read returns the session row plus its taskIds in link order, read from the join table.

-- name: GetSession :one
SELECT sqlc.embed(s),
       CAST((SELECT json_group_array(l.task_id) FROM (SELECT task_id FROM task_sessions WHERE session_id = s.id ORDER BY session_pos) l) AS TEXT) AS task_ids
FROM sessions s WHERE s.id = ?;

-- name: SessionExists :one
SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?) AS session_exists;

-- name: TouchSession :exec
UPDATE sessions SET last_activity = MAX(last_activity + 1, @now) WHERE id = @id;

-- name: ListSessionEventData :many
SELECT data FROM session_events WHERE session_id = ? ORDER BY seq;

-- name: ListSessionTimelineData :many
SELECT data FROM session_timeline WHERE session_id = ? ORDER BY seq;
