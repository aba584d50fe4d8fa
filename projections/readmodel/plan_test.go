package readmodel

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/internal/sqlplan"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/sqlstmt"
)

// TestReversalLookupsSearch checks that the fold finds what a reversal
// reverses by its fund_seq through an index on (fund, fund_seq): a plan
// that searches by fund alone reads every row of the fund, once per
// reversal, and the fold slows down as the history grows (issue 10). So
// does a rebuild's store, which folds with the reports' indexes deferred.
func TestReversalLookupsSearch(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "rm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkReversalPlans(t, s)
	r, err := OpenScratch(filepath.Join(t.TempDir(), "rebuild.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.deferIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(r.deferred) == 0 {
		t.Fatal("a rebuild's store deferred no index")
	}
	checkReversalPlans(t, r)
}

func checkReversalPlans(t *testing.T, s *Store) {
	t.Helper()
	queries := map[string]string{
		"reversed receipt": reversedReceiptQuery,
		"unfold receipt":   unfoldContributionQuery,
	}
	for _, table := range []string{"expenditures", "interest", "refunds"} {
		queries["unfold "+table] = unfoldRowQuery(table)
	}
	queries["unfold fee"] = unfoldFeeQuery
	for name, q := range queries {
		if plan := sqlplan.Of(t, s.write, q, nulls(q)...); len(plan) != 1 || !strings.HasPrefix(plan[0], "SEARCH ") || !strings.Contains(plan[0], "(fund=? AND fund_seq=?)") {
			t.Errorf("%s: plan %q, want a SEARCH by (fund=? AND fund_seq=?)", name, plan)
		}
	}
	// A fee's receipt, by its id (schema 13).
	if plan := sqlplan.Of(t, s.write, chargeFeeQuery, nulls(chargeFeeQuery)...); len(plan) != 1 || !strings.HasPrefix(plan[0], "SEARCH ") || !strings.Contains(plan[0], "(fund=? AND contribution_id=?)") {
		t.Errorf("charge fee: plan %q, want a SEARCH by (fund=? AND contribution_id=?)", plan)
	}
	// A receipt's running total by position starts from the last of its
	// donor's term and currency, found by the primary key (schema 14).
	plan := sqlplan.Of(t, s.write, addReceiptSeqQuery, "f", "d", "t", "USD", 1, 100, 100)
	if all := strings.Join(plan, "\n"); !strings.Contains(all, "SEARCH receipt_seq_totals USING PRIMARY KEY (fund=? AND donor_id=? AND term_id=? AND currency=?)") || strings.Contains(all, "SCAN receipt_seq_totals") {
		t.Errorf("add up a receipt by position: plan\n%s\nwant a SEARCH by the primary key", all)
	}
	// The live fold copies each flushed day's totals from posting_days by
	// its key (schema 15), not by reading the table.
	var c sqlstmt.Cache
	q := c.Query(seqtotals.DaySeqFromDays, 2)
	plan = sqlplan.Of(t, s.write, q, nulls(q)...)
	if all := strings.Join(plan, "\n"); !strings.Contains(all, "SEARCH p USING INDEX sqlite_autoindex_posting_days_1 (fund=? AND effective_on=? AND term_id=? AND account=? AND event_type=? AND line_id=? AND donor_id=? AND earmark=?)") || strings.Contains(all, "SCAN p") {
		t.Errorf("copy day totals by bucket: plan\n%s\nwant posting_days searched by its key", all)
	}
}

// nulls are NULL values for each of q's placeholders: a plan does not
// depend on them.
func nulls(q string) []any { return make([]any, strings.Count(q, "?")) }
