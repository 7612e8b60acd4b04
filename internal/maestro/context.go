package maestro

import "context"

type ctxKey int

const (
	requestIDKey ctxKey = iota
	actorKey
)

// WithRequestID returns a context carrying the request ID, so that every layer (logs, audit rows, event
// metadata) can tag what it does with the request that caused it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFrom returns the request ID carried by ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithActor returns a context carrying who is acting (for the audit log): "api", "cli", a token name.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey, actor)
}

// ActorFrom returns the actor carried by ctx, or "anonymous".
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey).(string); ok && a != "" {
		return a
	}
	return "anonymous"
}
