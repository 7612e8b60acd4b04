// Package obs is the server's observability plumbing: structured logging (JSON or text, a level that
// can change at run time, optional rotated log file, redaction of secrets, a request-scoped logger
// carrying request_id), the private Prometheus registry and the collectors that read the database and
// disk at scrape time, the pprof debug listener, and error tracking with Sentry.
//
// It knows nothing of the domain beyond the request ID carried in a context: callers hand it plain
// functions (pool stats, entity counts) to read. It must never register on a global: not the default
// Prometheus registry, not http.DefaultServeMux, not Sentry's global hub.
package obs
