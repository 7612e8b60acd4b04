// Package app wires the server together from a Config: logger, store, services, HTTP server, and runs
// it until a signal. It is the composition root; cmd/maestro-server only parses arguments and calls it.
package app
