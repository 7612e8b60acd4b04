package store

import (
	"context"
	"database/sql"
)

// ReadTx runs fn in one read-only transaction on the reader pool, so that every query of fn sees the
// same snapshot of the database (WAL keeps it stable whatever commits meanwhile): a project export
// reads its tasks, sessions, links, logs and queues as of one instant. The driver begins a read-only
// transaction with a plain BEGIN, never BEGIN IMMEDIATE, so it takes no write lock and holds up no
// writer. The transaction is always rolled back: nothing in it can write.
func (s *Store) ReadTx(ctx context.Context, fn func(q *Q) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return domainErr(mapErr(err))
	}
	defer func() { _ = tx.Rollback() }()
	// Through the reader pool's prepared statements, like every other read (see Store.rq).
	return domainErr(fn(&Q{q: s.rq.WithTx(tx), s: s, x: tx}))
}
