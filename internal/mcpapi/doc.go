// Package mcpapi serves the Model Context Protocol endpoint (/mcp, streamable HTTP, the official Go
// SDK): tools over projects, tasks, task leases and session timelines, the templates as prompts and the
// skills as resources, for coding agents that speak MCP natively.
//
// It is a second door to the same rules: every tool calls the same services as the REST API, so it
// emits the same events, and it writes an audit row per mutating tool call with the actor
// mcp:<client name>. Service errors become MCP tool errors that carry the error code (TASK_NOT_CLAIMABLE,
// LEASE_TOKEN_STALE, …). The HTTP server mounts the handler behind its own middleware (auth, limits,
// request IDs); this package adds the mcp flag and the Origin rule.
//
// It must not: hold business rules, touch the store, or answer in a shape of its own where the REST
// API already has one (error codes, lease rules).
package mcpapi
