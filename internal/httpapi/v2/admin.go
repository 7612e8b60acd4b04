package v2

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
)

// LogLevel is the body of the log-level operations.
type LogLevel struct {
	Level string `json:"level" enum:"debug,info,warn,error" doc:"The minimum level logged."`
}

// LogLevelChange is the answer to PUT /api/v2/admin/log-level.
type LogLevelChange struct {
	Level    string `json:"level" enum:"debug,info,warn,error" doc:"The level now in force."`
	Previous string `json:"previous" enum:"debug,info,warn,error" doc:"The level before the change."`
}

type logLevelOutput struct{ Body LogLevel }

type logLevelInput struct{ Body LogLevel }

type logLevelChangeOutput struct{ Body LogLevelChange }

// AuditEntry is one mutating request of the audit log (maestro.AuditEntry on the wire).
type AuditEntry struct {
	ID        int64             `json:"id" doc:"Position in the audit log; larger is newer."`
	At        int64             `json:"at" doc:"When the request finished, ms since the epoch."`
	Actor     string            `json:"actor" doc:"Who acted: token (a valid API token was presented), anonymous (no token is configured, or none was sent), or mcp:<client name> (a tool call on the MCP endpoint)."`
	Method    string            `json:"method" doc:"HTTP method, or MCP for a tool call on the MCP endpoint."`
	Route     string            `json:"route" doc:"The route template that matched, e.g. /api/v1/tasks/{id} (unmatched when none did); tools/<name> for an MCP tool call."`
	EntityID  *string           `json:"entityId" nullable:"true" doc:"The entity acted on: the first path parameter, or the id of what a create returned."`
	Status    int               `json:"status" doc:"HTTP status of the response."`
	RequestID string            `json:"requestId" doc:"The request's X-Request-ID."`
	Detail    map[string]string `json:"detail,omitempty" doc:"Extra facts: further path parameters, the client's User-Agent, and what the change did to a task lease (lease, leaseOverride)."`
}

// AuditPage is one page of the audit log.
type AuditPage struct {
	Items      []AuditEntry `json:"items" doc:"Entries, newest first."`
	NextCursor *string      `json:"nextCursor" nullable:"true" doc:"Pass as cursor for the next page; null on the last page."`
}

type auditInput struct {
	Limit     int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Entries per page, 1 to 500."`
	Cursor    string `query:"cursor" doc:"The nextCursor of the previous page."`
	Actor     string `query:"actor" doc:"Only entries of this actor (token or anonymous)."`
	Method    string `query:"method" enum:"POST,PUT,PATCH,DELETE,MCP" doc:"Only entries with this HTTP method (MCP: tool calls on the MCP endpoint)."`
	Route     string `query:"route" doc:"Only entries of this route template, e.g. /api/v1/tasks/{id}."`
	EntityID  string `query:"entityId" doc:"Only entries acting on this entity id."`
	RequestID string `query:"requestId" doc:"Only the entry of this request."`
	Status    int    `query:"status" minimum:"0" maximum:"599" doc:"Only entries that ended with this HTTP status."`
	Since     int64  `query:"since" minimum:"0" doc:"Only entries at or after this time (ms since the epoch)."`
	Until     int64  `query:"until" minimum:"0" doc:"Only entries before this time (ms since the epoch)."`
}

type auditOutput struct{ Body AuditPage }

// adminV2 holds what the Admin operations need; each method serves one of them and is named
// after its operation ID.
type adminV2 struct {
	d     Deps
	level *slog.LevelVar
}

// registerAdmin adds the operations for operators: the run-time log level and the audit log.
func registerAdmin(api huma.API, d Deps) {
	const tag = "Admin"
	level := d.LogLevel
	if level == nil {
		level = new(slog.LevelVar)
	}

	h := adminV2{d: d, level: level}
	// Admin operations are never gated, so they do not document v2's 404 FEATURE_DISABLED: they are
	// built with wire.Op directly rather than op().
	huma.Register(api, ungated(wire.Op("v2-get-log-level", http.MethodGet, Prefix+"/admin/log-level", tag,
		"Get the log level",
		"The minimum level the server logs right now (set at start by LOG_LEVEL, changed by PUT or SIGHUP).", nil)),
		h.getLogLevel)

	huma.Register(api, ungated(wire.Op("v2-set-log-level", http.MethodPut, Prefix+"/admin/log-level", tag,
		"Change the log level",
		"Changes the minimum level logged, at once and for every log destination, until the next change, "+
			"SIGHUP (which re-applies LOG_LEVEL from the configuration) or restart. The change is logged and audited.", nil)),
		h.setLogLevel)

	huma.Register(api, ungated(wire.Op("v2-list-audit", http.MethodGet, Prefix+"/admin/audit", tag,
		"List the audit log",
		"Every mutating request (POST, PUT, PATCH, DELETE), refused ones included, newest first: when, "+
			"who (actor), method, route template, the entity acted on, the status and the request id. Cursor-paginated; "+
			"entries older than AUDIT_RETENTION (default 90 days) are pruned.", []int{http.StatusUnprocessableEntity})),
		h.listAudit)
}

func (h adminV2) getLogLevel(ctx context.Context, _ *struct{}) (*logLevelOutput, error) {
	return &logLevelOutput{Body: LogLevel{Level: obs.LevelName(h.level.Level())}}, nil
}

func (h adminV2) setLogLevel(ctx context.Context, in *logLevelInput) (*logLevelChangeOutput, error) {
	nl, err := obs.ParseLevel(in.Body.Level)
	if err != nil {
		return nil, maestro.InvalidField("level", "%s", err.Error())
	}
	old := h.level.Level()
	h.level.Set(nl)
	// Logged at the new level or info, whichever is higher, so the line itself is never filtered out.
	obs.Log(ctx).Log(ctx, max(nl, slog.LevelInfo), "log level changed", "from", obs.LevelName(old), "to", obs.LevelName(nl))
	return &logLevelChangeOutput{Body: LogLevelChange{Level: obs.LevelName(nl), Previous: obs.LevelName(old)}}, nil
}

func (h adminV2) listAudit(ctx context.Context, in *auditInput) (*auditOutput, error) {
	if h.d.Services == nil || h.d.Services.Audit == nil {
		return nil, maestro.Errorf(maestro.CodeNotImplemented, "the audit log is not available")
	}
	page, err := h.d.Services.Audit.List(ctx, maestro.AuditFilter{
		Actor: in.Actor, Method: in.Method, Route: in.Route, EntityID: in.EntityID, RequestID: in.RequestID,
		Status: in.Status, Since: in.Since, Until: in.Until, Limit: in.Limit,
	}, in.Cursor)
	if err != nil {
		return nil, err
	}
	out := AuditPage{Items: make([]AuditEntry, len(page.Items))}
	for i, e := range page.Items {
		out.Items[i] = AuditEntry(e)
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return &auditOutput{Body: out}, nil
}
