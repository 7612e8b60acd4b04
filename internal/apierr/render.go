package apierr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
)

type ctxKey int

const versionKey ctxKey = 0

// WithVersion marks ctx as serving API version v; errors made under it take that version's shape.
func WithVersion(ctx context.Context, v int) context.Context {
	return context.WithValue(ctx, versionKey, v)
}

// VersionFrom returns the API version of the request (1 when unmarked).
func VersionFrom(ctx context.Context) int {
	if v, ok := ctx.Value(versionKey).(int); ok {
		return v
	}
	return 1
}

// logger returns the request-scoped logger of ctx (it carries request_id). Every request gets one from
// the access log before anything can fail; a context without one (a test calling the renderer directly)
// logs through obs.Log's default, tagged with the request ID.
func logger(ctx context.Context) *slog.Logger {
	if obs.HasLogger(ctx) {
		return obs.Log(ctx)
	}
	return obs.Log(ctx).With(obs.RequestIDKey, maestro.RequestIDFrom(ctx))
}

// FromError renders err for the request in ctx: a *maestro.Error keeps its code and message; anything
// else is logged and becomes a generic INTERNAL_ERROR, so internals never leak to clients.
func FromError(ctx context.Context, path string, err error) huma.StatusError {
	e := maestro.AsError(err)
	v := VersionFrom(ctx)
	status := Status(v, e.Code)
	if status >= 500 {
		// The cause goes to the log and to error tracking (through the request's RequestInfo), never to
		// the client.
		logger(ctx).ErrorContext(ctx, "request failed", "code", string(e.Code), "error", err.Error())
		obs.RequestInfoFrom(ctx).SetError(err)
	}
	return build(ctx, v, status, e.Code, e.Message, e.Details, nil, path)
}

// New renders a fresh error for the request in ctx.
func New(ctx context.Context, path string, code maestro.Code, msg string) huma.StatusError {
	v := VersionFrom(ctx)
	return build(ctx, v, Status(v, code), code, msg, nil, nil, path)
}

func build(ctx context.Context, v, status int, code maestro.Code, msg string, details map[string]any, fields []FieldError, path string) huma.StatusError {
	reqID := maestro.RequestIDFrom(ctx)
	retry := 1
	if s, ok := details["retryAfterSeconds"].(int); ok && s > 0 {
		retry = s
	}
	headers := withRetryAfter(nil, status, retry)
	if v >= 2 {
		return &ProblemErr{Problem{
			Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: msg, Instance: path,
			Code: string(code), RequestID: reqID, Errors: fields, Details: details, headers: headers,
		}}
	}
	if len(fields) > 0 {
		if details == nil {
			details = map[string]any{}
		}
		details["errors"] = fields
	}
	return &LegacyErr{Legacy{
		Error: true, StatusCode: status, Code: string(code), Message: msg, Details: details,
		RequestID: reqID, headers: headers,
	}}
}

// HumaHook replaces huma.NewErrorWithContext: huma's own failures (validation, malformed JSON, body too
// large) and handler errors come out in the request's version shape. v1 turns every validation failure
// into 400 VALIDATION_ERROR naming the fields (D10); v2 keeps 422 for invalid and 400 for malformed.
func HumaHook(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	ctx := context.Background()
	path := ""
	if hctx != nil {
		ctx = hctx.Context()
		u := hctx.URL()
		path = u.Path
	}
	// A handler returned a domain error (or a plain one): render it by its code. huma sends the headers
	// of the errors handlers return but not of the one made here, so they are set here (Retry-After).
	if status == http.StatusInternalServerError && len(errs) == 1 {
		var se huma.StatusError
		if !errors.As(errs[0], &se) {
			se = FromError(ctx, path, errs[0])
			if hctx != nil {
				copyHeaders(se, hctx.SetHeader, hctx.AppendHeader)
			}
			return se
		}
	}
	v := VersionFrom(ctx)
	code := codeOfStatus(status)
	var fields []FieldError
	for _, err := range errs {
		var d *huma.ErrorDetail
		if errors.As(err, &d) {
			fields = append(fields, FieldError{Location: d.Location, Message: d.Message})
		} else if err != nil {
			fields = append(fields, FieldError{Message: err.Error()})
		}
	}
	var details map[string]any
	if len(fields) > MaxFieldErrors {
		// A body with a thousand bad elements gets the first few and a count, not an answer many times
		// its own size.
		details = map[string]any{"errorCount": len(fields), "errorsOmitted": len(fields) - MaxFieldErrors}
		fields = fields[:MaxFieldErrors]
	}
	switch {
	case status == http.StatusBadRequest && len(fields) == 1 && fields[0].Location == "body":
		// huma reports a body that is not JSON at all as a 400 located at "body".
		msg = "Malformed JSON in request body: " + fields[0].Message
	case len(fields) > 0 && code == maestro.CodeValidation:
		msg = describeFields(msg, fields)
		if details != nil {
			msg += fmt.Sprintf("; and %d more", details["errorsOmitted"])
		}
	}
	if v < 2 && (status == http.StatusUnprocessableEntity || status == http.StatusUnsupportedMediaType) {
		status = http.StatusBadRequest
	}
	if status >= 500 {
		logger(ctx).ErrorContext(ctx, "request failed", "status", status, "error", msg)
		obs.RequestInfoFrom(ctx).SetError(errors.New(msg))
		msg = "internal error"
	}
	return build(ctx, v, status, code, msg, details, fields, path)
}

// MaxFieldErrors is how many invalid fields an error lists; the rest are counted (errorCount,
// errorsOmitted in details).
const MaxFieldErrors = 20

// describeFields makes one message naming every invalid field, e.g.
// "Invalid request: body.name: expected string".
func describeFields(msg string, fields []FieldError) string {
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		if f.Location != "" {
			parts = append(parts, f.Location+": "+f.Message)
		} else {
			parts = append(parts, f.Message)
		}
	}
	if len(parts) == 0 {
		return msg
	}
	return "Invalid request: " + strings.Join(parts, "; ")
}

// Write renders err as the response of a plain (non-huma) handler.
func Write(w http.ResponseWriter, r *http.Request, se huma.StatusError) {
	h := w.Header()
	copyHeaders(se, h.Set, h.Add)
	h.Set("Content-Type", contentType(se))
	w.WriteHeader(se.GetStatus())
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(se)
}

// WriteContext renders err, as FromError makes it, as the response of a huma middleware (one that
// answers instead of calling the operation, such as a feature gate).
func WriteContext(ctx huma.Context, err error) {
	se := FromError(ctx.Context(), ctx.URL().Path, err)
	copyHeaders(se, ctx.SetHeader, ctx.AppendHeader)
	ctx.SetHeader("Content-Type", contentType(se))
	ctx.SetStatus(se.GetStatus())
	if ctx.Method() == http.MethodHead {
		return
	}
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(se)
}

// contentType is the media type of se's body: application/problem+json for v2 problems, else JSON.
func contentType(se huma.StatusError) string {
	if f, ok := se.(huma.ContentTypeFilter); ok {
		return f.ContentType("application/json")
	}
	return "application/json"
}

// copyHeaders sets the headers se carries (Retry-After and the like) on a response, each
// replacing a value an outer layer may have set, so that no header is ever sent twice.
func copyHeaders(se huma.StatusError, set, add func(name, value string)) {
	h, ok := se.(huma.HeadersError)
	if !ok {
		return
	}
	for k, vs := range h.GetHeaders() {
		for i, v := range vs {
			if i == 0 {
				set(k, v)
			} else {
				add(k, v)
			}
		}
	}
}
