package iatireport_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/iati"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/iatireport"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
)

// illustrativeStore writes ledgertest.Illustrative to a new log and
// projects it into a new read model.
func illustrativeStore(t *testing.T) *projections.Store {
	t.Helper()
	_, log := testnats.Log(t)
	ledgertest.Illustrative(t, ledgertest.IllustrativeWriter(t, log, eventlog.DefaultFund))
	s, err := projections.Open(filepath.Join(t.TempDir(), "reports.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestIATIActivitiesReport checks what the activity file holds: every
// receipt and expenditure that stands, not the reversed ones, pledges as
// incoming commitments, and one activity per term without a term.
func TestIATIActivitiesReport(t *testing.T) {
	s := illustrativeStore(t)
	ctx := t.Context()
	q := iatireport.Query{Fund: eventlog.DefaultFund, Term: ledgertest.IllustrativeTerm, AsOf: "2022-03-31"}
	r, err := iatireport.Activities(ctx, s, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Activities) != 1 {
		t.Fatalf("%d activities", len(r.Activities))
	}
	a := r.Activities[0]
	byType := map[string][]string{}
	for _, x := range a.Transactions {
		byType[x.Type] = append(byType[x.Type], x.Ref)
	}
	slices.Sort(byType[iati.TypeIncomingFunds])
	slices.Sort(byType[iati.TypeExpenditure])
	want := map[string][]string{
		iati.TypeIncomingCommitment: {"il-pl-city", "il-pl-country", "il-pl-foundation"},
		iati.TypeIncomingFunds:      {"il-r-1", "il-r-2", "il-r-3", "il-r-4", "il-r-5"},
		iati.TypeExpenditure:        {"il-x-1", "il-x-2", "il-x-3", "il-x-4", "il-x-7"},
	}
	if diff := cmp.Diff(want, byType); diff != "" {
		t.Errorf("transactions (-want +got):\n%s", diff)
	}
	if a.Status != iati.StatusClosed || len(a.Donors) != 3 || len(a.Budgets) != 2 {
		t.Errorf("status %d, %d donors, %d budgets", a.Status, len(a.Donors), len(a.Budgets))
	}
	doc, err := r.Render()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte("fund_seq="+strconv.FormatUint(r.FundSeq, 10)+" chain_head="+r.ChainHead)) {
		t.Errorf("the file does not carry its stamp:\n%s", doc[:300])
	}

	all, err := iatireport.Activities(ctx, s, iatireport.Query{Fund: eventlog.DefaultFund, AsOf: "2022-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Activities) != 2 || all.Activities[1].TermID != ledgertest.IllustrativeNextTerm {
		t.Errorf("without a term: %d activities", len(all.Activities))
	}
	// Before the second term, only the first; before both, refused.
	first, err := iatireport.Activities(ctx, s, iatireport.Query{Fund: eventlog.DefaultFund, AsOf: "2021-06-30"})
	if err != nil || len(first.Activities) != 1 || first.Activities[0].Status != iati.StatusImplementation {
		t.Errorf("as of 2021-06-30: %v %+v", err, first.Activities)
	}
	_, err = iatireport.Activities(ctx, s, iatireport.Query{Fund: eventlog.DefaultFund, AsOf: "2019-12-31"})
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != projections.CodeNoDataAsOf {
		t.Errorf("as of 2019-12-31: %v, want %s", err, projections.CodeNoDataAsOf)
	}
	org, err := iatireport.Organisation(ctx, s, iatireport.Query{Fund: eventlog.DefaultFund, AsOf: "2022-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(org.Organisation.TotalBudgets); n != 4 {
		t.Errorf("%d yearly total budgets, want 4", n)
	}
}

// TestIATIRefusedBeforeRead: a term with more standing receipts than an
// activity holds transactions is refused, over the limit, before its rows
// are read (at the head from the days' counts, below it from the
// receipts), and one with as many is not; reversed receipts do not count.
func TestIATIRefusedBeforeRead(t *testing.T) {
	s := illustrativeStore(t)
	ctx := t.Context()
	head := iatireport.Query{Fund: eventlog.DefaultFund, Term: ledgertest.IllustrativeTerm, AsOf: "2022-03-31"}
	r, err := iatireport.Activities(ctx, s, head)
	if err != nil {
		t.Fatal(err)
	}
	// An earlier at_seq: the view of the report's own first half.
	earlier := head
	earlier.AtSeq = r.Stamp.FundSeq / 2
	for _, q := range []iatireport.Query{head, earlier} {
		r, err := iatireport.Activities(ctx, s, q)
		if err != nil {
			t.Fatal(err)
		}
		var receipts int
		for _, x := range r.Activities[0].Transactions {
			if x.Type == iati.TypeIncomingFunds {
				receipts++
			}
		}
		if receipts < 2 {
			t.Fatalf("at_seq %d: %d receipts listed, want a few", q.AtSeq, receipts)
		}
		restore := iatireport.SetMaxTransactions(receipts)
		if _, err := iatireport.Activities(ctx, s, q); err != nil {
			t.Errorf("at_seq %d: %d receipts under a limit of as many: %v", q.AtSeq, receipts, err)
		}
		restore()
		restore = iatireport.SetMaxTransactions(receipts - 1)
		_, err = iatireport.Activities(ctx, s, q)
		restore()
		var ie *iati.InputError
		if !errors.As(err, &ie) || !ie.OverLimit || ie.Field != "activities[0].transactions" ||
			!strings.Contains(ie.Message, fmt.Sprintf("%d receipts", receipts)) {
			t.Errorf("at_seq %d: %d receipts over a limit of %d: %v, want refused over the limit naming them", q.AtSeq, receipts, receipts-1, err)
		}
	}
}
