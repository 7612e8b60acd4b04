// Package service holds the use cases of Maestro Server: projects (with export and import), tasks
// (with dependencies and the task timeline), task leases (claims, the ready set, the expiry sweep),
// sessions, spawn and its manifest, queues, templates, the audit log, the predecessor import and
// backups. Each write validates its input, runs in exactly one store transaction, checks the write's
// conditions there (maestro.WriteOpts: If-Match against the stored record, an idempotent create through
// store.Once), and records the events it must broadcast in that same transaction, so the data and the
// event log never disagree. (The predecessor import broadcasts nothing and records one audit row; a
// backup is a read: the store copies one snapshot.) List queries are validated here (sort, search words,
// filter combinations) before the store runs them.
//
// Services return *maestro.Error for everything a caller can act on (each method's doc comment names
// the codes). They never see HTTP: status codes and wire shapes belong to internal/apierr and the API
// packages (REST in internal/httpapi, MCP tool calls in internal/mcpapi).
package service
