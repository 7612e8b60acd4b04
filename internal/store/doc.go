// Package store owns the SQLite database: opening it with the right pragmas and pools, migrating it,
// running transactions, converting sqlc rows to domain types, mapping driver errors by code, and writing
// the event outbox. It also owns the database file as a file: the lock a server holds on it (<db>.lock),
// checked backups (VACUUM INTO, integrity_check, rename) and their retention, and restore.
//
// It is the only package that imports the generated db package and the only one that holds SQL. It
// returns domain types from internal/maestro and never knows about HTTP or about who is calling.
package store
