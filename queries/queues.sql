-- name: InsertQueue :exec
INSERT INTO queues (session_id, current_index, created_at, updated_at) VALUES (?, ?, ?, ?);

-- name: GetQueue :one
SELECT * FROM queues WHERE session_id = ?;

-- name: ListQueueItems :many
SELECT * FROM queue_items WHERE session_id = ? ORDER BY position;

-- name: InsertQueueItem :exec
-- Appends an item: positions are 0, 1, 2 and so on in push order, so an item's position is its index in the queue.
INSERT INTO queue_items (session_id, position, task_id, status, added_at)
VALUES (@session_id, (SELECT COALESCE(MAX(position) + 1, 0) FROM queue_items WHERE session_id = @session_id),
        @task_id, @status, @added_at);

-- name: UpdateQueueItem :exec
UPDATE queue_items SET status = ?, started_at = ?, completed_at = ?, fail_reason = ?
WHERE session_id = ? AND position = ?;

-- name: UpdateQueue :exec
UPDATE queues SET current_index = ?, updated_at = ? WHERE session_id = ?;
