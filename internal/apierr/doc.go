// Package apierr is the one place that turns errors into HTTP: the code → status table, the v1 legacy
// error body, the v2 problem+json body, and the hook that makes huma's own errors (validation, malformed
// JSON, oversized bodies) come out in the right shape for the API version of the request. It is a peer
// of internal/httpapi and internal/ws, which both render their errors with it. Internal errors are
// logged through the request's logger (obs.Log), never a package-level one.
//
// It must not decide anything about the domain: services pick codes, this package only renders them.
package apierr
