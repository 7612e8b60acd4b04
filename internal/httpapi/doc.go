// Package httpapi is the HTTP side of the server: the handler chain (request IDs, recovery, the guards
// against a hostile browser page — Host and cross-origin checks, guard.go — CORS, auth, API-version
// routing, reading and checking request bodies before they take an in-flight slot, body.go, load
// shedding), the router that serves v1 at /api/v1 and at the unversioned
// /api, JSON 404s for everything unknown, and the server lifecycle with graceful shutdown.
//
// GETs of the reads that depend only on the database and the flags are answered from the
// representation cache (repcache/) until the next commit or flag change; server.go lists them.
//
// It also holds the observability layers every request goes through (the request scope — request ID,
// API version, request logger, deadline and access log in one layer — metrics, audit, panic recovery
// with error tracking; observe.go), /metrics, the probes /healthz and /readyz, and the
// offline documentation (docs pages, embedded Swagger UI, the events JSON Schema) with its cookie login
// under a token (docslogin.go). It mounts the MCP endpoint (internal/mcpapi, given as Options.MCP) at
// /mcp inside the same chain, so the token, the Host/Origin/Content-Type guards, limits, request IDs
// and logs apply to it as to the REST API; an MCP client's standalone event stream is long-lived like a
// WebSocket (limits.go: no in-flight slot, no deadline, no write timeout).
//
// Operations themselves live in v1/ (and v2/); error rendering lives in internal/apierr (shared with internal/ws). This package must not
// contain business rules.
package httpapi
