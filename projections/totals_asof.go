package projections

import "github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"

// TotalsAsOf returns the SQL of the running totals of the view's fund as of
// the end of a date, for a report at the fund's head (View.Head): rows of
// cols followed by d, c and n (debit, credit and number of legs, signed)
// whose sums by cols are the sums of the postings dated on or before the
// date. filter is a condition on the totals' columns; fund is ?1 and
// asOf the placeholder of the date (?2, ?3…).
//
// It reads the checkpoint of the last month before the date's month in
// which the fund has postings (posting_checkpoints: every key's totals at
// that month's end) and the days of the date's month up to the date
// (posting_days): the months between have no postings. So a report reads
// the keys it shows and a month of days, whatever the date and however
// long the log (issue 10). fromEnd reads instead the totals over every day
// less the days after the date, for the tests that compare the two with
// the postings.
func TotalsAsOf(cols, filter, asOf string, fromEnd bool) string {
	month := `substr(` + asOf + `, 1, 7)`
	if fromEnd {
		return `SELECT ` + cols + `, debit_minor AS d, credit_minor AS c, legs AS n
				FROM posting_totals WHERE fund = ?1 AND ` + filter + `
			UNION ALL
			SELECT ` + cols + `, -debit_minor, -credit_minor, -legs
				FROM posting_days WHERE fund = ?1 AND effective_on > ` + asOf + ` AND ` + filter
	}
	return `SELECT ` + cols + `, debit_minor AS d, credit_minor AS c, legs AS n
			FROM posting_checkpoints WHERE fund = ?1 AND ` + filter + ` AND month =
				(SELECT MAX(month) FROM posting_checkpoint_months WHERE fund = ?1 AND month < ` + month + `)
		UNION ALL
		SELECT ` + cols + `, debit_minor, credit_minor, legs
			FROM posting_days WHERE fund = ?1 AND effective_on >= ` + month + ` || '-01' AND effective_on <= ` + asOf + ` AND ` + filter
}

// TotalsFromEnd tells TotalsAsOf to read the totals less the days after
// the date: only in the tests that compare both ways (readFromEnd).
func (v *View) TotalsFromEnd() bool { return v.mode == readFromEnd }

// totals returns the SQL of the view's running totals (cols, filter and
// asOf as TotalsAsOf; next the first free placeholder's number) and the
// values to append for ?next and after: at the fund's head
// TotalsAsOf, below it seqtotals.AtSeq (the checkpoint at the boundary
// nearest the view's fund_seq that the read model has, and the postings
// between them: fewer than seqtotals.Every()/2 events' when it has both). ok
// is false when the view sums the postings instead (readPostings: what the
// tests compare the totals with).
func (v *View) totals(cols, filter, asOf string, next int) (query string, more []any, ok bool) {
	switch {
	case v.mode == readPostings:
		return "", nil, false
	case v.FundSeq == v.Head:
		return TotalsAsOf(cols, filter, asOf, v.TotalsFromEnd()), nil, true
	}
	return seqtotals.AtSeq(cols, filter, asOf, next), seqtotals.Args(v.FundSeq, v.Head), true
}

// ReadsTotals is false when the view sums the postings and the rows they
// come from, as the tests' oracle does (readPostings), true when it reads
// running totals.
func (v *View) ReadsTotals() bool { return v.mode != readPostings }

// Totals is totals for the reports of other packages (the donors'
// attribution): the same SQL and values, and ok false when the view sums
// the postings.
func (v *View) Totals(cols, filter, asOf string, next int) (query string, more []any, ok bool) {
	return v.totals(cols, filter, asOf, next)
}
