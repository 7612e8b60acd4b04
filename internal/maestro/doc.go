// Package maestro holds the domain of Maestro Server: its entities (projects, tasks, sessions, queues,
// templates, skills), the event catalogue, the error codes every layer speaks, and the input types
// services accept.
//
// It imports nothing but the standard library and nothing of ours, so every other package may depend on
// it. It must not know about HTTP, SQL or WebSocket: handlers translate it to the wire, the store
// translates it to rows.
package maestro
