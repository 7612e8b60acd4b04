// Package maestro holds the domain of Maestro Server: its entities (projects, tasks, sessions, queues,
// templates, skills, audit entries) and the rules that belong to the values themselves (ids, limits,
// stamps, queue statistics, version tags); the event catalogue and its payloads; the error codes every
// layer speaks; the input types services accept; and the conditions of a write (WriteOpts: an IfMatch
// compared against a record's VersionTag, an Idem that makes a create idempotent), which callers pass
// down as values.
//
// It imports nothing but the standard library and nothing of ours, so every other package may depend on
// it. It must not know about HTTP, SQL or WebSocket wire shapes: no routes, statuses, headers or schema
// tags. The API packages translate it to the wire, the store translates it to rows.
package maestro
