package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

var fixedNow = func() time.Time { return time.Date(2021, 12, 31, 12, 0, 0, 0, time.UTC) }

func submit(t *testing.T, w *ledger.Writer, id, actor string, c domain.Command) (ledger.Result, error) {
	t.Helper()
	domain.SetMeta(c, domain.Meta{Actor: actor, Today: w.Today()})
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

func mustSubmit(t *testing.T, w *ledger.Writer, id, actor string, c domain.Command) ledger.Result {
	t.Helper()
	r, err := submit(t, w, id, actor, c)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return r
}

func usd(s string) domain.MoneyInput { return domain.MoneyInput{Amount: s, Currency: "USD"} }

func setUp(t *testing.T, w *ledger.Writer) {
	mustSubmit(t, w, "term", "ana", &domain.OpenTerm{ID: "2020-2021", StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: usd("1000000.00"), FeeRate: "0.01"})
	mustSubmit(t, w, "donor", "olu", &domain.RegisterDonor{ID: "osaka", Name: "City of Osaka", Kind: "member_city", Country: "JP", City: "Osaka"})
}

// TestGroupCommitAndRestart sends many commands at once, checks that each is
// in the log exactly once with an unbroken chain, and that a new writer on
// the same log remembers every command id.
func TestGroupCommitAndRestart(t *testing.T) {
	_, log := testnats.Log(t)
	w, err := ledger.Open(t.Context(), log, "mdfm", ledger.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	setUp(t, w)
	const n = 300
	var wg sync.WaitGroup
	results := make([]ledger.Result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = mustSubmit(t, w, fmt.Sprintf("c-%d", i), "olu", &domain.RecordContribution{
				ID: fmt.Sprintf("c-%d", i), DonorID: "osaka", TermID: "2020-2021", Amount: usd("100.00"), ReceivedOn: "2021-01-15"})
		}()
	}
	wg.Wait()
	w.Close()

	seen := map[string]int{}
	chain := events.NewChain("mdfm")
	err = log.ReadFund(t.Context(), "mdfm", 0, func(e events.Event) error {
		seen[e.CommandID]++
		return chain.Check(e)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each contribution is a receipt and a 1 % fee.
	for i := range n {
		if got := seen[fmt.Sprintf("c-%d", i)]; got != 2 {
			t.Errorf("command c-%d has %d events in the log, want 2", i, got)
		}
	}
	if want := uint64(2 + 2*n); chain.FundSeq != want {
		t.Errorf("fund_seq %d, want %d", chain.FundSeq, want)
	}

	w2, err := ledger.Open(t.Context(), log, "mdfm", ledger.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	again := mustSubmit(t, w2, "c-7", "olu", &domain.RecordContribution{
		ID: "c-7", DonorID: "osaka", TermID: "2020-2021", Amount: usd("100.00"), ReceivedOn: "2021-01-15"})
	if !again.Replayed || again.Events[0] != results[7].Events[0] {
		t.Errorf("same key and body after restart: got %+v, want replay of %+v", again, results[7])
	}
	_, err = submit(t, w2, "c-7", "olu", &domain.RecordContribution{
		ID: "c-7", DonorID: "osaka", TermID: "2020-2021", Amount: usd("999.00"), ReceivedOn: "2021-01-15"})
	if !errors.Is(err, ledger.ErrIdempotencyKeyReused) {
		t.Errorf("same key, other body: got %v, want ErrIdempotencyKeyReused", err)
	}
	last, _ := log.LastSeq(t.Context(), "mdfm")
	if last != w2.LastSeq() {
		t.Errorf("log grew: last seq %d, writer %d", last, w2.LastSeq())
	}
}

// TestTwoWritersRace has two writers of the same fund (as two processes
// would be) approve allocations that together exceed the unallocated money.
func TestTwoWritersRace(t *testing.T) {
	ns, log := testnats.Log(t)
	log2, err := eventlog.Open(t.Context(), testnats.Connect(t, ns), eventlog.DefaultStream, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ledger.Open(t.Context(), log, "mdfm", ledger.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	setUp(t, a)
	mustSubmit(t, a, "line", "ana", &domain.AddBudgetLine{ID: "MDFM-1.1", TermID: "2020-2021", Title: "Training modules", Amount: usd("200000.00")})
	mustSubmit(t, a, "rcpt", "olu", &domain.RecordContribution{ID: "r1", DonorID: "osaka", TermID: "2020-2021", Amount: usd("10000.00"), ReceivedOn: "2021-01-15"})
	b, err := ledger.Open(t.Context(), log2, "mdfm", ledger.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// 9,900.00 unallocated: at most nine allocations of 1,000.00 can pass.
	const n = 20
	for i := range n {
		mustSubmit(t, a, fmt.Sprintf("p-%d", i), "olu", &domain.ProposeAllocation{ID: fmt.Sprintf("al-%d", i), LineID: "MDFM-1.1", Amount: usd("1000.00")})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for i := range n {
		w := a
		if i%2 == 1 {
			w = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := submit(t, w, fmt.Sprintf("ap-%d", i), "ana", &domain.ApproveAllocation{ID: fmt.Sprintf("al-%d", i)})
			var de *errs.Error
			switch {
			case err == nil:
				mu.Lock()
				accepted++
				mu.Unlock()
			case errors.As(err, &de) && de.Code == domain.CodeInsufficientUnallocated:
			default:
				t.Errorf("approve al-%d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if accepted != 9 {
		t.Errorf("%d approvals accepted, want 9", accepted)
	}
	state := domain.NewState("mdfm")
	chain := events.NewChain("mdfm")
	err = log.ReadFund(context.Background(), "mdfm", 0, func(e events.Event) error {
		if err := chain.Check(e); err != nil {
			return err
		}
		return domain.Apply(state, e)
	})
	if err != nil {
		t.Fatal(err)
	}
	if u := state.Terms["2020-2021"].Unallocated; u != 90000 {
		t.Errorf("unallocated %d cents, want 90000", u)
	}
}
