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

// deferredTotals fill the running totals of a rebuild from the rows the
// fold wrote, the sums addTotals, addToCheckpoints and addReceipt would
// have written batch after batch: posting_days adds up the postings of a
// day per key (a positive leg is a debit, any other a credit),
// posting_totals those over every day; each month with postings has a
// checkpoint with every key up to its end; receipt_days adds up the
// receipts per day, a reversed one (reversed_by set) adding nothing but
// keeping its row. Each GROUP BY is in its table's key order, so that the
// rows are appended. They are migrations 5 and 6's statements, which fill
// the same tables of an older read model.
var deferredTotals = []string{
	`INSERT INTO posting_days
	SELECT fund, effective_on, term_id, account, event_type, line_id, donor_id, earmark,
		COALESCE(SUM(CASE WHEN amount_minor > 0 THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN amount_minor <= 0 THEN amount_minor END), 0), count(*)
	FROM postings GROUP BY fund, effective_on, term_id, account, event_type, line_id, donor_id, earmark`,
	`INSERT INTO posting_totals
	SELECT fund, term_id, account, event_type, line_id, donor_id, earmark, SUM(debit_minor), SUM(credit_minor), SUM(legs)
	FROM posting_days GROUP BY fund, term_id, account, event_type, line_id, donor_id, earmark`,
	`INSERT INTO posting_checkpoint_months SELECT DISTINCT fund, substr(effective_on, 1, 7) FROM posting_days`,
	`INSERT INTO posting_checkpoints
	SELECT m.fund, m.month, d.term_id, d.account, d.event_type, d.line_id, d.donor_id, d.earmark,
		SUM(d.debit_minor), SUM(d.credit_minor), SUM(d.legs)
	FROM posting_checkpoint_months m JOIN posting_days d ON d.fund = m.fund AND substr(d.effective_on, 1, 7) <= m.month
	GROUP BY m.fund, m.month, d.term_id, d.account, d.event_type, d.line_id, d.donor_id, d.earmark`,
	`INSERT INTO receipt_days
	SELECT fund, term_id, donor_id, received_on, currency,
		SUM(CASE WHEN reversed_by = '' THEN amount_minor ELSE 0 END), SUM(CASE WHEN reversed_by = '' THEN usd_minor ELSE 0 END),
		SUM(reversed_by = '')
	FROM contributions GROUP BY fund, term_id, donor_id, received_on, currency`,
}

// makeDeferredTotals fills the running totals a rebuild left out of its
// fold (deferTotals), in one transaction, and makes the store fold them
// again. Every batch writing the same rows many times over was most of a
// rebuild's cost (issue 10): a history whose entries are back-dated
// across its months adds each batch's keys to every later month's
// checkpoint.
func (s *Store) makeDeferredTotals(ctx context.Context) error {
	if !s.deferTotals {
		return nil
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("make totals: %w", err)
	}
	defer tx.Rollback()
	for _, q := range deferredTotals {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("make totals: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("make totals: %w", err)
	}
	s.deferTotals = false
	return nil
}
