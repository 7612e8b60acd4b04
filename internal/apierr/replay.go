package apierr

import (
	"net/http"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// ReplayedHeader marks a response that repeats the stored first response of an Idempotency-Key.
const ReplayedHeader = "Idempotent-Replayed"

// Replayed sends a stored idempotent response (maestro.Replay) through huma's error path as it was
// first sent: same status, same headers, same body bytes. It is an "error" only in that it replaces
// the handler's normal output.
type Replayed struct {
	r *maestro.Replay
}

// Error implements error.
func (e *Replayed) Error() string { return e.r.Error() }

// GetStatus implements huma.StatusError.
func (e *Replayed) GetStatus() int { return e.r.Response.Status }

// GetHeaders implements huma.HeadersError.
func (e *Replayed) GetHeaders() http.Header {
	h := http.Header{}
	for k, v := range e.r.Response.Header {
		h.Set(k, v)
	}
	h.Set(ReplayedHeader, "true")
	return h
}

// ContentType implements huma.ContentTypeFilter: the stored body is JSON.
func (e *Replayed) ContentType(string) string { return "application/json" }

// MarshalJSON returns the stored body unchanged.
func (e *Replayed) MarshalJSON() ([]byte, error) { return e.r.Response.Body, nil }
