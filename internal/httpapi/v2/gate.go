package v2

import (
	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/flags"
)

// gate answers every v2 operation not marked ungated with 404 FEATURE_DISABLED (details.flag =
// "api-v2") while the api-v2 flag is off. The flag is evaluated per request, so a change applies to the
// next request.
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
		next(ctx)
	}
}
