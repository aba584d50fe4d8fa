package domain_test

import (
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
	"pgregory.net/rapid"
)

// TestCloseProRataProperty: whatever the donors, earmarks, fees, interest,
// allocations and refunds of a term, its close refunds or carries over
// exactly its unallocated balance, pot by pot to the cent, and each
// donor's part of a pot is within a cent of its exact pro-rata share.
func TestCloseProRataProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := domain.NewState("mdfm")
		do := func(c domain.Command) {
			evs, err := domain.Decide(s, c)
			if err != nil {
				t.Fatalf("Decide(%#v): %v", c, err)
			}
			applyAll(t, s, evs)
		}
		rate := rapid.SampledFrom([]string{"0", "0.01", "0.0125", "0.07"}).Draw(t, "fee rate")
		do(with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = rate }))
		do(openNextTerm())
		do(registerCluster("ESD"))
		do(addLine())
		do(clusterLine())
		earmarks := []*domain.EarmarkInput{nil, {LineID: "MDFM-1.1"}, {ClusterID: "ESD"}, {LineID: "ESD-2.1"}}
		donors := rapid.IntRange(1, 6).Draw(t, "donors")
		for d := 0; d < donors; d++ {
			id := fmt.Sprintf("D%d", d)
			do(&domain.RegisterDonor{Meta: alice, ID: id, Name: id, Kind: "country", Country: "DE"})
			for k, em := range earmarks[1:] {
				do(&domain.RecordPledge{Meta: alice, ID: fmt.Sprintf("P%d-%d", d, k), DonorID: id, TermID: "2020-2021",
					Amount: usdIn("1000000000.00"), Earmark: em, SignedOn: "2020-01-01", DueOn: "2021-12-31"})
			}
			for r := rapid.IntRange(1, 3).Draw(t, "receipts"); r > 0; r-- {
				k := rapid.IntRange(0, len(earmarks)-1).Draw(t, "earmark")
				c := &domain.RecordContribution{Meta: alice, ID: fmt.Sprintf("C%d-%d", d, r), DonorID: id, TermID: "2020-2021",
					Amount: usdIn(money.FormatUSD(rapid.Int64Range(1, 10_000_000).Draw(t, "received"))), ReceivedOn: "2021-01-01"}
				if k > 0 {
					c.PledgeID = fmt.Sprintf("P%d-%d", d, k-1)
				}
				do(c)
			}
		}
		if x := rapid.Int64Range(0, 100_000).Draw(t, "interest"); x > 0 {
			do(&domain.RecordInterest{Meta: alice, ID: "I", TermID: "2020-2021", Amount: usdIn(money.FormatUSD(x)), EarnedOn: "2021-06-30"})
		}
		term := s.Terms["2020-2021"]
		for i, line := range []string{"MDFM-1.1", "ESD-2.1"} {
			l := s.Lines[line]
			avail := min(term.Pot("")+term.Pot("line:"+line)+term.Pot("cluster:"+l.ClusterID), l.BudgetMinor)
			if x := rapid.Int64Range(0, avail).Draw(t, "allocated"); x > 0 {
				id := fmt.Sprintf("A%d", i)
				do(&domain.ProposeAllocation{Meta: alice, ID: id, LineID: line, Amount: usdIn(money.FormatUSD(x)), ProposedOn: "2021-07-01"})
				do(&domain.ApproveAllocation{Meta: bob, ID: id, ApprovedOn: "2021-07-01"})
			}
		}
		if d := fmt.Sprintf("D%d", rapid.IntRange(0, donors-1).Draw(t, "refunded")); domain.Attributable(s, "2020-2021", d) > 0 {
			x := rapid.Int64Range(1, domain.Attributable(s, "2020-2021", d)).Draw(t, "refund")
			do(&domain.RecordRefund{Meta: alice, ID: "R", DonorID: d, TermID: "2020-2021", Amount: usdIn(money.FormatUSD(x)), PaidOn: "2021-08-01"})
		}

		before := s.Clone()
		c := closeRefund()
		if rapid.Bool().Draw(t, "carry over") {
			c = closeCarry()
		}
		evs, err := domain.Decide(s, c)
		var de *errs.Error
		if errors.As(err, &de) && de.Code == domain.CodeNoDonorToRefund {
			// Interest left after every donor was refunded all its net
			// money is no donor's to claim: it can only be carried over.
			if shares := s.Terms["2020-2021"].PotShares(""); shares != nil {
				t.Fatalf("close refused %s although the unearmarked pot has claimants %v", de.Code, shares)
			}
			c = closeCarry()
			evs, err = domain.Decide(s, c)
		}
		if err != nil {
			t.Fatalf("close: %v", err)
		}
		applied := applyAll(t, s, evs)
		// Per pot and donor: what left the term.
		out := map[string]map[string]int64{}
		add := func(pot, donor string, x int64) {
			if out[pot] == nil {
				out[pot] = map[string]int64{}
			}
			out[pot][donor] += x
		}
		for _, e := range applied {
			p, err := e.Payload()
			if err != nil {
				t.Fatal(err)
			}
			switch p := p.(type) {
			case *events.RefundPaid:
				for _, d := range p.Funding {
					add(d.Earmark, p.DonorID, d.Amount.Minor)
				}
			case *events.BalanceCarriedOver:
				if len(p.Shares) == 0 {
					add(p.Earmark, "", p.Amount.Minor)
				}
				for _, sh := range p.Shares {
					add(p.Earmark, sh.DonorID, sh.Amount.Minor)
				}
			}
		}
		bt := before.Terms["2020-2021"]
		var total int64
		for _, k := range append(keysOf(bt.Earmarked), "") {
			var sum int64
			for _, x := range out[k] {
				sum += x
			}
			if sum != bt.Pot(k) {
				t.Fatalf("pot %q held %d, the close moved %d", k, bt.Pot(k), sum)
			}
			total += sum
			// Each donor's part is within a cent of pot × net ÷ Σ nets.
			weights := map[string]int64{}
			var wsum int64
			for d, w := range bt.DonorNet[k] {
				if w > 0 {
					weights[d] = w
					wsum += w
				}
			}
			if wsum == 0 {
				continue // the fallback weights; money.Split is tested on its own
			}
			for d, x := range out[k] {
				var exact, diff big.Int
				exact.Mul(big.NewInt(bt.Pot(k)), big.NewInt(weights[d]))
				diff.Mul(big.NewInt(x), big.NewInt(wsum))
				diff.Sub(&diff, &exact)
				if diff.CmpAbs(big.NewInt(wsum)) >= 0 {
					t.Fatalf("pot %q: donor %s gets %d of %d, weights %v", k, d, x, bt.Pot(k), weights)
				}
			}
		}
		if total != bt.Unallocated || s.Terms["2020-2021"].Unallocated != 0 {
			t.Fatalf("the close moved %d of an unallocated %d, leaving %d", total, bt.Unallocated, s.Terms["2020-2021"].Unallocated)
		}
	})
}

func keysOf(m map[string]int64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestCloseAboveTheLimitIsRefused: two receipts, each within the ledger's
// limit for one amount, leave more than that limit unallocated; the close
// would write it in one amount, which no reader of the log accepts (the
// hostile histories of cmd/ledgerd found the writer stopping on it). It is
// refused with amount_too_large, and a close of one such receipt is not.
func TestCloseAboveTheLimitIsRefused(t *testing.T) {
	big := func(id string) *domain.RecordContribution {
		return with(eurReceipt(), func(c *domain.RecordContribution) {
			c.ID, c.Amount, c.USDRate = id, usdIn("9000000000000.00"), ""
		})
	}
	for _, tc := range []struct {
		receipts []domain.Command
		refused  bool
	}{
		{[]domain.Command{big("C-1")}, false},
		{[]domain.Command{big("C-1"), big("C-2")}, true},
	} {
		for _, close := range []*domain.CloseTerm{closeRefund(), closeCarry()} {
			s := domain.NewState("mdfm")
			for _, c := range plus([]domain.Command{openTerm(), openNextTerm(), registerDonor()}, tc.receipts...) {
				applyAll(t, s, mustDecide(t, s, c))
			}
			evs, err := domain.Decide(s, close)
			var de *errs.Error
			switch {
			case tc.refused && (!errors.As(err, &de) || de.Code != domain.CodeAmountTooLarge || de.Field != "id" || len(evs) != 0):
				t.Errorf("%d receipts, %s: %d events, %v; want amount_too_large on id and none", len(tc.receipts), close.Disposition.Kind, len(evs), err)
			case !tc.refused && err != nil:
				t.Errorf("%d receipt, %s: %v", len(tc.receipts), close.Disposition.Kind, err)
			case !tc.refused:
				for _, e := range evs {
					if _, err := e.Payload(); err != nil {
						t.Errorf("the close wrote an event that does not read back: %v", err)
					}
				}
			}
		}
	}
}
