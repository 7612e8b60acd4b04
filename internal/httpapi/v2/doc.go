// Package v2 registers the v2 operations on their own huma API at /api/v2: RFC 9457 problem+json
// errors, cursor pagination, strict enums, ETags, idempotency keys (DESIGN.md §4). Handlers are thin
// adapters over the same services as v1.
package v2
