package projections_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// illustrativeStore writes ledgertest.Illustrative to a new log and
// projects it into a new read model.
func illustrativeStore(t *testing.T) (*eventlog.Log, *projections.Store, map[string]ledger.Result) {
	t.Helper()
	_, log := testnats.Log(t)
	res := ledgertest.Illustrative(t, ledgertest.IllustrativeWriter(t, log, eventlog.DefaultFund))
	s := openStore(t, "reports.db")
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	return log, s, res
}

func queryCode(t *testing.T, err error) string {
	t.Helper()
	var qe *errs.Error
	if !errors.As(err, &qe) {
		t.Fatalf("want a *errs.Error, got %v", err)
	}
	return qe.Code
}

func strp(s string) *string { return &s }

func figures(budget, allocated, spent, available, unspent string, rate *string) projections.BudgetFigures {
	return projections.BudgetFigures{Budget: budget, Allocated: allocated, Spent: spent, Available: available, AllocatedUnspent: unspent, DeliveryRate: rate}
}

// TestBudgetReport checks the budget against actual of the illustrative
// 2020–2021 term figure by figure at three dates — before the term's first
// event (refused), mid-term and after the close — and that it is
// reproducible with at_seq, leaves out an approval reversed, and agrees with
// the balance.
func TestBudgetReport(t *testing.T) {
	_, s, res := illustrativeStore(t)
	ctx := t.Context()
	const fund, term = eventlog.DefaultFund, ledgertest.IllustrativeTerm

	_, err := s.Budget(ctx, projections.BudgetQuery{Fund: fund, Term: term, AsOf: "2019-12-31"})
	if got := queryCode(t, err); got != projections.CodeNoDataAsOf {
		t.Errorf("as of 2019-12-31: code %s, want %s", got, projections.CodeNoDataAsOf)
	}
	for _, c := range []struct {
		q    projections.BudgetQuery
		code string
	}{
		{projections.BudgetQuery{Fund: fund, Term: "1999-2000", AsOf: "2021-01-01"}, domain.CodeUnknownTerm},
		{projections.BudgetQuery{Fund: "nofund", Term: term, AsOf: "2021-01-01"}, projections.CodeUnknownFund},
		{projections.BudgetQuery{Fund: fund, Term: term, AsOf: "2021-02-30"}, domain.CodeInvalidDate},
		{projections.BudgetQuery{Fund: fund, Term: term, AsOf: "2021-01-01", AtSeq: 1 << 40}, projections.CodeInvalidAtSeq},
		// No term had started by then.
		{projections.BudgetQuery{Fund: fund, AsOf: "2019-06-30"}, projections.CodeNoDataAsOf},
	} {
		if _, err := s.Budget(ctx, c.q); queryCode(t, err) != c.code {
			t.Errorf("%+v: %v, want code %s", c.q, err, c.code)
		}
	}

	mid, err := s.Budget(ctx, projections.BudgetQuery{Fund: fund, Term: term, AsOf: "2020-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	wantMid := []projections.BudgetLineRow{
		{LineID: "ESD-2.1", Title: "Education for Sustainable Development: capacity building", ClusterID: "ESD", BudgetFigures: figures("60000.00", "0.00", "0.00", "60000.00", "0.00", nil)},
		{LineID: "LIT-2.1", Title: "Literacy: capacity building", ClusterID: "LIT", BudgetFigures: figures("80000.00", "0.00", "0.00", "80000.00", "0.00", nil)},
		{LineID: "MDFM-1.1", Title: "Training modules for city officials", BudgetFigures: figures("200000.00", "60000.00", "22500.00", "140000.00", "37500.00", strp("37.50"))},
		{LineID: "MDFM-1.2", Title: "Policy workshops", BudgetFigures: figures("100000.00", "50000.00", "21240.00", "50000.00", "28760.00", strp("42.48"))},
		{LineID: "MDFM-3.1", Title: "Communication platform", BudgetFigures: figures("30000.00", "0.00", "0.00", "30000.00", "0.00", nil)},
	}
	if diff := cmp.Diff(wantMid, mid.Lines); diff != "" {
		t.Errorf("lines as of 2020-12-31 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(figures("470000.00", "110000.00", "43740.00", "360000.00", "66260.00", strp("39.76")), mid.Totals); diff != "" {
		t.Errorf("totals as of 2020-12-31 (-want +got):\n%s", diff)
	}
	if mid.DateAxis != projections.DateAxisEffective || mid.FundSeq == 0 || len(mid.ChainHead) != 64 || mid.Currency != "USD" {
		t.Errorf("stamp: axis %q fund_seq %d chain head %q currency %q", mid.DateAxis, mid.FundSeq, mid.ChainHead, mid.Currency)
	}

	end, err := s.Budget(ctx, projections.BudgetQuery{Fund: fund, Term: term, AsOf: "2022-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	wantClusters := []projections.BudgetClusterRow{
		{ClusterID: "ESD", Name: "Education for Sustainable Development", Lines: []string{"ESD-2.1"}, BudgetFigures: figures("60000.00", "40000.00", "12000.00", "20000.00", "28000.00", strp("30.00"))},
		{ClusterID: "LIT", Name: "Literacy", Lines: []string{"LIT-2.1"}, BudgetFigures: figures("80000.00", "45000.00", "10890.00", "35000.00", "34110.00", strp("24.20"))},
	}
	if diff := cmp.Diff(wantClusters, end.Clusters); diff != "" {
		t.Errorf("clusters after the close (-want +got):\n%s", diff)
	}
	// MDFM-1.1 spent 7,500.00 after the term's end; MDFM-3.1's approval was
	// reversed.
	if diff := cmp.Diff(figures("330000.00", "110000.00", "51240.00", "220000.00", "58760.00", strp("46.58")), end.Unclustered); diff != "" {
		t.Errorf("unclustered after the close (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(figures("470000.00", "195000.00", "74130.00", "275000.00", "120870.00", strp("38.02")), end.Totals); diff != "" {
		t.Errorf("totals after the close (-want +got):\n%s", diff)
	}
	bal, err := s.Balance(ctx, projections.BalanceQuery{Fund: fund, Term: term, AsOf: "2022-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	if bal.AllocatedUnspent != end.Totals.AllocatedUnspent || bal.Spent != end.Totals.Spent {
		t.Errorf("balance allocated_unspent %s spent %s, budget totals %s %s", bal.AllocatedUnspent, bal.Spent, end.Totals.AllocatedUnspent, end.Totals.Spent)
	}

	// Asked again at the fund_seq it was computed at: the same report.
	again, err := s.Budget(ctx, projections.BudgetQuery{Fund: fund, Term: term, AsOf: "2022-03-31", AtSeq: end.FundSeq})
	if err != nil {
		t.Fatal(err)
	}
	again.AtSeq = 0
	if diff := cmp.Diff(end, again); diff != "" {
		t.Errorf("at_seq %d (-now +then):\n%s", end.FundSeq, diff)
	}
	// What the ledger knew right after the mistaken approval: allocated.
	approval := res[ledgertest.IllustrativeReversedApproval+"-approve"].Events[0].FundSeq
	before, err := s.Budget(ctx, projections.BudgetQuery{Fund: fund, Term: term, AsOf: "2021-12-31", AtSeq: approval})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(before.Lines, func(r projections.BudgetLineRow) bool { return r.LineID == "MDFM-3.1" })
	if got := before.Lines[i]; got.Allocated != "25000.00" || got.DeliveryRate == nil || *got.DeliveryRate != "0.00" {
		t.Errorf("MDFM-3.1 at fund_seq %d: %+v", approval, got)
	}
	if before.FundSeq != approval || before.AtSeq != approval {
		t.Errorf("at_seq %d: fund_seq %d at_seq %d", approval, before.FundSeq, before.AtSeq)
	}

	// Without a term: the term whose period holds as_of.
	next, err := s.Budget(ctx, projections.BudgetQuery{Fund: fund, AsOf: "2022-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	if next.Term != ledgertest.IllustrativeNextTerm || len(next.Lines) != 1 || next.Totals.Spent != "4000.00" {
		t.Errorf("as of 2022-03-31 without a term: %+v", next)
	}
}

// TestTrialBalanceReport refuses a date before the fund's first event and
// balances at every date after.
func TestTrialBalanceReport(t *testing.T) {
	_, s, _ := illustrativeStore(t)
	ctx := t.Context()
	_, err := s.TrialBalanceReport(ctx, eventlog.DefaultFund, "2019-12-31", 0)
	if got := queryCode(t, err); got != projections.CodeNoDataAsOf {
		t.Errorf("as of 2019-12-31: code %s", got)
	}
	for _, asOf := range []string{"2020-01-01", "2020-12-31", "2022-03-31"} {
		tb, err := s.TrialBalanceReport(ctx, eventlog.DefaultFund, asOf, 0)
		if err != nil {
			t.Fatalf("as of %s: %v", asOf, err)
		}
		if tb.TotalDebit != tb.TotalCredit || tb.DateAxis != projections.DateAxisEffective || len(tb.ChainHead) != 64 {
			t.Errorf("as of %s: debit %s credit %s axis %q head %q", asOf, tb.TotalDebit, tb.TotalCredit, tb.DateAxis, tb.ChainHead)
		}
	}
}

// TestReplayReader replays the stored bytes of the log, as an export holds
// them, into a read model equal to the one the projector follows; a line
// altered in the export stops the replay naming its fund and fund_seq.
func TestReplayReader(t *testing.T) {
	log, live, _ := illustrativeStore(t)
	ctx := context.Background()
	var export bytes.Buffer
	if err := log.ReadFund(ctx, eventlog.DefaultFund, 0, func(e events.Event) error {
		b, err := e.Encode()
		export.Write(append(b, '\n'))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "from-export.db")
	sum, err := audit.RebuildFromReader(ctx, bytes.NewReader(export.Bytes()), path)
	if err != nil {
		t.Fatal(err)
	}
	heads, err := live.FundHeads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(heads, sum.Funds); diff != "" {
		t.Errorf("fund heads (-live +export):\n%s", diff)
	}
	rebuilt, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rebuilt.Close()
	if f, err := readmodel.CompareStores(ctx, live.Store, rebuilt.Store); err != nil || f != nil {
		t.Fatalf("the model rebuilt from the export differs: %v %v", err, f)
	}

	lines := bytes.Split(bytes.TrimSuffix(export.Bytes(), []byte("\n")), []byte("\n"))
	tampered := slices.Clone(lines)
	tampered[29] = bytes.Replace(lines[29], []byte(`"actor":"olu"`), []byte(`"actor":"eve"`), 1)
	if bytes.Equal(tampered[29], lines[29]) {
		t.Fatalf("line 30 has no actor olu: %s", lines[29])
	}
	_, err = audit.RebuildFromReader(ctx, bytes.NewReader(append(bytes.Join(tampered, []byte("\n")), '\n')), filepath.Join(t.TempDir(), "tampered.db"))
	var ee *readmodel.EventError
	if !errors.As(err, &ee) || !errors.Is(err, events.ErrTampered) || ee.Fund != eventlog.DefaultFund || ee.FundSeq != 30 || ee.StreamSeq != 30 {
		t.Fatalf("tampered line 30: %v", err)
	}
	// A line dropped breaks the chain at the next one.
	dropped := slices.Delete(slices.Clone(lines), 9, 10)
	_, err = audit.RebuildFromReader(ctx, bytes.NewReader(bytes.Join(dropped, []byte("\n"))), filepath.Join(t.TempDir(), "dropped.db"))
	if !errors.As(err, &ee) || !errors.Is(err, events.ErrBrokenChain) || ee.FundSeq != 11 {
		t.Fatalf("line 10 dropped: %v", err)
	}
}
