package donors

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// TestReceiptPages: a donor's receipts listed a page at a time are, page
// after page, its standing receipts by date counting back from the latest,
// whether the page is found from the days' counts (at the fund's head) or
// by skipping receipts (at an earlier at_seq); past the last page none.
// osaka has 2,450 receipts on 19 days, 66 to 134 a day, 61 of them
// reversed, so that pages start inside a day; hamburg's receipts are
// between them in the log and on the same days.
func TestReceiptPages(t *testing.T) {
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.OpenTerm(t, w)
	type receipt struct{ on, id string }
	day := func(i int) string {
		return time.Date(2020, 2, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i*i)%37).Format(time.DateOnly)
	}
	var (
		mu      sync.Mutex
		osaka   []receipt
		eventOf = map[string]string{}
	)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				donor := "osaka"
				if i%5 == 4 {
					donor = "hamburg"
				}
				id := fmt.Sprintf("c-%04d", i)
				r := ledgertest.MustSubmit(t, w, id, "olu", &domain.RecordContribution{ID: id, DonorID: donor, TermID: ledgertest.Term,
					Amount: ledgertest.USD(fmt.Sprintf("%d.00", 100+i)), ReceivedOn: day(i), BankRef: "B-" + id})
				if donor == "osaka" {
					mu.Lock()
					osaka = append(osaka, receipt{day(i), id})
					eventOf[id] = r.Events[0].ID
					mu.Unlock()
				}
			}
		})
	}
	for i := range 3062 {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(osaka) != 2450 {
		t.Fatalf("%d receipts of osaka, want 2450", len(osaka))
	}
	slices.SortFunc(osaka, func(a, b receipt) int { return cmp.Or(cmp.Compare(b.on, a.on), cmp.Compare(b.id, a.id)) })
	var standing []receipt
	for i, r := range osaka {
		if i%40 == 7 {
			ledgertest.MustSubmit(t, w, "reverse-"+r.id, "olu", &domain.ReverseEvent{ID: "rev-" + r.id, EventID: eventOf[r.id], Reason: "entered twice"})
			continue
		}
		standing = append(standing, r)
	}
	last := ledgertest.MustSubmit(t, w, "last", "olu", &domain.RecordContribution{ID: "c-last", DonorID: "hamburg", TermID: ledgertest.Term,
		Amount: ledgertest.USD("1.00"), ReceivedOn: "2020-06-30"})
	s, err := projections.Open(filepath.Join(t.TempDir(), "rm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	// Before the last receipt (hamburg's, two events) osaka's receipts
	// are the same, read without the days' counts.
	beforeLast := last.Events[0].FundSeq - 1
	for _, asOf := range []string{"2021-12-31", day(18), day(1)} {
		var want []receipt
		for _, r := range standing {
			if r.on <= asOf {
				want = append(want, r)
			}
		}
		for _, atSeq := range []uint64{0, beforeLast} {
			for page := int64(0); page <= int64(len(want))/statement.ReceiptsPage+1; page++ {
				q := StatementQuery{Fund: "mdfm", Donor: "osaka", Term: ledgertest.Term, AsOf: asOf, AtSeq: atSeq, ReceiptsPage: page}
				st, err := Statement(t.Context(), s, q)
				if err != nil {
					t.Fatalf("%+v: %v", q, err)
				}
				from, to := min(page*statement.ReceiptsPage, int64(len(want))), min((page+1)*statement.ReceiptsPage, int64(len(want)))
				var wantIDs, got []string
				for _, r := range want[from:to] {
					wantIDs = append(wantIDs, r.id)
				}
				slices.Reverse(wantIDs) // listed by date, the latest last
				for _, r := range st.Received.Receipts {
					got = append(got, r.ID)
				}
				if !slices.Equal(got, wantIDs) {
					t.Fatalf("%+v: %d receipts listed %v…, want %d %v…", q, len(got), got[:min(len(got), 5)], len(wantIDs), wantIDs[:min(len(wantIDs), 5)])
				}
				if n := int64(len(want)) - (to - from); n > 0 && (st.Received.Unlisted == nil || st.Received.Unlisted.Count != n) {
					t.Fatalf("%+v: unlisted %+v, want %d", q, st.Received.Unlisted, n)
				}
			}
		}
	}
}
