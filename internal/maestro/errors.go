package maestro

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code. The v1 wire contract fixes most of their spellings
// (SPEC §9); the HTTP status of each code lives in exactly one table, in internal/apierr.
type Code string

// Error codes shared by every API version.
const (
	CodeValidation      Code = "VALIDATION_ERROR"
	CodeNotFound        Code = "NOT_FOUND"
	CodeConflict        Code = "CONFLICT"
	CodeBusinessRule    Code = "BUSINESS_RULE_ERROR"
	CodeInternal        Code = "INTERNAL_ERROR"
	CodeNotImplemented  Code = "NOT_IMPLEMENTED"
	CodeUnauthorized    Code = "UNAUTHORIZED"
	CodeForbidden       Code = "FORBIDDEN"
	CodePayloadTooLarge Code = "PAYLOAD_TOO_LARGE"
	CodeRateLimited     Code = "RATE_LIMITED"
	CodeOverloaded      Code = "OVERLOADED"
	CodeStorageDown     Code = "STORAGE_UNAVAILABLE"
	CodeFeatureDisabled Code = "FEATURE_DISABLED"
	CodeUnsupportedVer  Code = "UNSUPPORTED_API_VERSION"
	CodePrecondition    Code = "PRECONDITION_FAILED"
	CodeDependencyCycle Code = "DEPENDENCY_CYCLE"
	// CodeIdempotencyReused: an Idempotency-Key was reused on the same route with a different request.
	CodeIdempotencyReused Code = "IDEMPOTENCY_KEY_REUSED"
	CodeUpgradeRequired   Code = "UPGRADE_REQUIRED"
	// CodeUnsupportedMedia: a request body that is not JSON (Content-Type other than application/json
	// or */*+json, or none), refused so that a browser's form or no-cors fetch cannot post one.
	CodeUnsupportedMedia Code = "UNSUPPORTED_MEDIA_TYPE"
	// CodeRequestTimeout: the request body did not arrive in time (it trickled in below the minimum rate).
	CodeRequestTimeout Code = "REQUEST_TIMEOUT"
	// CodeTaskNotClaimable: a claim of a task that is leased, not todo, or waiting for a dependency
	// (details.reason says which).
	CodeTaskNotClaimable Code = "TASK_NOT_CLAIMABLE"
	// CodeLeaseTokenStale: a Lease-Token that does not name the lease held now (it expired, was released,
	// or the task was claimed again since).
	CodeLeaseTokenStale Code = "LEASE_TOKEN_STALE"
)

// Spawn error codes (SPEC §4.2). They are lower-case on the wire because the CLI and UI match them.
const (
	CodeMissingProjectID     Code = "missing_project_id"
	CodeInvalidTaskIDs       Code = "invalid_task_ids"
	CodeInvalidSpawnSource   Code = "invalid_spawn_source"
	CodeMissingSessionID     Code = "missing_session_id"
	CodeInvalidRole          Code = "invalid_role"
	CodeInvalidStrategy      Code = "invalid_strategy"
	CodeParentSessionMissing Code = "parent_session_not_found"
	CodeTaskNotFound         Code = "task_not_found"
	CodeProjectNotFound      Code = "project_not_found"
	CodeManifestFailed       Code = "manifest_generation_failed"
	CodeSpawnError           Code = "spawn_error"
)

// Error is the one error type services return for anything a caller can act on. Err, when set, is the
// underlying cause: it is logged, never shown to clients.
type Error struct {
	Code    Code
	Message string
	Details map[string]any
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound builds the predecessor's not-found error: "<Resource> with id '<id>' not found".
func NotFound(resource, id string) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("%s with id '%s' not found", resource, id)}
}

// Invalid builds a VALIDATION_ERROR with the given message.
func Invalid(format string, args ...any) *Error {
	return Errorf(CodeValidation, format, args...)
}

// InvalidField builds a VALIDATION_ERROR that names the offending field in its details.
func InvalidField(field, format string, args ...any) *Error {
	e := Errorf(CodeValidation, format, args...)
	e.Details = map[string]any{"field": field}
	return e
}

// Internal wraps an unexpected failure. Its message is deliberately generic: the cause is logged with the
// request ID, never sent to the client.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}

// ErrorCode returns the code of err, CodeInternal for errors that are not *Error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns err as an *Error, wrapping unknown errors as internal ones.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}
