-- Every session read returns the session row plus its taskIds in link order (from the join table), and its
-- events and timeline entries as JSON arrays in append order, so one query loads a whole session.

-- name: GetSession :one
SELECT sqlc.embed(s),
       CAST((SELECT json_group_array(l.task_id) FROM (SELECT task_id FROM task_sessions WHERE session_id = s.id ORDER BY session_pos) l) AS TEXT) AS task_ids,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_events WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS events,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_timeline WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS timeline
FROM sessions s WHERE s.id = ?;

-- name: SessionExists :one
SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?) AS session_exists;

-- name: TouchSession :exec
UPDATE sessions SET last_activity = MAX(last_activity + 1, @now) WHERE id = @id;

-- The v1 list has one query per filter shape, so each is an index seek (D24 order: startedAt, id).

-- name: ListSessions :many
SELECT sqlc.embed(s),
       CAST((SELECT json_group_array(l.task_id) FROM (SELECT task_id FROM task_sessions WHERE session_id = s.id ORDER BY session_pos) l) AS TEXT) AS task_ids,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_events WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS events,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_timeline WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS timeline
FROM sessions s
ORDER BY s.started_at, s.id;

-- name: ListSessionsByProject :many
SELECT sqlc.embed(s),
       CAST((SELECT json_group_array(l.task_id) FROM (SELECT task_id FROM task_sessions WHERE session_id = s.id ORDER BY session_pos) l) AS TEXT) AS task_ids,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_events WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS events,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_timeline WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS timeline
FROM sessions s
WHERE s.project_id = @project_id
  AND (s.status = sqlc.narg('status') OR sqlc.narg('status') IS NULL)
  AND (CAST(@active_only AS INTEGER) = 0 OR s.status <> 'completed')
ORDER BY s.started_at, s.id;

-- name: ListSessionsByTask :many
-- CROSS JOIN pins the join order: seek the task's few links first, whatever the table statistics say.
SELECT sqlc.embed(s),
       CAST((SELECT json_group_array(l.task_id) FROM (SELECT task_id FROM task_sessions WHERE session_id = s.id ORDER BY session_pos) l) AS TEXT) AS task_ids,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_events WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS events,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_timeline WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS timeline
FROM task_sessions ts
CROSS JOIN sessions s ON s.id = ts.session_id
WHERE ts.task_id = @task_id
  AND (s.project_id = sqlc.narg('project_id') OR sqlc.narg('project_id') IS NULL)
  AND (s.status = sqlc.narg('status') OR sqlc.narg('status') IS NULL)
  AND (CAST(@active_only AS INTEGER) = 0 OR s.status <> 'completed')
ORDER BY s.started_at, s.id;

-- name: ListSessionsByStatus :many
SELECT sqlc.embed(s),
       CAST((SELECT json_group_array(l.task_id) FROM (SELECT task_id FROM task_sessions WHERE session_id = s.id ORDER BY session_pos) l) AS TEXT) AS task_ids,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_events WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS events,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_timeline WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS timeline
FROM sessions s
WHERE s.status = @status
ORDER BY s.started_at, s.id;

-- name: ListActiveSessions :many
-- "Active" is every status but completed. The two ranges seek the status index and skip the completed
-- sessions, which pile up over time; the unary + on the ORDER BY terms keeps SQLite from preferring a
-- full scan of the started_at index just to avoid sorting the (fewer) active rows.
SELECT sqlc.embed(s),
       CAST((SELECT json_group_array(l.task_id) FROM (SELECT task_id FROM task_sessions WHERE session_id = s.id ORDER BY session_pos) l) AS TEXT) AS task_ids,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_events WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS events,
       CAST((SELECT json_group_array(json(e.data)) FROM (SELECT data FROM session_timeline WHERE session_id = s.id ORDER BY seq) e) AS TEXT) AS timeline
FROM sessions s
WHERE s.status < 'completed' OR s.status > 'completed'
ORDER BY +s.started_at, +s.id;

-- name: InsertSession :exec
INSERT INTO sessions (id, project_id, name, agent_id, env, strategy, status, started_at, last_activity,
                      completed_at, hostname, platform, metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: UpdateSession :exec
-- Stores the fields a session PATCH can change (name, strategy, metadata and the host are fixed at create).
UPDATE sessions SET agent_id = ?, env = ?, status = ?, last_activity = ?, completed_at = ? WHERE id = ?;

-- name: DeleteSession :execrows
DELETE FROM sessions WHERE id = ?;

-- name: InsertSessionEvent :exec
INSERT INTO session_events (session_id, type, created_at, data) VALUES (?, ?, ?, ?);

-- name: InsertSessionTimeline :exec
INSERT INTO session_timeline (session_id, type, created_at, data) VALUES (?, ?, ?, ?);

-- name: GetSessionHead :one
-- A session without its events and timeline (v2 serves those as paginated sub-collections).
SELECT sqlc.embed(s),
       CAST((SELECT json_group_array(l.task_id) FROM (SELECT task_id FROM task_sessions WHERE session_id = s.id ORDER BY session_pos) l) AS TEXT) AS task_ids
FROM sessions s WHERE s.id = ?;

-- A session's timeline and event log (v2): one page in append order, keyset-paginated on seq through the
-- (session_id, seq) index, optionally of one type. The first page passes seq 0 (or, newest first, the
-- largest seq), so one query serves every page.

-- name: ListTimelinePage :many
SELECT * FROM session_timeline
WHERE session_id = sqlc.arg(session_id) AND seq > sqlc.arg(after_seq)
ORDER BY seq
LIMIT sqlc.arg(lim);

-- name: ListTimelinePageDesc :many
SELECT * FROM session_timeline
WHERE session_id = sqlc.arg(session_id) AND seq < sqlc.arg(after_seq)
ORDER BY seq DESC
LIMIT sqlc.arg(lim);

-- name: CountTimeline :one
SELECT COUNT(*) FROM session_timeline WHERE session_id = sqlc.arg(session_id);

-- name: ListTimelineTypePage :many
SELECT * FROM session_timeline
WHERE session_id = sqlc.arg(session_id) AND type = sqlc.arg(type) AND seq > sqlc.arg(after_seq)
ORDER BY seq
LIMIT sqlc.arg(lim);

-- name: ListTimelineTypePageDesc :many
SELECT * FROM session_timeline
WHERE session_id = sqlc.arg(session_id) AND type = sqlc.arg(type) AND seq < sqlc.arg(after_seq)
ORDER BY seq DESC
LIMIT sqlc.arg(lim);

-- name: CountTimelineType :one
SELECT COUNT(*) FROM session_timeline WHERE session_id = sqlc.arg(session_id) AND type = sqlc.arg(type);

-- name: ListEventsPage :many
SELECT * FROM session_events
WHERE session_id = sqlc.arg(session_id) AND seq > sqlc.arg(after_seq)
ORDER BY seq
LIMIT sqlc.arg(lim);

-- name: ListEventsPageDesc :many
SELECT * FROM session_events
WHERE session_id = sqlc.arg(session_id) AND seq < sqlc.arg(after_seq)
ORDER BY seq DESC
LIMIT sqlc.arg(lim);

-- name: CountEvents :one
SELECT COUNT(*) FROM session_events WHERE session_id = sqlc.arg(session_id);

-- name: ListEventsTypePage :many
SELECT * FROM session_events
WHERE session_id = sqlc.arg(session_id) AND type = sqlc.arg(type) AND seq > sqlc.arg(after_seq)
ORDER BY seq
LIMIT sqlc.arg(lim);

-- name: ListEventsTypePageDesc :many
SELECT * FROM session_events
WHERE session_id = sqlc.arg(session_id) AND type = sqlc.arg(type) AND seq < sqlc.arg(after_seq)
ORDER BY seq DESC
LIMIT sqlc.arg(lim);

-- name: CountEventsType :one
SELECT COUNT(*) FROM session_events WHERE session_id = sqlc.arg(session_id) AND type = sqlc.arg(type);
