package projections_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/internal/sqlplan"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// TestNotReversedSearches checks that the reports' look-up of a reversal
// of each row they read (projections.NotReversed) searches the reversals
// by the row they reverse: a plan that searches them by fund, or by the
// reversal's own fund_seq, reads every reversal of the fund once per row,
// and a statement costs its expenditures times the fund's reversals
// (issue 10).
func TestNotReversedSearches(t *testing.T) {
	s := openStore(t, "plan.db")
	tx, err := s.BeginRead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, table := range []string{"expenditures", "contributions", "refunds", "fees", "postings"} {
		q := `SELECT 1 FROM ` + table + ` x WHERE x.fund = ?1 AND x.fund_seq <= ?2 AND ` + projections.NotReversed("x", "fund_seq", "?2", "?3")
		plan := sqlplan.Of(t, tx, q, "f", 10, "2021-12-31")
		found := slices.ContainsFunc(plan, func(step string) bool {
			return strings.HasPrefix(step, "SEARCH r ") && strings.Contains(step, "reversals_reversed (fund=? AND reversed_fund_seq=?")
		})
		if !found {
			t.Errorf("%s: plan %q, want the reversals searched by (fund=? AND reversed_fund_seq=?)", table, plan)
		}
	}
}
