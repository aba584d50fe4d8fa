package projections_test

import (
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/historygen"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// cents parses a balance figure ("-12.34") into minor units.
func cents(t interface{ Fatalf(string, ...any) }, s string) int64 {
	n, err := strconv.ParseInt(strings.Replace(s, ".", "", 1), 10, 64)
	if err != nil || !strings.Contains(s, ".") || len(s)-strings.Index(s, ".") != 3 {
		t.Fatalf("figure %q is not a USD decimal string", s)
	}
	return n
}

// openRaw opens a read-only connection of our own to a read model's file.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var day0 = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// drawDate draws a date of the four years the generated terms span.
func drawDate(t *rapid.T, label string) string {
	return day0.AddDate(0, 0, rapid.IntRange(0, 4*365).Draw(t, label)).Format(time.DateOnly)
}

// TestMain makes the property tests cheaper by default: each check writes a
// fund through a writer whose appends are fsynced. -rapid.checks overrides.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		flag.Set("rapid.checks", "30")
	}
	// A position checkpoint every 3 events (seqtotals): the histories are
	// far shorter than the default, and the reports at an at_seq between
	// two checkpoints must read them.
	seqtotals.SetEvery(3)
	os.Exit(m.Run())
}

// TestIdentityAfterEveryEvent writes random histories through a real writer
// — terms, donors, the cluster registry, pledges (some earmarked, amended,
// cancelled), receipts paying them or not in several currencies, interest,
// lines, allocations, expenditures, refunds, reversals and the close of a
// term with a carry-over or a refund; the domain refuses what breaks its
// rules (adapted from the domain's own generator, see gen_test.go) — and
// applies them one event per batch. After every event, for every term:
//   - the balance satisfies
//     trust cash = received + interest + carried in − carried out − fees − spent − refunded
//     = unallocated + allocated-unspent, and its pots add up to unallocated,
//     at the event's date, at a random date and at the fund_seq before;
//   - at the end of time it equals the domain's own State figure for figure:
//     every total, the pots, what is pledged and still expected, the
//     term's status;
//   - the trial balance sums to zero, each book on its own, and agrees with
//     the domain's postings account by account;
//   - the pledges and clusters queries agree with the State.
func TestIdentityAfterEveryEvent(t *testing.T) {
	_, log := testnats.Log(t)
	s := openStore(t, "read.db")
	raw := openRaw(t, s.Path())
	n := 0
	seen := map[string]int{}
	defer func() { t.Logf("events applied by type, and refusals by code: %v", seen) }()
	property := func(rt *rapid.T) {
		n++
		fund := fmt.Sprintf("f%d", n)
		today, _ := time.Parse(time.DateOnly, genToday)
		w, err := ledger.Open(t.Context(), log, fund, ledger.Options{Now: func() time.Time { return today.Add(12 * time.Hour) }})
		if err != nil {
			rt.Fatal(err)
		}
		defer w.Close()
		// The fund's events follow the stream's last message (a failed
		// history, while rapid shrinks it, may leave some unapplied).
		info, err := log.Info(t.Context())
		if err != nil {
			rt.Fatal(err)
		}
		last := info.LastSeq
		h := &history{t: rt, s: s, raw: raw, fund: fund, state: domain.NewState(fund), lastStream: last, opened: map[string]uint64{},
			writtenOff: map[string]int64{}, books: map[bookKey]int64{}, seen: seen}
		prelude := historyPrelude(rt)
		steps := rapid.IntRange(60, 160).Draw(rt, "commands")
		for i := range len(prelude) + steps {
			var (
				c           domain.Command
				actor, role = "bob", domain.RoleApprover
			)
			if i < len(prelude) {
				c = prelude[i]
			} else {
				c, actor, role = genCommand(rt, h.state)
			}
			r, err := trySubmit(t, w, fmt.Sprintf("cmd-%d", i), actor, role, c)
			var de *errs.Error
			switch {
			case errors.As(err, &de):
				seen["refused "+de.Code]++
				continue
			case err != nil:
				rt.Fatalf("command %d %T: %v", i, c, err)
			}
			h.follow(t, log, r.StreamSeq)
		}
	}
	want := []string{events.TypePledgeRecorded, events.TypePledgeAmended, events.TypePledgeCancelled, events.TypeInterestEarned,
		events.TypeRefundPaid, events.TypeEventReversed, events.TypeBalanceCarriedOver, events.TypeTermClosed, events.TypeCityRegistered,
		events.TypeClusterRegistered, events.TypeCoordinatorAppointed, events.TypeMemberJoined, events.TypeExpenditureRecorded,
		events.TypeDonorAmended, "donor checked in a statement"}
	if missing := historygen.UntilCovered(func() { rapid.Check(t, property) }, seen, want); missing != nil {
		t.Error(historygen.Missing("event or check", missing))
	}
}

// bookKey is an account as the trial balance lists it.
type bookKey struct{ account, term, line, donor, earmark string }

// history is one generated fund: the read model, the domain's State built
// from the same events, and what the checks need to know besides.
type history struct {
	t          *rapid.T
	s          *projections.Store
	raw        *sql.DB
	fund       string
	state      *domain.State
	lastStream uint64
	opened     map[string]uint64 // term → fund_seq of its term_opened
	writtenOff map[string]int64  // pledge → US cents its cancellation wrote off
	books      map[bookKey]int64 // the domain's postings, summed
	seen       map[string]int
	// donorBefore is the donor a donor_amended amends, as the State had
	// it before the event.
	donorBefore domain.Donor
}

// follow reads the events the writer appended up to stream seq until, by
// their stream sequences (the history's writer is the only one appending
// while it runs), applies each to the read model in a batch of its own and
// to the State, and checks. A direct get per message, not a consumer per
// command: the server limits consumers.
func (h *history) follow(t *testing.T, log *eventlog.Log, until uint64) {
	for seq := h.lastStream + 1; seq <= until; seq++ {
		m, err := log.ReadMsg(t.Context(), seq)
		if err != nil {
			h.t.Fatalf("read stream seq %d: %v", seq, err)
		}
		e, err := events.Decode(m.Data)
		if err != nil || e.Fund != h.fund {
			h.t.Fatalf("stream seq %d: event of fund %q, want %q (%v)", seq, e.Fund, h.fund, err)
		}
		e.StreamSeq = seq
		h.seen[e.Type]++
		if err := h.s.ApplyBatch(t.Context(), []events.Event{e}); err != nil {
			h.t.Fatalf("apply %s fund_seq %d: %v", e.Type, e.FundSeq, err)
		}
		if p, err := e.Payload(); err == nil {
			if a, ok := p.(*events.DonorAmended); ok && h.state.Donors[a.DonorID] != nil {
				h.donorBefore = *h.state.Donors[a.DonorID]
				h.donorBefore.Amendments = slices.Clone(h.donorBefore.Amendments)
			}
		}
		if err := domain.Apply(h.state, e); err != nil {
			h.t.Fatal(err)
		}
		h.lastStream = seq
		h.note(e)
		h.check(e)
	}
}

// note keeps what the State does not: when terms opened, what
// cancellations wrote off, the postings.
func (h *history) note(e events.Event) {
	p, err := e.Payload()
	if err != nil {
		h.t.Fatal(err)
	}
	switch p := p.(type) {
	case *events.TermOpened:
		h.opened[p.TermID] = e.FundSeq
	case *events.PledgeCancelled:
		h.writtenOff[p.PledgeID] += p.WrittenOffUSD.Minor
	case *events.EventReversed:
		h.seen["reversed "+p.ReversedType]++
	case *events.ContributionReceived:
		if p.PledgeID != "" {
			h.seen["receipt paying a pledge"]++
		}
	}
	ps, err := domain.Postings(e)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, x := range ps {
		h.books[bookKey{x.Account, x.TermID, x.LineID, x.DonorID, x.Earmark}] += x.Minor
	}
}

// termFigures are a term's figures in US cents, as the read model's
// balance gives them and as the State has them.
type termFigures struct {
	Received, Interest, CarriedIn, CarriedOut, Fees, Spent, Refunded int64
	Cash, Unallocated, AllocatedUnspent, UILRevenue                  int64
	Unearmarked                                                      int64
	Earmarked                                                        map[string]int64
	Pledged, PledgeOutstanding                                       int64
	Status, ClosedOn                                                 string
}

func (h *history) check(e events.Event) {
	t := h.t
	terms := make([]string, 0, len(h.state.Terms))
	for id := range h.state.Terms {
		terms = append(terms, id)
	}
	slices.Sort(terms)
	for _, term := range terms {
		checkIdentity(t, h.s, h.fund, term, e.EffectiveOn, 0)
		checkIdentity(t, h.s, h.fund, term, drawDate(t, "as_of"), 0)
		if h.opened[term] < e.FundSeq {
			checkIdentity(t, h.s, h.fund, term, e.EffectiveOn, e.FundSeq-1)
		}
		got := checkIdentity(t, h.s, h.fund, term, "9999-12-31", 0)
		if diff := cmp.Diff(h.want(term), got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("after %s at fund_seq %d, term %s: read model (+) differs from the domain (-):\n%s", e.Type, e.FundSeq, term, diff)
		}
	}
	h.checkTrialBalance(e)
	h.checkTotals(e, terms)
	h.checkStatement(e, terms)
	h.checkPledges(e)
	h.checkRows(e)
	switch e.Type {
	case events.TypeClusterRegistered, events.TypeCityRegistered, events.TypeCoordinatorAppointed, events.TypeMemberJoined:
		h.checkClusters(e)
	case events.TypeDonorAmended:
		h.checkDonor(e)
	}
}

// checkDonor: the statement names the amended donor as the State has it as
// of the statement's as_of — on the amendment's day, the day before and the
// last day of the terms — and, at the fund_seq before the amendment, as the
// State had it before.
func (h *history) checkDonor(e events.Event) {
	p, err := e.Payload()
	if err != nil {
		h.t.Fatal(err)
	}
	id := p.(*events.DonorAmended).DonorID
	day, err := time.Parse(time.DateOnly, e.EffectiveOn)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, asOf := range []string{e.EffectiveOn, day.AddDate(0, 0, -1).Format(time.DateOnly), "2023-12-31"} {
		for _, c := range []struct {
			atSeq uint64
			donor *domain.Donor
		}{{0, h.state.Donors[id]}, {e.FundSeq - 1, &h.donorBefore}} {
			st, err := donors.Statement(h.t.Context(), h.s, donors.StatementQuery{Fund: h.fund, Donor: id, Term: "T20", AsOf: asOf, AtSeq: c.atSeq})
			var qe *errs.Error
			if errors.As(err, &qe) && (qe.Code == projections.CodeNoDataAsOf || qe.Code == projections.CodeNotAttributable) {
				continue
			}
			if err != nil {
				h.t.Fatalf("statement of donor %s as of %s at_seq %d: %v", id, asOf, c.atSeq, err)
			}
			w := c.donor.AsOf(asOf)
			want := statement.Donor{ID: w.ID, Name: w.Name, Kind: w.Kind, Country: w.Country, City: w.City}
			if diff := cmp.Diff(want, st.Donor); diff != "" {
				h.t.Fatalf("after %s at fund_seq %d: statement of donor %s as of %s at_seq %d (-state +read model):\n%s",
					e.Type, e.FundSeq, id, asOf, c.atSeq, diff)
			}
			h.seen["donor checked in a statement"]++
		}
	}
}

// want returns the State's figures of a term.
func (h *history) want(term string) termFigures {
	st := h.state.Terms[term]
	tot := st.Totals
	f := termFigures{Received: tot.Received, Interest: tot.Interest, CarriedIn: tot.CarriedIn, CarriedOut: tot.CarriedOut,
		Fees: tot.Fees, Spent: tot.Spent, Refunded: tot.Refunded, Cash: tot.Cash(), Unallocated: tot.Unallocated,
		AllocatedUnspent: tot.AllocatedUnspent, UILRevenue: tot.UILRevenue, Unearmarked: st.Unearmarked,
		Earmarked: maps.Clone(st.Earmarked), Status: projections.TermOpen}
	for id, pl := range h.state.Pledges {
		if pl.TermID == term {
			f.Pledged += pl.USDMinor - h.writtenOff[id]
			f.PledgeOutstanding += pl.OutstandingUSD
		}
	}
	if st.Closed {
		f.Status, f.ClosedOn = projections.TermClosed, st.ClosedOn
	}
	return f
}

// checkIdentity asks for a term's balance and checks the accounting
// identities; it returns the balance's figures.
func checkIdentity(t *rapid.T, s *projections.Store, fund, term, asOf string, atSeq uint64) termFigures {
	b, err := s.Balance(t.Context(), projections.BalanceQuery{Fund: fund, Term: term, AsOf: asOf, AtSeq: atSeq})
	if err != nil {
		t.Fatalf("balance of %s term %s as of %s at %d: %v", fund, term, asOf, atSeq, err)
	}
	c := func(s string) int64 { return cents(t, s) }
	f := termFigures{Received: c(b.Received), Interest: c(b.Interest), CarriedIn: c(b.CarriedIn), CarriedOut: c(b.CarriedOut),
		Fees: c(b.Fees), Spent: c(b.Spent), Refunded: c(b.Refunded), Cash: c(b.TrustBalance), Unallocated: c(b.Unallocated),
		AllocatedUnspent: c(b.AllocatedUnspent), UILRevenue: c(b.UILRevenue), Unearmarked: c(b.UnallocatedUnearmarked),
		Earmarked: map[string]int64{}, Pledged: c(b.Pledged), PledgeOutstanding: c(b.PledgeOutstanding), Status: b.TermStatus, ClosedOn: b.ClosedOn}
	pots := f.Unearmarked
	for k, v := range b.UnallocatedEarmarked.Map() {
		f.Earmarked[k] = c(v)
		pots += c(v)
	}
	flows := f.Received + f.Interest + f.CarriedIn - f.CarriedOut - f.Fees - f.Spent - f.Refunded
	if f.Cash != flows || f.Cash != f.Unallocated+f.AllocatedUnspent || pots != f.Unallocated {
		t.Fatalf("identity broken for %s term %s as of %s at %d: trust %d, flows %d, unallocated+allocated_unspent %d, pots %d (%+v)",
			fund, term, asOf, atSeq, f.Cash, flows, f.Unallocated+f.AllocatedUnspent, pots, b)
	}
	if f.UILRevenue != f.Fees {
		t.Fatalf("UIL revenue %s differs from fees %s", b.UILRevenue, b.Fees)
	}
	return f
}

// checkTrialBalance checks that every event's postings, and so all of the
// fund's, sum to zero, that each book balances on its own, that UIL's cash
// is exactly the fees charged and not reversed, and that the trial balance
// query agrees with the domain's postings account by account.
func (h *history) checkTrialBalance(e events.Event) {
	t := h.t
	var total, trust, uil, memo, uilCashLessFees int64
	var unbalanced int
	err := h.raw.QueryRowContext(t.Context(), `SELECT
		COALESCE(SUM(amount_minor), 0),
		COALESCE(SUM(CASE WHEN account LIKE 'trust:%' THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN account LIKE 'uil:%' THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN account LIKE 'memo:%' THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN account = 'uil:cash' THEN amount_minor END), 0)
			- (SELECT COALESCE(SUM(amount_minor), 0) FROM fees WHERE fund = ?1 AND fund_seq <= ?2 AND reversed_by = ''),
		(SELECT count(*) FROM (SELECT 1 FROM postings WHERE fund = ?1 GROUP BY fund_seq HAVING SUM(amount_minor) != 0))
		FROM postings WHERE fund = ?1 AND fund_seq <= ?2`, h.fund, int64(e.FundSeq)).Scan(&total, &trust, &uil, &memo, &uilCashLessFees, &unbalanced)
	if err != nil {
		t.Fatal(err)
	}
	if total != 0 || unbalanced != 0 || trust != 0 || uil != 0 || memo != 0 || uilCashLessFees != 0 {
		t.Fatalf("postings of %s at fund_seq %d: total %d, %d unbalanced events, trust book %d, uil book %d, memo %d, uil cash less the fees table %d",
			h.fund, e.FundSeq, total, unbalanced, trust, uil, memo, uilCashLessFees)
	}
	tb, err := h.s.TrialBalance(t.Context(), h.fund, "9999-12-31", 0)
	if err != nil {
		t.Fatalf("trial balance at fund_seq %d: %v", e.FundSeq, err)
	}
	if tb.TotalDebit != tb.TotalCredit || tb.FundSeq != e.FundSeq {
		t.Fatalf("trial balance at fund_seq %d: debit %s, credit %s, fund_seq %d", e.FundSeq, tb.TotalDebit, tb.TotalCredit, tb.FundSeq)
	}
	got := map[bookKey]int64{}
	var sum int64
	for _, r := range tb.Accounts {
		x := cents(t, r.Balance)
		sum += x
		if x != 0 {
			got[bookKey{r.Account, r.Term, r.Line, r.Donor, r.Earmark}] = x
		}
	}
	want := maps.Clone(h.books)
	maps.DeleteFunc(want, func(_ bookKey, v int64) bool { return v == 0 })
	if sum != 0 {
		t.Fatalf("trial balance at fund_seq %d sums to %d", e.FundSeq, sum)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmp.AllowUnexported(bookKey{})); diff != "" {
		t.Fatalf("trial balance at fund_seq %d (-domain +read model):\n%s", e.FundSeq, diff)
	}
	if e.FundSeq > 1 {
		if _, err := h.s.TrialBalance(t.Context(), h.fund, drawDate(t, "trial balance as_of"), e.FundSeq-1); err != nil {
			t.Fatalf("trial balance at fund_seq %d: %v", e.FundSeq-1, err)
		}
	}
}

// checkTotals checks that the balance, the budget and the trial balance,
// which read the running totals at the fund's head, answer what summing the
// postings answers, at the event's date, a random date, the end of time
// and a date drawn among the history's edges (its first day and the day
// before, its middle and the month boundaries around it, its last day), at
// the head and at a random fund_seq, for every term and the term picked by
// date. At the head the totals are read from the monthly checkpoints and
// back from the totals over every day (TotalsAsOf). Errors must be the
// same too.
func (h *history) checkTotals(e events.Event, terms []string) {
	t := h.t
	atSeqs := []uint64{0, e.FundSeq, rapid.Uint64Range(1, e.FundSeq).Draw(t, "totals at_seq")}
	for _, asOf := range []string{e.EffectiveOn, drawDate(t, "totals as_of"), "9999-12-31", h.edgeDate(e)} {
		for _, atSeq := range atSeqs {
			sides := []string{"checkpoints"}
			if atSeq == 0 {
				sides = slices.Sorted(maps.Keys(projections.TotalsSides))
			}
			for _, side := range sides {
				h.compareTotals(e, terms, asOf, atSeq, side)
			}
		}
	}
}

// edgeDate draws a date at an edge of the fund's history so far: its first
// effective date or the day before, the middle of its span or the first
// day of that month or the last of the month before, its last date.
func (h *history) edgeDate(e events.Event) string {
	var first, last string
	if err := h.raw.QueryRowContext(h.t.Context(), `SELECT MIN(effective_on), MAX(effective_on) FROM events WHERE fund = ?`, h.fund).Scan(&first, &last); err != nil {
		h.t.Fatalf("dates of fund %s at fund_seq %d: %v", h.fund, e.FundSeq, err)
	}
	f, _ := time.Parse(time.DateOnly, first)
	l, _ := time.Parse(time.DateOnly, last)
	mid := f.Add(l.Sub(f) / 2)
	monthStart := time.Date(mid.Year(), mid.Month(), 1, 0, 0, 0, 0, time.UTC)
	dates := []time.Time{f, f.AddDate(0, 0, -1), mid, monthStart, monthStart.AddDate(0, 0, -1), l}
	return rapid.SampledFrom(dates).Draw(h.t, "edge as_of").Format(time.DateOnly)
}

// compareTotals compares the three reports read the way side says with
// the postings summed, at one date and at_seq.
func (h *history) compareTotals(e events.Event, terms []string, asOf string, atSeq uint64, side string) {
	t := h.t
	ctx := t.Context()
	for _, term := range append([]string{""}, terms...) {
		q := projections.BalanceQuery{Fund: h.fund, Term: term, AsOf: asOf, AtSeq: atSeq}
		got, gerr := h.s.BalanceRead(ctx, q, side)
		want, werr := h.s.ExactBalance(ctx, q)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || got != want {
			t.Fatalf("balance %+v at fund_seq %d, totals %s: from the totals %+v (%v), from the postings %+v (%v)", q, e.FundSeq, side, got, gerr, want, werr)
		}
		bq := projections.BudgetQuery{Fund: h.fund, Term: term, AsOf: asOf, AtSeq: atSeq}
		gotB, gerr := h.s.BudgetRead(ctx, bq, side)
		wantB, werr := h.s.ExactBudget(ctx, bq)
		if diff := cmp.Diff(wantB, gotB); fmt.Sprint(gerr) != fmt.Sprint(werr) || diff != "" {
			t.Fatalf("budget %+v at fund_seq %d, totals %s: errors %v and %v; postings (-) and totals (+):\n%s", bq, e.FundSeq, side, werr, gerr, diff)
		}
	}
	got, gerr := h.s.TrialBalanceRead(ctx, h.fund, asOf, atSeq, side)
	want, werr := h.s.ExactTrialBalance(ctx, h.fund, asOf, atSeq)
	if diff := cmp.Diff(want, got); fmt.Sprint(gerr) != fmt.Sprint(werr) || diff != "" {
		t.Fatalf("trial balance as of %s at_seq %d at fund_seq %d, totals %s: errors %v and %v; postings (-) and totals (+):\n%s", asOf, atSeq, e.FundSeq, side, werr, gerr, diff)
	}
}

// checkStatement checks that a donor's statement, which reads the running
// totals at the fund's head (posting_days, posting_checkpoints,
// posting_totals, receipt_days) and below it the totals by position
// (seqtotals), is the statement drawn from the postings and the receipts
// alone, for a donor, term, date (the event's, a random one, an edge of
// the history, the end of time), position (the head or an at_seq) and
// page of receipts drawn, errors included; and that the page listed changes only which receipts are
// listed: the receipts not listed add up to what the first page lists and
// the other pages do not.
func (h *history) checkStatement(e events.Event, terms []string) {
	t := h.t
	ctx := t.Context()
	ids := slices.Sorted(maps.Keys(h.state.Donors))
	if len(ids) == 0 || len(terms) == 0 {
		return
	}
	q := donors.StatementQuery{Fund: h.fund, Donor: rapid.SampledFrom(ids).Draw(t, "statement donor"),
		Term:         rapid.SampledFrom(append([]string{""}, terms...)).Draw(t, "statement term"),
		AsOf:         rapid.SampledFrom([]string{e.EffectiveOn, drawDate(t, "statement as_of"), h.edgeDate(e), "9999-12-31"}).Draw(t, "statement date"),
		ReceiptsPage: rapid.Int64Range(0, 1).Draw(t, "receipts page"),
		AtSeq:        rapid.SampledFrom([]uint64{0, rapid.Uint64Range(1, e.FundSeq).Draw(t, "statement at_seq")}).Draw(t, "statement at")}
	got, gerr := donors.Statement(ctx, h.s, q)
	want, werr := donors.Statement(ctx, h.s.Exact(), q)
	if diff := cmp.Diff(want, got); fmt.Sprint(gerr) != fmt.Sprint(werr) || diff != "" {
		t.Fatalf("statement %+v at fund_seq %d: errors %v and %v; from the postings (-) and the totals (+):\n%s", q, e.FundSeq, werr, gerr, diff)
	}
	if gerr != nil || q.ReceiptsPage == 0 {
		return
	}
	q.ReceiptsPage = 0
	first, err := donors.Statement(ctx, h.s, q)
	if err != nil {
		t.Fatalf("statement %+v: %v", q, err)
	}
	// The donor has fewer receipts than a page: the first lists them all
	// (and what closes carried in), the second what closes carried in.
	var listed, carried []statement.Receipt
	for _, r := range first.Received.Receipts {
		if strings.HasPrefix(r.ID, "carried over from ") {
			carried = append(carried, r)
		} else {
			listed = append(listed, r)
		}
	}
	wantUnlisted := (*statement.Unlisted)(nil)
	if len(listed) > 0 {
		wantUnlisted = &statement.Unlisted{Count: int64(len(listed)),
			USD:    money.FormatUSD(sumUSD(t, listed, func(r statement.Receipt) string { return r.USD })),
			FeeUSD: money.FormatUSD(sumUSD(t, listed, func(r statement.Receipt) string { return r.FeeUSD })), Page: 1, Pages: 1}
	}
	if first.Received.Unlisted != nil || !slices.Equal(got.Received.Receipts, carried) {
		t.Fatalf("statement %+v: page 0 lists %v (unlisted %+v), page 1 lists %v", q, first.Received.Receipts, first.Received.Unlisted, got.Received.Receipts)
	}
	if diff := cmp.Diff(wantUnlisted, got.Received.Unlisted); diff != "" {
		t.Fatalf("statement %+v: the unlisted receipts of page 1 (-page 0's receipts +page 1's unlisted):\n%s", q, diff)
	}
	got.Received.Receipts, got.Received.Unlisted = first.Received.Receipts, nil
	if diff := cmp.Diff(first, got); diff != "" {
		t.Fatalf("statement %+v: pages 0 (-) and 1 (+) differ beyond their receipts:\n%s", q, diff)
	}
	h.seen["statement reconciled"]++
}

// sumUSD adds up the US dollar figures of rows.
func sumUSD[T any](t *rapid.T, rows []T, f func(T) string) int64 {
	var sum int64
	for _, r := range rows {
		sum += cents(t, f(r))
	}
	return sum
}

// checkPledges compares the pledges query at the end of time with the
// State's pledges.
func (h *history) checkPledges(e events.Event) {
	t := h.t
	const end = "9999-12-31"
	rows, err := h.s.Pledges(t.Context(), h.fund, "", end)
	if err != nil {
		t.Fatal(err)
	}
	overdue := map[string]bool{}
	for _, o := range domain.PledgesOverdue(h.state, end) {
		overdue[o.PledgeID] = true
	}
	if len(rows) != len(h.state.Pledges) {
		t.Fatalf("%d pledges in the read model, %d in the State", len(rows), len(h.state.Pledges))
	}
	for _, r := range rows {
		pl := h.state.Pledges[r.PledgeID]
		b, _ := domain.PledgeOutstanding(h.state, r.PledgeID)
		status := r.Status == projections.PledgeCancelled
		if pl == nil || r.Amount != pl.Amount || r.USDValue.Minor != pl.USDMinor || r.USDRate != pl.USDRate || r.DueOn != pl.DueOn ||
			r.Earmark != pl.Earmark || r.Paid.Minor != pl.PaidMinor || r.PaidUSD.Minor != pl.PaidUSDMinor ||
			r.Outstanding != b.Amount || r.OutstandingUSD.Minor != b.USDMinor || status != pl.Cancelled ||
			r.WrittenOffUSD.Minor != h.writtenOff[r.PledgeID] || r.Overdue != overdue[r.PledgeID] {
			t.Fatalf("after fund_seq %d: pledge row %+v, State %+v (outstanding %+v, overdue %v)", e.FundSeq, r, pl, b, overdue[r.PledgeID])
		}
	}
}

// checkClusters compares the clusters query with the State's registry.
func (h *history) checkClusters(e events.Event) {
	t := h.t
	rows, err := h.s.Clusters(t.Context(), h.fund, "")
	if err != nil {
		t.Fatal(err)
	}
	type part struct{ term, city string }
	if len(rows) != len(h.state.Clusters) {
		t.Fatalf("%d clusters in the read model, %d in the State", len(rows), len(h.state.Clusters))
	}
	for _, r := range rows {
		cl := h.state.Clusters[r.ClusterID]
		if cl == nil || r.Name != cl.Name || r.TechnicalPartner != cl.TechnicalPartner {
			t.Fatalf("cluster row %+v, State %+v", r, cl)
		}
		for _, l := range []struct {
			got  []projections.Participant
			want map[string][]string
		}{{r.Coordinators, cl.Coordinators}, {r.Members, cl.Members}} {
			var got, want []part
			for _, p := range l.got {
				got = append(got, part{p.TermID, p.CityID})
			}
			for _, term := range slices.Sorted(maps.Keys(l.want)) {
				for _, c := range l.want[term] {
					want = append(want, part{term, c})
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("after fund_seq %d: cluster %s lists %v, State %v", e.FundSeq, r.ClusterID, got, want)
			}
		}
	}
}

// checkRows compares the read model's entity rows with the State: which
// allocations are approved (an approval reversed makes one proposed again)
// and which receipts, expenditures, interest and refunds are reversed.
func (h *history) checkRows(e events.Event) {
	t := h.t
	got := map[string]string{}
	rows, err := h.raw.QueryContext(t.Context(), `
		SELECT 'allocation ' || allocation_id, status || ' ' || approved_by || ' ' || approved_on FROM allocations WHERE fund = ?1
		UNION ALL SELECT 'contribution ' || contribution_id, reversed_by != '' FROM contributions WHERE fund = ?1
		UNION ALL SELECT 'expenditure ' || expenditure_id, reversed_by != '' FROM expenditures WHERE fund = ?1
		UNION ALL SELECT 'interest ' || interest_id, reversed_by != '' FROM interest WHERE fund = ?1
		UNION ALL SELECT 'refund ' || refund_id, reversed_by != '' FROM refunds WHERE fund = ?1`, h.fund)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		got[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	want := map[string]string{}
	for id, a := range h.state.Allocations {
		status := "proposed"
		if a.Approved {
			status = "approved"
		}
		want["allocation "+id] = status + " " + a.ApprovedBy + " " + a.ApprovedOn
	}
	for id, c := range h.state.Contributions {
		want["contribution "+id] = flag(c.Reversed)
	}
	for id, x := range h.state.Expenditures {
		want["expenditure "+id] = flag(x.Reversed)
	}
	for id, x := range h.state.Interest {
		want["interest "+id] = flag(x.Reversed)
	}
	for id, x := range h.state.Refunds {
		want["refund "+id] = flag(x.Reversed)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after %s at fund_seq %d, rows (-State +read model):\n%s", e.Type, e.FundSeq, diff)
	}
}
