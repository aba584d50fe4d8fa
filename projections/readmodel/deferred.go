package readmodel

import (
	"context"
	"fmt"
	"strings"
)

// foldIndexes are the secondary indexes the fold itself reads: a reversal
// finds the row it reverses by fund_seq (unfoldRow, unfoldContribution,
// addReceipt). A rebuild keeps them while it folds.
var foldIndexes = map[string]bool{
	"contributions_seq": true,
	"expenditures_seq":  true,
	"refunds_seq":       true,
	"interest_seq":      true,
}

// deferredIndex is a secondary index a rebuild drops before it folds and
// makes again, from its own statement, once the tables are full.
type deferredIndex struct{ name, sql string }

// deferIndexes drops the secondary indexes of a new store that the fold
// does not read, to be made again by makeDeferredIndexes (persist). A
// rebuild's inserts then write each row's table and keys only, rather than
// also the reports' indexes, whose rows land at random places in ever
// larger b-trees (issue 10: that was most of a rebuild's cost, and why it
// slowed down as the read model grew); an index made at the end is built
// from the sorted rows at once. Unique indexes and primary keys stay: the
// fold relies on them to refuse a duplicate.
func (s *Store) deferIndexes(ctx context.Context) error {
	rows, err := s.write.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid`)
	if err != nil {
		return fmt.Errorf("defer indexes: %w", err)
	}
	var ds []deferredIndex
	for rows.Next() {
		var d deferredIndex
		if err := rows.Scan(&d.name, &d.sql); err != nil {
			rows.Close()
			return fmt.Errorf("defer indexes: %w", err)
		}
		if !foldIndexes[d.name] && !strings.HasPrefix(strings.ToUpper(d.sql), "CREATE UNIQUE") {
			ds = append(ds, d)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("defer indexes: %w", err)
	}
	for _, d := range ds {
		if _, err := s.write.ExecContext(ctx, `DROP INDEX `+d.name); err != nil {
			return fmt.Errorf("defer index %s: %w", d.name, err)
		}
		s.deferred = append(s.deferred, d)
	}
	return nil
}

// makeDeferredIndexes makes the indexes deferIndexes dropped, as before.
func (s *Store) makeDeferredIndexes(ctx context.Context) error {
	for len(s.deferred) > 0 {
		d := s.deferred[0]
		if _, err := s.write.ExecContext(ctx, d.sql); err != nil {
			return fmt.Errorf("make index %s: %w", d.name, err)
		}
		s.deferred = s.deferred[1:]
	}
	return nil
}
