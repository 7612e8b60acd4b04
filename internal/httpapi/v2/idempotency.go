package v2

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// IdempotencyKeyHeader is the request header of idempotent creates.
const IdempotencyKeyHeader = "Idempotency-Key"

// maxIdempotencyKey bounds the key; 255 is what common clients generate at most (UUIDs are 36).
const maxIdempotencyKey = 255

// ReplayedHeader marks a response that repeats the first response of an Idempotency-Key.
const ReplayedHeader = "Idempotent-Replayed"

// idempotency makes the creates (operations marked by create()) honour Idempotency-Key. It only
// prepares the request: it checks the key, fingerprints the body, and hands the handler a maestro.Idem
// (createOpts), which the handler passes down with its create. The store then looks the key up inside
// the create's own transaction (so two concurrent retries cannot both create) and stores the result in
// that same transaction; on a retry the service returns the first result, the handler renders it as it
// rendered the first response, and the response is marked with Idempotent-Replayed.
func idempotency() func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		o := ctx.Operation()
		if o.Metadata[metaIdempotent] != true {
			next(ctx)
			return
		}
		key, err := parseIdempotencyKey(ctx.Header(IdempotencyKeyHeader))
		if err != nil || key == "" {
			if err != nil {
				apierr.WriteContext(ctx, err)
				return
			}
			next(ctx)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(nil, readCloser{ctx.BodyReader()}, o.MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				apierr.WriteContext(ctx, maestro.Errorf(maestro.CodePayloadTooLarge, "request body is larger than %d bytes", tooBig.Limit))
				return
			}
			apierr.WriteContext(ctx, maestro.Invalid("cannot read the request body: %v", err))
			return
		}
		idem := &maestro.Idem{Scope: o.Method + " " + o.Path, Key: key, RequestHash: requestHash(body)}
		next(&idempotentContext{
			hctx: ctx,
			ctx:  context.WithValue(ctx.Context(), idemKey{}, idem),
			body: bytes.NewReader(body),
			idem: idem,
		})
	}
}

// readCloser lets http.MaxBytesReader bound a plain reader.
type readCloser struct{ io.Reader }

func (readCloser) Close() error { return nil }

// idemKey carries a request's maestro.Idem from the middleware to its handler.
type idemKey struct{}

// createOpts returns the write options of a create: its idempotency key, if the request sent one.
func createOpts(ctx context.Context) maestro.WriteOpts {
	idem, _ := ctx.Value(idemKey{}).(*maestro.Idem)
	return maestro.WriteOpts{Idem: idem}
}

// idempotentContext is the request with its body already read (and so re-readable) and its
// maestro.Idem on the context. It marks the response as a replay when the store found the key used.
type idempotentContext struct {
	hctx
	ctx  context.Context
	body io.Reader
	idem *maestro.Idem
}

// hctx lets idempotentContext embed huma.Context while overriding its Context method.
type hctx = huma.Context

func (c *idempotentContext) Context() context.Context { return c.ctx }
func (c *idempotentContext) BodyReader() io.Reader    { return c.body }

// SetStatus adds Idempotent-Replayed to a replayed response: huma sets the status after the handler
// returned and before it writes the body, so the header still goes out with it.
func (c *idempotentContext) SetStatus(code int) {
	if c.idem.Replayed {
		c.hctx.SetHeader(ReplayedHeader, "true")
	}
	c.hctx.SetStatus(code)
}

// parseIdempotencyKey accepts the key as a plain token or as an RFC 8941 string ("…"), as the IETF
// draft sends it. Errors: VALIDATION_ERROR (empty, too long, or not visible ASCII).
func parseIdempotencyKey(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	if raw == "" || len(raw) > maxIdempotencyKey {
		return "", maestro.InvalidField("Idempotency-Key", "Idempotency-Key must be 1 to %d characters", maxIdempotencyKey)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < 0x21 || raw[i] > 0x7e {
			return "", maestro.InvalidField("Idempotency-Key", "Idempotency-Key must be visible ASCII characters without spaces")
		}
	}
	return raw, nil
}

// requestHash fingerprints a request body. JSON is canonicalised first (keys sorted, whitespace
// dropped), so a client re-serialising the same request differently is still the same request.
func requestHash(body []byte) string {
	canon := body
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if b, err := json.Marshal(v); err == nil {
			canon = b
		}
	}
	h := sha256.Sum256(canon)
	return hex.EncodeToString(h[:])
}
