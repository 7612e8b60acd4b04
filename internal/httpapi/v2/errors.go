package v2

import (
	"encoding/json"
	"reflect"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/httpapi/apierr"
)

// problemContentType is the media type of every v2 error.
const problemContentType = "application/problem+json"

// documentErrors makes the OpenAPI document tell the truth about errors: huma describes them with its
// own ErrorModel as application/json, while v2 answers RFC 9457 problems (apierr.Problem) as
// application/problem+json. It rewrites every error response of every operation registered so far, so
// it runs after the last registration.
func documentErrors(api huma.API) {
	oapi := api.OpenAPI()
	reg := oapi.Components.Schemas
	problem := reg.Schema(reflect.TypeOf(apierr.Problem{}), true, "Problem")
	for _, item := range oapi.Paths {
		for _, o := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch, item.Head} {
			if o == nil {
				continue
			}
			for code, resp := range o.Responses {
				if code == "304" {
					// Listed among huma's "errors" only to be documented: it has no body.
					resp.Content = nil
					resp.Description = "Not Modified: the resource still has the ETag sent in If-None-Match (no body)."
					continue
				}
				if n, err := strconv.Atoi(code); (err != nil && code != "default") || (err == nil && n < 400) {
					continue
				}
				resp.Content = map[string]*huma.MediaType{problemContentType: {Schema: problem}}
				if code == "default" {
					resp.Description = "Error"
				}
			}
		}
	}
	// ErrorModel and ErrorDetail are no longer referenced.
	delete(reg.Map(), "ErrorModel")
	delete(reg.Map(), "ErrorDetail")
}

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
	ct := "application/json"
	if f, ok := se.(huma.ContentTypeFilter); ok {
		ct = f.ContentType(ct)
	}
	ctx.SetHeader("Content-Type", ct)
	ctx.SetStatus(se.GetStatus())
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(se)
}
