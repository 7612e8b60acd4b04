-- +goose Up
-- The whole schema for every entity of the v1 contract and the tables the server needs around it.
-- Timestamps are integer milliseconds since the epoch; JSON lives in TEXT columns checked by json_valid.

CREATE TABLE projects (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    working_dir TEXT    NOT NULL DEFAULT '',
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX projects_created ON projects (created_at, id);

-- tasks keeps an explicit INTEGER PRIMARY KEY so that its rowid survives VACUUM (and VACUUM INTO backups):
-- the external-content FTS index below is keyed by it.
CREATE TABLE tasks (
    seq            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    project_id     TEXT    NOT NULL REFERENCES projects (id),
    parent_id      TEXT    REFERENCES tasks (id) ON DELETE SET NULL,
    title          TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT 'todo',
    session_status TEXT,
    priority       TEXT    NOT NULL DEFAULT 'medium',
    initial_prompt TEXT    NOT NULL DEFAULT '',
    skill_ids      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(skill_ids)),
    agent_ids      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(agent_ids)),
    dependencies   TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(dependencies)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    started_at     INTEGER,
    completed_at   INTEGER
) STRICT;
CREATE INDEX tasks_created ON tasks (created_at, id);
CREATE INDEX tasks_project_created ON tasks (project_id, created_at, id);
CREATE INDEX tasks_project_status_created ON tasks (project_id, status, created_at, id);
CREATE INDEX tasks_parent_created ON tasks (parent_id, created_at, id);
CREATE INDEX tasks_status_created ON tasks (status, created_at, id);
CREATE INDEX tasks_project_updated ON tasks (project_id, updated_at);

CREATE TABLE sessions (
    id            TEXT    NOT NULL PRIMARY KEY,
    project_id    TEXT    NOT NULL REFERENCES projects (id),
    name          TEXT    NOT NULL,
    agent_id      TEXT,
    env           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(env)),
    strategy      TEXT    NOT NULL DEFAULT 'simple',
    status        TEXT    NOT NULL DEFAULT 'idle',
    started_at    INTEGER NOT NULL,
    last_activity INTEGER NOT NULL,
    completed_at  INTEGER,
    hostname      TEXT    NOT NULL DEFAULT '',
    platform      TEXT    NOT NULL DEFAULT '',
    metadata      TEXT    CHECK (metadata IS NULL OR json_valid(metadata))
) STRICT;
CREATE INDEX sessions_started ON sessions (started_at, id);
CREATE INDEX sessions_project_started ON sessions (project_id, started_at, id);
CREATE INDEX sessions_status_started ON sessions (status, started_at, id);

-- One row per task<->session link. Each side keeps its own order: task_pos orders a task's sessionIds,
-- session_pos orders a session's taskIds. Both sides read the same rows, so they can never disagree.
CREATE TABLE task_sessions (
    task_id     TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    session_id  TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    task_pos    INTEGER NOT NULL,
    session_pos INTEGER NOT NULL,
    PRIMARY KEY (task_id, session_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX task_sessions_task ON task_sessions (task_id, task_pos);
CREATE INDEX task_sessions_session ON task_sessions (session_id, session_pos);

-- Session log entries (session.events[]) and timeline entries (session.timeline[]), stored verbatim as
-- sent (PATCH-appended entries may lack id and timestamp); seq keeps the append order.
CREATE TABLE session_events (
    seq        INTEGER PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    type       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    data       TEXT    NOT NULL CHECK (json_valid(data))
) STRICT;
CREATE INDEX session_events_session ON session_events (session_id, seq);

CREATE TABLE session_timeline (
    seq        INTEGER PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    type       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    data       TEXT    NOT NULL CHECK (json_valid(data))
) STRICT;
CREATE INDEX session_timeline_session ON session_timeline (session_id, seq);

-- A queue belongs to a session but outlives it (SPEC §2.6: session delete keeps the queue), so there is no
-- foreign key to sessions. Queue items keep their task id as history even when the task is deleted (D6, D28).
CREATE TABLE queues (
    session_id    TEXT    NOT NULL PRIMARY KEY,
    current_index INTEGER NOT NULL DEFAULT -1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE queue_items (
    session_id   TEXT    NOT NULL REFERENCES queues (session_id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    task_id      TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'skipped')),
    added_at     INTEGER NOT NULL,
    started_at   INTEGER,
    completed_at INTEGER,
    fail_reason  TEXT,
    PRIMARY KEY (session_id, position),
    UNIQUE (session_id, task_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE templates (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('worker', 'orchestrator')),
    content    TEXT    NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX templates_created ON templates (created_at, id);
CREATE INDEX templates_role_created ON templates (role, created_at, id);

-- The event outbox: every broadcast event is written here in the transaction of the change that caused it.
-- AUTOINCREMENT guarantees a seq is never reused, even after retention pruned every older row.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT    NOT NULL,
    payload    TEXT    NOT NULL CHECK (json_valid(payload)),
    project_id TEXT,
    request_id TEXT,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX events_created ON events (created_at);

CREATE TABLE feature_flags (
    key         TEXT    NOT NULL PRIMARY KEY,
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    description TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    method     TEXT    NOT NULL,
    route      TEXT    NOT NULL,
    entity_id  TEXT,
    status     INTEGER NOT NULL,
    request_id TEXT    NOT NULL,
    detail     TEXT    CHECK (detail IS NULL OR json_valid(detail))
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);

-- Responses remembered for v2 Idempotency-Key retries (24 h).
CREATE TABLE idempotency_keys (
    route      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    body       BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (route, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Per-status entity counts kept by triggers, so the maestro_tasks / maestro_sessions gauges are exact
-- without ever scanning the big tables.
CREATE TABLE entity_counts (
    kind   TEXT    NOT NULL,
    status TEXT    NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (kind, status)
) STRICT, WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO entity_counts (kind, status, n) VALUES ('task', NEW.status, 1)
    ON CONFLICT (kind, status) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks BEGIN
    UPDATE entity_counts SET n = n - 1 WHERE kind = 'task' AND status = OLD.status;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tasks_count_update AFTER UPDATE OF status ON tasks WHEN OLD.status <> NEW.status BEGIN
    UPDATE entity_counts SET n = n - 1 WHERE kind = 'task' AND status = OLD.status;
    INSERT INTO entity_counts (kind, status, n) VALUES ('task', NEW.status, 1)
    ON CONFLICT (kind, status) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sessions_count_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO entity_counts (kind, status, n) VALUES ('session', NEW.status, 1)
    ON CONFLICT (kind, status) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sessions_count_delete AFTER DELETE ON sessions BEGIN
    UPDATE entity_counts SET n = n - 1 WHERE kind = 'session' AND status = OLD.status;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sessions_count_update AFTER UPDATE OF status ON sessions WHEN OLD.status <> NEW.status BEGIN
    UPDATE entity_counts SET n = n - 1 WHERE kind = 'session' AND status = OLD.status;
    INSERT INTO entity_counts (kind, status, n) VALUES ('session', NEW.status, 1)
    ON CONFLICT (kind, status) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- Full-text search over task text (v2 `q`), an external-content index kept in step by triggers.
CREATE VIRTUAL TABLE tasks_fts USING fts5 (
    title, description, initial_prompt,
    content = 'tasks', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);
-- +goose StatementBegin
CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO tasks_fts (rowid, title, description, initial_prompt)
    VALUES (NEW.seq, NEW.title, NEW.description, NEW.initial_prompt);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, title, description, initial_prompt)
    VALUES ('delete', OLD.seq, OLD.title, OLD.description, OLD.initial_prompt);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, description, initial_prompt ON tasks BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, title, description, initial_prompt)
    VALUES ('delete', OLD.seq, OLD.title, OLD.description, OLD.initial_prompt);
    INSERT INTO tasks_fts (rowid, title, description, initial_prompt)
    VALUES (NEW.seq, NEW.title, NEW.description, NEW.initial_prompt);
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE tasks_fts;
DROP TABLE entity_counts;
DROP TABLE idempotency_keys;
DROP TABLE audit_log;
DROP TABLE feature_flags;
DROP TABLE events;
DROP TABLE templates;
DROP TABLE queue_items;
DROP TABLE queues;
DROP TABLE session_timeline;
DROP TABLE session_events;
DROP TABLE task_sessions;
DROP TABLE sessions;
DROP TABLE tasks;
DROP TABLE projects;
