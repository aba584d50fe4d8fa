package projections_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
)

// openStore opens a new read model in the test's temporary folder.
func openStore(t *testing.T, name string) *projections.Store {
	t.Helper()
	s, err := projections.Open(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readLog returns every event of the log.
func readLog(t *testing.T, log *eventlog.Log) []events.Event {
	t.Helper()
	var evs []events.Event
	if err := log.ReadAll(t.Context(), 0, func(e events.Event) error {
		evs = append(evs, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

func balance(t *testing.T, s *projections.Store, q projections.BalanceQuery) projections.Balance {
	t.Helper()
	b, err := s.Balance(t.Context(), q)
	if err != nil {
		t.Fatalf("balance %+v: %v", q, err)
	}
	return b
}

// TestBalanceScenario checks every figure of the balance of the scenario
// term at three dates, and what the ledger knew at an earlier fund_seq.
func TestBalanceScenario(t *testing.T) {
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	res := ledgertest.Scenario(t, w)
	s := openStore(t, "read.db")
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	cp, err := s.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if cp != w.LastSeq() {
		t.Fatalf("checkpoint %d after CatchUp, want the writer's last seq %d", cp, w.LastSeq())
	}
	spend := res["spend"].Events[0]
	eurFee := res["eur"].Events[1]
	if spend.FundSeq != 11 || eurFee.FundSeq != 5 {
		t.Fatalf("scenario fund_seqs: spend %d, eur fee %d; want 11 and 5", spend.FundSeq, eurFee.FundSeq)
	}

	base := projections.Balance{Fund: "mdfm", Term: "2020-2021", FundSeq: 11, ChainHead: spend.Hash, Currency: "USD",
		Target: "1000000.00", Pledged: "0.00", PledgeOutstanding: "0.00", Interest: "0.00", CarriedIn: "0.00", CarriedOut: "0.00",
		Refunded: "0.00", PledgedPctOfTarget: "0.00", TermStatus: "open"}
	with := func(asOf string, f func(*projections.Balance)) projections.Balance {
		b := base
		b.AsOf = asOf
		f(&b)
		// Nothing is earmarked in this scenario.
		b.UnallocatedUnearmarked = b.Unallocated
		return b
	}
	tests := []struct {
		name string
		q    projections.BalanceQuery
		want projections.Balance
	}{
		{"before the first receipt", projections.BalanceQuery{Fund: "mdfm", Term: "2020-2021", AsOf: "2020-02-01"},
			with("2020-02-01", func(b *projections.Balance) {
				b.Received, b.Fees, b.Spent, b.TrustBalance, b.AllocatedUnspent, b.Unallocated, b.UILRevenue = "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00"
				b.ReceivedPctOfTarget = "0.00"
			})},
		{"after the euro receipt", projections.BalanceQuery{Fund: "mdfm", Term: "2020-2021", AsOf: "2020-04-01"},
			with("2020-04-01", func(b *projections.Balance) {
				b.Received, b.Fees, b.Spent = "55000.00", "550.00", "0.00"
				b.TrustBalance, b.AllocatedUnspent, b.Unallocated, b.UILRevenue = "54450.00", "0.00", "54450.00", "550.00"
				b.ReceivedPctOfTarget = "5.50"
			})},
		{"end of term", projections.BalanceQuery{Fund: "mdfm", Term: "2020-2021", AsOf: "2021-12-31"},
			with("2021-12-31", func(b *projections.Balance) {
				b.Received, b.Fees, b.Spent = "75000.00", "750.00", "12345.67"
				b.TrustBalance, b.AllocatedUnspent, b.Unallocated, b.UILRevenue = "61904.33", "17654.33", "44250.00", "750.00"
				b.ReceivedPctOfTarget = "7.50"
			})},
		{"term picked by date", projections.BalanceQuery{Fund: "mdfm", AsOf: "2020-04-01"},
			with("2020-04-01", func(b *projections.Balance) {
				b.Received, b.Fees, b.Spent = "55000.00", "550.00", "0.00"
				b.TrustBalance, b.AllocatedUnspent, b.Unallocated, b.UILRevenue = "54450.00", "0.00", "54450.00", "550.00"
				b.ReceivedPctOfTarget = "5.50"
			})},
		{"term picked after all terms", projections.BalanceQuery{Fund: "mdfm", AsOf: "2030-01-01"},
			with("2030-01-01", func(b *projections.Balance) {
				b.Received, b.Fees, b.Spent = "75000.00", "750.00", "12345.67"
				b.TrustBalance, b.AllocatedUnspent, b.Unallocated, b.UILRevenue = "61904.33", "17654.33", "44250.00", "750.00"
				b.ReceivedPctOfTarget = "7.50"
			})},
		{"what the ledger knew at fund_seq 5", projections.BalanceQuery{Fund: "mdfm", Term: "2020-2021", AsOf: "2021-12-31", AtSeq: 5},
			with("2021-12-31", func(b *projections.Balance) {
				b.FundSeq, b.ChainHead = 5, eurFee.Hash
				b.Received, b.Fees, b.Spent = "55000.00", "550.00", "0.00"
				b.TrustBalance, b.AllocatedUnspent, b.Unallocated, b.UILRevenue = "54450.00", "0.00", "54450.00", "550.00"
				b.ReceivedPctOfTarget = "5.50"
			})},
		{"at fund_seq 10, before the expenditure", projections.BalanceQuery{Fund: "mdfm", Term: "2020-2021", AsOf: "2021-12-31", AtSeq: 10},
			with("2021-12-31", func(b *projections.Balance) {
				b.FundSeq, b.ChainHead = 10, res["approve"].Events[0].Hash
				b.Received, b.Fees, b.Spent = "75000.00", "750.00", "0.00"
				b.TrustBalance, b.AllocatedUnspent, b.Unallocated, b.UILRevenue = "74250.00", "30000.00", "44250.00", "750.00"
				b.ReceivedPctOfTarget = "7.50"
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := balance(t, s, tt.q)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("balance (-want +got):\n%s", diff)
			}
		})
	}

	// The same report asked with at_seq of a read model that has read only
	// that far must come out identical.
	part := openStore(t, "part.db")
	evs := readLog(t, log)
	if err := part.ApplyBatch(t.Context(), evs[:5]); err != nil {
		t.Fatal(err)
	}
	got := balance(t, part, projections.BalanceQuery{Fund: "mdfm", Term: "2020-2021", AsOf: "2021-12-31"})
	want := balance(t, s, projections.BalanceQuery{Fund: "mdfm", Term: "2020-2021", AsOf: "2021-12-31", AtSeq: 5})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("balance of a read model at fund_seq 5 differs from at_seq 5 (-at_seq +partial):\n%s", diff)
	}
}

// TestBalanceErrors walks every code of a balance query.
func TestBalanceErrors(t *testing.T) {
	_, log := testnats.Log(t)
	s := openStore(t, "read.db")
	// Before any event, the fund is unknown and so is every term.
	_, err := s.Balance(t.Context(), projections.BalanceQuery{Fund: "mdfm", AsOf: "2021-01-01"})
	checkCode(t, err, projections.CodeUnknownFund, true)

	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.MustSubmit(t, w, "donor", "olu", &domain.RegisterDonor{ID: "lyon", Name: "Ville de Lyon", Kind: "member_city", Country: "FR", City: "Lyon"})
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	// A fund with events but no term yet.
	_, err = s.Balance(t.Context(), projections.BalanceQuery{Fund: "mdfm", AsOf: "2021-01-01"})
	checkCode(t, err, domain.CodeUnknownTerm, true)
	ledgertest.OpenTerm(t, w)
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		q        projections.BalanceQuery
		code     string
		notFound bool
	}{
		{"unknown fund", projections.BalanceQuery{Fund: "other", AsOf: "2021-01-01"}, projections.CodeUnknownFund, true},
		{"unknown term", projections.BalanceQuery{Fund: "mdfm", Term: "2030-2031", AsOf: "2021-01-01"}, domain.CodeUnknownTerm, true},
		{"term not yet opened at at_seq", projections.BalanceQuery{Fund: "mdfm", Term: "2020-2021", AsOf: "2021-01-01", AtSeq: 1}, domain.CodeUnknownTerm, true},
		{"empty date", projections.BalanceQuery{Fund: "mdfm", AsOf: ""}, domain.CodeInvalidDate, false},
		{"not a date", projections.BalanceQuery{Fund: "mdfm", AsOf: "2021-02-30"}, domain.CodeInvalidDate, false},
		{"date with time", projections.BalanceQuery{Fund: "mdfm", AsOf: "2021-01-01T00:00:00Z"}, domain.CodeInvalidDate, false},
		{"at_seq beyond the head", projections.BalanceQuery{Fund: "mdfm", AsOf: "2021-01-01", AtSeq: 99}, projections.CodeInvalidAtSeq, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Balance(t.Context(), tt.q)
			checkCode(t, err, tt.code, tt.notFound)
		})
	}
}

// TestQueryErrors walks the codes of the pledges, trial balance
// and clusters queries.
func TestQueryErrors(t *testing.T) {
	_, log := testnats.Log(t)
	s := openStore(t, "read.db")
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.OpenTerm(t, w)
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tests := []struct {
		name     string
		err      func() error
		code     string
		notFound bool
	}{
		{"pledges of an unknown fund", func() error { _, err := s.Pledges(ctx, "other", "", "2021-01-01"); return err }, projections.CodeUnknownFund, true},
		{"pledges of an unknown term", func() error { _, err := s.Pledges(ctx, "mdfm", "2030-2031", "2021-01-01"); return err }, domain.CodeUnknownTerm, true},
		{"pledges on a bad date", func() error { _, err := s.Pledges(ctx, "mdfm", "", "2021-13-01"); return err }, domain.CodeInvalidDate, false},
		{"trial balance of an unknown fund", func() error { _, err := s.TrialBalance(ctx, "other", "2021-01-01", 0); return err }, projections.CodeUnknownFund, true},
		{"trial balance on a bad date", func() error { _, err := s.TrialBalance(ctx, "mdfm", "", 0); return err }, domain.CodeInvalidDate, false},
		{"trial balance beyond the head", func() error { _, err := s.TrialBalance(ctx, "mdfm", "2021-01-01", 99); return err }, projections.CodeInvalidAtSeq, false},
		{"clusters of an unknown fund", func() error { _, err := s.Clusters(ctx, "other", ""); return err }, projections.CodeUnknownFund, true},
		{"clusters of an unknown term", func() error { _, err := s.Clusters(ctx, "mdfm", "2030-2031"); return err }, domain.CodeUnknownTerm, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCode(t, tt.err(), tt.code, tt.notFound) })
	}
	// Known fund and term without pledges or clusters: empty answers.
	if ps, err := s.Pledges(ctx, "mdfm", ledgertest.Term, "2021-01-01"); err != nil || len(ps) != 0 {
		t.Errorf("pledges: %+v, %v", ps, err)
	}
	if cs, err := s.Clusters(ctx, "mdfm", ledgertest.Term); err != nil || cs == nil || len(cs) != 0 {
		t.Errorf("clusters: %#v, %v; want an empty list", cs, err)
	}
	if tb, err := s.TrialBalance(ctx, "mdfm", "2021-01-01", 1); err != nil || tb.FundSeq != 1 || tb.Accounts == nil || tb.TotalDebit != "0.00" {
		t.Errorf("trial balance at fund_seq 1: %+v, %v", tb, err)
	}
}

func checkCode(t *testing.T, err error, code string, notFound bool) {
	t.Helper()
	var qe *errs.Error
	if !errors.As(err, &qe) {
		t.Fatalf("got %v, want an *errs.Error %s", err, code)
	}
	if qe.Code != code || (qe.Kind == errs.NotFound) != notFound || qe.Message == "" || qe.Field == "" {
		t.Errorf("got %+v, want code %s, not found %v, a message and a field", qe, code, notFound)
	}
}
