-- +goose Up
-- The event outbox without AUTOINCREMENT (issue 13). AUTOINCREMENT made every event insert also
-- rewrite the events row of sqlite_sequence — one more b-tree page dirtied per write transaction, a
-- share of the outbox's 22% of a task create. A plain INTEGER PRIMARY KEY assigns one more than the
-- largest seq in the table, which is just as strictly increasing and never reuses a seq as long as the
-- newest event is never deleted: retention keeps the newest KeepMin (at least 1) events, and
-- PruneEvents itself never deletes the row of the largest seq (queries/events.sql). So the table never
-- becomes empty once it has had an event, and the largest seq assigned so far is always in it — the
-- same number sqlite_sequence held. The rows keep their seq.
CREATE TABLE events_new (
    seq        INTEGER PRIMARY KEY,
    type       TEXT    NOT NULL,
    payload    TEXT    NOT NULL CHECK (json_valid(payload)),
    project_id TEXT,
    request_id TEXT,
    created_at INTEGER NOT NULL
) STRICT;
INSERT INTO events_new (seq, type, payload, project_id, request_id, created_at)
SELECT seq, type, payload, project_id, request_id, created_at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_created ON events (created_at);

-- +goose Down
CREATE TABLE events_old (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT    NOT NULL,
    payload    TEXT    NOT NULL CHECK (json_valid(payload)),
    project_id TEXT,
    request_id TEXT,
    created_at INTEGER NOT NULL
) STRICT;
INSERT INTO events_old (seq, type, payload, project_id, request_id, created_at)
SELECT seq, type, payload, project_id, request_id, created_at FROM events;
DROP TABLE events;
ALTER TABLE events_old RENAME TO events;
CREATE INDEX events_created ON events (created_at);
