package projections_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
)

// submitAs sends a command through the writer as the HTTP layer does, with
// the actor's role (a closed term takes reversals from an approver only),
// and fails the test on a refusal. It returns the result.
func submitAs(t testing.TB, w *ledger.Writer, id, actor, role string, c domain.Command) ledger.Result {
	t.Helper()
	r, err := trySubmit(t, w, id, actor, role, c)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return r
}

// trySubmit is submitAs that returns the refusal.
func trySubmit(t testing.TB, w *ledger.Writer, id, actor, role string, c domain.Command) (ledger.Result, error) {
	t.Helper()
	domain.SetMeta(c, domain.Meta{Actor: actor, Today: w.Today(), Role: role})
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ledger.CommandHash(fmt.Sprintf("%T", c), body)
	if err != nil {
		t.Fatal(err)
	}
	return w.Submit(t.Context(), ledger.Request{CommandID: id, CommandHash: h, Command: c})
}

// wholeTerm writes the illustrative 2020–2021 term of fund mdfm through a
// writer whose clock says 2022-03-31, from its pledges to its close and
// after; see TestWholeTerm for the figures. It returns the results by
// command id.
func wholeTerm(t *testing.T, log *eventlog.Log) map[string]ledger.Result {
	t.Helper()
	now := func() time.Time { return time.Date(2022, 3, 31, 12, 0, 0, 0, time.UTC) }
	w, err := ledger.Open(t.Context(), log, "mdfm", ledger.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	res := map[string]ledger.Result{}
	officer := func(id string, c domain.Command) { res[id] = submitAs(t, w, id, "alice", "officer", c) }
	approver := func(id string, c domain.Command) { res[id] = submitAs(t, w, id, "bob", domain.RoleApprover, c) }
	usd, cur := ledgertest.USD, ledgertest.Money
	const T = "2020-2021"

	approver("term", &domain.OpenTerm{ID: T, StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: usd("1000000.00"), FeeRate: "0.01"})
	approver("next", &domain.OpenTerm{ID: "2022-2023", StartsOn: "2022-01-01", EndsOn: "2023-12-31", Target: usd("1000000.00"), FeeRate: "0.01"})
	officer("d-de", &domain.RegisterDonor{ID: "DE", Name: "Germany", Kind: "country", Country: "DE"})
	officer("d-jp", &domain.RegisterDonor{ID: "JP-CITY", Name: "A Japanese member city", Kind: "member_city", Country: "JP"})
	officer("d-fdn", &domain.RegisterDonor{ID: "FDN", Name: "A foundation", Kind: "foundation", Country: "US"})
	officer("cl-esd", &domain.RegisterCluster{ID: "ESD", Name: "Education for Sustainable Development", TechnicalPartner: "A partner"})
	officer("cl-eqi", &domain.RegisterCluster{ID: "EQI", Name: "Equity and Inclusion"})
	for _, c := range [][3]string{{"cork", "Cork", "IE"}, {"suwon", "Suwon", "KR"}, {"lagos", "Lagos", "NG"}} {
		officer("city-"+c[0], &domain.RegisterCity{ID: c[0], Name: c[1], Country: c[2]})
	}
	officer("co-cork", &domain.AppointCoordinator{ClusterID: "ESD", CityID: "cork", TermID: T})
	officer("co-suwon", &domain.AppointCoordinator{ClusterID: "ESD", CityID: "suwon", TermID: T})
	officer("m-lagos", &domain.JoinCluster{ClusterID: "ESD", CityID: "lagos", TermID: T})
	officer("m-lagos-eqi", &domain.JoinCluster{ClusterID: "EQI", CityID: "lagos", TermID: "2022-2023"})
	for _, l := range [][3]string{{"MDFM-1.1", "200000.00", ""}, {"MDFM-1.2", "100000.00", ""}, {"ESD-2.1", "100000.00", "ESD"}} {
		officer("line-"+l[0], &domain.AddBudgetLine{ID: l[0], TermID: T, Title: "Line " + l[0], Amount: usd(l[1]), ClusterID: l[2]})
	}

	officer("p-de", &domain.RecordPledge{ID: "P-DE", DonorID: "DE", TermID: T, Amount: cur("200000.00", "EUR"), USDRate: "1.10",
		SignedOn: "2020-01-15", DueOn: "2021-06-30"})
	officer("p-jp", &domain.RecordPledge{ID: "P-JP", DonorID: "JP-CITY", TermID: T, Amount: cur("10000000", "JPY"), USDRate: "0.0093",
		Earmark: &domain.EarmarkInput{ClusterID: "ESD"}, SignedOn: "2020-02-01", DueOn: "2020-12-31"})
	officer("p-fdn", &domain.RecordPledge{ID: "P-FDN", DonorID: "FDN", TermID: T, Amount: usd("50000.00"),
		Earmark: &domain.EarmarkInput{LineID: "MDFM-1.2"}, SignedOn: "2020-03-01", DueOn: "2021-03-31"})

	officer("c-1", &domain.RecordContribution{ID: "C-1", DonorID: "DE", TermID: T, PledgeID: "P-DE", Amount: cur("100000.00", "EUR"),
		USDRate: "1.0832", ReceivedOn: "2020-03-02", BankRef: "DE-1"})
	officer("c-2", &domain.RecordContribution{ID: "C-2", DonorID: "JP-CITY", TermID: T, PledgeID: "P-JP", Amount: cur("6000000", "JPY"),
		USDRate: "0.0095", ReceivedOn: "2020-04-10"})
	// US$50000.00 entered as US$5000.00, reversed, and entered again.
	officer("c-3", &domain.RecordContribution{ID: "C-3", DonorID: "FDN", TermID: T, PledgeID: "P-FDN", Amount: usd("5000.00"), ReceivedOn: "2020-05-05"})
	officer("x-1", &domain.ReverseEvent{ID: "X-1", EventID: res["c-3"].Events[0].ID, Reason: "US$50000.00 entered as US$5000.00"})
	officer("c-4", &domain.RecordContribution{ID: "C-4", DonorID: "FDN", TermID: T, PledgeID: "P-FDN", Amount: usd("50000.00"), ReceivedOn: "2020-05-05"})
	officer("c-5", &domain.RecordContribution{ID: "C-5", DonorID: "JP-CITY", TermID: T, Amount: usd("10000.00"), ReceivedOn: "2021-03-01"})
	officer("i-1", &domain.RecordInterest{ID: "I-1", TermID: T, Amount: usd("1234.56"), EarnedOn: "2020-12-31"})

	allocate := func(id, line, amount, on string) {
		officer("propose-"+id, &domain.ProposeAllocation{ID: id, LineID: line, Amount: usd(amount), ProposedOn: on})
		approver("approve-"+id, &domain.ApproveAllocation{ID: id, ApprovedOn: on})
	}
	allocate("A-1", "MDFM-1.1", "80000.00", "2020-06-01")
	allocate("A-2", "ESD-2.1", "50000.00", "2020-06-15")
	allocate("A-3", "MDFM-1.2", "30000.00", "2020-07-01")

	officer("e-1", &domain.RecordExpenditure{ID: "E-1", AllocationID: "A-1", Amount: usd("25000.00"), SpentOn: "2020-08-20", Payee: "Consultant", CityID: "cork"})
	officer("e-2", &domain.RecordExpenditure{ID: "E-2", AllocationID: "A-2", Amount: cur("20000.00", "EUR"), USDRate: "1.18",
		SpentOn: "2020-11-20", Payee: "Workshop venue", CityID: "lagos"})
	officer("e-3", &domain.RecordExpenditure{ID: "E-3", AllocationID: "A-3", Amount: usd("12345.67"), SpentOn: "2021-02-01", Payee: "Printer"})
	officer("r-1", &domain.RecordRefund{ID: "R-1", DonorID: "FDN", TermID: T, Amount: usd("5000.00"), PaidOn: "2021-06-01", Reason: "activity downsized"})
	officer("amend-jp", &domain.AmendPledge{ID: "P-JP", Amount: cur("8000000", "JPY"), USDRate: "0.0093", Reason: "budget revised", AmendedOn: "2021-09-01"})
	officer("cancel-de", &domain.CancelPledge{ID: "P-DE", Reason: "budget cut", CancelledOn: "2021-11-30"})

	approver("close", &domain.CloseTerm{ID: T, ClosedOn: "2022-01-31", Disposition: domain.DispositionInput{Kind: "carry_over", ToTermID: "2022-2023"}})
	officer("e-4", &domain.RecordExpenditure{ID: "E-4", AllocationID: "A-1", Amount: usd("5000.00"), SpentOn: "2022-02-10", Payee: "Consultant"})
	// Only an approver reverses inside a closed term.
	if _, err := trySubmit(t, w, "x-3-officer", "alice", "officer", &domain.ReverseEvent{ID: "X-3", EventID: res["e-3"].Events[0].ID, Reason: "wrong payee"}); err == nil {
		t.Fatal("an officer reversed an expenditure of a closed term")
	}
	approver("x-3", &domain.ReverseEvent{ID: "X-3", EventID: res["e-3"].Events[0].ID, Reason: "wrong payee"})
	officer("line-ESD-22.1", &domain.AddBudgetLine{ID: "ESD-22.1", TermID: "2022-2023", Title: "ESD workshop", Amount: usd("20000.00"), ClusterID: "ESD"})
	allocate("A-6", "ESD-22.1", "10000.00", "2022-03-01")
	return res
}

// TestWholeTerm follows an illustrative term through a real writer and
// checks every figure of the balance at three dates (and what the ledger
// knew before a late reversal), the pledges, the trial balance and the
// cluster registry; then that catching up again and rebuilding give the
// same read model, which Verify accepts.
//
// The term: pledges of EUR 200,000.00 at 1.10 (DE, US$220,000.00), JPY
// 10,000,000 at 0.0093 earmarked to the ESD cluster (JP-CITY, US$93,000.00)
// and US$50,000.00 earmarked to line MDFM-1.2 (FDN); receipts of EUR
// 100,000.00 at 1.0832 (US$108,320.00), JPY 6,000,000 at 0.0095
// (US$57,000.00), US$5,000.00 entered wrongly and reversed, US$50,000.00
// and an unpledged US$10,000.00, each charged 1 %; interest US$1,234.56;
// allocations of 80,000.00 (MDFM-1.1), 50,000.00 (ESD-2.1, from the ESD
// pot) and 30,000.00 (MDFM-1.2, from its pot); spending of US$25,000.00,
// EUR 20,000.00 at 1.18 (US$23,600.00) and US$12,345.67 (reversed after the
// close); a refund of US$5,000.00; P-JP amended to JPY 8,000,000 and P-DE
// cancelled; the close on 2022-01-31, which refunds FDN's 14,500.00 (its
// line's pot cannot follow the line) and carries the ESD pot (6,430.00) and
// the unearmarked pot (38,371.36) into 2022-2023.
func TestWholeTerm(t *testing.T) {
	_, log := testnats.Log(t)
	res := wholeTerm(t, log)
	s := openStore(t, "read.db")
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	head, err := s.FundHeads(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	last := head["mdfm"]
	if want := res["approve-A-6"].Events[0]; last.FundSeq != want.FundSeq || last.ChainHead != want.Hash {
		t.Fatalf("head %+v, want the last approval %+v", last, want)
	}

	const T = "2020-2021"
	pots := projections.NewEarmarkedPots
	base := projections.Balance{Fund: "mdfm", Term: T, FundSeq: last.FundSeq, ChainHead: last.ChainHead, Currency: "USD", Target: "1000000.00",
		CarriedIn: "0.00", CarriedOut: "0.00", Refunded: "0.00", Interest: "0.00", TermStatus: "open"}
	with := func(asOf string, f func(*projections.Balance)) projections.Balance {
		b := base
		b.AsOf = asOf
		f(&b)
		return b
	}
	eThree := res["e-3"].Events[0].FundSeq
	beforeX3 := res["x-3"].Events[0].FundSeq - 1
	tests := []struct {
		name string
		q    projections.BalanceQuery
		want projections.Balance
	}{
		{"2020-06-30: receipts, the wrong one reversed; two allocations", projections.BalanceQuery{Fund: "mdfm", Term: T, AsOf: "2020-06-30"},
			with("2020-06-30", func(b *projections.Balance) {
				b.Pledged, b.PledgeOutstanding, b.PledgedPctOfTarget = "363000.00", "147200.00", "36.30"
				b.Received, b.Fees, b.UILRevenue, b.ReceivedPctOfTarget = "215320.00", "2153.20", "2153.20", "21.53"
				b.Spent, b.TrustBalance, b.AllocatedUnspent = "0.00", "213166.80", "130000.00"
				b.Unallocated, b.UnallocatedUnearmarked = "83166.80", "27236.80"
				b.UnallocatedEarmarked = pots(map[string]string{"cluster:ESD": "6430.00", "line:MDFM-1.2": "49500.00"})
			})},
		{"2021-12-31: the end of the term, before its close", projections.BalanceQuery{Fund: "mdfm", Term: T, AsOf: "2021-12-31"},
			with("2021-12-31", func(b *projections.Balance) {
				b.Pledged, b.PledgeOutstanding, b.PledgedPctOfTarget = "234400.00", "18600.00", "23.44"
				b.Received, b.Fees, b.UILRevenue, b.ReceivedPctOfTarget = "225320.00", "2253.20", "2253.20", "22.53"
				b.Interest, b.Refunded = "1234.56", "5000.00"
				b.Spent, b.TrustBalance, b.AllocatedUnspent = "48600.00", "170701.36", "111400.00"
				b.Unallocated, b.UnallocatedUnearmarked = "59301.36", "38371.36"
				b.UnallocatedEarmarked = pots(map[string]string{"cluster:ESD": "6430.00", "line:MDFM-1.2": "14500.00"})
			})},
		{"2021-12-31 as the ledger knew it before the reversal of E-3", projections.BalanceQuery{Fund: "mdfm", Term: T, AsOf: "2021-12-31", AtSeq: beforeX3},
			with("2021-12-31", func(b *projections.Balance) {
				b.FundSeq, b.ChainHead = beforeX3, res["e-4"].Events[0].Hash
				b.Pledged, b.PledgeOutstanding, b.PledgedPctOfTarget = "234400.00", "18600.00", "23.44"
				b.Received, b.Fees, b.UILRevenue, b.ReceivedPctOfTarget = "225320.00", "2253.20", "2253.20", "22.53"
				b.Interest, b.Refunded = "1234.56", "5000.00"
				b.Spent, b.TrustBalance, b.AllocatedUnspent = "60945.67", "158355.69", "99054.33"
				b.Unallocated, b.UnallocatedUnearmarked = "59301.36", "38371.36"
				b.UnallocatedEarmarked = pots(map[string]string{"cluster:ESD": "6430.00", "line:MDFM-1.2": "14500.00"})
			})},
		{"2022-03-31: closed, its pots refunded and carried over", projections.BalanceQuery{Fund: "mdfm", Term: T, AsOf: "2022-03-31"},
			with("2022-03-31", func(b *projections.Balance) {
				b.Pledged, b.PledgeOutstanding, b.PledgedPctOfTarget = "234400.00", "18600.00", "23.44"
				b.Received, b.Fees, b.UILRevenue, b.ReceivedPctOfTarget = "225320.00", "2253.20", "2253.20", "22.53"
				b.Interest, b.Refunded, b.CarriedOut = "1234.56", "19500.00", "44801.36"
				b.Spent, b.TrustBalance, b.AllocatedUnspent = "53600.00", "106400.00", "106400.00"
				b.Unallocated, b.UnallocatedUnearmarked = "0.00", "0.00"
				b.TermStatus, b.ClosedOn = "closed", "2022-01-31"
			})},
		{"2022-03-31: the next term, picked by date", projections.BalanceQuery{Fund: "mdfm", AsOf: "2022-03-31"},
			with("2022-03-31", func(b *projections.Balance) {
				b.Term = "2022-2023"
				b.Pledged, b.PledgeOutstanding, b.PledgedPctOfTarget = "0.00", "0.00", "0.00"
				b.Received, b.Fees, b.UILRevenue, b.ReceivedPctOfTarget = "0.00", "0.00", "0.00", "0.00"
				b.CarriedIn = "44801.36"
				b.Spent, b.TrustBalance, b.AllocatedUnspent = "0.00", "44801.36", "10000.00"
				// A-6 drew the ESD pot (6,430.00) first, then 3,570.00 unearmarked.
				b.Unallocated, b.UnallocatedUnearmarked = "34801.36", "34801.36"
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, balance(t, s, tt.q)); diff != "" {
				t.Errorf("balance (-want +got):\n%s", diff)
			}
		})
	}
	if eThree >= beforeX3 {
		t.Fatalf("E-3 at fund_seq %d should come before the reversal's %d", eThree, beforeX3+1)
	}
	b := balance(t, s, projections.BalanceQuery{Fund: "mdfm", Term: T, AsOf: "2020-06-30"})
	if j, err := json.Marshal(b); err != nil || !json.Valid(j) {
		t.Fatalf("balance JSON %s: %v", j, err)
	} else {
		var back projections.Balance
		if err := json.Unmarshal(j, &back); err != nil || back != b {
			t.Errorf("balance JSON does not read back: %s (%v)", j, err)
		}
		var m map[string]any
		json.Unmarshal(j, &m)
		if got := fmt.Sprint(m["unallocated_earmarked"]); got != "map[cluster:ESD:6430.00 line:MDFM-1.2:49500.00]" {
			t.Errorf("unallocated_earmarked in JSON: %s", got)
		}
	}

	checkWholeTermPledges(t, s)
	checkWholeTermTrialBalance(t, s)
	checkWholeTermClusters(t, s)
	checkWholeTermRows(t, s)

	// Catching up again changes nothing; a rebuild gives the same tables.
	d1, err := s.Digests(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	d2, err := s.Digests(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rebuilt.db")
	if err := projector.Rebuild(t.Context(), log, path); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rebuilt.Close()
	d3, err := rebuilt.Digests(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d1, d2); diff != "" {
		t.Errorf("digests after a second CatchUp (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(d1, d3); diff != "" {
		t.Errorf("digests of a rebuild (-live +rebuilt):\n%s", diff)
	}
	for _, table := range []string{"pledges", "pledge_changes", "interest", "refunds", "refund_funding", "reversals", "carry_overs",
		"carry_over_shares", "term_closes", "term_close_allocations", "cities", "clusters", "coordinators", "members"} {
		if d1[table] == "" {
			t.Errorf("no digest of table %s", table)
		}
	}
	rep, err := audit.Verify(t.Context(), log, s.Store, t.TempDir())
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %+v %v", rep, rep.Failure, err)
	}
	// The new tables are audited like the others.
	execRaw(t, s.Path(), `UPDATE pledges SET outstanding_usd_minor = 0 WHERE fund = 'mdfm' AND pledge_id = 'P-JP'`)
	rep, err = audit.Verify(t.Context(), log, s.Store, t.TempDir())
	if f := rep.Failure; err != nil || rep.OK || f == nil || f.Table != "pledges" || !strings.Contains(f.Row, `pledge_id="P-JP"`) ||
		!strings.Contains(f.Reason, "outstanding_usd_minor: replay 1860000, live 0") {
		t.Errorf("verify after altering a pledge: %+v, failure %+v, %v", rep, f, err)
	}
}

func checkWholeTermPledges(t *testing.T, s *projections.Store) {
	t.Helper()
	eur := func(m int64) money.Amount { return money.Amount{Minor: m, Currency: "EUR"} }
	jpy := func(m int64) money.Amount { return money.Amount{Minor: m, Currency: "JPY"} }
	u := money.USDAmount
	de := projections.PledgeRow{PledgeID: "P-DE", DonorID: "DE", TermID: "2020-2021", Amount: eur(20000000), USDRate: "1.10", USDValue: u(22000000),
		SignedOn: "2020-01-15", DueOn: "2021-06-30", Status: "recorded", Paid: eur(10000000), PaidUSD: u(10832000),
		WrittenOff: eur(0), WrittenOffUSD: u(0), Outstanding: eur(10000000), OutstandingUSD: u(11000000)}
	jp := projections.PledgeRow{PledgeID: "P-JP", DonorID: "JP-CITY", TermID: "2020-2021", Amount: jpy(10000000), USDRate: "0.0093", USDValue: u(9300000),
		Earmark: "cluster:ESD", SignedOn: "2020-02-01", DueOn: "2020-12-31", Status: "recorded", Paid: jpy(6000000), PaidUSD: u(5700000),
		WrittenOff: jpy(0), WrittenOffUSD: u(0), Outstanding: jpy(4000000), OutstandingUSD: u(3720000)}
	fdn := projections.PledgeRow{PledgeID: "P-FDN", DonorID: "FDN", TermID: "2020-2021", Amount: u(5000000), USDRate: "1", USDValue: u(5000000),
		Earmark: "line:MDFM-1.2", SignedOn: "2020-03-01", DueOn: "2021-03-31", Status: "recorded", Paid: u(5000000), PaidUSD: u(5000000),
		WrittenOff: u(0), WrittenOffUSD: u(0), Outstanding: u(0), OutstandingUSD: u(0)}
	got, err := s.Pledges(t.Context(), "mdfm", "2020-2021", "2020-06-30")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]projections.PledgeRow{de, jp, fdn}, got); diff != "" {
		t.Errorf("pledges as of 2020-06-30 (-want +got):\n%s", diff)
	}
	// At the end of the term: P-DE cancelled, its unpaid half written off;
	// P-JP amended and overdue.
	de.Status, de.CancelledOn, de.WrittenOff, de.WrittenOffUSD, de.Outstanding, de.OutstandingUSD = "cancelled", "2021-11-30", eur(10000000), u(11000000), eur(0), u(0)
	jp.Status, jp.Amount, jp.USDValue, jp.Outstanding, jp.OutstandingUSD, jp.Overdue = "amended", jpy(8000000), u(7440000), jpy(2000000), u(1860000), true
	got, err = s.Pledges(t.Context(), "mdfm", "", "2021-12-31")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]projections.PledgeRow{de, jp, fdn}, got); diff != "" {
		t.Errorf("pledges as of 2021-12-31 (-want +got):\n%s", diff)
	}
	if got, err := s.Pledges(t.Context(), "mdfm", "2020-2021", "2020-01-31"); err != nil || len(got) != 1 || got[0].PledgeID != "P-DE" {
		t.Errorf("pledges signed by 2020-01-31: %+v, %v; want P-DE alone", got, err)
	}
	if got, err := s.Pledges(t.Context(), "mdfm", "2022-2023", "2022-03-31"); err != nil || len(got) != 0 {
		t.Errorf("pledges of 2022-2023: %+v, %v; want none", got, err)
	}
}

func checkWholeTermTrialBalance(t *testing.T, s *projections.Store) {
	t.Helper()
	tb, err := s.TrialBalance(t.Context(), "mdfm", "2022-03-31", 0)
	if err != nil {
		t.Fatal(err)
	}
	if tb.TotalDebit != tb.TotalCredit || tb.TotalDebit == "0.00" {
		t.Errorf("trial balance totals: debit %s, credit %s", tb.TotalDebit, tb.TotalCredit)
	}
	byAccount := map[string]int64{}
	var sum int64
	for _, r := range tb.Accounts {
		x := cents(t, r.Balance)
		if x != cents(t, r.Debit)-cents(t, r.Credit) {
			t.Errorf("row %+v: balance is not debit − credit", r)
		}
		byAccount[r.Account] += x
		sum += x
	}
	if sum != 0 {
		t.Errorf("trial balance rows sum to %d", sum)
	}
	// Both terms' trust cash (106,400.00 + 44,801.36), unallocated (0 +
	// 34,801.36), allocations (160,000.00 + 10,000.00), spending, UIL's fees
	// and what P-JP still expects.
	want := map[string]int64{
		domain.AccountTrustCash:         10640000 + 4480136,
		domain.AccountTrustUnallocated:  -3480136,
		domain.AccountTrustAllocated:    -(16000000 + 1000000),
		domain.AccountTrustSpent:        5360000,
		domain.AccountUILCash:           225320,
		domain.AccountUILFeeRevenue:     -225320,
		domain.AccountMemoPledges:       1860000,
		domain.AccountMemoPledgesContra: -1860000,
	}
	if diff := cmp.Diff(want, byAccount); diff != "" {
		t.Errorf("trial balance by account (-want +got):\n%s", diff)
	}
	early, err := s.TrialBalance(t.Context(), "mdfm", "2019-12-31", 0)
	if err != nil || len(early.Accounts) != 0 || early.TotalDebit != "0.00" {
		t.Errorf("trial balance before any posting: %+v, %v", early, err)
	}
}

func checkWholeTermClusters(t *testing.T, s *projections.Store) {
	t.Helper()
	p := func(id, name, country, term string) projections.Participant {
		return projections.Participant{CityID: id, Name: name, Country: country, TermID: term}
	}
	cork, suwon, lagos := p("cork", "Cork", "IE", "2020-2021"), p("suwon", "Suwon", "KR", "2020-2021"), p("lagos", "Lagos", "NG", "2020-2021")
	lagos22 := p("lagos", "Lagos", "NG", "2022-2023")
	eqi := projections.ClusterRow{ClusterID: "EQI", Name: "Equity and Inclusion", Coordinators: []projections.Participant{}, Members: []projections.Participant{}}
	esd := projections.ClusterRow{ClusterID: "ESD", Name: "Education for Sustainable Development", TechnicalPartner: "A partner",
		Coordinators: []projections.Participant{cork, suwon}, Members: []projections.Participant{cork, suwon, lagos}}
	got, err := s.Clusters(t.Context(), "mdfm", "2020-2021")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]projections.ClusterRow{eqi, esd}, got); diff != "" {
		t.Errorf("clusters of 2020-2021 (-want +got):\n%s", diff)
	}
	eqi.Members = []projections.Participant{lagos22}
	got, err = s.Clusters(t.Context(), "mdfm", "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]projections.ClusterRow{eqi, esd}, got); diff != "" {
		t.Errorf("clusters of every term (-want +got):\n%s", diff)
	}
}

// checkWholeTermRows checks what reversals and the close left in the
// entity tables.
func checkWholeTermRows(t *testing.T, s *projections.Store) {
	t.Helper()
	for _, c := range []struct {
		query string
		want  int64
	}{
		{`SELECT count(*) FROM contributions WHERE contribution_id = 'C-3' AND reversed_by = 'X-1'`, 1},
		{`SELECT count(*) FROM fees WHERE contribution_id = 'C-3' AND reversed_by = 'X-1'`, 1},
		{`SELECT count(*) FROM contributions WHERE reversed_by = ''`, 4},
		{`SELECT count(*) FROM expenditures WHERE expenditure_id = 'E-3' AND reversed_by = 'X-3'`, 1},
		{`SELECT count(*) FROM expenditures WHERE city_id = 'lagos' AND expenditure_id = 'E-2'`, 1},
		{`SELECT count(*) FROM reversals WHERE reversal_id = 'X-1'`, 2},
		{`SELECT count(*) FROM reversals WHERE reversal_id = 'X-3' AND reversed_type = 'expenditure_recorded'`, 1},
		{`SELECT paid_minor FROM pledges WHERE pledge_id = 'P-FDN'`, 5000000},
		{`SELECT outstanding_usd_minor FROM pledges WHERE pledge_id = 'P-JP'`, 1860000},
		{`SELECT count(*) FROM pledge_changes`, 2},
		{`SELECT count(*) FROM refunds WHERE refund_id = 'close:2020-2021:FDN' AND amount_minor = 1450000`, 1},
		{`SELECT amount_minor FROM refund_funding WHERE refund_id = 'R-1' AND earmark = 'line:MDFM-1.2'`, 500000},
		{`SELECT SUM(amount_minor) FROM carry_overs WHERE to_term_id = '2022-2023'`, 4480136},
		{`SELECT amount_minor FROM carry_over_shares WHERE donor_id = 'DE'`, 3512834},
		{`SELECT carried_over_minor FROM term_closes WHERE term_id = '2020-2021' AND disposition = 'carry_over'`, 4480136},
		{`SELECT SUM(amount_minor) FROM term_close_allocations WHERE term_id = '2020-2021'`, 5500000 + 2640000 + 1765433},
		{`SELECT count(*) FROM interest WHERE interest_id = 'I-1' AND amount_minor = 123456 AND reversed_by = ''`, 1},
		// Reversal legs carry the reversed event's type and id.
		{`SELECT count(*) FROM postings WHERE reversal_of != '' AND event_type NOT IN ('contribution_received', 'fee_charged', 'expenditure_recorded')`, 0},
		{`SELECT COALESCE(SUM(amount_minor), 0) FROM postings WHERE account = 'trust:cash' AND event_type = 'contribution_received' AND donor_id = 'FDN'`, 5000000},
	} {
		if got := count(t, s, c.query); got != c.want {
			t.Errorf("%s = %d, want %d", c.query, got, c.want)
		}
	}
}

// TestPledgeRevaluedAfterReversal: a receipt paying a pledge is reversed
// after the pledge was amended to another rate. The domain then appends a
// pledge_amended that only revalues the memo account, dated on the
// receipt's day; it must not make the amended value the pledge's value
// before the amendment's own date.
func TestPledgeRevaluedAfterReversal(t *testing.T) {
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.OpenTerm(t, w)
	m := ledgertest.MustSubmit
	// EUR 100,000.00 at 1.1 is US$110,000.00; EUR 40,000.00 received at
	// 1.2 settles US$44,000.00 of it; amended to EUR 120,000.00 at 1.2
	// (US$144,000.00), it expects US$96,000.00 for its EUR 80,000.00.
	m(t, w, "pledge", "olu", &domain.RecordPledge{ID: "P-1", DonorID: "hamburg", TermID: ledgertest.Term, Amount: ledgertest.Money("100000.00", "EUR"),
		USDRate: "1.1", SignedOn: "2020-02-01", DueOn: "2021-06-30"})
	pay := m(t, w, "pay", "olu", &domain.RecordContribution{ID: "c-1", DonorID: "hamburg", TermID: ledgertest.Term, PledgeID: "P-1",
		Amount: ledgertest.Money("40000.00", "EUR"), USDRate: "1.2", ReceivedOn: "2020-03-01"})
	m(t, w, "amend", "olu", &domain.AmendPledge{ID: "P-1", Amount: ledgertest.Money("120000.00", "EUR"), USDRate: "1.2", Reason: "addendum", AmendedOn: "2020-09-01"})
	rev := m(t, w, "reverse", "olu", &domain.ReverseEvent{ID: "X-1", EventID: pay.Events[0].ID, Reason: "paid into the wrong account"})
	if n := len(rev.Events); n != 3 || rev.Events[2].Type != "pledge_amended" {
		t.Fatalf("reversal events %+v: want the fee's, the receipt's and a revaluation", rev.Events)
	}
	s := openStore(t, "read.db")
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		asOf, pledged, outstanding, value, status string
	}{
		// The memo account shows the revaluation from the receipt's day: it
		// is how the domain dates it.
		{"2020-06-30", "110000.00", "114000.00", "110000.00", "recorded"},
		{"2020-12-31", "144000.00", "144000.00", "144000.00", "amended"},
	} {
		b := balance(t, s, projections.BalanceQuery{Fund: "mdfm", Term: ledgertest.Term, AsOf: c.asOf})
		ps, err := s.Pledges(t.Context(), "mdfm", ledgertest.Term, c.asOf)
		if err != nil || len(ps) != 1 {
			t.Fatalf("pledges as of %s: %+v, %v", c.asOf, ps, err)
		}
		p := ps[0]
		if b.Pledged != c.pledged || b.PledgeOutstanding != c.outstanding || money.FormatUSD(p.USDValue.Minor) != c.value || p.Status != c.status ||
			p.OutstandingUSD != money.USDAmount(cents(t, c.outstanding)) || p.Paid.Minor != 0 {
			t.Errorf("as of %s: pledged %s, outstanding %s, pledge %+v; want %+v", c.asOf, b.Pledged, b.PledgeOutstanding, p, c)
		}
	}
}
