package e2e

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

func contribution(i int) map[string]any {
	return map[string]any{
		"id": fmt.Sprintf("r-%04d", i), "donor_id": "osaka", "term_id": "2020-2021",
		"amount": usd(fmt.Sprintf("%d.%02d", 100+i, i%100)), "received_on": "2021-03-01", "bank_ref": fmt.Sprintf("REF-%d", i),
	}
}

// TestKillMinus9KeepsAcknowledgedCommands kills a real ledgerd with SIGKILL
// while commands are in flight and checks, after a restart on the same data
// folder, that every acknowledged command is in the log exactly once, that
// the balance is what it was, and that idempotency keys are remembered.
func TestKillMinus9KeepsAcknowledgedCommands(t *testing.T) {
	data, tokens := t.TempDir(), writeTokens(t)
	d := start(t, "--data", data, "--tokens", tokens)
	setUpFund(t, d)

	// Phase 1: a stream of commands, all acknowledged, then the balance.
	const acked1 = 150
	answers := map[int][]byte{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range acked1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := d.must(t, 201, "POST", "/v1/contributions", "olu", fmt.Sprintf("key-%d", i), contribution(i))
			mu.Lock()
			answers[i] = r.body
			mu.Unlock()
		}()
	}
	wg.Wait()
	balance := d.must(t, 200, "GET", "/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-12-31", "kim", "", nil).json(t)

	// Phase 2: more commands in flight; kill -9 as soon as some of them
	// are acknowledged.
	const inFlight = 200
	killAfter := make(chan struct{})
	var once sync.Once
	acked2 := map[int][]byte{}
	for i := acked1; i < acked1+inFlight; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := d.do(t, "POST", "/v1/contributions", "olu", fmt.Sprintf("key-%d", i), contribution(i))
			if err != nil || r.status != 201 {
				return // cut off by the kill: its outcome is unknown to the client
			}
			mu.Lock()
			acked2[i] = r.body
			if len(acked2) == 20 {
				once.Do(func() { close(killAfter) })
			}
			mu.Unlock()
		}()
	}
	<-killAfter
	d.kill()
	wg.Wait()
	mu.Lock()
	for i, b := range acked2 {
		answers[i] = b
	}
	mu.Unlock()
	t.Logf("%d commands acknowledged before kill -9", len(answers))

	d2 := start(t, "--data", data, "--tokens", tokens)

	// Every acknowledged command is in the log exactly once.
	receipts := map[string]int{}
	for _, e := range d2.loggedEvents(t) {
		if e["type"] == "contribution_received" {
			receipts[e["command_id"].(string)]++
		}
	}
	for i := range answers {
		if n := receipts[fmt.Sprintf("key-%d", i)]; n != 1 {
			t.Errorf("acknowledged command key-%d is %d times in the log, want once", i, n)
		}
	}
	for k, n := range receipts {
		if n != 1 {
			t.Errorf("command %s is %d times in the log", k, n)
		}
	}

	// The same key and body answer the original result, 200 instead of 201.
	for i, body := range answers {
		r := d2.must(t, 200, "POST", "/v1/contributions", "olu", fmt.Sprintf("key-%d", i), contribution(i))
		if !bytes.Equal(bytes.TrimSpace(r.body), bytes.TrimSpace(body)) {
			t.Errorf("key-%d after restart answers %s, originally %s", i, r.body, body)
		}
	}
	// The same key with another body is refused and appends nothing.
	before := len(d2.loggedEvents(t))
	other := contribution(0)
	other["bank_ref"] = "CHANGED"
	r := d2.must(t, 409, "POST", "/v1/contributions", "olu", "key-0", other)
	if r.code() != "idempotency_key_reused" {
		t.Errorf("same key, other body: code %q, want idempotency_key_reused", r.code())
	}
	if after := len(d2.loggedEvents(t)); after != before {
		t.Errorf("log grew from %d to %d events on a refused command", before, after)
	}

	// Phase 1's balance is unchanged when asked at the same fund_seq.
	again := d2.must(t, 200, "GET", fmt.Sprintf("/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-12-31&at_seq=%v", balance["fund_seq"]), "kim", "", nil).json(t)
	for _, k := range []string{"received", "fees", "trust_balance", "unallocated", "uil_revenue", "fund_seq", "chain_head"} {
		if fmt.Sprint(again[k]) != fmt.Sprint(balance[k]) {
			t.Errorf("balance %s after kill -9: %v, before: %v", k, again[k], balance[k])
		}
	}
	// Today's balance counts exactly the receipts in the log.
	var wantCents int64
	for k := range receipts {
		var i int
		fmt.Sscanf(k, "key-%d", &i)
		wantCents += int64(100+i)*100 + int64(i%100)
	}
	now := d2.must(t, 200, "GET", "/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-12-31", "kim", "", nil).json(t)
	if want := fmt.Sprintf("%d.%02d", wantCents/100, wantCents%100); now["received"] != want {
		t.Errorf("received after restart %v, want %s (the receipts in the log)", now["received"], want)
	}
	// And the whole log still verifies.
	v := d2.must(t, 200, "GET", "/v1/audit/verify", "kim", "", nil).json(t)
	if v["ok"] != true {
		t.Errorf("verify after kill -9: %v", v)
	}
}
