// Package store owns the SQLite database: opening it with the right pragmas and pools, migrating it,
// running write transactions through one writer that commits queued requests together (writer.go, a
// savepoint each), the storage breaker, converting sqlc rows to domain types, mapping driver errors by
// code, the event outbox and the change feed the events hub tails, handing committed events to the
// publisher (on the writer goroutine) and then letting each request wait for them to reach the sockets
// (on the request's own goroutine, maestro.EventFlusher), idempotency keys (Once, and their pruning),
// and the keyset pages of the lists. It also owns the database as a file: the lock a server holds on it
// (<db>.lock), checked backups (VACUUM INTO, integrity_check, rename) and their retention, and restore.
//
// It is the only package that imports the generated db package. Its SQL lives in queries/ (sqlc); the
// only SQL written here is what sqlc cannot express: the task and session lists, whose filters combine
// freely (taskpage.go, sessionpage.go, over the keyset helper of cursor.go, each shape prepared once:
// shapes.go), full-text search, the pick of a project's next ready task (leases.go: json_each),
// savepoint statements, and the file-level statements of backups and restores (VACUUM INTO, PRAGMA
// integrity_check and wal_checkpoint, and the schema version read from a backup file, which is not the
// database the queries run on). The static list shapes (projects, templates, a session's entries) are
// sqlc queries. It returns domain types from internal/maestro and never knows about HTTP or about who is
// calling.
package store
