package store

import "context"

// RawExecForBench runs one statement in the current write transaction, for BenchmarkWriteCost's
// baseline row (a test-only export: production code never writes SQL outside this package).
func (q *Q) RawExecForBench(ctx context.Context, query string, args ...any) error {
	_, err := q.x.ExecContext(ctx, query, args...)
	return err
}
