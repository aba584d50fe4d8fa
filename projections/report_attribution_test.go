package projections_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// TestStatementsAddUpToTheTerm writes random histories through a real
// writer (the generator of TestIdentityAfterEveryEvent: pledges, earmarked
// receipts in several currencies, interest, allocations, spending, refunds,
// reversals, a close with a carry-over or a refund), projects them into a
// real SQLite read model, and checks for every term, at the end of time,
// at random dates and at a random fund_seq:
//   - the donors' attributed amounts and what no donor can be credited with
//     add up exactly, to the cent, to the term's balance: received plus
//     carried in, fees, interest, spent, refunded, carried out, allocated
//     unspent and unallocated;
//   - every donor's statement validates and agrees with its attribution,
//     and the statements add up to the term's spending (by line, cluster,
//     region and income group alike), fees, interest and refunds;
//   - at the end of time nothing is left unattributed while a donor has
//     net money in the term, and each donor's share of the unallocated
//     pots is what the domain would refund it (domain.Attributable).
func TestStatementsAddUpToTheTerm(t *testing.T) {
	_, log := testnats.Log(t)
	s := openStore(t, "attribution.db")
	n := 0
	seen := map[string]int{}
	defer func() { t.Logf("histories %d; checks and outcomes: %v", n, seen) }()
	rapid.Check(t, func(rt *rapid.T) {
		n++
		fund := fmt.Sprintf("s%d", n)
		today, _ := time.Parse(time.DateOnly, genToday)
		w, err := ledger.Open(t.Context(), log, fund, ledger.Options{Now: func() time.Time { return today.Add(12 * time.Hour) }})
		if err != nil {
			rt.Fatal(err)
		}
		defer w.Close()
		info, err := log.Info(t.Context())
		if err != nil {
			rt.Fatal(err)
		}
		last := info.LastSeq
		state := domain.NewState(fund)
		prelude := historyPrelude(rt)
		steps := rapid.IntRange(100, 250).Draw(rt, "commands")
		for i := range len(prelude) + steps {
			var (
				c           domain.Command
				actor, role = "bob", domain.RoleApprover
			)
			if i < len(prelude) {
				c = prelude[i]
			} else {
				c, actor, role = genCommand(rt, state)
			}
			r, err := trySubmit(t, w, fmt.Sprintf("cmd-%d", i), actor, role, c)
			var de *errs.Error
			switch {
			case errors.As(err, &de):
				continue
			case err != nil:
				rt.Fatalf("command %d %T: %v", i, c, err)
			}
			for seq := last + 1; seq <= r.StreamSeq; seq++ {
				m, err := log.ReadMsg(t.Context(), seq)
				if err != nil {
					rt.Fatalf("read stream seq %d: %v", seq, err)
				}
				e, err := events.Decode(m.Data)
				if err != nil {
					rt.Fatal(err)
				}
				if err := domain.Apply(state, e); err != nil {
					rt.Fatal(err)
				}
				seen[e.Type]++
			}
			last = r.StreamSeq
		}
		if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
			rt.Fatal(err)
		}
		for _, term := range slices.Sorted(maps.Keys(state.Terms)) {
			checkAttribution(rt, s, state, fund, term, "9999-12-31", 0, seen)
			for i := range 3 {
				checkAttribution(rt, s, state, fund, term, drawDate(rt, fmt.Sprintf("as_of %d", i)), 0, seen)
			}
			if state.FundSeq > 1 {
				atSeq := uint64(rapid.IntRange(1, int(state.FundSeq)).Draw(rt, "at_seq"))
				checkAttribution(rt, s, state, fund, term, "9999-12-31", atSeq, seen)
			}
		}
	})
	for _, what := range []string{"attributed", "attributed with spending", "attributed with interest", "attributed after a close", "statement"} {
		if seen[what] == 0 {
			t.Errorf("no history checked %q", what)
		}
	}
}

// checkAttribution checks one term's attribution as of asOf at atSeq (see
// TestStatementsAddUpToTheTerm).
func checkAttribution(t *rapid.T, s *projections.Store, state *domain.State, fund, term, asOf string, atSeq uint64, seen map[string]int) {
	ctx := t.Context()
	q := donors.AttributionQuery{Fund: fund, Term: term, AsOf: asOf, AtSeq: atSeq}
	a, err := donors.Attribute(ctx, s, q)
	var qe *errs.Error
	if errors.As(err, &qe) && qe.Code == domain.CodeUnknownTerm && atSeq != 0 {
		return // not opened yet at that fund_seq
	}
	if errors.As(err, &qe) && (qe.Code == projections.CodeNoDataAsOf || qe.Code == projections.CodeNotAttributable) {
		// A date before the term's first entry, or a donor refunded more
		// than its money came to by then (a refund dated before its
		// receipt): counted. At the end of time only a donor the domain
		// itself left with negative net money may be so: interest that a
		// refund paid out, reversed afterwards (the domain refuses a
		// receipt's reversal that would overdraw a donor, but reversing
		// interest changes no donor's net).
		seen["refused "+qe.Code]++
		if asOf == "9999-12-31" && atSeq == 0 && (qe.Code == projections.CodeNoDataAsOf || !donorOverdrawn(state, term)) {
			t.Fatalf("%+v: %v", q, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("attribution %+v: %v", q, err)
	}
	b, err := s.Balance(ctx, projections.BalanceQuery{Fund: fund, Term: term, AsOf: asOf, AtSeq: atSeq})
	if err != nil {
		t.Fatalf("balance %+v: %v", q, err)
	}
	if a.FundSeq != b.FundSeq || a.ChainHead != b.ChainHead {
		t.Fatalf("attribution at fund_seq %d %s, balance at %d %s", a.FundSeq, a.ChainHead, b.FundSeq, b.ChainHead)
	}
	c := func(x string) int64 { return cents(t, x) }
	type sums struct{ received, fees, interest, spent, refunded, carriedOut, allocatedUnspent, unallocated int64 }
	add := func(to *sums, f donors.AttributionFigures) {
		to.received += c(f.Received)
		to.fees += c(f.Fees)
		to.interest += c(f.Interest)
		to.spent += c(f.Spent)
		to.refunded += c(f.Refunded)
		to.carriedOut += c(f.CarriedOut)
		to.allocatedUnspent += c(f.AllocatedUnspent)
		to.unallocated += c(f.Unallocated)
	}
	var got, none sums
	for _, d := range a.Donors {
		add(&got, d.AttributionFigures)
	}
	add(&none, a.Unattributed)
	add(&got, a.Unattributed)
	want := sums{c(b.Received) + c(b.CarriedIn), c(b.Fees), c(b.Interest), c(b.Spent), c(b.Refunded), c(b.CarriedOut), c(b.AllocatedUnspent), c(b.Unallocated)}
	if got != want {
		t.Fatalf("%+v: the donors and unattributed add up to %+v, the balance says %+v\n%+v", q, got, want, a)
	}
	seen["attributed"]++
	if want.spent > 0 {
		seen["attributed with spending"]++
	}
	if want.interest > 0 {
		seen["attributed with interest"]++
	}
	if want.carriedOut > 0 || c(b.CarriedIn) > 0 {
		seen["attributed after a close"]++
	}
	if none != (sums{}) {
		seen["some unattributed"]++
	}

	// At the end of time: nothing unattributed while a donor has net money
	// in the term, and each donor's share of the pots is the domain's.
	st := state.Terms[term]
	if asOf == "9999-12-31" && atSeq == 0 {
		var anyNet bool
		for _, m := range st.DonorNet {
			for _, x := range m {
				anyNet = anyNet || x > 0
			}
		}
		// Money no donor could claim that a close carried in is shared
		// among the donors as interest: unattributed's receipt of it and
		// its negative interest cancel out.
		shared := none
		shared.received, shared.interest = 0, none.received+none.interest
		if anyNet && shared != (sums{}) {
			t.Fatalf("%+v: %+v left unattributed though donors have net money in the term (%v)", q, none, st.DonorNet)
		}
		for _, d := range a.Donors {
			if got, want := c(d.Unallocated), domain.Attributable(state, term, d.DonorID); !st.Closed && got != want {
				t.Fatalf("%+v: donor %s holds %d of the pots, the domain would refund it %d", q, d.DonorID, got, want)
			}
		}
	}

	// Every donor's statement, and the statements added up.
	var stSpent, stFees, stInterest, stRefunded int64
	for _, d := range a.Donors {
		sq := donors.StatementQuery{Fund: fund, Donor: d.DonorID, Term: term, AsOf: asOf, AtSeq: atSeq, GeneratedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
		sm, err := donors.Statement(ctx, s, sq)
		if errors.As(err, &qe) && qe.Code == projections.CodeNoDataAsOf {
			// Registered after asOf, with no entry by then: it has
			// nothing in the attribution either.
			if d.AttributionFigures != zeroFigures() {
				t.Fatalf("statement %+v refused (%v) but the donor has %+v", sq, err, d.AttributionFigures)
			}
			continue
		}
		if err != nil {
			t.Fatalf("statement %+v: %v", sq, err)
		}
		seen["statement"]++
		if err := sm.Validate(); err != nil {
			t.Fatalf("statement %+v: %v", sq, err)
		}
		checkStatementAgrees(t, sm, d)
		stSpent += c(sm.PaidFor.TotalUSD)
		stFees += c(sm.Received.FeesUSD)
		stInterest += c(sm.Share.InterestUSD)
		stRefunded += c(sm.Refunds.TotalUSD)
	}
	if stSpent+none.spent != want.spent || stFees+none.fees != want.fees || stInterest+none.interest != want.interest || stRefunded+none.refunded != want.refunded {
		t.Fatalf("%+v: the statements add up to spent %d, fees %d, interest %d, refunded %d (unattributed %+v); the term has %+v",
			q, stSpent, stFees, stInterest, stRefunded, none, want)
	}
}

// donorOverdrawn reports whether the domain left a donor with negative net
// money in a pot of term.
func donorOverdrawn(state *domain.State, term string) bool {
	for _, m := range state.Terms[term].DonorNet {
		for _, x := range m {
			if x < 0 {
				return true
			}
		}
	}
	return false
}

func zeroFigures() donors.AttributionFigures {
	z := "0.00"
	return donors.AttributionFigures{Received: z, Fees: z, Interest: z, Spent: z, Refunded: z, CarriedOut: z, AllocatedUnspent: z, Unallocated: z}
}

// checkStatementAgrees checks a statement against the donor's attribution,
// and that each grouping of what it paid for adds up to its total.
func checkStatementAgrees(t *rapid.T, sm statement.Statement, d donors.DonorAttribution) {
	c := func(x string) int64 { return cents(t, x) }
	if sm.Received.TotalUSD != d.Received || sm.Received.FeesUSD != d.Fees || sm.Share.InterestUSD != d.Interest ||
		sm.PaidFor.TotalUSD != d.Spent || sm.Refunds.TotalUSD != d.Refunded || sm.Balance.AllocatedUnspentUSD != d.AllocatedUnspent ||
		c(sm.Balance.UnallocatedUSD) != c(d.Unallocated)+c(d.CarriedOut) {
		t.Fatalf("statement of %s disagrees with its attribution %+v:\nreceived %s fees %s interest %s paid for %s refunded %s allocated unspent %s unallocated %s",
			d.DonorID, d.AttributionFigures, sm.Received.TotalUSD, sm.Received.FeesUSD, sm.Share.InterestUSD, sm.PaidFor.TotalUSD,
			sm.Refunds.TotalUSD, sm.Balance.AllocatedUnspentUSD, sm.Balance.UnallocatedUSD)
	}
	total := c(sm.PaidFor.TotalUSD)
	var lines, clusters, regions, incomes int64
	for _, l := range sm.PaidFor.Lines {
		lines += c(l.TotalUSD)
	}
	for _, x := range sm.PaidFor.Clusters {
		clusters += c(x.USD)
	}
	for _, g := range sm.PaidFor.Regions {
		regions += c(g.USD)
	}
	for _, g := range sm.PaidFor.IncomeGroups {
		incomes += c(g.USD)
	}
	if lines != total || clusters != total || regions != total || incomes != total {
		t.Fatalf("statement of %s paid for %d: lines %d, clusters %d, regions %d, income groups %d", d.DonorID, total, lines, clusters, regions, incomes)
	}
}

// TestBackDatedRefund: a refund dated before the receipt it returns
// (issue 8). The writer refuses it and appends nothing; one that an older
// version let into the log makes the statement as of a date between the
// two answer not_attributable, instead of showing the donor refunded
// US$10.00 it had not paid in and credited with US$10.00 of the interest
// on hamburg's money. From the day of the receipt on it is attributed.
func TestBackDatedRefund(t *testing.T) {
	ns, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w) // osaka's US$20000.00 arrives on 2020-06-01
	ledgertest.MustSubmit(t, w, "int", "olu", &domain.RecordInterest{ID: "int-1", TermID: ledgertest.Term,
		Amount: ledgertest.USD("10.00"), EarnedOn: "2020-04-30"})
	refund := &domain.RecordRefund{ID: "r-early", DonorID: "osaka", TermID: ledgertest.Term, Amount: ledgertest.USD("10.00"),
		PaidOn: "2020-05-15", Reason: "returned"}
	last := w.LastSeq()
	_, err := ledgertest.Submit(t, w, "refund", "olu", refund)
	var de *errs.Error
	if !errors.As(err, &de) || de.Code != domain.CodeRefundExceedsAttributable || de.Field != "paid_on" {
		t.Fatalf("back-dated refund: %v, want %s on paid_on", err, domain.CodeRefundExceedsAttributable)
	}
	if w.LastSeq() != last {
		t.Fatalf("a refused refund appended: stream seq %d → %d", last, w.LastSeq())
	}
	w.Close()

	// The same refund as an older version wrote it.
	evs := readLog(t, log)
	prev := evs[len(evs)-1]
	e, err := events.New(refund.PaidOn, &events.RefundPaid{RefundID: refund.ID, DonorID: "osaka", TermID: ledgertest.Term,
		Amount: money.USDAmount(1000), PaidOn: refund.PaidOn, Reason: refund.Reason, Funding: []events.Draw{{Amount: money.USDAmount(1000)}}})
	if err != nil {
		t.Fatal(err)
	}
	e.ID, e.Fund, e.FundSeq = "01900000-0000-7000-8000-0000000000aa", "mdfm", prev.FundSeq+1
	e.RecordedAt, e.Actor, e.CommandID, e.CommandHash = prev.RecordedAt, "olu", "refund", prev.CommandHash
	if err := e.Seal(prev.Hash); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(testnats.Connect(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	publishRaw(t, js, eventlog.Subject("mdfm", e.Type), e)
	s := openStore(t, "older.db")
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}

	q := donors.StatementQuery{Fund: "mdfm", Donor: "osaka", Term: ledgertest.Term, AsOf: "2020-05-31"}
	sm, err := donors.Statement(t.Context(), s, q)
	var qe *errs.Error
	if !errors.As(err, &qe) || qe.Code != projections.CodeNotAttributable || !strings.Contains(qe.Message, `donor "osaka" had been refunded 10.00`) {
		t.Fatalf("statement as of %s: %v (received %s, refunded %s, interest %s), want %s naming osaka",
			q.AsOf, err, sm.Received.TotalUSD, sm.Refunds.TotalUSD, sm.Share.InterestUSD, projections.CodeNotAttributable)
	}
	if _, err := donors.Attribute(t.Context(), s, donors.AttributionQuery{Fund: "mdfm", Term: ledgertest.Term, AsOf: q.AsOf}); !errors.As(err, &qe) || qe.Code != projections.CodeNotAttributable {
		t.Errorf("attribution as of %s: %v, want %s", q.AsOf, err, projections.CodeNotAttributable)
	}
	q.AsOf = "2020-06-01"
	sm, err = donors.Statement(t.Context(), s, q)
	if err != nil {
		t.Fatalf("statement as of %s: %v", q.AsOf, err)
	}
	if sm.Received.TotalUSD != "20000.00" || sm.Refunds.TotalUSD != "10.00" {
		t.Errorf("statement as of %s: received %s, refunded %s; want 20000.00 and 10.00", q.AsOf, sm.Received.TotalUSD, sm.Refunds.TotalUSD)
	}
}

// TestMoneyBackAfterACloseIsItsPayers: an allocation approved from two pots
// is reversed after the close carried the unearmarked pot out. The money
// that comes back to that pot is the money of the donor who paid it in
// (money.PotWeights' second case), not of whoever holds weights in another
// pot: before, the domain gave osaka, whose only weight was in the line's
// pot, hamburg's 10,200.00, and the attribution refused the term
// (not_attributable) since osaka had never put money into the pool.
func TestMoneyBackAfterACloseIsItsPayers(t *testing.T) {
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.OpenTerm(t, w)
	const line, next = "MDFM-1.1", "2022-2023"
	ledgertest.MustSubmit(t, w, "line", "ana", &domain.AddBudgetLine{ID: line, TermID: ledgertest.Term, Title: "Training modules", Amount: ledgertest.USD("200000.00")})
	ledgertest.MustSubmit(t, w, "pledge", "olu", &domain.RecordPledge{ID: "pl-osaka", DonorID: "osaka", TermID: ledgertest.Term, Amount: ledgertest.USD("20000.00"),
		Earmark: &domain.EarmarkInput{LineID: line}, SignedOn: "2020-02-01", DueOn: "2020-12-31"})
	// hamburg: 55,000.00 less 550.00 of fees, unearmarked; osaka:
	// 20,000.00 less 200.00, earmarked for the line.
	ledgertest.MustSubmit(t, w, "eur", "olu", &domain.RecordContribution{ID: "c-eur", DonorID: "hamburg", TermID: ledgertest.Term,
		Amount: ledgertest.Money("50000.00", "EUR"), USDRate: "1.1", ReceivedOn: "2020-03-15"})
	ledgertest.MustSubmit(t, w, "usd", "olu", &domain.RecordContribution{ID: "c-usd", DonorID: "osaka", TermID: ledgertest.Term, PledgeID: "pl-osaka",
		Amount: ledgertest.USD("20000.00"), ReceivedOn: "2020-06-01"})
	// 30,000.00 for the line: osaka's 19,800.00, then 10,200.00 of the pool.
	ledgertest.MustSubmit(t, w, "propose", "olu", &domain.ProposeAllocation{ID: "al-1", LineID: line, Amount: ledgertest.USD("30000.00"), ProposedOn: "2020-07-01"})
	approve := ledgertest.MustSubmit(t, w, "approve", "ana", &domain.ApproveAllocation{ID: "al-1", ApprovedOn: "2020-07-02"})
	ledgertest.MustSubmit(t, w, "next", "ana", &domain.OpenTerm{ID: next, StartsOn: "2022-01-01", EndsOn: "2023-12-31", Target: ledgertest.USD("1000000.00"), FeeRate: "0.01"})
	ledgertest.MustSubmit(t, w, "close", "ana", &domain.CloseTerm{ID: ledgertest.Term, ClosedOn: "2021-12-31",
		Disposition: domain.DispositionInput{Kind: domain.DispositionCarryOver, ToTermID: next}})
	if _, err := trySubmit(t, w, "reverse", "ana", domain.RoleApprover, &domain.ReverseEvent{ID: "rv-1", EventID: approve.Events[0].ID, Reason: "approved by mistake"}); err != nil {
		t.Fatalf("reversal of the approval after the close: %v", err)
	}
	w.Close()

	// The domain: the pool's 10,200.00 are hamburg's.
	st := domain.NewState("mdfm")
	for _, e := range readLog(t, log) {
		if err := domain.Apply(st, e); err != nil {
			t.Fatal(err)
		}
	}
	term := st.Terms[ledgertest.Term]
	if got, want := term.PotShares(""), []events.Share{{DonorID: "hamburg", Amount: money.USDAmount(1020000)}}; !cmp.Equal(got, want) {
		t.Errorf("the pool's shares after the reversal: %v, want %v", got, want)
	}
	if got, want := term.PotShares("line:"+line), []events.Share{{DonorID: "osaka", Amount: money.USDAmount(1980000)}}; !cmp.Equal(got, want) {
		t.Errorf("the line's shares after the reversal: %v, want %v", got, want)
	}

	// The reports: the same shares, and the term attributed.
	s := openStore(t, "back.db")
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	at, err := donors.Attribute(t.Context(), s, donors.AttributionQuery{Fund: "mdfm", Term: ledgertest.Term, AsOf: "9999-12-31"})
	if err != nil {
		t.Fatalf("attribution after the reversal: %v", err)
	}
	unallocated := map[string]string{}
	for _, d := range at.Donors {
		unallocated[d.DonorID] = d.Unallocated
	}
	if want := map[string]string{"hamburg": "10200.00", "osaka": "19800.00"}; !cmp.Equal(unallocated, want) {
		t.Errorf("unallocated by donor after the reversal: %v, want %v", unallocated, want)
	}
}

// TestAttributionBeforeAnApprovalsReversal: two allocations of one line
// and amount, the later approved and spent on, then the spending and the
// approval reversed. At the position before the reversals the approval
// stands and the spending is under it; the read model knows which
// allocation it approved (schema 11's approvals), where the attribution
// had guessed by line and amount, taken the earlier allocation, and
// refused the spending as without a standing approval.
func TestAttributionBeforeAnApprovalsReversal(t *testing.T) {
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w)
	m := ledgertest.MustSubmit
	for _, id := range []string{"al-2", "al-3"} {
		m(t, w, "propose-"+id, "olu", &domain.ProposeAllocation{ID: id, LineID: "MDFM-1.1", Amount: ledgertest.USD("30000.00"), ProposedOn: "2020-10-01"})
	}
	approve := m(t, w, "approve-al-3", "ana", &domain.ApproveAllocation{ID: "al-3", ApprovedOn: "2020-10-02"})
	spend := m(t, w, "spend-al-3", "olu", &domain.RecordExpenditure{ID: "x-3", AllocationID: "al-3", Amount: ledgertest.USD("5000.00"),
		SpentOn: "2020-11-01", Payee: "Learning City Lab", Country: "KE", City: "Nairobi"})
	m(t, w, "reverse-x-3", "olu", &domain.ReverseEvent{ID: "X-1", EventID: spend.Events[0].ID, Reason: "wrong allocation"})
	m(t, w, "reverse-approve", "olu", &domain.ReverseEvent{ID: "X-2", EventID: approve.Events[0].ID, Reason: "approved too early"})
	s := openStore(t, "read.db")
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		atSeq uint64
		spent string
	}{{spend.Events[0].FundSeq, "17345.67"}, {0, "12345.67"}} {
		a, err := donors.Attribute(t.Context(), s, donors.AttributionQuery{Fund: "mdfm", Term: ledgertest.Term, AsOf: "9999-12-31", AtSeq: c.atSeq})
		if err != nil {
			t.Fatalf("at_seq %d: %v", c.atSeq, err)
		}
		spent := cents(t, a.Unattributed.Spent)
		for _, d := range a.Donors {
			spent += cents(t, d.Spent)
		}
		if want := cents(t, c.spent); spent != want {
			t.Errorf("at_seq %d: the donors spent %d cents, want %d", c.atSeq, spent, want)
		}
	}
}
