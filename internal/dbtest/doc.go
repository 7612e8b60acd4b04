// Package dbtest gives each test its own fresh, migrated SQLite file in a temp directory, closed and
// removed when the test ends. Tests never share a database, so they can all run in parallel.
//
// It is test support only: production code must never import it.
package dbtest
