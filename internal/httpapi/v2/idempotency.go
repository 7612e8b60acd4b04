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

// idempotency makes the creates (operations marked by create()) honour Idempotency-Key. It only
// prepares the request: it checks the key, fingerprints the body, and puts a maestro.Idempotency on the
// context. The store then looks the key up inside the create's own transaction (so two concurrent
// retries cannot both create) and the service records the response in that same transaction; a reused
// key comes back as maestro.Replay, which apierr sends exactly as the first response was sent.
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
		body, err := io.ReadAll(ctx.BodyReader())
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				apierr.WriteContext(ctx, maestro.Errorf(maestro.CodePayloadTooLarge, "request body is larger than %d bytes", tooBig.Limit))
				return
			}
			apierr.WriteContext(ctx, maestro.Invalid("cannot read the request body: %v", err))
			return
		}
		idem := &maestro.Idempotency{
			Route:       o.Method + " " + o.Path,
			Key:         key,
			RequestHash: requestHash(body),
			Respond:     respondCreated(o.DefaultStatus),
		}
		next(&idempotentContext{
			hctx: ctx,
			ctx:  maestro.WithIdempotency(ctx.Context(), idem),
			body: bytes.NewReader(body),
		})
	}
}

// idempotentContext is the request with its body already read (and so re-readable) and the idempotent
// create on its context.
type idempotentContext struct {
	hctx
	ctx  context.Context
	body io.Reader
}

// hctx lets idempotentContext embed huma.Context while overriding its Context method.
type hctx = huma.Context

func (c *idempotentContext) Context() context.Context { return c.ctx }
func (c *idempotentContext) BodyReader() io.Reader    { return c.body }

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

// respondCreated renders the response of a created resource exactly as huma sends it (the v2 body,
// encoded like huma.DefaultJSONFormat without its trailing newline, which the replay adds back), with
// its ETag and Location.
func respondCreated(status int) func(created any) (maestro.StoredResponse, error) {
	return func(created any) (maestro.StoredResponse, error) {
		body, header, err := representation(created)
		if err != nil {
			return maestro.StoredResponse{}, err
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			return maestro.StoredResponse{}, err
		}
		return maestro.StoredResponse{Status: status, Header: header, Body: bytes.TrimSuffix(buf.Bytes(), []byte("\n"))}, nil
	}
}
