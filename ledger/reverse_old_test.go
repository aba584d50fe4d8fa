package ledger

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// TestOldEventsAfterSnapshotStart: the state keeps old events compactly
// (their payloads encoded, their ids as 16 bytes: domain/state.EventLog),
// and a writer started from a snapshot has never seen them decoded. Such a
// writer must still reverse any of them — a receipt with its fee and the
// revaluation of the pledge it paid, an expenditure, interest, a refund,
// an approval — and judge a back-dated refund (AttributableOn reads every
// later payload) exactly as a writer that folded the whole log decides:
// the same events, byte for byte, or the same refusal.
func TestOldEventsAfterSnapshotStart(t *testing.T) {
	ctx := t.Context()
	log := fundWithDonor(t)
	dir := t.TempDir()
	snap := filepath.Join(dir, "state.snapshot")
	// A writer uses a snapshot only with a read model to answer old command ids.
	store, err := projections.Open(filepath.Join(dir, "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	open := func(path string) (*Writer, *countingLog) {
		t.Helper()
		cl := &countingLog{Log: log}
		w, err := Open(ctx, cl, "mdfm", Options{Now: overflowNow, Commands: store, SnapshotPath: path})
		if err != nil {
			t.Fatal(err)
		}
		return w, cl
	}
	usd := func(s string) domain.MoneyInput { return domain.MoneyInput{Amount: s, Currency: "USD"} }
	ids := map[string]string{} // what → id of its event
	w, _ := open(snap)
	n := 0
	do := func(w *Writer, c domain.Command) Result {
		t.Helper()
		n++
		req := request(w, fmt.Sprintf("k-%d", n), c)
		if _, ok := c.(*domain.ApproveAllocation); ok {
			domain.SetMeta(c, domain.Meta{Actor: "ana", Today: w.Today()})
		}
		r, err := w.Submit(ctx, req)
		if err != nil {
			t.Fatalf("%T: %v", c, err)
		}
		return r
	}
	do(w, &domain.RecordPledge{ID: "P-1", DonorID: "osaka", TermID: "2020-2021", Amount: domain.MoneyInput{Amount: "1000.00", Currency: "EUR"},
		USDRate: "1.2", SignedOn: "2020-02-01", DueOn: "2021-06-30"})
	r := do(w, &domain.RecordContribution{ID: "C-1", DonorID: "osaka", TermID: "2020-2021", PledgeID: "P-1",
		Amount: domain.MoneyInput{Amount: "400.00", Currency: "EUR"}, USDRate: "1.25", ReceivedOn: "2020-03-01"})
	ids["pledged receipt"] = r.Events[0].ID
	do(w, &domain.AmendPledge{ID: "P-1", Amount: domain.MoneyInput{Amount: "1200.00", Currency: "EUR"}, USDRate: "1.3", DueOn: "2021-06-30", Reason: "more"})
	for i := range 50 {
		r = do(w, &domain.RecordContribution{ID: fmt.Sprintf("C-%d", i+2), DonorID: "osaka", TermID: "2020-2021",
			Amount: usd("100.00"), ReceivedOn: fmt.Sprintf("2020-%02d-10", 1+i%12)})
	}
	ids["receipt"] = r.Events[0].ID
	do(w, &domain.AddBudgetLine{ID: "L-1", TermID: "2020-2021", Title: "Line", Amount: usd("1000.00")})
	do(w, &domain.ProposeAllocation{ID: "A-1", LineID: "L-1", Amount: usd("500.00"), ProposedOn: "2020-06-01"})
	ids["approval"] = do(w, &domain.ApproveAllocation{ID: "A-1", ApprovedOn: "2020-06-02"}).Events[0].ID
	ids["expenditure"] = do(w, &domain.RecordExpenditure{ID: "E-1", AllocationID: "A-1", Amount: usd("120.00"), SpentOn: "2020-07-01",
		Payee: "Printer", Description: "Leaflets", Country: "JP"}).Events[0].ID
	ids["interest"] = do(w, &domain.RecordInterest{ID: "I-1", TermID: "2020-2021", Amount: usd("3.50"), EarnedOn: "2020-08-31"}).Events[0].ID
	ids["refund"] = do(w, &domain.RecordRefund{ID: "R-1", DonorID: "osaka", TermID: "2020-2021", Amount: usd("50.00"), PaidOn: "2020-12-01"}).Events[0].ID
	w.Close()
	var all []events.Event
	if err := log.ReadAll(ctx, 0, func(e events.Event) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := store.ApplyBatch(ctx, all); err != nil {
		t.Fatal(err)
	}

	// The full fold's state, and the log's event ids in order.
	full, _ := open("")
	full.Close()
	want := full.state
	w, cl := open(snap)
	defer w.Close()
	if cl.read != 1 {
		t.Fatalf("the writer read %d events at start, want 1: it did not start from the snapshot", cl.read)
	}
	cmds := []domain.Command{
		&domain.RecordRefund{ID: "R-back", DonorID: "osaka", TermID: "2020-2021", Amount: usd("250.00"), PaidOn: "2020-03-05"},
		&domain.RecordRefund{ID: "R-far-back", DonorID: "osaka", TermID: "2020-2021", Amount: usd("600.00"), PaidOn: "2020-03-05"},
		&domain.ReverseEvent{ID: "X-1", EventID: ids["pledged receipt"], Reason: "wrong"},
		&domain.ReverseEvent{ID: "X-2", EventID: ids["receipt"], Reason: "wrong"},
		&domain.ReverseEvent{ID: "X-3", EventID: ids["approval"], Reason: "spent: refused"},
		&domain.ReverseEvent{ID: "X-4", EventID: ids["expenditure"], Reason: "wrong"},
		&domain.ReverseEvent{ID: "X-5", EventID: ids["approval"], Reason: "wrong"},
		&domain.ReverseEvent{ID: "X-6", EventID: ids["interest"], Reason: "wrong"},
		&domain.ReverseEvent{ID: "X-7", EventID: ids["refund"], Reason: "wrong"},
		&domain.ReverseEvent{ID: "X-8", EventID: ids["refund"], Reason: "twice: refused"},
	}
	accepted := 0
	for _, c := range cmds {
		req := request(w, fmt.Sprintf("k-%d", n+1), c)
		n++
		wantEvs, wantErr := domain.Decide(want, req.Command)
		res, err := w.Submit(ctx, req)
		if (err != nil) != (wantErr != nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("%T %+v: the writer from the snapshot answered %v, the full fold %v", c, c, err, wantErr)
		}
		if err != nil {
			continue
		}
		accepted++
		if len(res.Events) != len(wantEvs) {
			t.Fatalf("%T: %d events, the full fold decides %d", c, len(res.Events), len(wantEvs))
		}
		var got []events.Event
		if err := log.ReadFund(ctx, "mdfm", res.StreamSeq-uint64(len(res.Events)), func(e events.Event) error {
			got = append(got, e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for i, e := range got {
			if e.Type != wantEvs[i].Type || e.EffectiveOn != wantEvs[i].EffectiveOn || string(e.Data) != string(wantEvs[i].Data) {
				t.Errorf("%T event %d: %s %s %s; the full fold decides %s %s %s", c, i, e.Type, e.EffectiveOn, e.Data,
					wantEvs[i].Type, wantEvs[i].EffectiveOn, wantEvs[i].Data)
			}
			if err := domain.Apply(want, e); err != nil {
				t.Fatal(err)
			}
			if e.Type == events.TypeEventReversed {
				checkReversalOf(t, log, e)
			}
		}
	}
	if accepted < 7 {
		t.Errorf("only %d of the %d commands were accepted: the history no longer tests what it should", accepted, len(cmds))
	}
	if diff := cmp.Diff(want, w.state); diff != "" {
		t.Errorf("after the reversals the writer's state differs from the full fold's (-full +writer):\n%s", diff)
	}
}

// checkReversalOf requires the postings a reversal carries to cancel those
// of the reversed event as the log holds it, not as the state keeps it.
func checkReversalOf(t *testing.T, log *eventlog.Log, rev events.Event) {
	t.Helper()
	p, err := rev.Payload()
	if err != nil {
		t.Fatal(err)
	}
	r := p.(*events.EventReversed)
	var orig events.Event
	if err := log.ReadFund(t.Context(), "mdfm", 0, func(e events.Event) error {
		if e.ID == r.EventID {
			orig = e
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	legs, err := domain.Postings(orig)
	if err != nil || orig.ID == "" || len(legs) != len(r.Postings) {
		t.Fatalf("reversal of %s: %d postings, the event in the log (%q) has %d (%v)", r.EventID, len(r.Postings), orig.ID, len(legs), err)
	}
	for i, l := range legs {
		x := r.Postings[i]
		if x.Account != l.Account || x.TermID != l.TermID || x.LineID != l.LineID || x.DonorID != l.DonorID ||
			x.Earmark != l.Earmark || x.PledgeID != l.PledgeID || x.Amount.Minor != -l.Minor {
			t.Errorf("reversal of %s, posting %d: %+v does not cancel %+v", r.EventID, i, x, l)
		}
	}
}
