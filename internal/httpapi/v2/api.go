package v2

import (
	"log/slog"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// Prefix is where v2 operations live.
const Prefix = "/api/v2"

// Deps is what the v2 handlers need.
type Deps struct {
	Services *service.Services
	Now      func() time.Time
	// Skills serves the skills routes; nil means no skills.
	Skills maestro.SkillCatalog
	// Flags gate v2 (api-v2, task-search) and are managed through /api/v2/flags; nil means every flag is
	// at its default and the flags endpoints answer from defaults only.
	Flags *flags.Flags
	// LogLevel is the process log level the admin operations read and change.
	LogLevel *slog.LevelVar
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
	cfg.Info.Description = apiDescription
	cfg.Servers = []*huma.Server{{URL: "/", Description: "this server"}}
	return cfg
}

// Register adds every v2 operation to api.
func Register(api huma.API, d Deps) {
	if d.Now == nil {
		d.Now = time.Now
	}
	// Order matters: the feature gate runs first, so a disabled endpoint never reads the request.
	// The body limit comes first, as it did when it was a router-wide limit: an oversized request is 413
	// whatever else is wrong with it.
	api.UseMiddleware(wire.LimitBody, gate(d.Flags), idempotency())
	registerFlags(api, d)
	registerProjects(api, d)
	registerTasks(api, d)
	registerLeases(api, d)
	registerSkills(api, d)
	registerAdmin(api, d)
	registerAdminData(api, d)
	registerEvents(api, d)
	registerSessions(api, d)
	registerSpawn(api, d)
	registerQueues(api, d)
	registerTemplates(api, d)
	registerTransfer(api, d)
}
