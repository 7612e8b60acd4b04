// Package migrations holds the goose SQL migrations that define the database schema. They are embedded
// in the binary and also read by sqlc as the schema of the generated queries.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
