// Package store owns the SQLite database: opening it with the right pragmas and pools, migrating it,
// running transactions, converting sqlc rows to domain types, mapping driver errors by code, and writing
// the event outbox.
//
// It is the only package that imports the generated db package and the only one that holds SQL. It
// returns domain types from internal/maestro and never knows about HTTP or about who is calling.
package store
