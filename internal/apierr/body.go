package apierr

import (
	"net/http"
	"strconv"
)

// Legacy is the v1 error body, one superset of the predecessor's three shapes (D9). Clients read
// status and message; codes are kept as the predecessor spelled them.
type Legacy struct {
	Error      bool           `json:"error" doc:"Always true."`
	StatusCode int            `json:"statusCode" doc:"The HTTP status, repeated."`
	Code       string         `json:"code" doc:"Machine-readable error code, e.g. VALIDATION_ERROR, NOT_FOUND, task_not_found."`
	Message    string         `json:"message" doc:"Human-readable explanation."`
	Details    map[string]any `json:"details,omitempty" doc:"Extra facts, e.g. the field at fault or the missing taskId."`
	RequestID  string         `json:"requestId" doc:"The request's X-Request-ID, for matching server logs."`

	headers http.Header
}

// LegacyErr is the error value carrying a Legacy body (huma renders its exported fields).
type LegacyErr struct{ Legacy }

func (e *LegacyErr) Error() string { return e.Message }

// GetStatus implements huma.StatusError.
func (e *LegacyErr) GetStatus() int { return e.StatusCode }

// GetHeaders implements huma.HeadersError (Retry-After and the like).
func (e *LegacyErr) GetHeaders() http.Header { return e.headers }

// Problem is the v2 error body: RFC 9457 problem details with the extension members code and requestId.
type Problem struct {
	Type      string         `json:"type" doc:"A URI naming the problem type; about:blank when the status says it all."`
	Title     string         `json:"title" doc:"Short summary of the problem type (the status text)."`
	Status    int            `json:"status" doc:"The HTTP status, repeated."`
	Detail    string         `json:"detail,omitempty" doc:"Human-readable explanation of this occurrence."`
	Instance  string         `json:"instance,omitempty" doc:"The request path."`
	Code      string         `json:"code" doc:"Machine-readable error code."`
	RequestID string         `json:"requestId" doc:"The request's X-Request-ID."`
	Errors    []FieldError   `json:"errors,omitempty" doc:"One entry per invalid field."`
	Details   map[string]any `json:"details,omitempty" doc:"Extra facts about the error."`

	headers http.Header
}

// FieldError locates one validation failure.
type FieldError struct {
	Location string `json:"location" doc:"Where, e.g. body.title or query.limit."`
	Message  string `json:"message" doc:"What is wrong there."`
}

// ProblemErr is the error value carrying a Problem body.
type ProblemErr struct{ Problem }

func (e *ProblemErr) Error() string { return e.Detail }

// GetStatus implements huma.StatusError.
func (e *ProblemErr) GetStatus() int { return e.Status }

// GetHeaders implements huma.HeadersError.
func (e *ProblemErr) GetHeaders() http.Header { return e.headers }

// ContentType makes huma send application/problem+json.
func (e *ProblemErr) ContentType(string) string { return "application/problem+json" }

// withRetryAfter adds Retry-After to h for statuses that invite a retry.
func withRetryAfter(h http.Header, status, seconds int) http.Header {
	if status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
		return h
	}
	if h == nil {
		h = http.Header{}
	}
	if h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(seconds))
	}
	return h
}
