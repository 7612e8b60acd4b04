package wire

import (
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apierr"
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

// LimitBody is a huma middleware that refuses a request whose declared length (Content-Length) is
// larger than its operation accepts (MaxBodyBytes) with 413 PAYLOAD_TOO_LARGE, before anything reads
// the body. A body sent without a length is bounded as it is read (by huma, and by the v2 idempotency
// middleware).
func LimitBody(ctx huma.Context, next func(huma.Context)) {
	if limit := ctx.Operation().MaxBodyBytes; limit > 0 && declaredLength(ctx) > limit {
		apierr.WriteContext(ctx, maestro.Errorf(maestro.CodePayloadTooLarge, "request body is larger than %d bytes", limit))
		return
	}
	next(ctx)
}

// declaredLength is the request's Content-Length, or -1 when it declared none. It reads the request
// itself where the adapter offers it (humago does): a request made in-process may carry the length
// without the header.
func declaredLength(ctx huma.Context) int64 {
	if u, ok := ctx.(interface {
		Unwrap() (*http.Request, http.ResponseWriter)
	}); ok {
		if r, _ := u.Unwrap(); r != nil {
			return r.ContentLength
		}
	}
	n, err := strconv.ParseInt(ctx.Header("Content-Length"), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
