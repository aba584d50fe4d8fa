// Package sqlstmt holds the read model's statements across transactions:
// prepared once on a connection, not once a batch, and the text of
// multi-row inserts built once.
package sqlstmt

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Cache holds statements prepared on a database of one connection (the
// read model's writer), so that a batch does not parse its twenty-odd
// statements again: the live projector folds a few events a batch, for
// which that parsing was a large part of the cost. It is not safe for
// concurrent use; the read model uses it under its apply lock.
type Cache struct {
	prepared map[string]*sql.Stmt // on the database, outside any transaction
	fresh    []string             // queries first run in the transaction under way
	multis   map[multiKey]string  // Multi.Query's text, built once
}

// InTx returns query's statement for tx: the database's prepared one,
// bound to the transaction (database/sql reuses the connection's
// statement), or one prepared in tx, to be prepared on the database by
// PrepareNew once tx is done. (The database has one connection, which the
// transaction holds: preparing on it meanwhile would wait for ever.)
func (c *Cache) InTx(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := c.prepared[query]; ok {
		return tx.StmtContext(ctx, st), nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err == nil {
		c.fresh = append(c.fresh, query)
	}
	return st, err
}

// PrepareNew prepares on db the queries InTx saw first since the last
// call; call it once the transaction is committed or rolled back. A
// statement that fails to prepare is left out: the next transaction
// prepares it again, and fails there if it must.
func (c *Cache) PrepareNew(ctx context.Context, db *sql.DB) {
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

// Close closes the prepared statements; the cache can be used again.
func (c *Cache) Close() error {
	var errs []error
	for _, st := range c.prepared {
		errs = append(errs, st.Close())
	}
	c.prepared, c.fresh = nil, nil
	return errors.Join(errs...)
}

// RowsPerStatement bounds the rows of one multi-row statement: one
// statement of 64 rows costs a little more than one row's statement, 64
// cost 64 times as much (binding and stepping through database/sql). A
// statement of many rows has SQLite copy each page it changes to a
// statement journal first: worth it for rows written in key order (a page
// holds many of them), not for two or three rows at random places (an
// event's postings: 60 % more CPU in BenchmarkProjectBatches).
const RowsPerStatement = 64

// Multi is an INSERT of many rows of Cols columns: Head up to VALUES,
// then the rows' placeholders, then Tail (an ON CONFLICT clause, or
// nothing).
type Multi struct {
	Head string
	Cols int
	Tail string
}

type multiKey struct {
	head string
	n    int
}

// Query returns the statement of m for n rows, built once per cache.
func (c *Cache) Query(m Multi, n int) string {
	k := multiKey{m.Head, n}
	q, ok := c.multis[k]
	if !ok {
		row := "(?" + strings.Repeat(", ?", m.Cols-1) + ")"
		q = m.Head + row + strings.Repeat(", "+row, n-1) + m.Tail
		if c.multis == nil {
			c.multis = map[multiKey]string{}
		}
		c.multis[k] = q
	}
	return q
}

// ExecRows runs m over the rows of args (m.Cols values a row, in order)
// through exec, by statements of RowsPerStatement rows and one for the
// rest. The rows of one statement are written one after the other, as
// separate statements would write them.
func (c *Cache) ExecRows(ctx context.Context, exec func(context.Context, string, ...any) (sql.Result, error), m Multi, args []any) error {
	if len(args)%m.Cols != 0 {
		return fmt.Errorf("insert of %d values in rows of %d", len(args), m.Cols)
	}
	for len(args) > 0 {
		n := min(len(args)/m.Cols, RowsPerStatement)
		if _, err := exec(ctx, c.Query(m, n), args[:n*m.Cols]...); err != nil {
			return err
		}
		args = args[n*m.Cols:]
	}
	return nil
}
