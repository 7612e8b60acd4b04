package v2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// ETags are strong and computed from the resource's identity and version, not by hashing the body:
//
//   - every change of a project or task moves its updatedAt, and updatedAt strictly increases per
//     record (D12), so (id, updatedAt) names one version exactly — with a task's lease (token and
//     expiry), which a renewal moves alone; a flag's version is its value, source and updatedAt;
//   - the v2 representation is a pure function of that version, so one version always has the same
//     bytes — which is what a strong ETag promises — and nothing re-encodes bodies on the way;
//   - If-Match must use strong comparison (RFC 9110 §13.1.1), so weak ETags could never satisfy it.
//
// etagVersion is part of the hash so that a change of the v2 representation changes every ETag.
const etagVersion = "v2.1"

// etagOf returns the ETag of a resource as stored (a domain value), or "" for an unknown type.
func etagOf(v any) string {
	var parts []string
	switch x := v.(type) {
	case maestro.Task:
		parts = []string{"task", x.ID, strconv.FormatInt(x.UpdatedAt, 10)}
		if l := x.Lease; l != nil {
			// A renewal moves only the lease's expiry, not updatedAt: the lease is part of the version.
			parts = append(parts, "lease", strconv.FormatInt(l.Token, 10), strconv.FormatInt(l.ExpiresAt, 10))
		}
	case maestro.Project:
		parts = []string{"project", x.ID, strconv.FormatInt(x.UpdatedAt, 10)}
	case maestro.Session:
		// lastActivity strictly increases with every change of the session, its links and its logs (D12).
		parts = []string{"session", x.ID, strconv.FormatInt(x.LastActivity, 10)}
	case maestro.Template:
		parts = []string{"template", x.ID, strconv.FormatInt(x.UpdatedAt, 10)}
	case maestro.Queue:
		parts = []string{"queue", x.SessionID, strconv.FormatInt(x.UpdatedAt, 10)}
	case flags.State:
		parts = []string{"flag", string(x.Key), strconv.FormatBool(x.Enabled), x.Source,
			strconv.FormatInt(x.UpdatedAt, 10), x.UpdatedBy}
	default:
		return ""
	}
	h := sha256.Sum256([]byte(etagVersion + "\x00" + strings.Join(parts, "\x00")))
	return `"` + hex.EncodeToString(h[:10]) + `"`
}

// entityTags splits an If-Match / If-None-Match value into its entity tags. "*" is returned as is.
// Unquoted tags (a common client mistake) are quoted, so they compare as intended.
func entityTags(header string) []string {
	var out []string
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if t == "*" {
			out = append(out, t)
			continue
		}
		weak := strings.HasPrefix(t, "W/")
		t = strings.TrimPrefix(t, "W/")
		if !strings.HasPrefix(t, `"`) {
			t = `"` + strings.Trim(t, `"`) + `"`
		}
		if weak {
			t = "W/" + t
		}
		out = append(out, t)
	}
	return out
}

// notModified reports whether If-None-Match matches etag (weak comparison: W/ is ignored, RFC 9110
// §13.1.2), so that a GET answers 304.
func notModified(ifNoneMatch, etag string) bool {
	for _, t := range entityTags(ifNoneMatch) {
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// ifMatch puts the If-Match precondition of a PATCH, PUT or DELETE on ctx; the service checks it inside
// its write transaction against the resource as stored. Strong comparison: a weak tag never matches.
func ifMatch(ctx context.Context, header, resource string) context.Context {
	tags := entityTags(header)
	if len(tags) == 0 {
		return ctx
	}
	return maestro.WithPrecondition(ctx, func(current any) error {
		etag := etagOf(current)
		for _, t := range tags {
			if t == "*" || (etag != "" && t == etag) {
				return nil
			}
		}
		return &maestro.Error{
			Code: maestro.CodePrecondition,
			Message: fmt.Sprintf("%s has changed: If-Match %s does not match its current ETag %s; read it again and retry",
				resource, header, etag),
			Details: map[string]any{"etag": etag},
		}
	})
}
