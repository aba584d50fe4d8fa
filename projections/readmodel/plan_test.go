package readmodel

import (
	"path/filepath"
	"strings"
	"testing"
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
	for _, table := range []string{"expenditures", "fees", "interest", "refunds"} {
		queries["unfold "+table] = unfoldRowQuery(table)
	}
	for name, q := range queries {
		args := make([]any, strings.Count(q, "?"))
		rows, err := s.write.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) != 1 || !strings.HasPrefix(plan[0], "SEARCH ") || !strings.Contains(plan[0], "(fund=? AND fund_seq=?)") {
			t.Errorf("%s: plan %q, want a SEARCH by (fund=? AND fund_seq=?)", name, plan)
		}
	}
}
