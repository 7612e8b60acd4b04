// Package v2 registers the v2 operations on their own huma API at /api/v2: RFC 9457 problem+json
// errors, cursor pagination, strict enums, ETags, idempotency keys (DESIGN.md §4). Handlers are thin
// adapters over the same services as v1, each a named method of a small handler type per area
// (tasksV2.createTask), so that stack traces, profiles and readers see names; register* only lists the
// operations. What v1 and v2 share (the operation builder, optional values) lives in ../wire.
package v2
