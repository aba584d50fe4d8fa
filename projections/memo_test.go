package projections_test

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
)

// TestMemoizedStatementsAreFresh writes random histories (the generator
// of TestStatementsAddUpToTheTerm) and, every few commands as the history
// grows, draws every donor's statement of every term through one memo
// kept across the whole history and afresh: at the head, at a random
// date, and at a random fund_seq below the head. The two must be the same
// statement, or the same refusal. A memo that answered an attribution
// kept before the last events (one keyed without the view's fund_seq, say)
// shows the old figures and fails here. Before some of the draws the memo
// is warmed (Memo.Warm), as ledgerd does once its read model is quiet: an
// attribution warmed wrongly (at a stale view, under another date) fails
// here too.
func TestMemoizedStatementsAreFresh(t *testing.T) {
	_, log := testnats.Log(t)
	s := openStore(t, "memo.db")
	memo := donors.NewMemo(4)
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		fund := fmt.Sprintf("m%d", n)
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
		steps := rapid.IntRange(40, 120).Draw(rt, "commands")
		for i := range len(prelude) + steps {
			c, actor, role := domain.Command(nil), "bob", domain.RoleApprover
			if i < len(prelude) {
				c = prelude[i]
			} else {
				c, actor, role = genCommand(rt, state)
			}
			r, err := trySubmit(t, w, fmt.Sprintf("cmd-%d", i), actor, role, c)
			var de *errs.Error
			if err != nil && !errors.As(err, &de) {
				rt.Fatalf("command %d %T: %v", i, c, err)
			}
			if err == nil {
				applyFromLog(rt, log, state, last, r.StreamSeq)
				last = r.StreamSeq
			}
			if i%20 == 19 || i == len(prelude)+steps-1 {
				if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
					rt.Fatal(err)
				}
				if rapid.Bool().Draw(rt, "warm the memo") {
					memo.Warm(t.Context())
				}
				checkMemo(rt, s, memo, state, fund)
			}
		}
	})
	if st := memo.Stats(); st.Hits == 0 || st.Misses == 0 || st.Warmed == 0 {
		t.Errorf("the memo answered %d statements, computed %d attributions and warmed %d: all should have happened", st.Hits, st.Misses, st.Warmed)
	}
}

// checkMemo compares every donor's statement drawn through memo and afresh (see
// TestMemoizedStatementsAreFresh).
func checkMemo(t *rapid.T, s *projections.Store, memo *donors.Memo, state *domain.State, fund string) {
	var atSeq uint64
	if state.FundSeq > 1 {
		atSeq = uint64(rapid.IntRange(1, int(state.FundSeq)).Draw(t, "at_seq"))
	}
	at := []struct {
		asOf  string
		atSeq uint64
	}{{"9999-12-31", 0}, {drawDate(t, "as_of"), 0}, {"9999-12-31", atSeq}}
	for _, term := range slices.Sorted(maps.Keys(state.Terms)) {
		for _, a := range at {
			for _, donor := range slices.Sorted(maps.Keys(state.Donors)) {
				q := donors.StatementQuery{Fund: fund, Donor: donor, Term: term, AsOf: a.asOf, AtSeq: a.atSeq, GeneratedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
				got, gerr := memo.Statement(t.Context(), s, q)
				want, werr := donors.Statement(t.Context(), s, q)
				if fmt.Sprint(gerr) != fmt.Sprint(werr) {
					t.Fatalf("%+v: through the memo %v, afresh %v", q, gerr, werr)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%+v: through the memo\n%+v\nafresh\n%+v", q, got, want)
				}
			}
		}
	}
}

// applyFromLog applies the events of the log after stream seq last, up to
// seq, to state.
func applyFromLog(t *rapid.T, log *eventlog.Log, state *domain.State, last, seq uint64) {
	for n := last + 1; n <= seq; n++ {
		m, err := log.ReadMsg(t.Context(), n)
		if err != nil {
			t.Fatalf("read stream seq %d: %v", n, err)
		}
		e, err := events.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := domain.Apply(state, e); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMemoSeesANewReceipt draws a donor's statement through a memo, then
// records a receipt of the donor in the term: the next statement through
// the memo shows it, and the statement of another donor at the same
// position is answered from the memo.
func TestMemoSeesANewReceipt(t *testing.T) {
	_, log := testnats.Log(t)
	s := openStore(t, "memo-receipt.db")
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w)
	memo := donors.NewMemo(2)
	statementOf := func(donor string) string {
		t.Helper()
		if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
			t.Fatal(err)
		}
		st, err := memo.Statement(t.Context(), s, donors.StatementQuery{Fund: "mdfm", Donor: donor, Term: ledgertest.Term, AsOf: "2021-12-31"})
		if err != nil {
			t.Fatal(err)
		}
		return st.Received.TotalUSD + " " + st.Share.InterestUSD + " " + st.Balance.UnspentUSD
	}
	before := statementOf("hamburg")
	statementOf("osaka")
	if st := memo.Stats(); st.Hits != 1 || st.Misses != 1 {
		t.Fatalf("two donors' statements at one position: %+v, want one attribution computed and one found", st)
	}
	ledgertest.MustSubmit(t, w, "late-receipt", "olu", &domain.RecordContribution{ID: "c-late", DonorID: "hamburg", TermID: ledgertest.Term,
		Amount: ledgertest.USD("1234.56"), ReceivedOn: "2021-06-30", BankRef: "LATE-1"})
	after := statementOf("hamburg")
	if after == before {
		t.Fatalf("after a new receipt the statement still says %s", after)
	}
	if st := memo.Stats(); st.Misses != 2 {
		t.Fatalf("after a new receipt: %+v, want the attribution computed again", st)
	}
}

// TestMemoWarm: after a new event Warm computes, at the new head, the
// attributions of the terms and dates last asked for at a head (at most
// WarmTerms of them, not those asked for at an at_seq), so that the next
// statement finds it, and it is the statement drawn afresh.
func TestMemoWarm(t *testing.T) {
	_, log := testnats.Log(t)
	s := openStore(t, "memo-warm.db")
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w)
	catchUp := func() {
		t.Helper()
		if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
			t.Fatal(err)
		}
	}
	catchUp()
	memo := donors.NewMemo(donors.DefaultMemoSize)
	ask := func(asOf string, atSeq uint64) {
		t.Helper()
		askThrough(t, memo, s, asOf, atSeq)
	}
	ask("2021-12-31", 0)
	ask("2021-12-31", 3)
	if n := memo.Warm(t.Context()); n != 0 {
		t.Fatalf("nothing new: Warm computed %d attributions", n)
	}
	ledgertest.MustSubmit(t, w, "late-receipt", "olu", &domain.RecordContribution{ID: "c-late", DonorID: "hamburg", TermID: ledgertest.Term,
		Amount: ledgertest.USD("1234.56"), ReceivedOn: "2021-06-30", BankRef: "LATE-1"})
	catchUp()
	if n := memo.Warm(t.Context()); n != 1 {
		t.Fatalf("after a receipt: Warm computed %d attributions, want 1 (the head's, not the at_seq's)", n)
	}
	before := memo.Stats()
	ask("2021-12-31", 0)
	if st := memo.Stats(); st.Misses != before.Misses || st.Hits != before.Hits+1 || st.Warmed != 1 {
		t.Fatalf("the statement after Warm: %+v (before %+v), want the warmed attribution found", st, before)
	}
	// Five dates asked for at the head: the last WarmTerms are warmed.
	for _, d := range []string{"2020-12-31", "2021-03-31", "2021-06-30", "2021-09-30", "2021-11-30"} {
		ask(d, 0)
	}
	ledgertest.MustSubmit(t, w, "later-receipt", "olu", &domain.RecordContribution{ID: "c-later", DonorID: "osaka", TermID: ledgertest.Term,
		Amount: ledgertest.USD("100.00"), ReceivedOn: "2021-07-01", BankRef: "LATE-2"})
	catchUp()
	if n := memo.Warm(t.Context()); n != donors.WarmTerms {
		t.Fatalf("after five dates and a receipt: Warm computed %d attributions, want %d", n, donors.WarmTerms)
	}
	before = memo.Stats()
	ask("2021-11-30", 0)
	ask("2020-12-31", 0) // the oldest of the five: not warmed
	if st := memo.Stats(); st.Hits != before.Hits+1 || st.Misses != before.Misses+1 {
		t.Fatalf("after Warm: %+v (before %+v), want the latest date found and the oldest computed", st, before)
	}
}

// askThrough draws hamburg's statement of the scenario's term as of asOf
// at atSeq through memo, and checks it is the statement drawn afresh.
func askThrough(t *testing.T, memo *donors.Memo, s *projections.Store, asOf string, atSeq uint64) {
	t.Helper()
	q := donors.StatementQuery{Fund: "mdfm", Donor: "hamburg", Term: ledgertest.Term, AsOf: asOf, AtSeq: atSeq, GeneratedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	got, err := memo.Statement(t.Context(), s, q)
	if err != nil {
		t.Fatal(err)
	}
	want, err := donors.Statement(t.Context(), s, q)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v: through the memo\n%+v\nafresh (%v)\n%+v", q, got, err, want)
	}
}

// TestMemoExpectsTheLatestTerm: with no statement of a fund asked for at
// its head, ExpectLatestTerm makes Warm compute its latest term's
// statements as of today and, once the term has ended, as of its last day,
// so that the first of them finds its attribution; before any term has
// started it expects nothing, and once a statement of the fund was asked
// for at its head it adds nothing to what Warm computes.
func TestMemoExpectsTheLatestTerm(t *testing.T) {
	_, log := testnats.Log(t)
	s := openStore(t, "memo-expect.db")
	ledgertest.Scenario(t, ledgertest.Writer(t, log, "mdfm"))
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	ask := func(memo *donors.Memo, asOf string) {
		t.Helper()
		askThrough(t, memo, s, asOf, 0)
	}
	memo := donors.NewMemo(donors.DefaultMemoSize)
	memo.ExpectLatestTerm(t.Context(), s, "mdfm", "2019-06-30")
	if n := memo.Warm(t.Context()); n != 0 {
		t.Fatalf("before the term started: Warm computed %d attributions, want 0", n)
	}
	memo.ExpectLatestTerm(t.Context(), s, "mdfm", "2022-03-31")
	if n := memo.Warm(t.Context()); n != 2 {
		t.Fatalf("after the term ended: Warm computed %d attributions, want 2 (as of today and of its last day)", n)
	}
	ask(memo, "2022-03-31")
	ask(memo, "2021-12-31")
	if st := memo.Stats(); st.Hits != 2 || st.Misses != 0 || st.Warmed != 2 {
		t.Fatalf("the statements expected: %+v, want both found", st)
	}

	asked := donors.NewMemo(donors.DefaultMemoSize)
	ask(asked, "2021-06-30")
	asked.ExpectLatestTerm(t.Context(), s, "mdfm", "2022-03-31")
	if n := asked.Warm(t.Context()); n != 0 {
		t.Fatalf("a statement asked for: Warm computed %d attributions, want 0 (it holds the one asked)", n)
	}
}

// TestMemoConcurrentStatements draws the statements of two donors from
// eight goroutines at once through one memo: each is the statement drawn
// afresh (run with -race, it also checks that the attribution the memo
// shares is only read).
func TestMemoConcurrentStatements(t *testing.T) {
	_, log := testnats.Log(t)
	s := openStore(t, "memo-concurrent.db")
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w)
	if err := projector.CatchUp(t.Context(), log, s.Store); err != nil {
		t.Fatal(err)
	}
	memo := donors.NewMemo(2)
	want := map[string]any{}
	for _, donor := range []string{"hamburg", "osaka"} {
		st, err := donors.Statement(t.Context(), s, donors.StatementQuery{Fund: "mdfm", Donor: donor, Term: ledgertest.Term, AsOf: "2021-12-31"})
		if err != nil {
			t.Fatal(err)
		}
		want[donor] = st
	}
	errc := make(chan error, 8)
	for g := range 8 {
		go func() {
			donor := []string{"hamburg", "osaka"}[g%2]
			for range 5 {
				st, err := memo.Statement(t.Context(), s, donors.StatementQuery{Fund: "mdfm", Donor: donor, Term: ledgertest.Term, AsOf: "2021-12-31"})
				if err == nil && !reflect.DeepEqual(any(st), want[donor]) {
					err = fmt.Errorf("donor %s: through the memo %+v, afresh %+v", donor, st, want[donor])
				}
				if err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	// All statements are of one term, date and position: the first to miss
	// computes the attribution, those that miss while it does wait for it.
	if st := memo.Stats(); st.Hits+st.Misses != 40 || st.Misses != 1 {
		t.Errorf("memo %+v after 40 statements of one position, want the attribution computed once", st)
	}
}
