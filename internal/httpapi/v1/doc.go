// Package v1 registers the v1 operations (SPEC.md, the predecessor's wire contract) on a huma API.
// They are served at /api/v1/... and, through the router's rewrite, at the unversioned /api/....
//
// Handlers are thin adapters: decode the request into a service input, call the service, return the
// domain value. They never touch SQL or build error bodies themselves (internal/apierr does). Each
// operation is a named method of a small handler type per area (projectsV1.createProject), so that
// stack traces, profiles and readers see names; register* only lists the operations.
//
// The hot bodies (a task, a task list, /health) are written by hand-written encoders that produce
// encoding/json's exact bytes (encode.go); every other body goes through huma's JSON format.
package v1
