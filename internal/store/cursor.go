package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// keyset is the position after the last row of a page: the values of that row's sort key and of its
// tie-breaker. The next page starts strictly after it, so rows inserted meanwhile never shift a page
// (unlike OFFSET) and no row is seen twice or skipped.
//
// Which fields are set depends on the sort: createdAt uses (A=created_at, ID), updatedAt (A=updated_at,
// Seq), priority (A=rank, B=created_at, ID), relevance (Score, Seq).
type keyset struct {
	Sort   string  `json:"s"`
	Filter string  `json:"f"`
	A      int64   `json:"a,omitempty"`
	B      int64   `json:"b,omitempty"`
	Score  float64 `json:"r,omitempty"`
	ID     string  `json:"i,omitempty"`
	Seq    int64   `json:"q,omitempty"`
}

// encodeCursor makes the opaque cursor clients send back: base64url JSON. Clients must not build or
// parse it; its content may change between releases.
func encodeCursor(k keyset) string {
	raw, _ := json.Marshal(k) // a struct of strings and numbers always marshals
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeCursor reads a cursor for a query with the given sort and filter fingerprint. A cursor that is
// malformed, or was issued for another sort or other filters, is a VALIDATION_ERROR on `cursor`.
func decodeCursor(s, sort, filter string) (*keyset, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	var k keyset
	if err == nil {
		err = json.Unmarshal(raw, &k)
	}
	if err != nil {
		return nil, maestro.InvalidField("cursor", "cursor is not valid: pass back the nextCursor of the previous page unchanged")
	}
	if k.Sort != sort || k.Filter != filter {
		return nil, maestro.InvalidField("cursor",
			"cursor belongs to a list with other filters or another sort: repeat the same query to follow nextCursor")
	}
	return &k, nil
}

// fingerprint hashes a query's filters, so that a cursor cannot silently be applied to another list.
func fingerprint(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:6])
}

// pageLimit clamps a requested page size to 1..MaxPageLimit (DefaultPageLimit when unset). The HTTP
// layer already refuses values out of range; this guards other callers.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return maestro.DefaultPageLimit
	case n > maestro.MaxPageLimit:
		return maestro.MaxPageLimit
	}
	return n
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// unknownSort reports a sort the service should have refused (it validates every list query before
// the store runs it): a programming error, not a client's.
func unknownSort(sort string) error {
	return fmt.Errorf("store: unknown sort %q", sort)
}

// createdOrder resolves the sort of a list keyed on (created_at, id) — projects, templates — into its
// name ("" is createdAt) and whether it is newest first.
func createdOrder(sort string) (name string, desc bool, err error) {
	switch sort {
	case "", maestro.SortCreatedAt:
		return maestro.SortCreatedAt, false, nil
	case maestro.SortCreatedAtDesc:
		return sort, true, nil
	}
	return "", false, unknownSort(sort)
}

// createdAfter is the (created_at, id) a page of such a list starts after: the cursor's, or for the
// first page a key before every row (after every row, newest first), so that one query serves every
// page.
func createdAfter(after *keyset, desc bool) (int64, string) {
	switch {
	case after != nil:
		return after.A, after.ID
	case desc:
		return math.MaxInt64, ""
	}
	return math.MinInt64, ""
}

// keysetPage fills page.Items and page.NextCursor from the rows of one page query, which selected at
// most limit+1 rows: the row beyond limit is never kept; that it exists says there is a next page,
// which starts after the last row kept. item converts one row and gives its keyset.
func keysetPage[R, T any](page *maestro.Page[T], rows []R, limit int, sortName, filter string, item func(R) (T, keyset)) {
	page.Items = make([]T, 0, min(len(rows), limit))
	var last keyset
	for i, r := range rows {
		if i == limit {
			last.Sort, last.Filter = sortName, filter
			page.NextCursor = encodeCursor(last)
			break
		}
		it, k := item(r)
		page.Items = append(page.Items, it)
		last = k
	}
}

// countRows runs the COUNT(*) query of a page's total.
func (q *Q) countRows(ctx context.Context, query string, args ...any) (*int64, error) {
	var n int64
	if err := q.queryRowShape(ctx, query, args...).Scan(&n); err != nil {
		return nil, mapErr(err)
	}
	return &n, nil
}

// readPage runs the query of one page, which must select at most limit+1 rows, and fills page.Items and
// page.NextCursor. scan reads one row into an item and the keyset of that row. The row beyond limit is
// never scanned: that it exists says there is a next page, which starts after the last row kept. Asking
// for one row more tells that without a second query.
func readPage[T any](ctx context.Context, q *Q, page *maestro.Page[T], limit int, sortName, filter string,
	scan func(*sql.Rows) (T, keyset, error), query string, args ...any) error {
	rows, err := q.queryShape(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	page.Items = make([]T, 0, min(limit, 64))
	var last keyset
	for rows.Next() {
		if len(page.Items) == limit {
			last.Sort, last.Filter = sortName, filter
			page.NextCursor = encodeCursor(last)
			break
		}
		item, k, err := scan(rows)
		if err != nil {
			return mapErr(err)
		}
		page.Items = append(page.Items, item)
		last = k
	}
	return mapErr(rows.Err())
}

// where renders conds as a WHERE clause, or "" when there are none.
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
