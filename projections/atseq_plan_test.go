package projections

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
)

// TestAtSeqPlans checks, by SQLite's EXPLAIN QUERY PLAN, that the running
// totals at an at_seq below the head (seqtotals.AtSeq) read the postings
// by the primary key's range of fund_seq between the checkpoint and the
// view (into a
// table of their own, the one SCAN), and every other table by a SEARCH of
// its key: what they read is the
// keys the report shows, a month of days (each day's totals at the
// checkpoint one row) and fewer than K events' postings, however long the
// log (issue 10).
func TestAtSeqPlans(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "rm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		cols, filter, asOf string
		args               []any
	}{
		{"account, event_type, earmark", "term_id = ?2", "?3", []any{"mdfm", "T", "2021-06-30"}},
		{"line_id, account", "term_id = ?2 AND account IN (?4, ?5)", "?3", []any{"mdfm", "T", "2021-06-30", domain.AccountTrustAllocated, domain.AccountTrustSpent}},
		{"account, term_id, line_id, donor_id, earmark", "1", "?2", []any{"mdfm", "2021-06-30"}},
	} {
		q := seqtotals.AtSeq(c.cols, c.filter, c.asOf, len(c.args)+1)
		// A view after its checkpoint, and one before the next (K is 3
		// in this package's tests, TestMain).
		before, after, head := seqtotals.Args(5002, 6000), seqtotals.Args(5003, 6000), seqtotals.Args(5003, 5003)
		if before[0] != int64(5001) || after[0] != int64(5004) || head[0] != int64(5001) {
			t.Fatalf("checkpoints at %v, %v and %v, want the boundaries 5001 (before 5002), 5004 (after 5003, the nearer) and 5001 (before 5003 at the head)",
				before[0], after[0], head[0])
		}
		for _, args := range [][]any{before, after} {
			plan := explain(t, s, q, append(c.args, args...))
			const tail = "SEARCH postings USING INDEX sqlite_autoindex_postings_1 (fund=? AND fund_seq>? AND fund_seq<?)"
			for _, step := range strings.Split(plan, "\n") {
				// The one SCAN: the postings between the checkpoint and the
				// view, read first.
				if strings.Contains(step, "SCAN") && step != "SCAN tail" || strings.Contains(step, "postings ") && step != tail {
					t.Errorf("%s at %v: plan\n%s\nhas %q", c.cols, args, plan, step)
				}
			}
			if !strings.Contains(plan, tail) {
				t.Errorf("%s at %v: plan\n%s\nwant the postings by the range of fund_seq between the checkpoint and the view", c.cols, args, plan)
			}
			// The days of the month up to the date: each day and key of
			// posting_days, then its last row at or before the checkpoint's
			// bucket by a seek (schema 15), not every bucket's rows.
			const dayKey = "fund=? AND effective_on=? AND term_id=? AND account=? AND event_type=? AND line_id=? AND donor_id=? AND earmark=?"
			days := "SEARCH p USING COVERING INDEX sqlite_autoindex_posting_days_1 (fund=? AND effective_on>? AND effective_on<?)\n" +
				"SEARCH s USING PRIMARY KEY (fund=? AND bucket=? AND effective_on=? AND term_id=? AND account=? AND event_type=? AND line_id=? AND donor_id=? AND earmark=?)\n" +
				"CORRELATED SCALAR SUBQUERY 7\n" +
				"SEARCH x USING COVERING INDEX posting_day_seq_day (" + dayKey + " AND bucket<?)"
			if !strings.Contains(plan, days) {
				t.Errorf("%s at %v: plan\n%s\nwant the days of the month by posting_days, each day's totals at the bucket by a seek:\n%s", c.cols, args, plan, days)
			}
			if testing.Verbose() {
				t.Logf("%s at %v:\n%s", c.cols, args, plan)
			}
		}
	}
}
