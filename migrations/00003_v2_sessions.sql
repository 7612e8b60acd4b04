-- +goose Up
-- API v2 phase 2 (issue 6): the session list sorts by lastActivity (most recently active first is what a
-- dashboard shows), so each session list shape needs an index in that order too. The id ends every key:
-- it is the keyset tie-breaker (sessions have no INTEGER PRIMARY KEY whose rowid would survive VACUUM).
CREATE INDEX sessions_last_activity ON sessions (last_activity, id);
CREATE INDEX sessions_project_last_activity ON sessions (project_id, last_activity, id);
CREATE INDEX sessions_status_last_activity ON sessions (status, last_activity, id);

-- +goose Down
DROP INDEX sessions_status_last_activity;
DROP INDEX sessions_project_last_activity;
DROP INDEX sessions_last_activity;
