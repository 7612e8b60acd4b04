package store

import (
	"context"
	"database/sql"
	"sync"
)

// The task and session lists build their SQL from the filters a request combines (taskpage.go,
// sessionpage.go). Each distinct text is a shape; there are a few hundred at most (filters × sorts ×
// first or next page, and the count). Like the generated queries (Store.rq), each shape is prepared once
// on the reader pool and reused, so SQLite does not parse and plan a list query on every request.

// maxShapes bounds the prepared shapes; past it a shape runs unprepared. The filters cannot produce
// that many, so this only guards against a bug that would make the text vary per request.
const maxShapes = 2048

// shapes are the reader pool's prepared list statements, by SQL text.
type shapes struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// stmt returns the prepared statement of query on r, preparing it the first time; nil when the cache is
// full.
func (c *shapes) stmt(ctx context.Context, r *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if len(c.stmts) >= maxShapes {
		return nil, nil
	}
	st, err := r.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st, nil
}

// close closes every prepared shape.
func (c *shapes) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		_ = st.Close()
	}
	c.stmts = nil
}

// queryShape runs a list query: through its prepared statement when q reads from the reader pool
// itself (Read), else (a read or write transaction, a test's recorder) as plain SQL on q's connection.
func (q *Q) queryShape(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if q.pooled {
		if st, err := q.s.shapes.stmt(ctx, q.s.r, query); err == nil && st != nil {
			return st.QueryContext(q.c(ctx), args...)
		}
	}
	return q.x.QueryContext(q.c(ctx), query, args...)
}

// queryRowShape is queryShape for a query of one row.
func (q *Q) queryRowShape(ctx context.Context, query string, args ...any) *sql.Row {
	if q.pooled {
		if st, err := q.s.shapes.stmt(ctx, q.s.r, query); err == nil && st != nil {
			return st.QueryRowContext(q.c(ctx), args...)
		}
	}
	return q.x.QueryRowContext(q.c(ctx), query, args...)
}
