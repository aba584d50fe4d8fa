package domain_test

import (
	"errors"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
	"pgregory.net/rapid"
)

// A generated history has minCommands to maxCommands commands: long enough
// to reach spending, short enough to keep the test fast.
const (
	minCommands = 20
	maxCommands = 60
)

// Terms the generator opens: two that follow each other and one that
// overlaps both.
var termSpans = map[string][2]string{
	"T20": {"2020-01-01", "2021-12-31"},
	"T22": {"2022-01-01", "2023-12-31"},
	"T21": {"2021-06-01", "2022-06-30"},
}

// pick draws from good most of the time and from bad now and then, so that
// a history has enough accepted commands to build on and enough mistakes to
// be refused.
func pick(t *rapid.T, label string, good, bad []string) string {
	if len(bad) > 0 && rapid.IntRange(0, 7).Draw(t, label+" is bad") == 7 {
		return rapid.SampledFrom(bad).Draw(t, label)
	}
	return rapid.SampledFrom(good).Draw(t, label)
}

// known returns the ids of m, sorted, or fallback when there are none.
func known[V any](m map[string]*V, fallback string) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return []string{fallback}
	}
	sort.Strings(ids)
	return ids
}

// allocations returns the ids of the allocations that are approved (or
// not), sorted, or "A1" when there are none.
func allocations(s *domain.State, approved bool) []string {
	var ids []string
	for id, a := range s.Allocations {
		if a.Approved == approved {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return []string{"A1"}
	}
	sort.Strings(ids)
	return ids
}

var (
	badDates = []string{"", "2021-02-30", "21-1-1", "2019-12-31", "2024-06-30", "2026-01-01"}
	badIDs   = []string{"", "bad id", "X9"}
)

// genDate draws a date, mostly inside term (or any term when term is unknown).
func genDate(t *rapid.T, label, term string) string {
	good := []string{"2020-01-01", "2020-06-15", "2021-03-15", "2021-07-01", "2021-12-31", "2022-01-01", "2022-07-01", "2023-12-31"}
	if span, ok := termSpans[term]; ok {
		good = []string{span[0], span[0][:4] + "-03-15", span[0][:4] + "-09-30", span[1][:4] + "-04-01", span[1]}
	}
	return pick(t, label, good, badDates)
}

// genMoney draws money as a user types it: mostly valid amounts up to
// maxMinor minor units in a known currency, sometimes zero, negative, too
// precise, malformed, huge or in an unknown currency.
func genMoney(t *rapid.T, label string, maxMinor int64, foreign bool) domain.MoneyInput {
	good := []string{"USD"}
	if foreign {
		good = []string{"USD", "USD", "EUR", "JPY", "KWD"}
	}
	code := pick(t, label+".currency", good, []string{"XXX", "", "EUR"})
	cur, err := money.LookupCurrency(code)
	if err != nil {
		cur = money.USD
	}
	amount := money.Format(rapid.Int64Range(1, maxMinor).Draw(t, label+".minor"), cur)
	if rapid.IntRange(0, 9).Draw(t, label+" is bad") == 9 {
		amount = rapid.SampledFrom([]string{"0", "0.00", "-5.00", "1e3", "12.3456", "", "1,000", "99999999999999999", " 1"}).Draw(t, label+".bad")
	}
	return domain.MoneyInput{Amount: amount, Currency: code}
}

// genUSDNear draws US dollars up to a tenth more than limit, so that a
// command is mostly within what is left and sometimes just beyond it.
func genUSDNear(t *rapid.T, label string, limit int64) domain.MoneyInput {
	minor := rapid.Int64Range(1, max(1, limit+limit/10)).Draw(t, label+".minor")
	return domain.MoneyInput{Amount: money.FormatUSD(minor), Currency: "USD"}
}

// genRate draws a usd_rate for money in code.
func genRate(t *rapid.T, label string, code string) string {
	if code == "USD" {
		return pick(t, label, []string{"", "1"}, []string{"1.1", "0"})
	}
	return pick(t, label, []string{"1.1", "1.0832", "0.0091", "3.2563", "0.9"}, []string{"", "0", "-1", "1e2", "1,1"})
}

// The kinds of command the generator draws.
const (
	kindOpenTerm = iota
	kindRegisterDonor
	kindRecordContribution
	kindAddBudgetLine
	kindProposeAllocation
	kindApproveAllocation
	kindRecordExpenditure
)

// genKind draws the kind of the next command: mostly one that s is ready
// for (spending once something is approved, approving once something is
// proposed, …), sometimes any kind at all.
func genKind(t *rapid.T, s *domain.State) int {
	if rapid.IntRange(0, 7).Draw(t, "any kind") == 7 {
		return rapid.IntRange(kindOpenTerm, kindRecordExpenditure).Draw(t, "kind")
	}
	var ready []int
	for _, a := range s.Allocations {
		if a.Approved {
			ready = append(ready, kindRecordExpenditure, kindRecordExpenditure)
			break
		}
	}
	for _, a := range s.Allocations {
		if !a.Approved {
			ready = append(ready, kindApproveAllocation, kindApproveAllocation)
			break
		}
	}
	if len(s.Lines) > 0 {
		ready = append(ready, kindProposeAllocation, kindProposeAllocation)
	}
	if len(s.Terms) > 0 && len(s.Donors) > 0 {
		ready = append(ready, kindRecordContribution, kindRecordContribution)
	}
	if len(s.Terms) > 0 {
		ready = append(ready, kindAddBudgetLine)
	}
	if len(s.Donors) < 3 {
		ready = append(ready, kindRegisterDonor)
	}
	if len(s.Terms) < 2 {
		ready = append(ready, kindOpenTerm)
	}
	return rapid.SampledFrom(ready).Draw(t, "kind")
}

// genCommand draws one command, valid or not, with ids mostly taken from
// what s knows so that histories go deep enough to spend.
func genCommand(t *rapid.T, s *domain.State) domain.Command {
	m := domain.Meta{
		Actor: rapid.SampledFrom([]string{"alice", "bob"}).Draw(t, "actor"),
		Today: pick(t, "today", []string{"2023-12-31"}, []string{"2021-06-30", "2020-01-01"}),
	}
	terms := known(s.Terms, "T20")
	switch kind := genKind(t, s); kind {
	case kindOpenTerm:
		id := pick(t, "term", []string{"T20", "T22", "T21"}, append(badIDs, "T20"))
		span, ok := termSpans[id]
		if !ok || rapid.IntRange(0, 9).Draw(t, "odd span") == 9 {
			span = [2]string{genDate(t, "starts_on", ""), genDate(t, "ends_on", "")}
		}
		return &domain.OpenTerm{Meta: m, ID: id, StartsOn: span[0], EndsOn: span[1],
			Target: genMoney(t, "target", 100000000, false),
			FeeRate: pick(t, "fee_rate", []string{"0.01", "0.05", "0.0125", "0", "0.2"},
				[]string{"0.25", "1e-2", "-0.01", "0.1234567", "abc", ""})}
	case kindRegisterDonor:
		return &domain.RegisterDonor{Meta: m, ID: pick(t, "donor", []string{"D1", "D2", "D3"}, badIDs), Name: "Donor",
			Kind:    pick(t, "donor kind", []string{"country", "member_city", "foundation"}, []string{"government", ""}),
			Country: pick(t, "country", []string{"DE", "KE", "KR"}, []string{"ZZ", "", "de"})}
	case kindRecordContribution:
		term := pick(t, "term_id", terms, []string{"T99", ""})
		in := genMoney(t, "amount", 10000000, true)
		return &domain.RecordContribution{Meta: m,
			ID:      pick(t, "contribution", []string{"C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"}, badIDs),
			DonorID: pick(t, "donor_id", known(s.Donors, "D1"), []string{"D9", ""}), TermID: term, Amount: in,
			USDRate: genRate(t, "usd_rate", in.Currency), ReceivedOn: genDate(t, "received_on", term)}
	case kindAddBudgetLine:
		return &domain.AddBudgetLine{Meta: m, ID: pick(t, "line", []string{"L1", "L2", "L3", "L4"}, badIDs),
			TermID: pick(t, "term_id", terms, []string{"T99", ""}),
			Title:  "Line", Amount: genMoney(t, "budget", 5000000, false)}
	case kindProposeAllocation:
		line := pick(t, "line_id", known(s.Lines, "L1"), []string{"L9", ""})
		term := ""
		if l, ok := s.Lines[line]; ok {
			term = l.TermID
		}
		in := genMoney(t, "allocated", 3000000, false)
		if l, ok := s.Lines[line]; ok && rapid.Bool().Draw(t, "allocate what is left") {
			in = genUSDNear(t, "allocated", min(s.Terms[l.TermID].Unallocated, l.BudgetMinor-l.ApprovedMinor-l.ProposedMinor))
		}
		return &domain.ProposeAllocation{Meta: m, ID: pick(t, "allocation", []string{"A1", "A2", "A3", "A4", "A5", "A6"}, badIDs),
			LineID: line, Amount: in, ProposedOn: genDate(t, "proposed_on", term)}
	case kindApproveAllocation:
		id := pick(t, "allocation_id", allocations(s, false), []string{"A9", "", "A1"})
		on := genDate(t, "approved_on", "")
		if a, ok := s.Allocations[id]; ok {
			on = pick(t, "approved_on", []string{a.ProposedOn, termSpans[a.TermID][1]}, badDates)
		}
		return &domain.ApproveAllocation{Meta: m, ID: id, ApprovedOn: on}
	default:
		id := pick(t, "allocation_id", allocations(s, true), []string{"A9", "", "A1"})
		on := genDate(t, "spent_on", "")
		if a, ok := s.Allocations[id]; ok && a.Approved {
			on = pick(t, "spent_on", []string{a.ApprovedOn, termSpans[a.TermID][1]}, badDates)
		}
		in := genMoney(t, "spent", 1000000, true)
		if a, ok := s.Allocations[id]; ok && a.Approved && rapid.Bool().Draw(t, "spend what is left") {
			in = genUSDNear(t, "spent", a.AmountMinor-a.SpentMinor)
		}
		return &domain.RecordExpenditure{Meta: m,
			ID:           pick(t, "expenditure", []string{"E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9"}, badIDs),
			AllocationID: id, Amount: in, USDRate: genRate(t, "usd_rate", in.Currency),
			SpentOn: on, Payee: pick(t, "payee", []string{"Payee"}, []string{""})}
	}
}

// snapshot is a deep copy of a state, to compare before and after Decide.
func snapshot(s *domain.State) *domain.State { return s.Clone() }

// ledgerKey is an account of one term.
type ledgerKey struct{ account, term string }

// TestAccountingIdentity runs random histories of valid and invalid commands.
// A refusal appends nothing and leaves the state as it was; after every
// accepted command, for every term, the trust balance adds up, no balance is
// negative, the postings of all events drawn so far agree with the totals,
// and the fees are exactly the term's rate on each receipt.
func TestAccountingIdentity(t *testing.T) {
	accepted := map[string]int{}
	refused := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		s := domain.NewState("mdfm")
		books := map[ledgerKey]int64{}
		wantFees := map[string]int64{} // per term
		n := rapid.IntRange(minCommands, maxCommands).Draw(t, "commands")
		for i := 0; i < n; i++ {
			c := genCommand(t, s)
			before := snapshot(s)
			evs, err := domain.Decide(s, c)
			if diff := cmp.Diff(before, s); diff != "" {
				t.Fatalf("Decide(%#v) changed the state (-before +after):\n%s", c, diff)
			}
			if err != nil {
				var de *domain.Error
				if !errors.As(err, &de) {
					t.Fatalf("Decide(%#v) = %v, not a *domain.Error", c, err)
				}
				if len(evs) != 0 {
					t.Fatalf("Decide(%#v) refused with %s and returned %d events", c, de.Code, len(evs))
				}
				if !listed(de) {
					t.Fatalf("Decide(%#v) refused with code %s kind %d, not in domain.Codes", c, de.Code, de.Kind)
				}
				refused[de.Code]++
				continue
			}
			if len(evs) == 0 {
				t.Fatalf("Decide(%#v) accepted with no event", c)
			}
			applied := applyAll(t, s, evs)
			for _, e := range applied {
				accepted[e.Type]++
				ps, err := domain.Postings(e)
				if err != nil {
					t.Fatalf("postings of %s: %v", e.Type, err)
				}
				var sum int64
				for _, p := range ps {
					sum += p.Minor
					books[ledgerKey{p.Account, p.TermID}] += p.Minor
				}
				if sum != 0 {
					t.Fatalf("postings of %s sum to %d: %+v", e.Type, sum, ps)
				}
				checkFee(t, s, e, wantFees)
			}
			checkInvariants(t, s, books, wantFees)
		}
	})
	// The generator must reach every event type, or the property says little.
	for _, typ := range []string{events.TypeTermOpened, events.TypeDonorRegistered, events.TypeContributionReceived,
		events.TypeFeeCharged, events.TypeBudgetLineAdded, events.TypeAllocationProposed,
		events.TypeAllocationApproved, events.TypeExpenditureRecorded} {
		if accepted[typ] == 0 {
			t.Errorf("no %s event in any generated history", typ)
		}
	}
	for _, code := range []string{domain.CodeSameUserApproval, domain.CodeInsufficientUnallocated,
		domain.CodeInsufficientAllocationBalance, domain.CodeDuplicateID, domain.CodeAmountNotPositive} {
		if refused[code] == 0 {
			t.Errorf("no command refused with %s in any generated history", code)
		}
	}
	t.Logf("events accepted: %v", accepted)
	t.Logf("refusals: %v", refused)
}

func listed(de *domain.Error) bool {
	for _, c := range domain.Codes {
		if c.Code == de.Code {
			return c.Kind == de.Kind
		}
	}
	return false
}

// checkFee records the fee a receipt must carry and checks a fee event
// against it: exactly money.Percent of the USD amount at the term's rate.
func checkFee(t *rapid.T, s *domain.State, e events.Event, wantFees map[string]int64) {
	p, err := e.Payload()
	if err != nil {
		t.Fatalf("decode %s: %v", e.Type, err)
	}
	switch p := p.(type) {
	case *events.ContributionReceived:
		rate := decimal.RequireFromString(s.Terms[p.TermID].FeeRate)
		wantFees[p.TermID] += money.Percent(p.USDAmount.Minor, rate)
	case *events.FeeCharged:
		c := s.Contributions[p.ContributionID]
		term := s.Terms[p.TermID]
		if p.FeeRate != term.FeeRate {
			t.Fatalf("fee on %s at %s, the term's rate is %s", p.ContributionID, p.FeeRate, term.FeeRate)
		}
		if want := money.Percent(c.USDMinor, decimal.RequireFromString(term.FeeRate)); p.Amount.Minor != want || p.Amount.Currency != "USD" {
			t.Fatalf("fee on %s is %v, want %s USD", p.ContributionID, p.Amount, money.FormatUSD(want))
		}
	}
}

func checkInvariants(t *rapid.T, s *domain.State, books map[ledgerKey]int64, wantFees map[string]int64) {
	for id, term := range s.Terms {
		tot := term.Totals
		cash := tot.Cash()
		if got := tot.Received + tot.Interest - tot.Fees - tot.Spent - tot.Refunded; cash != got {
			t.Fatalf("term %s: cash %d != received+interest-fees-spent-refunded %d (%+v)", id, cash, got, tot)
		}
		if got := tot.Unallocated + tot.AllocatedUnspent; cash != got {
			t.Fatalf("term %s: cash %d != unallocated+allocated-unspent %d (%+v)", id, cash, got, tot)
		}
		if tot.Unallocated < 0 || tot.AllocatedUnspent < 0 || cash < 0 {
			t.Fatalf("term %s: a negative balance: %+v", id, tot)
		}
		if tot.UILRevenue != tot.Fees {
			t.Fatalf("term %s: UIL revenue %d, fees %d", id, tot.UILRevenue, tot.Fees)
		}
		if tot.Fees != wantFees[id] {
			t.Fatalf("term %s: fees %d, want %d (the term's rate on each receipt)", id, tot.Fees, wantFees[id])
		}
		for _, chk := range []struct {
			what      string
			got, want int64
		}{
			{"trust:cash", books[ledgerKey{domain.AccountTrustCash, id}], cash},
			{"-trust:unallocated", -books[ledgerKey{domain.AccountTrustUnallocated, id}], tot.Unallocated},
			{"-trust:allocated - trust:spent", -books[ledgerKey{domain.AccountTrustAllocated, id}] - books[ledgerKey{domain.AccountTrustSpent, id}], tot.AllocatedUnspent},
			{"trust:spent", books[ledgerKey{domain.AccountTrustSpent, id}], tot.Spent},
			{"-uil:fee_revenue", -books[ledgerKey{domain.AccountUILFeeRevenue, id}], tot.Fees},
			{"uil:cash", books[ledgerKey{domain.AccountUILCash, id}], tot.UILRevenue},
		} {
			if chk.got != chk.want {
				t.Fatalf("term %s: postings give %s = %d, the state %d (%+v)", id, chk.what, chk.got, chk.want, tot)
			}
		}
	}
	for id, l := range s.Lines {
		if l.ApprovedMinor < 0 || l.ProposedMinor < 0 || l.ApprovedMinor+l.ProposedMinor > l.BudgetMinor {
			t.Fatalf("line %s: approved %d + proposed %d exceeds its budget %d", id, l.ApprovedMinor, l.ProposedMinor, l.BudgetMinor)
		}
	}
	spent := map[string]int64{}
	for _, e := range s.Expenditures {
		spent[e.AllocationID] += e.USDMinor
	}
	for id, a := range s.Allocations {
		if a.SpentMinor < 0 || a.SpentMinor > a.AmountMinor {
			t.Fatalf("allocation %s: spent %d of %d", id, a.SpentMinor, a.AmountMinor)
		}
		if !a.Approved && a.SpentMinor != 0 {
			t.Fatalf("allocation %s: spent %d before approval", id, a.SpentMinor)
		}
		if a.Approved && a.ApprovedBy == a.ProposedBy {
			t.Fatalf("allocation %s: proposed and approved by %s", id, a.ApprovedBy)
		}
		if spent[id] != a.SpentMinor {
			t.Fatalf("allocation %s: expenditures sum to %d, allocation says %d", id, spent[id], a.SpentMinor)
		}
	}
}
