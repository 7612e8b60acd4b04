// Package apierr is the one place that turns errors into HTTP: the code → status table, the v1 legacy
// error body, the v2 problem+json body, and the hook that makes huma's own errors (validation, malformed
// JSON, oversized bodies) come out in the right shape for the API version of the request.
//
// It must not decide anything about the domain: services pick codes, this package only renders them.
package apierr
