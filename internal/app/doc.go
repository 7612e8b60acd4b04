// Package app is the composition root. From a Config it builds every part of the server — the
// logger, metrics and error tracking (observe.go), the store, the feature flags, the events hub, the
// services, the skills loader, the WebSocket server, the MCP endpoint and the HTTP server — runs them
// until a signal, and stops them in order. It also runs the other subcommands: migrate, flags
// (flagscmd.go), import, backup and restore (datacmd.go), openapi and events-schema (openapi.go) and
// version, and offers load generators a Seeder that fills a database without them importing the store.
// cmd/maestro-server only parses arguments and calls it.
//
// It holds no logic of its own beyond wiring and shutdown order: background jobs live in the package
// that owns their data (events retention, the store's idempotency-key pruning, the audit writer,
// scheduled backups, the task-lease sweep).
package app
