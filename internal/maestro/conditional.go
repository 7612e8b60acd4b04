package maestro

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Conditional and idempotent writes. The caller states a write's conditions as a WriteOpts value; the
// service checks IfMatch and the store claims Idem inside the write transaction, where no other write
// can slip in between the check and the change. Nothing here knows how a condition reached the server
// (API v2 reads them from the If-Match and Idempotency-Key headers) or how a result is rendered.

// WriteOpts are the conditions of one write. The zero value is an unconditional, non-idempotent write.
type WriteOpts struct {
	// IfMatch makes an update or delete conditional on the version the caller last saw.
	IfMatch IfMatch
	// Idem makes a create idempotent; nil for an ordinary create.
	Idem *Idem
}

// OptsOf returns the write options passed to a service method's variadic opts parameter: the zero
// value when none was passed. Service methods take them variadically so that callers without
// conditions (API v1, the command line, tests) say nothing.
func OptsOf(opts []WriteOpts) WriteOpts {
	if len(opts) == 0 {
		return WriteOpts{}
	}
	return opts[0]
}

// Versioned is a record whose version a write can be made conditional on.
type Versioned interface {
	// VersionTag names the record's current version: equal tags mean the same version.
	VersionTag() string
}

// versionSalt is part of every version tag, so that a change of the representation clients see (API
// v2 sends the tag as the ETag) can change every tag at once.
const versionSalt = "v2.1"

// VersionTag returns the tag of one version of a record, from what identifies that version (kind, id,
// and the stamps or values that move with every change). Tags are strong: one version always has one
// tag. The tag is quoted, the form in which clients read it and send it back (RFC 9110 entity-tag).
func VersionTag(parts ...string) string {
	h := sha256.Sum256([]byte(versionSalt + "\x00" + strings.Join(parts, "\x00")))
	return `"` + hex.EncodeToString(h[:10]) + `"`
}

func stampTag(kind, id string, stamp int64) string {
	return VersionTag(kind, id, strconv.FormatInt(stamp, 10))
}

// VersionTag implements Versioned: every change of a task moves its updatedAt, which strictly increases
// per record (D12). A task's lease (token and expiry) is part of its version too, since a renewal moves
// only the lease's expiry; reads that show the lease (API v2) load it first, so the tag they send and
// the one a conditional write checks agree.
func (t Task) VersionTag() string {
	if l := t.Lease; l != nil {
		return VersionTag("task", t.ID, strconv.FormatInt(t.UpdatedAt, 10),
			"lease", strconv.FormatInt(l.Token, 10), strconv.FormatInt(l.ExpiresAt, 10))
	}
	return stampTag("task", t.ID, t.UpdatedAt)
}

// VersionTag implements Versioned (see Task.VersionTag).
func (p Project) VersionTag() string { return stampTag("project", p.ID, p.UpdatedAt) }

// VersionTag implements Versioned: lastActivity strictly increases with every change of the session,
// its links and its logs (D12).
func (s Session) VersionTag() string { return stampTag("session", s.ID, s.LastActivity) }

// VersionTag implements Versioned (see Task.VersionTag).
func (t Template) VersionTag() string { return stampTag("template", t.ID, t.UpdatedAt) }

// VersionTag implements Versioned: a queue is named by its session.
func (q Queue) VersionTag() string { return stampTag("queue", q.SessionID, q.UpdatedAt) }

// AnyVersion is the tag that matches every version of an existing record (If-Match: *).
const AnyVersion = "*"

// IfMatch is the condition of a conditional update or delete: the version tags the caller accepts.
// The zero value (no tags) is no condition.
type IfMatch struct {
	// Tags are the accepted version tags, or AnyVersion. A tag matches only when it equals the current
	// tag exactly (strong comparison).
	Tags []string
	// Stated is the condition as the caller stated it, and Resource names the record (e.g. "Task
	// 'tsk_1'"); both only word the error.
	Stated   string
	Resource string
}

// Check compares the condition with current, the record as stored (read inside the write transaction).
// Errors: PRECONDITION_FAILED, with the current tag in details.etag.
func (m IfMatch) Check(current Versioned) error {
	if len(m.Tags) == 0 {
		return nil
	}
	tag := current.VersionTag()
	for _, t := range m.Tags {
		if t == AnyVersion || t == tag {
			return nil
		}
	}
	return &Error{
		Code: CodePrecondition,
		Message: fmt.Sprintf("%s has changed: If-Match %s does not match its current ETag %s; read it again and retry",
			m.Resource, m.Stated, tag),
		Details: map[string]any{"etag": tag},
	}
}

// IdempotencyTTL is how long an idempotency key is remembered: a retry within it gets the first result;
// after it the key is free again.
const IdempotencyTTL = 24 * time.Hour

// Idem is an idempotent create: the store runs it at most once per Scope and Key, and a retry gets the
// first result back instead of creating again.
type Idem struct {
	// Scope names the operation the key belongs to (the same key may be used for different operations).
	// It is opaque here; API v2 uses the method and route of the create.
	Scope string
	// Key is the caller's idempotency key.
	Key string
	// RequestHash fingerprints the request: a key reused with a different request is refused with
	// IDEMPOTENCY_KEY_REUSED.
	RequestHash string

	// Replayed is set by the store when the key was used before: the create did not run, and the result
	// the service returned is the first request's, as it was stored.
	Replayed bool
}
