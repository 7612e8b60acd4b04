package v1

import (
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// Prefix is where v1 operations live; the unversioned /api/... is rewritten onto it.
const Prefix = "/api/v1"

// Deps is what the v1 handlers need.
type Deps struct {
	Services *service.Services
	// Started is when the server started (for /health uptime).
	Started time.Time
	Now     func() time.Time
	// Components report per-component health for /health; nil or empty means just "ok".
	Components map[string]maestro.HealthReporter
	// WSStatus reports the WebSocket clients for /ws-status; nil means none.
	WSStatus func() maestro.WSStatus
	// Skills serves the skills routes; nil means no skills.
	Skills maestro.SkillCatalog
}

// Config returns the huma configuration of the v1 API. Two huma defaults would break the real clients
// and are switched off: unknown body keys are accepted (the CLI sends keys such as updateSource and
// spawnedBy that v1 ignores), and no $schema member or Link header is added to responses (v1 bodies
// carry exactly the contract's fields).
func Config() huma.Config {
	cfg := huma.DefaultConfig("Maestro Server API", "1.0.0")
	cfg.CreateHooks = nil
	// A copy: DefaultConfig hands out huma's package-level map, which v2 uses too.
	cfg.Formats = map[string]huma.Format{}
	for k, f := range huma.DefaultFormats {
		cfg.Formats[k] = f
	}
	cfg.Formats["application/json"], cfg.Formats["json"] = jsonFormat, jsonFormat
	cfg.AllowAdditionalPropertiesByDefault = true
	cfg.OpenAPIPath = Prefix + "/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.Info.Description = "API v1 is the wire contract of the predecessor TypeScript server, kept so that the " +
		"`maestro` CLI and the desktop UI work unchanged. It is served at `/api/v1/...` and at the unversioned " +
		"`/api/...`. Errors use the legacy shape `{error, statusCode, code, message, details?, requestId}`."
	cfg.Servers = []*huma.Server{{URL: "/", Description: "this server"}}
	return cfg
}

// Register adds every v1 operation to api.
func Register(api huma.API, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	api.UseMiddleware(wire.LimitBody)
	registerHealth(api, d)
	registerProjects(api, d)
	registerTasks(api, d)
	registerSkills(api, d)
	registerTaskTimeline(api, d)
	registerSpawn(api, d)
	registerSessions(api, d)
	registerQueues(api, d)
	registerTemplates(api, d)
}

// op builds a v1 operation: wire.Op with the v1- operation ID.
func op(id, method, path, tag, summary, description string, errs ...int) huma.Operation {
	return wire.Op("v1-"+id, method, path, tag, summary, description, errs)
}

// created marks an operation that answers 201 Created.
func created(o huma.Operation) huma.Operation {
	o.DefaultStatus = http.StatusCreated
	return o
}

// Success is the body of v1 deletes (every 2xx carries a JSON body: the CLI parses every reply).
type Success struct {
	Success bool   `json:"success" doc:"Always true."`
	ID      string `json:"id" doc:"The id of the deleted resource."`
}

// SuccessOutput wraps Success.
type SuccessOutput struct{ Body Success }

// IDPath is the {id} path parameter.
type IDPath struct {
	ID string `path:"id" doc:"The resource id."`
}
