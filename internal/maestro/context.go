package maestro

import (
	"context"
	"sync"
)

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

// AuditNotes are facts a service wants the audit row of the current request to carry beyond who did
// what (for example that a change overrode an agent's lease). The layer that writes the audit row puts
// them on the context; services add to them with NoteAudit. Safe for concurrent use.
type AuditNotes struct {
	mu sync.Mutex
	m  map[string]string
}

type auditNotesKey struct{}

// WithAuditNotes returns ctx carrying a fresh, empty AuditNotes.
func WithAuditNotes(ctx context.Context) (context.Context, *AuditNotes) {
	n := &AuditNotes{}
	return context.WithValue(ctx, auditNotesKey{}, n), n
}

// NoteAudit records key=value for the audit row of the request ctx belongs to; without AuditNotes on
// ctx (a background job, a test) it does nothing.
func NoteAudit(ctx context.Context, key, value string) {
	n, _ := ctx.Value(auditNotesKey{}).(*AuditNotes)
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = map[string]string{}
	}
	n.m[key] = value
}

// Map returns a copy of the notes recorded so far (nil when there are none).
func (n *AuditNotes) Map() map[string]string {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.m) == 0 {
		return nil
	}
	out := make(map[string]string, len(n.m))
	for k, v := range n.m {
		out[k] = v
	}
	return out
}
