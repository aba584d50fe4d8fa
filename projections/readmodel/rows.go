package readmodel

import (
	"context"
	"fmt"
	"strings"
)

// multiInsert is an INSERT of many rows of cols columns: head up to
// VALUES, then the rows' placeholders, then tail (an ON CONFLICT clause,
// or nothing).
type multiInsert struct {
	head string
	cols int
	tail string
}

// rowsPerStatement bounds the rows of one multi-row statement: one
// statement of 64 rows costs a little more than one row's statement, 64
// cost 64 times as much (binding and stepping through database/sql). A
// statement of many rows has SQLite copy each page it changes to a
// statement journal first: worth it for the running totals, written in
// key order (a page holds many of the statement's rows), not for an
// event's two or three postings (BenchmarkProjectBatches: 60 % more CPU).
const rowsPerStatement = 64

// query is the statement of u for n rows.
func (u multiInsert) query(n int) string {
	row := "(?" + strings.Repeat(", ?", u.cols-1) + ")"
	return u.head + row + strings.Repeat(", "+row, n-1) + u.tail
}

// insertRows writes the rows of args (u.cols values a row, in order) by
// statements of rowsPerStatement rows and one for the rest. The rows of
// one statement are written one after the other, as separate statements
// would write them.
func (a *applier) insertRows(ctx context.Context, u multiInsert, args []any) error {
	if len(args)%u.cols != 0 {
		return fmt.Errorf("upsert of %d values in rows of %d", len(args), u.cols)
	}
	for len(args) > 0 {
		n := min(len(args)/u.cols, rowsPerStatement)
		if _, err := a.exec(ctx, a.multiQuery(u, n), args[:n*u.cols]...); err != nil {
			return err
		}
		args = args[n*u.cols:]
	}
	return nil
}

// multiQuery returns u.query(n), built once per store.
func (a *applier) multiQuery(u multiInsert, n int) string {
	k := multiKey{u.head, n}
	q, ok := a.cache.multis[k]
	if !ok {
		q = u.query(n)
		if a.cache.multis == nil {
			a.cache.multis = map[multiKey]string{}
		}
		a.cache.multis[k] = q
	}
	return q
}

type multiKey struct {
	head string
	n    int
}
