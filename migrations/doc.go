// Package migrations holds the goose SQL migrations that define the database schema. They are embedded
// in the binary and also read by sqlc as the schema of the generated queries.
//
// Migrations are append-only: a released file is never edited; a change is a new numbered file.
package migrations
