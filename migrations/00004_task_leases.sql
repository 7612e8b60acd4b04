-- +goose Up
-- Task leases (issue 14): an agent session claims a task for a while, and proves with a fencing token
-- that it still holds the claim when it finishes. One row per task that was ever claimed: the row stays
-- after the lease ends (session_id NULL), so that the next claim's token is larger than every earlier
-- one — a stale agent can never present a token that names a later lease.
--
-- There is no foreign key to sessions: a lease must outlive the deletion of its session, so that the
-- sweep still returns the task to todo when it expires, instead of leaving it in_progress forever.
CREATE TABLE task_leases (
    task_id     TEXT    NOT NULL PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    -- token is the fencing token of the latest claim; it only grows.
    token       INTEGER NOT NULL CHECK (token > 0),
    -- session_id, acquired_at and expires_at are NULL while nobody holds the task.
    session_id  TEXT,
    acquired_at INTEGER,
    expires_at  INTEGER,
    CHECK ((session_id IS NULL) = (expires_at IS NULL))
) STRICT, WITHOUT ROWID;

-- The sweep looks for held leases whose expiry has passed, soonest first.
CREATE INDEX task_leases_held_expiry ON task_leases (expires_at) WHERE session_id IS NOT NULL;

-- The pick of a project's next ready task, and its ready set: its todo tasks, most urgent then oldest.
-- With status in the key, a project with many finished tasks is not walked to find the few todo ones.
-- The expression must stay identical to priorityRankSQL in internal/store/taskpage.go.
CREATE INDEX tasks_project_status_priority_rank ON tasks (
    project_id, status,
    (CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END),
    created_at, id
);

-- +goose Down
DROP INDEX tasks_project_status_priority_rank;
DROP INDEX task_leases_held_expiry;
DROP TABLE task_leases;
