package store

import (
	"strings"
	"unicode"
)

// Full-text search runs on the FTS5 table tasks_fts with hand-written SQL: sqlc cannot parse
// `tasks_fts MATCH ?` (the table name used as a column), so these queries live here instead of queries/.

// maxSearchTerms bounds how many words one search may have; more only make the query slower.
const maxSearchTerms = 16

// ftsQuery turns free text typed by a user into a safe FTS5 query. FTS5 has its own query language
// (quotes, AND/OR/NOT/NEAR, column filters `title:`, `^`, `*`, parentheses) in which unbalanced or stray
// syntax is an error, so user text is never passed through: every run of letters and digits becomes a
// quoted prefix term ("word"*), and everything else only separates terms. Terms are ANDed. The words
// are split the way the table's unicode61 tokenizer splits them, so "foo-bar" finds "foo bar".
//
// It returns "" when the text has no letter or digit at all (nothing to search for).
func ftsQuery(text string) string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mn, r)
	})
	if len(words) > maxSearchTerms {
		words = words[:maxSearchTerms]
	}
	terms := make([]string, 0, len(words))
	for _, w := range words {
		// Inside an FTS5 string a double quote is written twice; the split above never leaves one, but the
		// escaping keeps this correct should the split ever change.
		terms = append(terms, `"`+strings.ReplaceAll(w, `"`, `""`)+`"*`)
	}
	return strings.Join(terms, " ")
}
