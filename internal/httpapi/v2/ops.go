package v2

import (
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"net/http"
	"slices"

	"github.com/danielgtaylor/huma/v2"
)

// apiDescription is the overview at the top of the v2 OpenAPI document.
const apiDescription = `API v2 serves the same projects, tasks, sessions (with their timelines and event logs), queues,
templates and skills as v1, through the same services, with a stricter and more capable contract, plus project
export and import. v1 stays as it is for the maestro CLI and the desktop UI.

**Versions.** v2 lives at ` + "`/api/v2/...`" + `. The unversioned ` + "`/api/...`" + ` serves v1, or v2 when the request carries
` + "`API-Version: 2`" + `; any other value is refused with 400 ` + "`UNSUPPORTED_API_VERSION`" + `. Every response carries ` + "`API-Version`" + `.

**Errors** are RFC 9457 ` + "`application/problem+json`" + ` with the extension members ` + "`code`" + ` (machine-readable, e.g.
` + "`NOT_FOUND`, `VALIDATION_ERROR`, `FEATURE_DISABLED`" + `) and ` + "`requestId`" + ` (the X-Request-ID, also in the server's logs);
` + "`details`" + ` adds facts such as the field or the flag at fault. Invalid input is 422, malformed JSON 400.

**Lists** are cursor-paginated: ` + "`limit`" + ` (1–500, default 50) and the opaque ` + "`cursor`" + ` from the previous page's
` + "`nextCursor`" + ` (null on the last page). Pages are keyset-based: rows created while a client pages through a list never
make it see a row twice or miss one. ` + "`total=true`" + ` adds the number of matching rows (a second query).

**Enums are strict**: task status ` + "`todo|in_progress|completed|cancelled|blocked`" + `, priority ` + "`low|medium|high|critical`" + `,
task sessionStatus ` + "`queued|working|needs_input|blocked|completed|failed|skipped`" + `, session status
` + "`spawning|idle|working|running|completed|failed|stopped`" + `, session strategy ` + "`simple|queue`" + `, role
` + "`worker|orchestrator`" + `; timeline and event types match ` + "`^[a-z][a-z0-9_]{0,63}$`" + `. Values written through v1 (which
stores any string) can still appear in responses. Unknown body members are refused (422). In a PATCH, members
that are absent or null are left as they are.

**Conditional requests.** Single resources carry a strong ` + "`ETag`" + `. ` + "`If-None-Match`" + ` on GET answers 304 when the
resource is unchanged; ` + "`If-Match`" + ` on PATCH, PUT and DELETE answers 412 ` + "`PRECONDITION_FAILED`" + ` when it changed meanwhile
(the check and the write happen in one transaction).

**Idempotent creates.** Every create accepts ` + "`Idempotency-Key`" + ` (1–255 visible ASCII characters): projects, tasks,
sessions, timeline and event entries, queue pushes, templates, imports and — above all — spawns. A retry with the same
key on the same route within 24 hours gets the first response again (status, headers, body; marked
` + "`Idempotent-Replayed: true`" + `) and creates nothing. The key is stored in the transaction of the create, so a crash can
never keep one without the other. Reusing a key with a different body is refused with 422 ` + "`IDEMPOTENCY_KEY_REUSED`" + `.
Only successful creates are remembered: a failed one may be retried with the same key.

**Feature flags** gate parts of v2: with ` + "`api-v2`" + ` off, everything but ` + "`/api/v2/flags`" + `, ` + "`/api/v2/admin`" + ` and health answers 404
` + "`FEATURE_DISABLED`" + ` with ` + "`details.flag`" + `; ` + "`task-search`" + ` gates the ` + "`q`" + ` parameter of the task list.`

// Operation metadata keys read by the v2 middleware.
const (
	// metaIdempotent marks a create that honours Idempotency-Key.
	metaIdempotent = "maestro.idempotent"
	// metaUngated marks an operation the api-v2 flag never turns off.
	metaUngated = "maestro.ungated"
	// metaFlag names the flag (a flags.Key) that gates an operation besides api-v2.
	metaFlag = "maestro.flag"
)

// op builds a v2 operation. Every v2 operation may answer 404 FEATURE_DISABLED (api-v2 off) and 500;
// huma adds 422 for operations with parameters or a body.
func op(id, method, path, tag, summary, description string, errs ...int) huma.Operation {
	if !slices.Contains(errs, http.StatusNotFound) {
		errs = append(errs, http.StatusNotFound)
	}
	return wire.Op("v2-"+id, method, path, tag, summary, description, errs)
}

// create marks an operation as a create: 201 Created, and Idempotency-Key honoured.
func create(o huma.Operation) huma.Operation {
	o.DefaultStatus = http.StatusCreated
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata[metaIdempotent] = true
	o.Description += "\n\nSend `Idempotency-Key` to make retries safe: a repeated key returns the first response and creates nothing."
	return o
}

// ungated marks an operation that stays on while api-v2 is off: the flags themselves (or ops could not
// turn v2 back on) and the admin operations.
func ungated(o huma.Operation) huma.Operation {
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata[metaUngated] = true
	return o
}

// noContent marks an operation that answers 204 No Content (v2 deletes).
func noContent(o huma.Operation) huma.Operation {
	o.DefaultStatus = http.StatusNoContent
	return o
}
