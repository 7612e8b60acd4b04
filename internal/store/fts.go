package store

import (
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Full-text search runs on the FTS5 table tasks_fts with hand-written SQL: sqlc cannot parse
// `tasks_fts MATCH ?` (the table name used as a column), so these queries live here instead of queries/.

// ftsQuery turns free text typed by a user into a safe FTS5 query. FTS5 has its own query language
// (quotes, AND/OR/NOT/NEAR, column filters `title:`, `^`, `*`, parentheses) in which unbalanced or stray
// syntax is an error, so user text is never passed through: every word of maestro.SearchWords becomes a
// quoted prefix term ("word"*), and the terms are ANDed.
//
// It returns "" when the text has no word at all (the service refuses such a search before).
func ftsQuery(text string) string {
	words := maestro.SearchWords(text)
	terms := make([]string, 0, len(words))
	for _, w := range words {
		// Inside an FTS5 string a double quote is written twice; the split above never leaves one, but the
		// escaping keeps this correct should the split ever change.
		terms = append(terms, `"`+strings.ReplaceAll(w, `"`, `""`)+`"*`)
	}
	return strings.Join(terms, " ")
}
