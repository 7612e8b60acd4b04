package v2

// PageParams are the pagination parameters of every v2 list (maestro.DefaultPageLimit and
// maestro.MaxPageLimit are the default and maximum).
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size, 1 to 500."`
	Cursor string `query:"cursor" maxLength:"2048" doc:"The nextCursor of the previous page, unchanged. Omit for the first page. A cursor only fits the query (filters and sort) it came from."`
	Total  bool   `query:"total" doc:"Also return total, the number of rows matching the filters (costs a second query)."`
}

// nextCursor is a page's nextCursor on the wire: null on the last page.
func nextCursor(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// mapItems converts a page's items to their v2 representation.
func mapItems[T, U any](items []T, f func(T) U) []U {
	out := make([]U, len(items))
	for i, it := range items {
		out[i] = f(it)
	}
	return out
}
