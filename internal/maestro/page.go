package maestro

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
