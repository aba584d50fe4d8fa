package donors

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/internal/sqlplan"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// TestStatementPlans: a page of receipts reads the contributions and their
// fees from indexes that cover the columns it reads, so that a listed
// receipt costs no look-up of its row or its fee's (issue 10); a pledge's
// payments are read by the pledge, not by every receipt of the fund.
func TestStatementPlans(t *testing.T) {
	s, err := projections.Open(filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tx, err := s.BeginRead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, c := range []struct {
		name, query string
		args        []any
		want        []string
	}{
		{"receipt page", receiptPageQuery, []any{"f", "d", "t", 10, "2021-12-31", 1000, 0, "2021-12-31"},
			[]string{"SEARCH c USING COVERING INDEX contributions_donor_date (fund=? AND donor_id=? AND term_id=? AND received_on<?)",
				"SEARCH f USING COVERING INDEX fees_contribution (fund=? AND contribution_id=?)"}},
		// Below the head a donor's receipts are added up from their
		// running totals by position, less what the view counts out
		// (schema 14): each by an index, none by reading every receipt.
		{"next currency by position", receiptSeqNextCurrency, []any{"f", "d", "t", 10, "2021-12-31", ""},
			[]string{"SEARCH receipt_seq_totals USING PRIMARY KEY (fund=? AND donor_id=? AND term_id=? AND currency>?)"}},
		{"running total by position", receiptSeqLast, []any{"f", "d", "t", 10, "2021-12-31", "USD"},
			[]string{"SEARCH receipt_seq_totals USING PRIMARY KEY (fund=? AND donor_id=? AND term_id=? AND currency=? AND fund_seq<?)"}},
		{"receipts counted out", receiptSeqCountedOut, []any{"f", "d", "t", 10, "2021-12-31"},
			[]string{"SEARCH c USING INDEX contributions_reversed (fund=? AND donor_id=? AND term_id=?)",
				"SEARCH c USING COVERING INDEX contributions_donor_date (fund=? AND donor_id=? AND term_id=? AND received_on>?)"}},
		{"pledge paid", pledgePaidQuery, []any{"f", "p", "2021-12-31", 10},
			[]string{"SEARCH c USING INDEX contributions_pledge (fund=? AND pledge_id=?)"}},
	} {
		plan := sqlplan.Of(t, tx, c.query, c.args...)
		all := strings.Join(plan, "\n")
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: plan\n%s\nwant %q", c.name, all, w)
			}
		}
	}
}
