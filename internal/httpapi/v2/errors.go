package v2

import (
	"encoding/json"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/httpapi/apierr"
)

// problemContentType is the media type of every v2 error.
const problemContentType = "application/problem+json"

// writeError renders err from a middleware (outside a handler) in the v2 problem shape.
func writeError(ctx huma.Context, err error) {
	se := apierr.FromError(ctx.Context(), ctx.URL().Path, err)
	if h, ok := se.(huma.HeadersError); ok {
		for k, vs := range h.GetHeaders() {
			for _, v := range vs {
				ctx.AppendHeader(k, v)
			}
		}
	}
	// Every v2 error is a problem, unless the error itself says otherwise (an idempotent replay is JSON).
	ct := problemContentType
	if f, ok := se.(huma.ContentTypeFilter); ok {
		ct = f.ContentType(ct)
	}
	ctx.SetHeader("Content-Type", ct)
	ctx.SetStatus(se.GetStatus())
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(se)
}
