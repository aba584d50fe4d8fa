package readmodel

import (
	"context"
	"database/sql"
	"errors"
)

// stmtCache holds the fold's statements prepared on the store's writer
// (one connection), so that a batch does not parse its twenty-odd
// statements again: the live projector folds a few events a batch, for
// which that parsing was a large part of the cost. Used under the store's
// applyMu only.
type stmtCache struct {
	prepared map[string]*sql.Stmt // on the writer, outside any transaction
	fresh    []string             // queries first run in the batch under way
	multis   map[multiKey]string  // multiInsert.query's text, built once
}

// inTx returns query's statement for tx: the writer's prepared one, bound
// to the transaction (database/sql reuses the connection's statement), or
// one prepared in tx for this batch, to be prepared on the writer after it.
// (The writer has one connection, which the transaction holds: preparing on
// the writer meanwhile would wait for it for ever.)
func (c *stmtCache) inTx(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := c.prepared[query]; ok {
		return tx.StmtContext(ctx, st), nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err == nil {
		c.fresh = append(c.fresh, query)
	}
	return st, err
}

// prepareNew prepares on db the queries first run in the last batch. A
// statement that fails to prepare is left out: the next batch prepares it
// in its transaction again, and fails there if it must.
func (c *stmtCache) prepareNew(ctx context.Context, db *sql.DB) {
	for _, q := range c.fresh {
		if _, ok := c.prepared[q]; ok {
			continue
		}
		st, err := db.PrepareContext(context.WithoutCancel(ctx), q)
		if err != nil {
			continue
		}
		if c.prepared == nil {
			c.prepared = map[string]*sql.Stmt{}
		}
		c.prepared[q] = st
	}
	c.fresh = c.fresh[:0]
}

// close closes the prepared statements.
func (c *stmtCache) close() error {
	var errs []error
	for _, st := range c.prepared {
		errs = append(errs, st.Close())
	}
	c.prepared, c.fresh = nil, nil
	return errors.Join(errs...)
}
