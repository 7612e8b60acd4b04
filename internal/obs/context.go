package obs

import (
	"context"
	"log/slog"
	"sync"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// RequestIDKey is the attribute every log line of a request carries.
const RequestIDKey = "request_id"

// ContextHandler adds request_id to every record logged with a context that carries a request ID
// (maestro.WithRequestID), so that any layer logging with InfoContext(ctx, …) tags its lines with the
// request that caused them without passing a logger around. It adds nothing when the logger already
// carries request_id (a request-scoped logger from Log) or the record names one itself.
type ContextHandler struct {
	inner    slog.Handler
	hasReqID bool
}

// NewContextHandler wraps h.
func NewContextHandler(h slog.Handler) *ContextHandler { return &ContextHandler{inner: h} }

// Enabled implements slog.Handler.
func (h *ContextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.hasReqID && ctx != nil {
		if id := maestro.RequestIDFrom(ctx); id != "" && !recordHas(r, RequestIDKey) {
			r = r.Clone()
			r.AddAttrs(slog.String(RequestIDKey, id))
		}
	}
	return h.inner.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *ContextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	has := h.hasReqID
	for _, a := range as {
		if a.Key == RequestIDKey {
			has = true
		}
	}
	return &ContextHandler{inner: h.inner.WithAttrs(as), hasReqID: has}
}

// WithGroup implements slog.Handler.
func (h *ContextHandler) WithGroup(name string) slog.Handler {
	return &ContextHandler{inner: h.inner.WithGroup(name), hasReqID: h.hasReqID}
}

func recordHas(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

type ctxKey int

const (
	loggerKey ctxKey = iota
	infoKey
)

// WithLogger returns ctx carrying l as the request-scoped logger.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey, l)
}

// WithRequestLogger returns ctx carrying, as the request-scoped logger, base with request_id set to
// id. The logger is built the first time Log asks for it: most requests log nothing but their access
// line, and base.With copies and pre-formats the handler's attributes on every call (a profile of GET
// /health put it at 3% of the allocations).
func WithRequestLogger(ctx context.Context, base *slog.Logger, id string) context.Context {
	return context.WithValue(ctx, loggerKey, &lazyLogger{base: base, id: id})
}

// lazyLogger is a request-scoped logger not built yet.
type lazyLogger struct {
	base *slog.Logger
	id   string
	once sync.Once
	l    *slog.Logger
}

func (z *lazyLogger) get() *slog.Logger {
	z.once.Do(func() { z.l = z.base.With(RequestIDKey, z.id) })
	return z.l
}

// Log returns the request-scoped logger carried by ctx (it already has request_id), or slog.Default().
func Log(ctx context.Context) *slog.Logger {
	if ctx != nil {
		switch l := ctx.Value(loggerKey).(type) {
		case *slog.Logger:
			if l != nil {
				return l
			}
		case *lazyLogger:
			return l.get()
		}
	}
	return slog.Default()
}

// HasLogger reports whether ctx carries a request-scoped logger.
func HasLogger(ctx context.Context) bool {
	if ctx == nil {
		return false
	}
	switch ctx.Value(loggerKey).(type) {
	case *slog.Logger, *lazyLogger:
		return true
	}
	return false
}

// RequestInfo is what the layers of one request learn about it and the outer layers (access log,
// metrics, audit, error tracking) need after the inner ones returned: the route template the router
// matched, the path parameters, who the caller is, and the internal error behind a 5xx. The outer layer
// puts it in the context; inner layers, which may hold a clone of the request, fill it in. It is safe
// for concurrent use.
type RequestInfo struct {
	mu       sync.Mutex
	route    string
	params   [][2]string
	actor    string
	err      error
	reported bool
}

// WithRequestInfo returns ctx carrying a fresh RequestInfo.
func WithRequestInfo(ctx context.Context) (context.Context, *RequestInfo) {
	ri := &RequestInfo{}
	return context.WithValue(ctx, infoKey, ri), ri
}

// RequestInfoFrom returns the RequestInfo of ctx, or nil. Every method is safe on nil.
func RequestInfoFrom(ctx context.Context) *RequestInfo {
	if ctx == nil {
		return nil
	}
	ri, _ := ctx.Value(infoKey).(*RequestInfo)
	return ri
}

// SetRoute records the matched route template and its path parameters (name, value) in pattern order.
func (ri *RequestInfo) SetRoute(route string, params [][2]string) {
	if ri == nil {
		return
	}
	ri.mu.Lock()
	ri.route, ri.params = route, params
	ri.mu.Unlock()
}

// Route returns the matched route template ("" when no route matched).
func (ri *RequestInfo) Route() string {
	if ri == nil {
		return ""
	}
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.route
}

// Params returns the path parameters of the matched route, in pattern order.
func (ri *RequestInfo) Params() [][2]string {
	if ri == nil {
		return nil
	}
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.params
}

// SetActor records who is acting.
func (ri *RequestInfo) SetActor(actor string) {
	if ri == nil {
		return
	}
	ri.mu.Lock()
	ri.actor = actor
	ri.mu.Unlock()
}

// Actor returns who is acting ("" when unknown).
func (ri *RequestInfo) Actor() string {
	if ri == nil {
		return ""
	}
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.actor
}

// SetError records the internal error behind a server-side failure (the first one wins).
func (ri *RequestInfo) SetError(err error) {
	if ri == nil || err == nil {
		return
	}
	ri.mu.Lock()
	if ri.err == nil {
		ri.err = err
	}
	ri.mu.Unlock()
}

// Err returns the recorded internal error, or nil.
func (ri *RequestInfo) Err() error {
	if ri == nil {
		return nil
	}
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.err
}

// MarkReported marks the request's failure as sent to error tracking and reports whether it was not
// already, so that a panic is reported once and not again as the 500 it became.
func (ri *RequestInfo) MarkReported() bool {
	if ri == nil {
		return true
	}
	ri.mu.Lock()
	defer ri.mu.Unlock()
	first := !ri.reported
	ri.reported = true
	return first
}
