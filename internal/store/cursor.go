package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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

func unknownSort(sort string) error {
	return maestro.InvalidField("sort", "unknown sort %q", sort)
}
