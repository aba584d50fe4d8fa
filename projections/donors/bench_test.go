package donors

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
)

// BenchmarkStatement draws a donor's statement in a term of 20 donors, 400
// receipts, 5 approved allocations and 2,000 expenditures of $1 (the shape
// of ledgerbench's log, smaller): afresh, the term's attribution computed
// as for the first statement after an event, and through a memo that has
// it, as for the statements after it at the same fund_seq.
func BenchmarkStatement(b *testing.B) {
	_, log := testnats.Log(b)
	w := ledgertest.Writer(b, log, "mdfm")
	statementHistory(b, w)
	s, err := projections.Open(filepath.Join(b.TempDir(), "rm.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := projector.CatchUp(b.Context(), log, s.Store); err != nil {
		b.Fatal(err)
	}
	q := StatementQuery{Fund: "mdfm", Donor: "osaka", Term: ledgertest.Term, AsOf: "2021-12-31"}
	b.Run("afresh", func(b *testing.B) {
		for b.Loop() {
			if _, err := Statement(b.Context(), s, q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("memo", func(b *testing.B) {
		m := NewMemo(1)
		for b.Loop() {
			if _, err := m.Statement(b.Context(), s, q); err != nil {
				b.Fatal(err)
			}
		}
		if st := m.Stats(); st.Misses != 1 {
			b.Fatalf("memo %+v, want one attribution computed", st)
		}
	})
}

// statementHistory writes BenchmarkStatement's term, the commands of each
// stage from 16 goroutines at once.
func statementHistory(b *testing.B, w *ledger.Writer) {
	ledgertest.OpenTerm(b, w) // the term, donors osaka and hamburg
	stage := func(n int, cmd func(i int) (id, actor string, c domain.Command)) {
		var wg sync.WaitGroup
		next := make(chan int)
		for range 16 {
			wg.Go(func() {
				for i := range next {
					id, actor, c := cmd(i)
					ledgertest.MustSubmit(b, w, id, actor, c)
				}
			})
		}
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
	}
	stage(18, func(i int) (string, string, domain.Command) {
		return fmt.Sprintf("donor-%d", i), "olu", &domain.RegisterDonor{ID: fmt.Sprintf("d-%d", i), Name: fmt.Sprintf("Donor %d", i), Kind: "member_city", Country: "DE", City: "Hamburg"}
	})
	donor := func(i int) string {
		if i%20 < 2 {
			return []string{"osaka", "hamburg"}[i%2]
		}
		return fmt.Sprintf("d-%d", i%20-2)
	}
	stage(400, func(i int) (string, string, domain.Command) {
		return fmt.Sprintf("c-%d", i), "olu", &domain.RecordContribution{ID: fmt.Sprintf("c-%d", i), DonorID: donor(i), TermID: ledgertest.Term,
			Amount: ledgertest.USD("1000.00"), ReceivedOn: "2020-03-01", BankRef: fmt.Sprintf("B-%d", i)}
	})
	for l := range 5 {
		ledgertest.MustSubmit(b, w, fmt.Sprintf("line-%d", l), "ana", &domain.AddBudgetLine{ID: fmt.Sprintf("L-%d", l), TermID: ledgertest.Term, Title: fmt.Sprintf("Line %d", l), Amount: ledgertest.USD("100000.00")})
		ledgertest.MustSubmit(b, w, fmt.Sprintf("propose-%d", l), "olu", &domain.ProposeAllocation{ID: fmt.Sprintf("al-%d", l), LineID: fmt.Sprintf("L-%d", l), Amount: ledgertest.USD("9000.00"), ProposedOn: "2020-04-01"})
		ledgertest.MustSubmit(b, w, fmt.Sprintf("approve-%d", l), "ana", &domain.ApproveAllocation{ID: fmt.Sprintf("al-%d", l), ApprovedOn: "2020-04-02"})
	}
	stage(2000, func(i int) (string, string, domain.Command) {
		return fmt.Sprintf("x-%d", i), "olu", &domain.RecordExpenditure{ID: fmt.Sprintf("x-%d", i), AllocationID: fmt.Sprintf("al-%d", i%5), Amount: ledgertest.USD("1.00"),
			SpentOn: "2021-06-01", Payee: "Learning City Lab", Country: "KE", City: "Nairobi"}
	})
}
