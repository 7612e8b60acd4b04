// Package store owns the SQLite database: opening it with the right pragmas and pools, migrating it,
// running write transactions through one writer that commits queued requests together (writer.go, a
// savepoint each), the storage breaker, converting sqlc rows to domain types, mapping driver errors by
// code, the event outbox and the change feed the events hub tails, idempotency keys (Once, and their
// pruning), and the keyset pages of the lists.
//
// It is the only package that imports the generated db package. Its SQL lives in queries/ (sqlc); the
// only SQL written here is what sqlc cannot express: the list queries whose filters combine freely
// (cursor.go and the *page.go files), full-text search, and savepoint statements. It returns domain
// types from internal/maestro and never knows about HTTP or about who is calling.
package store
