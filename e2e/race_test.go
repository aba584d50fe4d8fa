package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/internal/testwait"
)

// TestTwoDaemonsRaceForTheSameMoney runs two ledgerd processes against one
// NATS server, writing the same fund, and has them race to allocate and to
// spend the same money. The stream's expected-sequence check must let no
// balance go negative, keep every accepted command in the log once and the
// chain unbroken.
func TestTwoDaemonsRaceForTheSameMoney(t *testing.T) {
	ns := testnats.Start(t)
	tokens := writeTokens(t)
	a := start(t, "--nats", ns.ClientURL(), "--data", t.TempDir(), "--tokens", tokens)
	b := start(t, "--nats", ns.ClientURL(), "--data", t.TempDir(), "--tokens", tokens)
	setUpFund(t, a)
	// 10,000.00 received, 1 % fee: 9,900.00 unallocated.
	a.must(t, 201, "POST", "/v1/contributions", "olu", "r1", map[string]any{
		"id": "r1", "donor_id": "osaka", "term_id": "2020-2021", "amount": usd("10000.00"), "received_on": "2021-03-01"})
	const n = 20
	for i := range n {
		a.must(t, 201, "POST", "/v1/allocations", "olu", fmt.Sprintf("p-%d", i), map[string]any{
			"id": fmt.Sprintf("al-%d", i), "line_id": "MDFM-1.1", "amount": usd("1000.00"), "proposed_on": "2021-04-01"})
	}

	// Race 1: twenty approvals of 1,000.00 against 9,900.00, half through
	// each daemon. Nine can pass.
	accepted := race(t, n, func(i int) (*daemon, string, string, any) {
		return pick(a, b, i), fmt.Sprintf("/v1/allocations/al-%d/approve", i), fmt.Sprintf("ap-%d", i), map[string]any{"approved_on": "2021-05-01"}
	}, "insufficient_unallocated_balance")
	if len(accepted) != 9 {
		t.Errorf("%d approvals accepted, want 9", len(accepted))
	}

	// Race 2: twenty expenditures of 300.00 against one approved 1,000.00
	// allocation. Three can pass.
	alloc := accepted[0]
	accepted = race(t, n, func(i int) (*daemon, string, string, any) {
		return pick(b, a, i), "/v1/expenditures", fmt.Sprintf("x-%d", i), map[string]any{
			"id": fmt.Sprintf("x-%d", i), "allocation_id": fmt.Sprintf("al-%d", alloc), "amount": usd("300.00"),
			"spent_on": "2021-06-01", "payee": "Workshop venue", "country": "KE", "city": "Nairobi"}
	}, "insufficient_allocation_balance")
	if len(accepted) != 3 {
		t.Errorf("%d expenditures accepted, want 3", len(accepted))
	}

	// Both read models converge on one log with an unbroken chain, in which
	// every accepted command appears once.
	evs := a.loggedEvents(t)
	perCommand := map[string]int{}
	for i, e := range evs {
		if int(e["fund_seq"].(float64)) != i+1 {
			t.Fatalf("event %d has fund_seq %v", i, e["fund_seq"])
		}
		if i > 0 && e["prev_hash"] != evs[i-1]["hash"] {
			t.Fatalf("fund_seq %d does not link to the event before it", i+1)
		}
		perCommand[e["command_id"].(string)]++
	}
	for k, c := range perCommand {
		if c != 1 && k != "r1" { // a receipt is two events: itself and its fee
			t.Errorf("command %s has %d events", k, c)
		}
	}
	want := fmt.Sprint(len(evs))
	var balA, balB map[string]any
	testwait.For(t, 60*time.Second, "both read models at fund_seq "+want, func() bool {
		balA = a.must(t, 200, "GET", "/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-12-31", "kim", "", nil).json(t)
		balB = b.must(t, 200, "GET", "/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-12-31", "kim", "", nil).json(t)
		return fmt.Sprint(balA["fund_seq"]) == want && fmt.Sprint(balB["fund_seq"]) == want
	})
	for k, v := range map[string]string{"unallocated": "900.00", "allocated_unspent": "8100.00", "spent": "900.00", "trust_balance": "9000.00", "uil_revenue": "100.00"} {
		if balA[k] != v || balB[k] != v {
			t.Errorf("%s: daemon a %v, daemon b %v, want %s", k, balA[k], balB[k], v)
		}
	}
	for _, d := range []*daemon{a, b} {
		if v := d.must(t, 200, "GET", "/v1/audit/verify", "kim", "", nil).json(t); v["ok"] != true {
			t.Errorf("verify: %v", v)
		}
	}
}

func pick(a, b *daemon, i int) *daemon {
	if i%2 == 0 {
		return a
	}
	return b
}

// race sends n commands at once, as approver ana for approvals and officer
// olu otherwise, and returns the indexes accepted; every refusal must carry
// refusedCode.
func race(t *testing.T, n int, req func(i int) (*daemon, string, string, any), refusedCode string) []int {
	t.Helper()
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		accepted []int
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, path, key, body := req(i)
			user := "olu"
			if len(path) > len("/approve") && path[len(path)-len("/approve"):] == "/approve" {
				user = "ana"
			}
			<-start
			r, err := d.do(t, "POST", path, user, key, body)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				return
			}
			switch {
			case r.status == 201:
				mu.Lock()
				accepted = append(accepted, i)
				mu.Unlock()
			case r.status == 409 && r.code() == refusedCode:
			default:
				t.Errorf("%s: %d %s", path, r.status, r.body)
			}
		}()
	}
	close(start)
	wg.Wait()
	return accepted
}
