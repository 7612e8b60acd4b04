package v2

import (
	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/flags"
)

// gate answers every v2 operation not marked ungated with 404 FEATURE_DISABLED (details.flag =
// "api-v2") while the api-v2 flag is off, and an operation of a newer surface (gatedBy) while that
// surface's own flag is off. Flags are evaluated per request, so a change applies to the next request.
func gate(fl *flags.Flags) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if ctx.Operation().Metadata[metaUngated] == true {
			next(ctx)
			return
		}
		if err := fl.Require(ctx.Context(), flags.APIV2); err != nil {
			apierr.WriteContext(ctx, err)
			return
		}
		if key, ok := ctx.Operation().Metadata[metaFlag].(flags.Key); ok {
			if err := fl.Require(ctx.Context(), key); err != nil {
				apierr.WriteContext(ctx, err)
				return
			}
		}
		next(ctx)
	}
}

// gatedBy marks an operation as part of the surface a flag gates: while the flag is off the operation
// answers 404 FEATURE_DISABLED before its request is read.
func gatedBy(key flags.Key, o huma.Operation) huma.Operation {
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata[metaFlag] = key
	o.Description += "\n\nGated by the `" + string(key) + "` flag: off answers 404 FEATURE_DISABLED."
	return o
}
