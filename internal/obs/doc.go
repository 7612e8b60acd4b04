// Package obs is the server's observability plumbing: structured logging (JSON or text, a level that
// can change at run time, optional rotated log file, redaction of secrets, a request-scoped logger
// carrying request_id), the private Prometheus registry and the collectors that read the database and
// disk at scrape time, the pprof debug listener, and error tracking with Sentry.
//
// It knows nothing of the domain beyond the request ID carried in a context and the component-health
// value it reports: callers hand it plain functions (pool stats, entity counts) to read. It must never depend on a process global: metrics go
// to a private registry (never prometheus.DefaultRegisterer), pprof is served from its own mux (the
// pprof package's registration on http.DefaultServeMux is never served), and Sentry reports go through
// a Client this package owns (never Sentry's global hub), so parallel tests and embedding programs
// do not interfere.
package obs
