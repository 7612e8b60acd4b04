// Package service holds the use cases of Maestro Server: projects, tasks, task leases (claims, the
// ready set, the expiry sweep), sessions, spawn, queues, templates. Each operation validates its input, runs in exactly one store transaction, and records the
// events it must broadcast in that same transaction, so the data and the event log never disagree.
//
// Services return *maestro.Error for everything a caller can act on (each method's doc comment names
// the codes). They never see HTTP: status codes and wire shapes belong to internal/httpapi (and, for MCP tool calls, internal/mcpapi).
package service
