package wire

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Op builds an operation with the fields every operation of both versions sets: 200 unless marked
// otherwise, the errors it documents, and the request body limit.
func Op(id, method, path, tag, summary, description string, errs []int) huma.Operation {
	return huma.Operation{
		OperationID:   id,
		Method:        method,
		Path:          path,
		Tags:          []string{tag},
		Summary:       summary,
		Description:   description,
		DefaultStatus: http.StatusOK,
		Errors:        errs,
		MaxBodyBytes:  maestro.MaxBodyBytes,
	}
}

// Deref returns *p, or the zero value for a missing member or body (a v1 empty body is `{}`: D8).
func Deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// Str returns *p or "" (null and absent mean the same).
func Str(p *string) string { return Deref(p) }

// Strings converts a list of a string type (an enum of v2) to plain strings.
func Strings[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

// StringPtr converts an optional value of a string type to an optional string.
func StringPtr[T ~string](p *T) *string {
	if p == nil {
		return nil
	}
	s := string(*p)
	return &s
}
