package v2

import (
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/flags"
)

// ungatedPrefixes are the v2 paths the api-v2 flag never turns off: the flags themselves (or ops could
// not turn v2 back on), admin operations and health checks.
var ungatedPrefixes = []string{Prefix + "/flags", Prefix + "/admin", Prefix + "/health"}

// ungated reports whether an operation path stays on when api-v2 is off.
func ungated(path string) bool {
	for _, p := range ungatedPrefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// gate answers every gated v2 operation with 404 FEATURE_DISABLED (details.flag = "api-v2") while the
// api-v2 flag is off. The flag is evaluated per request, so a change applies to the next request.
func gate(fl *flags.Flags) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if ungated(ctx.Operation().Path) {
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
