package mcpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/origin"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Path is where the MCP endpoint is mounted.
const Path = "/mcp"

// Options configure the MCP endpoint.
type Options struct {
	Services *service.Services
	// Flags gate the endpoint (mcp) and the lease tools (task-leases); nil means every flag at its default.
	Flags *flags.Flags
	// Skills are served as resources; nil serves none.
	Skills maestro.SkillCatalog
	// Origins are the browser origins allowed to call (the API's CORS origins); requests without Origin
	// (agents, CLIs) are always allowed.
	Origins []string
	Logger  *slog.Logger
	// Version is the server version announced to clients.
	Version string
	// SessionTimeout closes MCP sessions idle for this long (30 minutes when zero).
	SessionTimeout time.Duration
}

// api is the state every MCP session's server shares.
type api struct {
	o       Options
	origins *origin.Matcher
	schemas *mcp.SchemaCache
	log     *slog.Logger
}

// Handler returns the /mcp handler: the SDK's streamable HTTP transport, one MCP server per session
// (so that prompts and resources list the templates and skills as they are when the session starts),
// behind the mcp flag and the Origin rule.
func Handler(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 30 * time.Minute
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	a := &api{o: o, origins: origin.New(o.Origins), schemas: mcp.NewSchemaCache(), log: o.Logger}
	sdk := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server { return a.newServer(r.Context()) },
		&mcp.StreamableHTTPOptions{
			// Plain JSON answers rather than one event stream per POST: every tool call is a short
			// request, and the server's write timeout and access log treat JSON answers as they should.
			JSONResponse:   true,
			SessionTimeout: o.SessionTimeout,
			Logger:         o.Logger,
		})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := apierr.WithVersion(r.Context(), 2)
		if err := o.Flags.Require(ctx, flags.MCP); err != nil {
			apierr.Write(w, r, apierr.FromError(ctx, r.URL.Path, err))
			return
		}
		// The Origin rule of the API (DESIGN §5): a browser page of a foreign origin may not drive an
		// agent endpoint, whatever the method.
		if or := r.Header.Get("Origin"); or != "" && !a.origins.Allowed(or) {
			apierr.Write(w, r, apierr.New(ctx, r.URL.Path, maestro.CodeForbidden, "origin "+or+" is not allowed"))
			return
		}
		// Tool handlers see the HTTP request only through its headers: the request ID travels there, so
		// that audit rows, logs and events of a tool call carry the ID the client was answered with.
		r2 := r.Clone(ctx)
		r2.Header.Set(requestIDHeader, maestro.RequestIDFrom(ctx))
		sdk.ServeHTTP(w, r2)
	})
}

const requestIDHeader = "X-Request-ID"

func (a *api) newServer(context.Context) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "maestro-server", Title: "Maestro Server", Version: a.o.Version},
		&mcp.ServerOptions{Instructions: instructions, Logger: a.log, SchemaCache: a.schemas})
	a.addTools(s)
	a.addPrompts(s)
	a.addResources(s)
	return s
}

const instructions = `Maestro coordinates many agents on one project. To work: claim_next_task (with your sessionId)
gives you the most urgent ready task — todo, every dependency completed, nobody else holding it — with a lease.
Keep the lease alive with renew_lease before lease.expiresAt, report_progress as you go, and finish with
complete_task (or release_task to give it back), always passing lease.token as leaseToken. A LEASE_TOKEN_STALE
error means your lease expired or was taken over: stop working on that task.`

var clientNameChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// actor is the audit actor of a tool call: mcp:<the client's name from initialize>.
func actor(req *mcp.CallToolRequest) string {
	name := ""
	if req != nil {
		// From the request's _meta (stateless protocol versions) or the session's initialize.
		if ci := req.ClientInfo(); ci != nil {
			name = ci.Name
		}
	}
	name = clientNameChars.ReplaceAllString(name, "-")
	if len(name) > 64 {
		name = name[:64]
	}
	if name == "" {
		name = "unknown"
	}
	return "mcp:" + name
}

// toolSpec describes one tool: whether it changes state (and is audited) and how to find the entity it
// acts on.
type toolSpec struct {
	tool   *mcp.Tool
	mutate bool
	// entity returns the id the audit row names (the task, the project, …); "" when none.
	entity func(in, out any) string
}

// addTool registers a typed tool. Its input and output JSON Schemas are generated from In and Out; a
// service error becomes an MCP tool error carrying our error code (errorResult), and a mutating call
// gets an audit row.
func addTool[In, Out any](a *api, s *mcp.Server, spec toolSpec, fn func(ctx context.Context, in In) (Out, error)) {
	out, err := jsonschema.For[Out](nil)
	if err != nil {
		panic("mcpapi: output schema of " + spec.tool.Name + ": " + err.Error())
	}
	t := *spec.tool
	t.OutputSchema = out
	// Out is given as the schema, and the handler answers any: an error result then carries no
	// structured content at all, rather than a zero value dressed up as an answer.
	mcp.AddTool(s, &t, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, any, error) {
		ctx = maestro.WithActor(ctx, actor(req))
		if req != nil && req.Extra != nil && req.Extra.Header != nil {
			if id := req.Extra.Header.Get(requestIDHeader); id != "" {
				ctx = maestro.WithRequestID(ctx, id)
			}
		}
		ctx, notes := maestro.WithAuditNotes(ctx)
		res, err := fn(ctx, in)
		if spec.mutate {
			a.audit(ctx, t.Name, spec, in, res, err, notes)
		}
		if err != nil {
			return a.errorResult(ctx, err), nil, nil
		}
		return nil, res, nil
	})
}

// errorResult is a tool error: isError with the text "CODE: message" (what a model reads), and the code
// and details in _meta (what a program reads). Internal errors are logged and shown as "internal error".
func (a *api) errorResult(ctx context.Context, err error) *mcp.CallToolResult {
	e := maestro.AsError(err)
	if e.Code == maestro.CodeInternal {
		a.log.ErrorContext(ctx, "mcp tool failed", "request_id", maestro.RequestIDFrom(ctx), "error", err.Error())
		e = maestro.Internal(nil)
	}
	text := string(e.Code) + ": " + e.Message
	meta := mcp.Meta{"code": string(e.Code)}
	if len(e.Details) > 0 {
		meta["details"] = e.Details
		if raw, err := json.Marshal(e.Details); err == nil {
			text += " " + string(raw)
		}
	}
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}, Meta: meta}
}

// audit records a mutating tool call like the HTTP layer records a mutating request: actor
// mcp:<client>, method MCP, route tools/<name>, the entity, the status the REST API would have
// answered, the request ID, and what the services noted.
func (a *api) audit(ctx context.Context, tool string, spec toolSpec, in, out any, err error, notes *maestro.AuditNotes) {
	if a.o.Services == nil || a.o.Services.Audit == nil {
		return
	}
	status := http.StatusOK
	if err != nil {
		status = apierr.Status(2, maestro.ErrorCode(err))
	}
	e := maestro.AuditEntry{
		Actor: maestro.ActorFrom(ctx), Method: "MCP", Route: "tools/" + tool, Status: status,
		RequestID: maestro.RequestIDFrom(ctx), Detail: notes.Map(),
	}
	if spec.entity != nil {
		if id := spec.entity(in, out); id != "" {
			e.EntityID = &id
		}
	}
	a.o.Services.Audit.Record(e)
}
