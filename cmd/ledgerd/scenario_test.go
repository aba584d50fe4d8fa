package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
)

// setUpScenario opens the term, registers two donors and records the two
// receipts of the scenario: 50,000.00 EUR at 1.1 and 20,000.00 USD, each
// charged the term's 1 % fee.
func setUpScenario(t *testing.T, d *daemon) {
	t.Helper()
	d.post(t, 201, "/v1/terms", "tok-ana", "", map[string]any{
		"id": "2020-2021", "starts_on": "2020-01-01", "ends_on": "2021-12-31", "target": usdMoney("1000000.00"), "fee_rate": "0.01"})
	d.post(t, 201, "/v1/donors", "tok-olu", "", map[string]any{
		"id": "d-eur", "name": "Donor country (test)", "kind": "country", "country": "DE"})
	d.post(t, 201, "/v1/donors", "tok-olu", "", map[string]any{
		"id": "d-usd", "name": "Foundation (test)", "kind": "foundation", "country": "US"})
	d.post(t, 201, "/v1/contributions", "tok-olu", "", map[string]any{
		"id": "r-eur", "donor_id": "d-eur", "term_id": "2020-2021", "amount": moneyOf("50000.00", "EUR"),
		"usd_rate": "1.1", "received_on": "2021-03-01", "bank_ref": "EUR-1"})
	d.post(t, 201, "/v1/contributions", "tok-olu", "", map[string]any{
		"id": "r-usd", "donor_id": "d-usd", "term_id": "2020-2021", "amount": usdMoney("20000.00"),
		"received_on": "2021-04-01", "bank_ref": "USD-1"})
	d.post(t, 201, "/v1/budget-lines", "tok-olu", "", map[string]any{
		"id": "MDFM-1.1", "term_id": "2020-2021", "title": "Develop training modules on the thematic topics", "amount": usdMoney("200000.00")})
}

// TestScenarioBalanceToTheCent runs the scenario through the HTTP API of a
// real ledgerd (embedded NATS, SQLite, HTTP on port 0) and checks every
// figure of the balance to the cent, maker-checker across roles of one
// user, the audit log's chain, verify, health and metrics.
func TestScenarioBalanceToTheCent(t *testing.T) {
	d := startScenarioDaemon(t)
	setUpScenario(t, d)

	// olu proposes as officer...
	prop := d.post(t, 201, "/v1/allocations", "tok-olu", "", map[string]any{
		"id": "al-1", "line_id": "MDFM-1.1", "amount": usdMoney("30000.00"), "note": "training modules", "proposed_on": "2021-05-01"})
	// ...and may not approve it, not even with an admin token.
	before := d.streamLastSeq(t)
	a := d.post(t, 409, "/v1/allocations/al-1/approve", "tok-olu-admin", "", `{"approved_on":"2021-05-02"}`)
	if code, _ := a.errorOf(t); code != "same_user_approval" {
		t.Errorf("olu approving olu's proposal: code %s, want same_user_approval", code)
	}
	if after := d.streamLastSeq(t); after != before {
		t.Errorf("a refused approval moved the stream from %d to %d", before, after)
	}
	d.post(t, 201, "/v1/allocations/al-1/approve", "tok-ana", "", `{"approved_on":"2021-05-02"}`)
	d.post(t, 201, "/v1/expenditures", "tok-olu", "", map[string]any{
		"id": "x-1", "allocation_id": "al-1", "amount": usdMoney("12345.67"), "spent_on": "2021-06-15",
		"payee": "Training provider", "description": "module drafting", "country": "KE", "city": "Nairobi"})

	// The write answer names the events it appended.
	var res struct {
		CommandID string       `json:"command_id"`
		Events    []events.Ref `json:"events"`
	}
	if err := json.Unmarshal(prop.body, &res); err != nil || len(res.Events) != 1 || res.Events[0].Type != "allocation_proposed" || res.CommandID == "" || len(res.Events[0].Hash) != 64 {
		t.Errorf("proposal answer %s", prop.body)
	}
	if k := prop.header.Get("Idempotency-Key"); k != res.CommandID {
		t.Errorf("answer header Idempotency-Key %q, command_id %q", k, res.CommandID)
	}

	// 50,000.00 EUR at 1.1 = 55,000.00 USD, plus 20,000.00 USD: 75,000.00
	// received; fees 1 % = 550.00 + 200.00 = 750.00, UIL's and not the
	// trust's; spent 12,345.67. Trust 75,000.00 − 750.00 − 12,345.67 =
	// 61,904.33 = 44,250.00 unallocated + 17,654.33 allocated unspent.
	// The figures of docs/DESIGN.md's balance, every one exact; the read model
	// may answer more.
	want := map[string]any{
		"fund": "mdfm", "term": "2020-2021", "as_of": "2021-12-31", "fund_seq": float64(11), "currency": "USD",
		"target": "1000000.00", "pledged": "0.00", "received": "75000.00", "interest": "0.00", "fees": "750.00",
		"spent": "12345.67", "refunded": "0.00", "trust_balance": "61904.33", "allocated_unspent": "17654.33",
		"unallocated": "44250.00", "uil_revenue": "750.00", "received_pct_of_target": "7.50", "pledged_pct_of_target": "0.00",
	}
	lines := d.eventLines(t, "?fund=mdfm", "tok-kim")
	if len(lines) != 11 {
		t.Fatalf("%d events in the audit log, want 11", len(lines))
	}
	// The audit log alone re-verifies: canonical bytes, hashes, chain.
	chain := events.NewChain("mdfm")
	for _, l := range lines {
		e, err := events.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		if err := chain.Check(e); err != nil {
			t.Fatal(err)
		}
	}
	want["chain_head"] = chain.Head

	for _, tok := range []string{"tok-kim", "tok-dana", "tok-olu", "tok-ana"} {
		var got map[string]any
		d.get(t, "/v1/funds/mdfm/balance?term=2020-2021", tok, &got)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("balance read with %s: %s %v, want %v", tok, k, got[k], v)
			}
		}
	}
	// As of before the expenditure, and at the fund_seq before it.
	var early projections.Balance
	d.get(t, "/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-06-14", "tok-kim", &early)
	if early.Spent != "0.00" || early.TrustBalance != "74250.00" || early.AllocatedUnspent != "30000.00" {
		t.Errorf("balance as of 2021-06-14: %+v", early)
	}
	var atSeq projections.Balance
	d.get(t, "/v1/funds/mdfm/balance?term=2020-2021&at_seq=10", "tok-kim", &atSeq)
	if atSeq.FundSeq != 10 || atSeq.Spent != "0.00" || atSeq.TrustBalance != "74250.00" {
		t.Errorf("balance at fund_seq 10: %+v", atSeq)
	}

	// Paging the audit log.
	page := d.eventLines(t, "?after=4&limit=3", "tok-ana")
	if len(page) != 3 {
		t.Fatalf("after=4&limit=3: %d events", len(page))
	}
	for i, l := range page {
		if !bytes.Equal(l, lines[4+i]) {
			t.Errorf("after=4 event %d: %s, want %s", i, l, lines[4+i])
		}
	}
	if n := len(d.eventLines(t, "?after=11", "tok-kim")); n != 0 {
		t.Errorf("after the last event: %d events", n)
	}

	var rep audit.VerifyReport
	d.get(t, "/v1/audit/verify", "tok-kim", &rep)
	if !rep.OK || rep.Events != 11 || rep.FundSeq != 11 || rep.ChainHead != chain.Head {
		t.Errorf("verify: %+v", rep)
	}

	var health map[string]string
	d.get(t, "/healthz", "", &health)
	if health["status"] != "ok" {
		t.Errorf("healthz: %v", health)
	}
	if got := d.do(t, request{method: "GET", path: "/v1/events", token: "tok-nobody"}); got.status != 401 {
		t.Errorf("an unknown token: %d, want 401", got.status)
	}
	metrics := string(d.get(t, "/metrics", "tok-kim", nil).body)
	for _, line := range []string{
		`mdfm_commands_total{result="created"} 9`,
		`mdfm_events_appended_total 11`,
		`mdfm_command_events_bucket{le="2"} 9`,
		`mdfm_command_events_count 9`,
		`mdfm_errors_total{code="same_user_approval"} 1`,
		`mdfm_writer_stream_seq{fund="mdfm"} 11`,
		`mdfm_projector_lag_events{fund="mdfm"} 0`,
		`mdfm_projector_lag_seconds{fund="mdfm"} 0`,
		`mdfm_projector_up 1`,
		`mdfm_writer_queue_depth{fund="mdfm"} 0`,
		`mdfm_verified_fund_seq{fund="mdfm"} 11`,
		`mdfm_log_appends_total{result="error"} 0`,
		`mdfm_http_request_duration_seconds_count{route="/v1/contributions",status="201"} 2`,
		`mdfm_signin_failures_total 1`,
		`mdfm_http_request_duration_seconds_count{route="/healthz",status="200"} 1`,
		`# TYPE go_goroutines gauge`,
		`# TYPE process_resident_memory_bytes gauge`,
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, metrics)
		}
	}
}

// TestIdempotencyOverHTTP sends the same Idempotency-Key with the same body
// (also re-spaced and re-ordered), with another body and on another path.
func TestIdempotencyOverHTTP(t *testing.T) {
	d := startScenarioDaemon(t)
	setUpScenario(t, d)

	body := `{"id":"r-2","donor_id":"d-usd","term_id":"2020-2021","amount":{"amount":"1000.00","currency":"USD"},"received_on":"2021-05-01","bank_ref":"K-1"}`
	first := d.post(t, 201, "/v1/contributions", "tok-olu", "key-1", body)
	seq := d.streamLastSeq(t)

	again := d.post(t, 200, "/v1/contributions", "tok-olu", "key-1", body)
	if !bytes.Equal(again.body, first.body) {
		t.Errorf("replay answers %s, first answer %s", again.body, first.body)
	}
	respaced := `{ "bank_ref": "K-1", "received_on": "2021-05-01",
		"amount": {"currency": "USD", "amount": "1000.00"}, "term_id": "2020-2021", "donor_id": "d-usd", "id": "r-2" }`
	if a := d.post(t, 200, "/v1/contributions", "tok-olu", "key-1", respaced); !bytes.Equal(a.body, first.body) {
		t.Errorf("re-spaced replay answers %s", a.body)
	}

	other := strings.Replace(body, "K-1", "K-2", 1)
	a := d.post(t, 409, "/v1/contributions", "tok-olu", "key-1", other)
	if code, _ := a.errorOf(t); code != "idempotency_key_reused" {
		t.Errorf("same key, other body: %s", a)
	}
	a = d.post(t, 409, "/v1/donors", "tok-olu", "key-1", `{"id":"d-3","name":"x","kind":"other","country":"FR"}`)
	if code, _ := a.errorOf(t); code != "idempotency_key_reused" {
		t.Errorf("same key, other endpoint: %s", a)
	}
	if got := d.streamLastSeq(t); got != seq {
		t.Errorf("the log grew from stream seq %d to %d", seq, got)
	}
	var b projections.Balance
	d.get(t, "/v1/funds/mdfm/balance?term=2020-2021", "tok-kim", &b)
	if b.Received != "76000.00" {
		t.Errorf("received %s after one receipt of 1,000.00 sent three times, want 76000.00", b.Received)
	}

	// A refused command is not remembered: the same key may carry the
	// corrected command.
	bad := `{"id":"r-3","donor_id":"nobody","term_id":"2020-2021","amount":{"amount":"5.00","currency":"USD"},"received_on":"2021-05-01"}`
	d.post(t, 404, "/v1/contributions", "tok-olu", "key-2", bad)
	d.post(t, 201, "/v1/contributions", "tok-olu", "key-2", strings.Replace(bad, "nobody", "d-usd", 1))
}

// waitNotReady polls GET /readyz until it answers 503 and returns its
// error message; /healthz (liveness) answers 200 all along.
func waitNotReady(t *testing.T, d *daemon) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		a := d.do(t, request{method: "GET", path: "/readyz"})
		if a.status == http.StatusServiceUnavailable {
			var h struct {
				Status string
				Error  struct{ Code, Message string }
			}
			if err := json.Unmarshal(a.body, &h); err != nil || h.Status != "not_ready" || h.Error.Code != "unavailable" || h.Error.Message == "" {
				t.Errorf("readyz: %s", a)
			}
			if l := d.do(t, request{method: "GET", path: "/healthz"}); l.status != http.StatusOK {
				t.Errorf("healthz while not ready: %s, want 200 (liveness)", l)
			}
			return h.Error.Message
		}
		if a.status != http.StatusOK {
			t.Fatalf("readyz: %s", a)
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %s after the projector met a bad message", a)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProjectorFailureShowsInReadiness stores a message that is not an
// event on the stream: the projector stops on it, /readyz answers 503 with
// why while /healthz says the process lives, writes are refused with 503
// and change nothing, and reads answer what the read model holds.
func TestProjectorFailureShowsInReadiness(t *testing.T) {
	d := startScenarioDaemon(t)
	d.post(t, 201, "/v1/terms", "tok-ana", "", map[string]any{
		"id": "2020-2021", "starts_on": "2020-01-01", "ends_on": "2021-12-31", "target": usdMoney("1000000.00"), "fee_rate": "0.01"})
	var ready map[string]string
	if d.get(t, "/readyz", "", &ready); ready["status"] != "ready" {
		t.Errorf("readyz of a running daemon: %v", ready)
	}
	if _, err := d.m.log.JetStreamForTests().Publish(t.Context(), "mdfm.other.junk", []byte(`{"not":"an event"}`)); err != nil {
		t.Fatal(err)
	}
	if msg := waitNotReady(t, d); !strings.Contains(msg, "projector stopped") {
		t.Errorf("readyz says %q, want why the projector stopped", msg)
	}
	last := d.streamLastSeq(t)
	a := d.do(t, request{method: "POST", path: "/v1/donors", token: "tok-olu", body: `{"id":"d-1","name":"Donor","kind":"other","country":"FR"}`})
	if code, _ := a.errorOf(t); a.status != http.StatusServiceUnavailable || code != "unavailable" {
		t.Errorf("write with a bad event in the log: %s, want 503 unavailable", a)
	}
	if got := d.streamLastSeq(t); got != last {
		t.Errorf("a refused write moved the stream from %d to %d", last, got)
	}
	var b projections.Balance
	if d.get(t, "/v1/funds/mdfm/balance", "tok-kim", &b); b.FundSeq != 1 {
		t.Errorf("balance with the projector stopped: fund_seq %d, want 1 (as far as it got)", b.FundSeq)
	}
	// Verify answers 200 with its verdict: not ok, and where it failed.
	var rep audit.VerifyReport
	d.get(t, "/v1/audit/verify", "tok-kim", &rep)
	if rep.OK || rep.Failure == nil {
		t.Errorf("verify with a message that is not an event: %+v", rep)
	}
	if !strings.Contains(string(d.get(t, "/metrics", "tok-admin", nil).body), "mdfm_projector_up 0\n") {
		t.Error("metrics do not say the projector is down")
	}
}

// TestUnbalancedEventInLog appends a correctly chained event whose postings
// do not balance, as an older faulty version or a forger could have: the
// daemon, running and then started again on the same data, does not panic;
// /readyz names the fund and fund_seq, writes answer 503 and append
// nothing, reads answer the read model as far as it got, and verify says
// where the log fails (issue 8).
func TestUnbalancedEventInLog(t *testing.T) {
	data := t.TempDir()
	tokens := writeTestTokens(t)
	d := startDaemon(t, fixedNow, "--data", data, "--tokens", tokens)
	setUpScenario(t, d)
	d.post(t, 201, "/v1/allocations", "tok-olu", "", map[string]any{
		"id": "al-x", "line_id": "MDFM-1.1", "amount": usdMoney("300.00"), "proposed_on": "2021-05-01"})
	forged := ledgertest.AppendUnbalanced(t, d.m.log, "mdfm", "2020-2021", "MDFM-1.1", "al-x")
	where := fmt.Sprintf("fund mdfm fund_seq %d", forged.FundSeq)

	check := func(t *testing.T, d *daemon) {
		t.Helper()
		if msg := waitNotReady(t, d); !strings.Contains(msg, where) {
			t.Errorf("readyz says %q, want it to name %s", msg, where)
		}
		last := d.streamLastSeq(t)
		a := d.do(t, request{method: "POST", path: "/v1/donors", token: "tok-olu", body: `{"id":"d-1","name":"Donor","kind":"other","country":"FR"}`})
		if code, _ := a.errorOf(t); a.status != http.StatusServiceUnavailable || code != "unavailable" || !strings.Contains(a.String(), where) {
			t.Errorf("write with an unbalanced event in the log: %s, want 503 unavailable naming %s", a, where)
		}
		if got := d.streamLastSeq(t); got != last {
			t.Errorf("a refused write moved the stream from %d to %d", last, got)
		}
		var b projections.Balance
		if d.get(t, "/v1/funds/mdfm/balance?term=2020-2021", "tok-kim", &b); b.FundSeq != forged.FundSeq-1 {
			t.Errorf("balance: fund_seq %d, want %d (every event before the bad one)", b.FundSeq, forged.FundSeq-1)
		}
		var rep audit.VerifyReport
		d.get(t, "/v1/audit/verify", "tok-kim", &rep)
		if f := rep.Failure; rep.OK || f == nil || f.Fund != "mdfm" || f.FundSeq != forged.FundSeq {
			t.Errorf("verify: %+v failure %+v, want not ok naming %s", rep, f, where)
		}
	}
	check(t, d)
	if err := d.m.Close(); err != nil {
		t.Fatal(err)
	}
	// A start on the same data meets the event again: it must not panic.
	check(t, startDaemon(t, fixedNow, "--data", data, "--tokens", tokens))
}
