package maestro

// AuditEntry is one mutating request as the audit log records it (DESIGN §7): who did what to which
// entity, how it ended, and the request ID that ties it to the logs and the events it caused.
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

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	Actor     string
	Method    string
	Route     string
	EntityID  string
	RequestID string
	Status    int
	// Since and Until bound At (ms): Since <= At < Until.
	Since int64
	Until int64
	// BeforeID continues a listing after the entry with this id (the cursor).
	BeforeID int64
	Limit    int
}
