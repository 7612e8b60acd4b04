package httpapi

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// refuseNulls is a v2 middleware that refuses `null` for a body member whose schema is not nullable
// (422 naming the member). huma's validation skips a null optional member, so without it
// PATCH /api/v2/tasks/{id} {"title": null} was a 200 that changed nothing, and a null could reach places
// that never expect one. Members the schema marks nullable (parentId, agentId…) keep accepting null.
//
// It reads the body readBody holds in memory, and only when the body has a null in it at all.
func refuseNulls(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		body, ok := ctx.BodyReader().(*bufferedBody)
		if op == nil || op.RequestBody == nil || !ok || !bytes.Contains(body.raw, []byte("null")) {
			next(ctx)
			return
		}
		mt := op.RequestBody.Content["application/json"]
		if mt == nil || mt.Schema == nil {
			next(ctx)
			return
		}
		var v any
		if json.Unmarshal(body.raw, &v) != nil {
			next(ctx) // malformed: huma says so
			return
		}
		if field := firstNull(api.OpenAPI().Components.Schemas, mt.Schema, v, "body", 0); field != "" {
			apierr.WriteContext(ctx, &maestro.Error{
				Code:    maestro.CodeValidation,
				Message: "Invalid request: " + field + ": must not be null",
				Details: map[string]any{"field": field},
			})
			return
		}
		next(ctx)
	}
}

// firstNull returns the path of the first null in v where schema s does not allow one, or "".
func firstNull(reg huma.Registry, s *huma.Schema, v any, path string, depth int) string {
	if s = resolve(reg, s); s == nil || depth > maxBodyDepth {
		return ""
	}
	if len(s.AnyOf) > 0 || len(s.OneOf) > 0 {
		return "" // a union documents its own null (QueueItem or null); huma validates the rest
	}
	switch val := v.(type) {
	case map[string]any:
		for k, m := range val {
			prop := resolve(reg, s.Properties[k])
			if prop == nil {
				continue // unknown members are huma's to refuse
			}
			p := path + "." + k
			if m == nil {
				if !allowsNull(prop) {
					return p
				}
				continue
			}
			if f := firstNull(reg, prop, m, p, depth+1); f != "" {
				return f
			}
		}
	case []any:
		items := resolve(reg, s.Items)
		if items == nil {
			return ""
		}
		for i, e := range val {
			p := path + "[" + strconv.Itoa(i) + "]"
			if e == nil {
				if !allowsNull(items) {
					return p
				}
				continue
			}
			if f := firstNull(reg, items, e, p, depth+1); f != "" {
				return f
			}
		}
	}
	return ""
}

// allowsNull reports whether s accepts null: nullable, untyped (free-form JSON such as metadata), or a
// union.
func allowsNull(s *huma.Schema) bool {
	return s.Nullable || s.Type == "" || s.Type == "null" || len(s.AnyOf) > 0 || len(s.OneOf) > 0
}

func resolve(reg huma.Registry, s *huma.Schema) *huma.Schema {
	if s != nil && s.Ref != "" {
		return reg.SchemaFromRef(s.Ref)
	}
	return s
}
