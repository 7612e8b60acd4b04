// Package wire holds what the v1 and v2 adapters share: the operation builder every operation starts
// from, the per-operation body limit, and the conversions of optional wire values (absent or null
// members) to domain values.
//
// It must not know a route or a version's rules: v1 and v2 add their own operation IDs, error lists
// and statuses on top of Op.
package wire
