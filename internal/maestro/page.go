package maestro

import (
	"strings"
	"unicode"
)

// Page is one page of a cursor-paginated list (API v2). NextCursor is empty on the last page; Total is
// set only when the caller asked for it (counting costs a second query).
type Page[T any] struct {
	Items      []T
	NextCursor string
	Total      *int64
}

// Page sizes of v2 lists.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// Sort orders of v2 lists. A leading "-" reverses the order. Ties are broken by a unique key, so every
// order is total and keyset pagination visits each row exactly once.
const (
	SortCreatedAt     = "createdAt"
	SortCreatedAtDesc = "-createdAt"
	SortUpdatedAt     = "updatedAt"
	SortUpdatedAtDesc = "-updatedAt"
	// SortPriority is most urgent first (critical, high, medium, low, then any other value), oldest first
	// within a priority; SortPriorityDesc is the exact reverse.
	SortPriority     = "priority"
	SortPriorityDesc = "-priority"
	// SortRelevance is best full-text match first; only with a search query, and its default.
	SortRelevance = "relevance"
)

// TaskQuery selects one page of tasks (API v2). Every set filter must hold (AND).
type TaskQuery struct {
	ProjectID string
	// Statuses matches any of the given statuses.
	Statuses []string
	Priority string
	// ParentID selects the children of one task; Root selects tasks without a parent. Not both.
	ParentID string
	Root     bool
	// SessionID selects the tasks linked to a session.
	SessionID string
	// UpdatedSince selects tasks with updatedAt >= this (ms).
	UpdatedSince *int64
	// Search is free text matched against title, description and initialPrompt.
	Search string

	Sort      string
	Limit     int
	Cursor    string
	WithTotal bool
}

// ProjectQuery selects one page of projects (API v2).
type ProjectQuery struct {
	Sort      string
	Limit     int
	Cursor    string
	WithTotal bool
}

// Sort orders of the v2 session list (ties broken by id).
const (
	SortStartedAt        = "startedAt"
	SortStartedAtDesc    = "-startedAt"
	SortLastActivity     = "lastActivity"
	SortLastActivityDesc = "-lastActivity"
)

// Sort orders of a session's timeline and event log in v2: append order, oldest or newest first.
const (
	SortAppended     = "appended"
	SortAppendedDesc = "-appended"
)

// SessionQuery selects one page of sessions (API v2). Every set filter must hold (AND).
type SessionQuery struct {
	ProjectID string
	// TaskID selects the sessions linked to a task.
	TaskID string
	// Statuses matches any of the given statuses.
	Statuses []string
	// Active drops the sessions whose status is completed (as v1's active=true).
	Active bool

	Sort      string
	Limit     int
	Cursor    string
	WithTotal bool
}

// EntryQuery selects one page of a session's timeline or event log (API v2).
type EntryQuery struct {
	SessionID string
	// Type keeps only the entries of this type ("" keeps all).
	Type string

	Sort      string
	Limit     int
	Cursor    string
	WithTotal bool
}

// TemplateQuery selects one page of templates (API v2).
type TemplateQuery struct {
	// Role keeps only the templates of this role ("" keeps all).
	Role string

	Sort      string
	Limit     int
	Cursor    string
	WithTotal bool
}

// The sort orders each v2 list accepts; the first is its default (a task search defaults to
// SortRelevance instead).
var (
	TaskSorts = []string{SortCreatedAt, SortCreatedAtDesc, SortUpdatedAt, SortUpdatedAtDesc, SortPriority,
		SortPriorityDesc, SortRelevance}
	SessionSorts = []string{SortStartedAt, SortStartedAtDesc, SortLastActivity, SortLastActivityDesc}
	EntrySorts   = []string{SortAppended, SortAppendedDesc}
	// CreatedSorts are the orders of the lists keyed on creation alone: projects and templates.
	CreatedSorts = []string{SortCreatedAt, SortCreatedAtDesc}
)

// MaxSearchWords bounds how many words one search uses; more only make the query slower.
const MaxSearchWords = 16

// SearchWords splits free text typed by a user into the words a search matches (each as a prefix, all
// of them required): every run of letters, digits and combining marks is a word, anything else only
// separates words — the way the full-text index splits the text it indexes, so "foo-bar" finds "foo
// bar". Only the first MaxSearchWords count. No word at all means there is nothing to search for.
func SearchWords(text string) []string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mn, r)
	})
	if len(words) > MaxSearchWords {
		words = words[:MaxSearchWords]
	}
	return words
}
