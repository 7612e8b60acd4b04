// Package service holds the use cases of Maestro Server: projects, tasks, sessions, spawn, queues,
// templates, the predecessor import and backups. Each operation validates its input, runs in exactly one
// store transaction, and records the events it must broadcast in that same transaction, so the data and
// the event log never disagree. (The predecessor import broadcasts nothing and records one audit row;
// a backup is a read: the store copies one snapshot.)
//
// Services return *maestro.Error for everything a caller can act on (each method's doc comment names
// the codes). They never see HTTP: status codes and wire shapes belong to internal/httpapi.
package service
