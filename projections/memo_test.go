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
// shows the old figures and fails here.
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
				checkMemo(rt, s, memo, state, fund)
			}
		}
	})
	if st := memo.Stats(); st.Hits == 0 || st.Misses == 0 {
		t.Errorf("the memo answered %d statements and computed %d attributions: both should have happened", st.Hits, st.Misses)
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
	if st := memo.Stats(); st.Hits+st.Misses != 40 || st.Misses > 8 {
		t.Errorf("memo %+v after 40 statements of one position, want at most one computed by each goroutine", st)
	}
}
