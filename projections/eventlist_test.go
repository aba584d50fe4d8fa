package projections

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/internal/sqlplan"
)

// TestEventListPlans checks, by SQLite's EXPLAIN QUERY PLAN, that each
// filter of the event list walks an index in the fund's order from its
// keyset position (a SEARCH whose range includes fund_seq, and no SCAN or
// temporary sort): a page reads the rows of its index from where it starts,
// not the history before it (issue 7). A date range alone walks the
// primary key: it reads from the page's start until the page is full.
func TestEventListPlans(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "rm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		f     EventFilter
		index string
	}{
		{EventFilter{}, "INDEX sqlite_autoindex_events_"},                                     // the primary key (fund, fund_seq)
		{EventFilter{From: "2021-01-01", To: "2021-12-31"}, "INDEX sqlite_autoindex_events_"}, // the primary key (fund, fund_seq)
		{EventFilter{Type: "refund_paid"}, "INDEX events_type"},
		{EventFilter{Actor: "olu", From: "2021-01-01"}, "INDEX events_actor"},
		{EventFilter{Donor: "d"}, "INDEX event_subjects_donor"},
		{EventFilter{Donor: "d", Type: "event_reversed", To: "2021-12-31"}, "INDEX event_subjects_donor"},
		{EventFilter{Line: "l"}, "INDEX event_subjects_line"},
		{EventFilter{Line: "l", Actor: "olu"}, "INDEX event_subjects_line"},
	} {
		for _, keyset := range []EventFilter{{After: 100}, {Before: 100}} {
			f := c.f
			f.Fund, f.After, f.Before, f.Limit = "mdfm", keyset.After, keyset.Before, 51
			q, args := eventListQuery(f)
			plan := explain(t, s, q, args)
			first := strings.Split(plan, "\n")[0]
			if !strings.Contains(first, "SEARCH") || !strings.Contains(first, c.index) || !strings.Contains(first, "fund_seq") ||
				strings.Contains(plan, "SCAN") || strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("%+v: plan\n%s\nwant a SEARCH of %s on a fund_seq range first, no SCAN, no sort", f, plan, c.index)
			}
		}
	}
}

// explain returns the details of q's query plan, one step a line.
func explain(t *testing.T, s *Store, q string, args []any) string {
	t.Helper()
	tx, err := s.BeginRead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	return strings.Join(sqlplan.Of(t, tx, q, args...), "\n")
}

// TestPledgeFiguresSearch: the pledge list reads each pledge's receipts
// and memo postings by the pledge, not every receipt or memo posting of
// the fund once per pledge (issue 10).
func TestPledgeFiguresSearch(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "rm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plan := explain(t, s, pledgeFiguresQuery, []any{"f", "p", "2021-12-31", "memo:pledges"})
	for _, want := range []string{
		"SEARCH contributions USING INDEX contributions_pledge (fund=? AND pledge_id=?)",
		"SEARCH postings USING INDEX postings_pledge (fund=? AND pledge_id=?",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan\n%s\nwant %q", plan, want)
		}
	}
}
