package maestro

import (
	"context"
	"fmt"
	"time"
)

// Conditional and idempotent requests (API v2). The HTTP layer states what the client asked for on the
// context; the store and the services honour it inside the write transaction, where no other write can
// slip in between the check and the change.

type condKey int

const (
	preconditionKey condKey = iota
	idempotencyKey
)

// Precondition checks a conditional request (If-Match) against the current state of the resource it
// targets. It returns a PRECONDITION_FAILED error when the client's version is not the current one.
type Precondition func(current any) error

// WithPrecondition returns a context carrying p; services check it with CheckPrecondition.
func WithPrecondition(ctx context.Context, p Precondition) context.Context {
	return context.WithValue(ctx, preconditionKey, p)
}

// CheckPrecondition runs the request's precondition, if any, against current (the resource as stored,
// read inside the write transaction). Services call it after loading the resource and before changing it.
func CheckPrecondition(ctx context.Context, current any) error {
	p, _ := ctx.Value(preconditionKey).(Precondition)
	if p == nil {
		return nil
	}
	return p(current)
}

// IdempotencyTTL is how long a v2 Idempotency-Key is remembered: a retry within it gets the first
// response; after it the key is free again.
const IdempotencyTTL = 24 * time.Hour

// StoredResponse is a response remembered for an idempotency key.
type StoredResponse struct {
	Status int
	Header map[string]string
	Body   []byte
}

// Idempotency describes an idempotent create in progress (an Idempotency-Key request).
type Idempotency struct {
	// Route names the operation the key is scoped to, e.g. "POST /api/v2/tasks".
	Route string
	// Key is the client's Idempotency-Key.
	Key string
	// RequestHash fingerprints the request body: a key reused with a different body is refused.
	RequestHash string
	// Respond renders the response of the created resource exactly as the API sends it, so that a
	// retry gets the same status, headers and body.
	Respond func(created any) (StoredResponse, error)
}

// WithIdempotency returns a context carrying an idempotent create. The store then refuses to run the
// create's transaction twice for one key, and the service records the response in that transaction.
func WithIdempotency(ctx context.Context, idem *Idempotency) context.Context {
	return context.WithValue(ctx, idempotencyKey, idem)
}

// IdempotencyFrom returns the idempotent create carried by ctx, or nil.
func IdempotencyFrom(ctx context.Context) *Idempotency {
	idem, _ := ctx.Value(idempotencyKey).(*Idempotency)
	return idem
}

// Replay is returned instead of running a create again: the key was used before, on the same route with
// the same request, and Response is what the first request got. It is not a failure; the HTTP layer
// sends Response as is.
type Replay struct {
	Response StoredResponse
}

func (r *Replay) Error() string {
	return fmt.Sprintf("idempotent replay of a %d response", r.Response.Status)
}
