package v2

import (
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// Prefix is where v2 operations live.
const Prefix = "/api/v2"

// Deps is what the v2 handlers need.
type Deps struct {
	Services *service.Services
	Now      func() time.Time
	// Events reads the durable event log (GET /api/v2/events); nil answers 501.
	Events EventReader
}

// Config returns the huma configuration of the v2 API. Like v1, responses carry no $schema member or
// Link header: clients get exactly the documented fields.
func Config() huma.Config {
	cfg := huma.DefaultConfig("Maestro Server API", "2.0.0")
	cfg.CreateHooks = nil
	cfg.OpenAPIPath = Prefix + "/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.Info.Description = "API v2: cursor-paginated lists, strict enums, ETags and conditional requests, " +
		"idempotent creates, and RFC 9457 `application/problem+json` errors with `code` and `requestId`."
	cfg.Servers = []*huma.Server{{URL: "/", Description: "this server"}}
	return cfg
}

// Register adds every v2 operation to api.
func Register(api huma.API, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	registerEvents(api, d)
}
