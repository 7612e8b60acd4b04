package v2

import (
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// ETags are the records' version tags (maestro.Versioned): strong, and computed from the record's
// identity and version, not by hashing the body. The v2 representation is a pure function of that
// version, so one version always has the same bytes — which is what a strong ETag promises — and
// nothing re-encodes bodies on the way; If-Match must use strong comparison (RFC 9110 §13.1.1), so weak
// ETags could never satisfy it.

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

// ifMatch states the If-Match header of a PATCH, PUT or DELETE as the write's condition; the service
// checks it inside its write transaction against the resource as stored. Strong comparison: a weak tag
// never matches.
func ifMatch(header, resource string) maestro.WriteOpts {
	return maestro.WriteOpts{IfMatch: maestro.IfMatch{Tags: entityTags(header), Stated: header, Resource: resource}}
}
