package readmodel

import (
	"context"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/sqlstmt"
)

// insertRows writes the rows of args (u.Cols values a row, in order) by
// statements of sqlstmt.RowsPerStatement rows and one for the rest. The
// rows of one statement are written one after the other, as separate
// statements would write them.
func (a *applier) insertRows(ctx context.Context, u sqlstmt.Multi, args []any) error {
	if len(args)%u.Cols != 0 {
		return fmt.Errorf("insert of %d values in rows of %d", len(args), u.Cols)
	}
	for len(args) > 0 {
		n := min(len(args)/u.Cols, sqlstmt.RowsPerStatement)
		if _, err := a.exec(ctx, a.cache.Query(u, n), args[:n*u.Cols]...); err != nil {
			return err
		}
		args = args[n*u.Cols:]
	}
	return nil
}
