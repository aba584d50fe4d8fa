package projections_test

import (
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
)

// TestReportsAtEverySeq writes random histories (as
// TestIdentityAfterEveryEvent does: receipts, pledges, allocations,
// spending, refunds, reversals, closes), folds them in batches of random
// sizes (so that the position checkpoints, every 3 events here, fall inside
// batches as well as at their ends), then draws the balance of every term,
// the budget of every term and the trial balance at every at_seq of the
// fund, each as of the date of the event there, a date drawn and the end of
// time, and compares them, errors included, with the same reports summing
// the postings (the path the reports took below the head before schema 9,
// kept as the oracle). It does so again with checkpoints every 7 events:
// there a view may be nearer a boundary the read model has not folded yet
// (with K 3 the next boundary of a view below the head is always folded).
func TestReportsAtEverySeq(t *testing.T) {
	if seqtotals.Every() != 3 {
		t.Fatalf("K is %d, want 3 (TestMain)", seqtotals.Every())
	}
	checkReportsAtEverySeq(t, "8")
	t.Run("K=7", func(t *testing.T) {
		defer seqtotals.SetEvery(7)()
		checkReportsAtEverySeq(t, "4")
	})
}

// checkReportsAtEverySeq is TestReportsAtEverySeq with the current K, on
// a new read model, with histories histories unless the run asked for a
// number of checks.
func checkReportsAtEverySeq(t *testing.T, histories string) {
	checks := flag.Lookup("rapid.checks")
	old := checks.Value.String()
	if old == "30" { // TestMain's default: fewer histories, each checked at every at_seq
		checks.Value.Set(histories)
		defer checks.Value.Set(old)
	}
	_, log := testnats.Log(t)
	s := openStore(t, "read.db")
	n, compared := 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		fund := fmt.Sprintf("f%d", n)
		today, _ := time.Parse(time.DateOnly, genToday)
		w, err := ledger.Open(t.Context(), log, fund, ledger.Options{Now: func() time.Time { return today.Add(12 * time.Hour) }})
		if err != nil {
			rt.Fatal(err)
		}
		defer w.Close()
		state := domain.NewState(fund)
		info, err := log.Info(t.Context())
		if err != nil {
			rt.Fatal(err)
		}
		last := info.LastSeq
		var evs []events.Event // the fund's events, by fund_seq from 1
		prelude := historyPrelude(rt)
		for i := range len(prelude) + rapid.IntRange(40, 120).Draw(rt, "commands") {
			c, actor, role := domain.Command(nil), "bob", domain.RoleApprover
			if i < len(prelude) {
				c = prelude[i]
			} else {
				c, actor, role = genCommand(rt, state)
			}
			r, err := trySubmit(t, w, fmt.Sprintf("cmd-%d", i), actor, role, c)
			var de *errs.Error
			if errors.As(err, &de) {
				continue
			}
			if err != nil {
				rt.Fatalf("command %d %T: %v", i, c, err)
			}
			for ; last < r.StreamSeq; last++ { // the fund's writer is the only one appending
				m, err := log.ReadMsg(t.Context(), last+1)
				if err != nil {
					rt.Fatal(err)
				}
				e, err := events.Decode(m.Data)
				if err != nil || e.Fund != fund {
					rt.Fatalf("stream seq %d: event of fund %q, want %q (%v)", last+1, e.Fund, fund, err)
				}
				e.StreamSeq = last + 1
				if err := domain.Apply(state, e); err != nil {
					rt.Fatal(err)
				}
				evs = append(evs, e)
			}
		}
		for rest := evs; len(rest) > 0; {
			k := min(len(rest), rapid.IntRange(1, 7).Draw(rt, "batch"))
			if err := s.ApplyBatch(t.Context(), rest[:k]); err != nil {
				rt.Fatal(err)
			}
			rest = rest[k:]
		}
		terms := slices.Sorted(maps.Keys(state.Terms))
		for _, e := range evs {
			for _, asOf := range []string{e.EffectiveOn, drawDate(rt, "as_of"), "9999-12-31"} {
				compareAtSeq(rt, s, fund, terms, asOf, e.FundSeq)
				compared++
			}
		}
	})
	if compared == 0 {
		t.Fatal("no report compared")
	}
}

// compareAtSeq compares the balance and budget of each term (and of the
// term picked by date) and the trial balance at fund_seq atSeq as of asOf
// with the same reports summing the postings.
func compareAtSeq(t *rapid.T, s *projections.Store, fund string, terms []string, asOf string, atSeq uint64) {
	ctx := t.Context()
	for _, term := range append([]string{""}, terms...) {
		q := projections.BalanceQuery{Fund: fund, Term: term, AsOf: asOf, AtSeq: atSeq}
		got, gerr := s.Balance(ctx, q)
		want, werr := s.ExactBalance(ctx, q)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || got != want {
			t.Fatalf("balance %+v: from the totals %+v (%v), from the postings %+v (%v)", q, got, gerr, want, werr)
		}
		bq := projections.BudgetQuery{Fund: fund, Term: term, AsOf: asOf, AtSeq: atSeq}
		gotB, gerr := s.Budget(ctx, bq)
		wantB, werr := s.ExactBudget(ctx, bq)
		if diff := cmp.Diff(wantB, gotB); fmt.Sprint(gerr) != fmt.Sprint(werr) || diff != "" {
			t.Fatalf("budget %+v: errors %v and %v; postings (-) and totals (+):\n%s", bq, werr, gerr, diff)
		}
	}
	got, gerr := s.TrialBalance(ctx, fund, asOf, atSeq)
	want, werr := s.ExactTrialBalance(ctx, fund, asOf, atSeq)
	if diff := cmp.Diff(want, got); fmt.Sprint(gerr) != fmt.Sprint(werr) || diff != "" {
		t.Fatalf("trial balance of %s as of %s at_seq %d: errors %v and %v; postings (-) and totals (+):\n%s", fund, asOf, atSeq, werr, gerr, diff)
	}
}

// TestReportsAtSeqReadACheckpoint shows what a report at an at_seq below
// the head reads: the checkpoint at or below it and the postings of fewer
// than K events after it. It draws the balance, budget and trial balance
// of the illustrative term at every at_seq from the checkpoint in the
// middle of the history on,
// as of several dates, then multiplies every posting up to that checkpoint
// by 7 in the read model's file and draws them again: the reports are the
// same (the summing path, drawn on the altered file, is not, so the
// alteration is seen by any report that reads those postings).
func TestReportsAtSeqReadACheckpoint(t *testing.T) {
	_, log := testnats.Log(t)
	wholeTerm(t, log)
	s := openStore(t, "read.db")
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	head := uint64(len(readLog(t, log)))
	k := uint64(seqtotals.Every())
	from := head / 2 / k * k // the postings up to this checkpoint are altered below
	if from < k || head < from+2*k {
		t.Fatalf("the history has %d events, want at least %d", head, from+2*k)
	}
	type reports struct {
		b  projections.Balance
		bu projections.BudgetReport
		tb projections.TrialBalance
	}
	draw := func(store *projections.Store, asOf string, atSeq uint64) (r reports) {
		var err error
		if r.b, err = store.Balance(t.Context(), projections.BalanceQuery{Fund: "mdfm", Term: "2020-2021", AsOf: asOf, AtSeq: atSeq}); err != nil {
			t.Fatalf("balance as of %s at_seq %d: %v", asOf, atSeq, err)
		}
		if r.bu, err = store.Budget(t.Context(), projections.BudgetQuery{Fund: "mdfm", Term: "2020-2021", AsOf: asOf, AtSeq: atSeq}); err != nil {
			t.Fatalf("budget as of %s at_seq %d: %v", asOf, atSeq, err)
		}
		if r.tb, err = store.TrialBalance(t.Context(), "mdfm", asOf, atSeq); err != nil {
			t.Fatalf("trial balance as of %s at_seq %d: %v", asOf, atSeq, err)
		}
		return r
	}
	dates := []string{"2020-12-31", "2021-06-30", "2021-12-31", "9999-12-31"}
	before := map[string]reports{}
	for seq := from; seq < head; seq++ {
		for _, d := range dates {
			before[fmt.Sprint(d, seq)] = draw(s, d, seq)
		}
	}
	raw, err := sql.Open("sqlite", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	r, err := raw.ExecContext(t.Context(), `UPDATE postings SET amount_minor = amount_minor * 7 WHERE fund = 'mdfm' AND fund_seq <= ?`, from)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		t.Fatalf("altered %d postings (%v)", n, err)
	}
	for seq := from; seq < head; seq++ {
		for _, d := range dates {
			if diff := cmp.Diff(before[fmt.Sprint(d, seq)], draw(s, d, seq), cmp.AllowUnexported(reports{})); diff != "" {
				t.Fatalf("as of %s at_seq %d, the reports changed with the postings up to fund_seq %d (-before +after):\n%s", d, seq, from, diff)
			}
		}
	}
	if got, err := s.ExactTrialBalance(t.Context(), "mdfm", "9999-12-31", head-1); err == nil && cmp.Equal(got, before[fmt.Sprint("9999-12-31", head-1)].tb) {
		t.Fatalf("the trial balance summing the altered postings is the same: the alteration is not seen")
	}
}
