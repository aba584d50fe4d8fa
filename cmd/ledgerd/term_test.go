package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
)

// afterTermNow is the clock of the whole-term test: mid-February 2022, so
// that the 2020–2021 term can be closed after its end and the 2022–2023
// term has begun.
func afterTermNow() time.Time { return time.Date(2022, 2, 15, 12, 0, 0, 0, time.UTC) }

// refOfType returns the event of type typ among a write answer's events.
func refOfType(t *testing.T, refs []events.Ref, typ string) events.Ref {
	t.Helper()
	for _, r := range refs {
		if r.Type == typ {
			return r
		}
	}
	t.Fatalf("no %s among %v", typ, refs)
	return events.Ref{}
}

// checkBalance reads the balance of term as of asOf and checks every figure
// it answers against want: a figure want lacks fails the test too, so that
// a new figure of the read model is checked here as soon as it appears.
func checkBalance(t *testing.T, d *daemon, term, asOf string, want map[string]any) {
	t.Helper()
	var got map[string]any
	d.get(t, "/v1/funds/mdfm/balance?term="+term+"&as_of="+asOf, "tok-kim", &got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("balance of term %s as of %s (-want +got):\n%s", term, asOf, diff)
	}
}

// TestWholeTermOverHTTP runs an ILLUSTRATIVE 2020–2021 term through the
// HTTP API of a real ledgerd: pledges in JPY, EUR and USD (one earmarked to
// the Literacy cluster, one amended), receipts paying them partly, interest,
// allocations to MDFM lines and to a cluster line, spending in USD and EUR,
// a receipt keyed with a wrong rate reversed and entered again, a refund,
// and the term closed with a carry-over into 2022–2023. It checks every
// figure of the balance as of three dates, each worked out by hand below,
// and the 2022–2023 term after the carry-over.
func TestWholeTermOverHTTP(t *testing.T) {
	d := startDaemon(t, afterTermNow, "--data", t.TempDir(), "--tokens", writeTestTokens(t))
	const (
		off, appr = "tok-olu", "tok-ana"
		term      = "2020-2021"
	)
	post := func(path, token string, body map[string]any) []events.Ref {
		t.Helper()
		return refsOf(t, d.post(t, 201, path, token, "", body))
	}
	post("/v1/terms", appr, map[string]any{"id": term, "starts_on": "2020-01-01", "ends_on": "2021-12-31", "target": usdMoney("1000000.00"), "fee_rate": "0.01"})
	post("/v1/terms", appr, map[string]any{"id": "2022-2023", "starts_on": "2022-01-01", "ends_on": "2023-12-31", "target": usdMoney("1000000.00"), "fee_rate": "0.01"})
	post("/v1/donors", off, map[string]any{"id": "d-jp", "name": "Member city (test)", "kind": "member_city", "country": "JP", "city": "Osaka"})
	post("/v1/donors", off, map[string]any{"id": "d-de", "name": "Donor country (test)", "kind": "country", "country": "DE"})
	post("/v1/donors", off, map[string]any{"id": "d-us", "name": "Foundation (test)", "kind": "foundation", "country": "US"})
	post("/v1/cities", off, map[string]any{"id": "gulu", "name": "Gulu", "country": "UG"})
	post("/v1/cities", off, map[string]any{"id": "medellin", "name": "Medellín", "country": "CO"})
	post("/v1/clusters", off, map[string]any{"id": "LIT", "name": "Literacy"})
	post("/v1/clusters/LIT/coordinators", appr, map[string]any{"city_id": "gulu", "term_id": term})
	post("/v1/clusters/LIT/coordinators", off, map[string]any{"city_id": "medellin", "term_id": term})
	post("/v1/budget-lines", off, map[string]any{"id": "MDFM-1.1", "term_id": term, "title": "Training modules", "amount": usdMoney("200000.00")})
	post("/v1/budget-lines", off, map[string]any{"id": "MDFM-3.1", "term_id": term, "title": "Communication platform", "amount": usdMoney("100000.00")})
	post("/v1/budget-lines", off, map[string]any{"id": "LIT-2.1", "term_id": term, "title": "Literacy: capacity-building", "amount": usdMoney("100000.00"), "cluster_id": "LIT"})

	// Pledges: 30,000,000 JPY at 0.0091 = 273,000.00; 200,000.00 EUR at
	// 1.10 = 220,000.00; 60,000.00 USD earmarked to LIT. Pledged 553,000.00.
	post("/v1/pledges", off, map[string]any{"id": "p-jp", "donor_id": "d-jp", "term_id": term, "amount": moneyOf("30000000", "JPY"), "usd_rate": "0.0091", "signed_on": "2020-02-01", "due_on": "2021-06-30"})
	post("/v1/pledges", off, map[string]any{"id": "p-de", "donor_id": "d-de", "term_id": term, "amount": moneyOf("200000.00", "EUR"), "usd_rate": "1.10", "signed_on": "2020-03-01", "due_on": "2020-12-31"})
	post("/v1/pledges", off, map[string]any{"id": "p-us", "donor_id": "d-us", "term_id": term, "amount": usdMoney("60000.00"), "earmark": map[string]string{"cluster_id": "LIT"}, "signed_on": "2020-04-01", "due_on": "2021-03-31"})

	rcpt := func(id, donor, pledge, amount, cur, rate, on string) []events.Ref {
		t.Helper()
		b := map[string]any{"id": id, "donor_id": donor, "term_id": term, "pledge_id": pledge, "amount": moneyOf(amount, cur), "received_on": on, "bank_ref": "REF-" + id}
		if rate != "" {
			b["usd_rate"] = rate
		}
		return post("/v1/contributions", off, b)
	}
	alloc := func(id, line, amount, proposed, approved string) {
		t.Helper()
		post("/v1/allocations", off, map[string]any{"id": id, "line_id": line, "amount": usdMoney(amount), "note": "test", "proposed_on": proposed})
		post("/v1/allocations/"+id+"/approve", appr, map[string]any{"approved_on": approved})
	}
	spend := func(id, al, amount, cur, rate, on string) {
		t.Helper()
		b := map[string]any{"id": id, "allocation_id": al, "amount": moneyOf(amount, cur), "spent_on": on, "payee": "Payee " + id, "country": "UG", "city_id": "gulu"}
		if rate != "" {
			b["usd_rate"] = rate
		}
		post("/v1/expenditures", off, b)
	}

	// 2020, in date order.
	rcpt("r-jp-1", "d-jp", "p-jp", "10000000", "JPY", "0.0092", "2020-05-15") // 92,000.00, fee 920.00
	rcpt("r-de-1", "d-de", "p-de", "100000.00", "EUR", "1.12", "2020-06-10")  // 112,000.00, fee 1,120.00
	rcpt("r-us-1", "d-us", "p-us", "40000.00", "USD", "", "2020-07-01")       // 40,000.00 to LIT, fee 400.00
	alloc("al-1", "MDFM-1.1", "80000.00", "2020-08-01", "2020-08-03")         // unearmarked
	alloc("al-2", "LIT-2.1", "35000.00", "2020-09-01", "2020-09-02")          // from the LIT pot (39,600.00)
	spend("x-1", "al-1", "25000.00", "USD", "", "2020-10-15")
	post("/v1/interest", off, map[string]any{"id": "i-2020", "term_id": term, "amount": usdMoney("1234.56"), "earned_on": "2020-12-31"})

	// 2021.
	rcpt("r-de-2", "d-de", "p-de", "50000.00", "EUR", "1.18", "2021-02-10") // 59,000.00, fee 590.00
	// 5,000,000 JPY keyed at 0.093 instead of 0.0093: 465,000.00, fee
	// 4,650.00. Reversed (with its fee) and entered again at 0.0093:
	// 46,500.00, fee 465.00.
	wrong := rcpt("r-jp-wrong", "d-jp", "p-jp", "5000000", "JPY", "0.093", "2021-03-15")
	rev := post("/v1/reversals", off, map[string]any{"id": "rv-1", "event_id": refOfType(t, wrong, "contribution_received").ID, "reason": "rate keyed as 0.093, not 0.0093"})
	if len(rev) != 2 || rev[0].Type != "event_reversed" || rev[1].Type != "event_reversed" {
		t.Errorf("the reversal of a receipt appends its fee's reversal and its own: %v", rev)
	}
	a := d.post(t, 409, "/v1/reversals", off, "", map[string]any{"id": "rv-2", "event_id": refOfType(t, wrong, "contribution_received").ID, "reason": "again"})
	if code, _ := a.errorOf(t); code != "already_reversed" {
		t.Errorf("reversing twice: %s", a)
	}
	rcpt("r-jp-2", "d-jp", "p-jp", "5000000", "JPY", "0.0093", "2021-03-15")
	alloc("al-3", "MDFM-3.1", "30000.00", "2021-04-01", "2021-04-05")
	spend("x-2", "al-2", "10000.00", "EUR", "1.19", "2021-05-20") // 11,900.00
	post("/v1/pledges/p-us/amend", off, map[string]any{"amount": usdMoney("50000.00"), "reason": "board reduced the grant", "amended_on": "2021-06-01"})
	spend("x-3", "al-1", "20000.00", "EUR", "1.21", "2021-09-30") // 24,200.00
	post("/v1/refunds", off, map[string]any{"id": "rf-1", "donor_id": "d-de", "term_id": term, "amount": usdMoney("5000.00"), "paid_on": "2021-10-15", "reason": "agreed partial return"})
	spend("x-4", "al-3", "12345.67", "USD", "", "2021-11-30")
	post("/v1/interest", off, map[string]any{"id": "i-2021", "term_id": term, "amount": usdMoney("765.44"), "earned_on": "2021-12-31"})

	// The close, after the term's end: the unallocated 198,005.00 (see
	// below) goes to 2022–2023, each pot with its earmark; the approved
	// allocations keep what they have not spent.
	closeAns := d.post(t, 201, "/v1/terms/"+term+"/close", appr, "close-1", map[string]any{
		"closed_on": "2022-01-15", "disposition": map[string]string{"kind": "carry_over", "to_term_id": "2022-2023"}})
	var closed map[string]any
	if err := json.Unmarshal(closeAns.body, &closed); err != nil {
		t.Fatal(err)
	}
	usdJSON := func(s string) map[string]any { return map[string]any{"amount": s, "currency": "USD"} }
	wantClose := map[string]any{
		"term_id": term, "closed_on": "2022-01-15",
		"disposition": map[string]any{"kind": "carry_over", "to_term_id": "2022-2023"},
		"unallocated": usdJSON("198005.00"), "carried_over": usdJSON("198005.00"),
		"allocations_kept": []any{
			// al-1: 80,000.00 − 25,000.00 − 24,200.00; al-2: 35,000.00 −
			// 11,900.00; al-3: 30,000.00 − 12,345.67.
			map[string]any{"allocation_id": "al-1", "line_id": "MDFM-1.1", "amount": usdJSON("30800.00")},
			map[string]any{"allocation_id": "al-2", "line_id": "LIT-2.1", "amount": usdJSON("23100.00")},
			map[string]any{"allocation_id": "al-3", "line_id": "MDFM-3.1", "amount": usdJSON("17654.33")},
		},
	}
	evs, _ := closed["events"].([]any)
	types := []string{}
	for _, e := range evs {
		types = append(types, fmt.Sprint(e.(map[string]any)["type"]))
	}
	// One carry-over per pot (cluster:LIT, then the unearmarked pot), then
	// the close.
	if want := []string{"balance_carried_over", "balance_carried_over", "term_closed"}; !slices.Equal(types, want) {
		t.Errorf("close events %v, want %v", types, want)
	}
	delete(closed, "events")
	delete(closed, "command_id")
	if diff := cmp.Diff(wantClose, closed); diff != "" {
		t.Errorf("close answer (-want +got):\n%s", diff)
	}
	// Asked again, the close answers the same.
	if again := d.post(t, 200, "/v1/terms/"+term+"/close", appr, "close-1", map[string]any{
		"closed_on": "2022-01-15", "disposition": map[string]string{"kind": "carry_over", "to_term_id": "2022-2023"}}); string(again.body) != string(closeAns.body) {
		t.Errorf("close replayed answers %s, first %s", again.body, closeAns.body)
	}

	// A closed term takes no postings dated inside it, and reversals from
	// an approver only.
	before := d.streamLastSeq(t)
	for _, c := range []struct {
		path, token string
		body        map[string]any
		code        string
	}{
		{"/v1/interest", off, map[string]any{"id": "i-late", "term_id": term, "amount": usdMoney("1.00"), "earned_on": "2021-12-31"}, "term_closed"},
		{"/v1/reversals", off, map[string]any{"id": "rv-late", "event_id": rev[0].ID, "reason": "x"}, "not_reversible"},
		{"/v1/terms/" + term + "/close", appr, map[string]any{"closed_on": "2022-01-20", "disposition": map[string]string{"kind": "refund"}}, "term_closed"},
	} {
		a := d.do(t, request{method: "POST", path: c.path, token: c.token, body: mustJSON(t, c.body)})
		if code, _ := a.errorOf(t); code != c.code {
			t.Errorf("POST %s after the close: %s, want %s", c.path, a, c.code)
		}
	}
	xRefs := refsOfLog(t, d, "expenditure_recorded")
	a = d.post(t, 409, "/v1/reversals", off, "", map[string]any{"id": "rv-x4", "event_id": xRefs[len(xRefs)-1], "reason": "x"})
	if code, _ := a.errorOf(t); code != "term_closed" {
		t.Errorf("an officer reversing in a closed term: %s", a)
	}
	if after := d.streamLastSeq(t); after != before {
		t.Errorf("refusals moved the stream from %d to %d", before, after)
	}

	lines := d.eventLines(t, "", "tok-kim")
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
	head := map[string]any{"fund": "mdfm", "fund_seq": float64(chain.FundSeq), "chain_head": chain.Head, "currency": "USD", "target": "1000000.00"}
	with := func(m map[string]any) map[string]any {
		for k, v := range head {
			m[k] = v
		}
		return m
	}

	// As of 2020-12-31.
	// received 92,000.00 + 112,000.00 + 40,000.00 = 244,000.00 (24.40 %);
	// fees 920.00 + 1,120.00 + 400.00 = 2,440.00, UIL's revenue; interest
	// 1,234.56; spent 25,000.00. Trust 244,000.00 + 1,234.56 − 2,440.00 −
	// 25,000.00 = 217,794.56. Allocated 80,000.00 + 35,000.00 less spent:
	// 90,000.00; unallocated 127,794.56: LIT 40,000.00 − 400.00 − 35,000.00
	// = 4,600.00 and unearmarked 123,194.56. Pledged 273,000.00 +
	// 220,000.00 + 60,000.00 = 553,000.00 (55.30 %); outstanding p-jp
	// 273,000.00 × 20/30 = 182,000.00, p-de 220,000.00 × ½ = 110,000.00,
	// p-us 20,000.00: 312,000.00.
	checkBalance(t, d, term, "2020-12-31", with(map[string]any{
		"term": term, "as_of": "2020-12-31",
		"pledged": "553000.00", "pledge_outstanding": "312000.00", "received": "244000.00", "interest": "1234.56",
		"carried_in": "0.00", "carried_out": "0.00", "fees": "2440.00", "spent": "25000.00", "refunded": "0.00",
		"trust_balance": "217794.56", "allocated_unspent": "90000.00", "unallocated": "127794.56",
		"unallocated_unearmarked": "123194.56", "unallocated_earmarked": map[string]any{"cluster:LIT": "4600.00"},
		"uil_revenue": "2440.00", "received_pct_of_target": "24.40", "pledged_pct_of_target": "55.30", "term_status": "open",
	}))

	// As of 2021-12-31, the term's last day, before its close.
	// received + 59,000.00 + 46,500.00 = 349,500.00 (34.95 %): the wrong
	// receipt and its reversal, both dated 2021-03-15, cancel out; fees +
	// 590.00 + 465.00 = 3,495.00; interest + 765.44 = 2,000.00; spent +
	// 11,900.00 + 24,200.00 + 12,345.67 = 73,445.67; refunded 5,000.00.
	// Trust 349,500.00 + 2,000.00 − 3,495.00 − 73,445.67 − 5,000.00 =
	// 269,559.33. Allocated 145,000.00 − 73,445.67 = 71,554.33;
	// unallocated 198,005.00: LIT 4,600.00, unearmarked 193,405.00
	// (123,194.56 + 58,410.00 + 46,035.00 + 765.44 − 30,000.00 −
	// 5,000.00). Pledged 543,000.00 (54.30 %) with p-us amended to
	// 50,000.00; outstanding p-jp 273,000.00 × 15/30 = 136,500.00, p-de
	// 55,000.00, p-us 10,000.00: 201,500.00.
	endOfTerm := with(map[string]any{
		"term": term, "as_of": "2021-12-31",
		"pledged": "543000.00", "pledge_outstanding": "201500.00", "received": "349500.00", "interest": "2000.00",
		"carried_in": "0.00", "carried_out": "0.00", "fees": "3495.00", "spent": "73445.67", "refunded": "5000.00",
		"trust_balance": "269559.33", "allocated_unspent": "71554.33", "unallocated": "198005.00",
		"unallocated_unearmarked": "193405.00", "unallocated_earmarked": map[string]any{"cluster:LIT": "4600.00"},
		"uil_revenue": "3495.00", "received_pct_of_target": "34.95", "pledged_pct_of_target": "54.30", "term_status": "open",
	})
	checkBalance(t, d, term, "2021-12-31", endOfTerm)

	// As of 2022-01-31, after the close of 2022-01-15: the unallocated
	// 198,005.00 carried out; the trust keeps the allocations' 71,554.33.
	closedTerm := with(map[string]any{})
	for k, v := range endOfTerm {
		closedTerm[k] = v
	}
	for k, v := range map[string]any{
		"as_of": "2022-01-31", "carried_out": "198005.00", "trust_balance": "71554.33", "unallocated": "0.00",
		"unallocated_unearmarked": "0.00", "unallocated_earmarked": map[string]any{}, "term_status": "closed", "closed_on": "2022-01-15",
	} {
		closedTerm[k] = v
	}
	checkBalance(t, d, term, "2022-01-31", closedTerm)

	// The next term holds what was carried in, each pot with its earmark.
	checkBalance(t, d, "2022-2023", "2022-01-31", with(map[string]any{
		"term": "2022-2023", "as_of": "2022-01-31",
		"pledged": "0.00", "pledge_outstanding": "0.00", "received": "0.00", "interest": "0.00",
		"carried_in": "198005.00", "carried_out": "0.00", "fees": "0.00", "spent": "0.00", "refunded": "0.00",
		"trust_balance": "198005.00", "allocated_unspent": "0.00", "unallocated": "198005.00",
		"unallocated_unearmarked": "193405.00", "unallocated_earmarked": map[string]any{"cluster:LIT": "4600.00"},
		"uil_revenue": "0.00", "received_pct_of_target": "0.00", "pledged_pct_of_target": "0.00", "term_status": "open",
	}))

	// The pledges as of the term's end: what each expects, and overdue.
	var pl struct {
		Pledges []projections.PledgeRow `json:"pledges"`
	}
	d.get(t, "/v1/pledges?term="+term+"&as_of=2021-12-31", "tok-kim", &pl)
	type pledgeFig struct{ ID, Status, Paid, Outstanding, OutstandingUSD string }
	var gotPl []pledgeFig
	for _, p := range pl.Pledges {
		if !p.Overdue {
			t.Errorf("pledge %s not overdue as of 2021-12-31", p.PledgeID)
		}
		gotPl = append(gotPl, pledgeFig{p.PledgeID, p.Status, p.Paid.String(), p.Outstanding.String(), p.OutstandingUSD.String()})
	}
	wantPl := []pledgeFig{
		{"p-jp", "recorded", "15000000 JPY", "15000000 JPY", "136500.00 USD"},
		{"p-de", "recorded", "150000.00 EUR", "50000.00 EUR", "55000.00 USD"},
		{"p-us", "amended", "40000.00 USD", "10000.00 USD", "10000.00 USD"},
	}
	if diff := cmp.Diff(wantPl, gotPl); diff != "" {
		t.Errorf("pledges as of 2021-12-31 (-want +got):\n%s", diff)
	}

	// The registry and the trial balance.
	var cl struct {
		Clusters []projections.ClusterRow `json:"clusters"`
	}
	d.get(t, "/v1/clusters?term="+term, "tok-ana", &cl)
	if len(cl.Clusters) != 1 || len(cl.Clusters[0].Coordinators) != 2 || cl.Clusters[0].Coordinators[1].Name != "Medellín" {
		t.Errorf("clusters: %+v", cl.Clusters)
	}
	var tb projections.TrialBalance
	d.get(t, "/v1/reports/trial-balance?as_of=2022-01-31", "tok-kim", &tb)
	if tb.TotalDebit != tb.TotalCredit || tb.TotalDebit == "0.00" || len(tb.Accounts) == 0 || tb.FundSeq != chain.FundSeq || tb.ChainHead != chain.Head {
		t.Errorf("trial balance: %+v", tb)
	}
	var tbEarly projections.TrialBalance
	d.get(t, fmt.Sprintf("/v1/reports/trial-balance?as_of=2022-01-31&at_seq=%d", chain.FundSeq-1), "tok-olu", &tbEarly)
	if tbEarly.FundSeq != chain.FundSeq-1 {
		t.Errorf("trial balance at_seq %d: fund_seq %d", chain.FundSeq-1, tbEarly.FundSeq)
	}

	var rep audit.VerifyReport
	d.get(t, "/v1/audit/verify", "tok-kim", &rep)
	if !rep.OK || rep.FundSeq != chain.FundSeq {
		t.Errorf("verify: %+v", rep)
	}
}

// mustJSON marshals v.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// refsOfLog returns the ids of the events of type typ in the audit log, in
// order.
func refsOfLog(t *testing.T, d *daemon, typ string) []string {
	t.Helper()
	var out []string
	for _, l := range d.eventLines(t, "", "tok-kim") {
		e, err := events.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == typ {
			out = append(out, e.ID)
		}
	}
	return out
}

// TestBatchOverHTTP sends a batch whose third item is refused: nothing is
// appended and the answer is that item's error. The same items corrected
// are appended together, in one run of fund_seq, under one command id.
func TestBatchOverHTTP(t *testing.T) {
	d := startScenarioDaemon(t)
	setUpScenario(t, d)
	item := func(path string, body map[string]any) map[string]any {
		return map[string]any{"path": path, "body": body}
	}
	items := func(last string) map[string]any {
		return map[string]any{"commands": []any{
			item("/v1/donors", map[string]any{"id": "d-b", "name": "Batch donor", "kind": "company", "country": "FR"}),
			item("/v1/contributions", map[string]any{"id": "r-b1", "donor_id": "d-b", "term_id": "2020-2021", "amount": usdMoney("1000.00"), "received_on": "2021-07-01"}),
			item("/v1/contributions", map[string]any{"id": "r-b2", "donor_id": "d-b", "term_id": "2020-2021", "amount": moneyOf(last, "EUR"), "usd_rate": "1.2", "received_on": "2021-07-02"}),
			item("/v1/allocations", map[string]any{"id": "al-b", "line_id": "MDFM-1.1", "amount": usdMoney("500.00"), "proposed_on": "2021-07-03"}),
		}}
	}
	before := d.streamLastSeq(t)
	a := d.post(t, 422, "/v1/batch", "tok-olu", "b-1", items("1000.001"))
	code, field := a.errorOf(t)
	if i := a.errorIndex(t); code != "too_many_decimals" || field != "commands[2].amount" || i == nil || *i != 2 {
		t.Errorf("a batch with a bad third item: %s", a)
	}
	if !strings.Contains(a.String(), "command 2 of the batch") {
		t.Errorf("the message does not say which command: %s", a)
	}
	if after := d.streamLastSeq(t); after != before {
		t.Errorf("a refused batch moved the stream from %d to %d", before, after)
	}
	var b0 projections.Balance
	d.get(t, "/v1/funds/mdfm/balance?term=2020-2021", "tok-kim", &b0)

	// The same key may carry the corrected batch: a refusal is not
	// remembered.
	ok := d.post(t, 201, "/v1/batch", "tok-olu", "b-1", items("1000.00"))
	refs := refsOf(t, ok)
	types := []string{}
	for i, r := range refs {
		types = append(types, r.Type)
		if r.FundSeq != refs[0].FundSeq+uint64(i) {
			t.Errorf("event %d at fund_seq %d, not in one run from %d", i, r.FundSeq, refs[0].FundSeq)
		}
	}
	want := []string{"donor_registered", "contribution_received", "fee_charged", "contribution_received", "fee_charged", "allocation_proposed"}
	if !slices.Equal(types, want) {
		t.Errorf("batch events %v, want %v", types, want)
	}
	if got := d.streamLastSeq(t); got != before+uint64(len(want)) {
		t.Errorf("stream at %d after a batch of %d events from %d", got, len(want), before)
	}
	for _, l := range d.eventLines(t, fmt.Sprintf("?after=%d", refs[0].FundSeq-1), "tok-kim") {
		e, err := events.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		if e.CommandID != "b-1" || e.Actor != "olu" {
			t.Errorf("event %d of the batch: command %s actor %s", e.FundSeq, e.CommandID, e.Actor)
		}
	}
	// 1,000.00 + 1,200.00 received, fees 10.00 + 12.00.
	var b1 projections.Balance
	d.get(t, "/v1/funds/mdfm/balance?term=2020-2021", "tok-kim", &b1)
	if b0.Received != "75000.00" || b1.Received != "77200.00" || b1.Fees != "772.00" {
		t.Errorf("received %s then %s, fees %s; want 75000.00, 77200.00 and 772.00", b0.Received, b1.Received, b1.Fees)
	}
	// Again with the same key and body: the same answer, nothing appended.
	again := d.post(t, 200, "/v1/batch", "tok-olu", "b-1", items("1000.00"))
	if string(again.body) != string(ok.body) {
		t.Errorf("batch replayed answers %s, first %s", again.body, ok.body)
	}
	// The items are judged against the ones before them: approving the
	// proposal of this batch in the same batch is another user's to do.
	a = d.post(t, 409, "/v1/batch", "tok-olu-admin", "", map[string]any{"commands": []any{
		item("/v1/allocations", map[string]any{"id": "al-b2", "line_id": "MDFM-1.1", "amount": usdMoney("100.00"), "proposed_on": "2021-07-03"}),
		item("/v1/allocations/al-b2/approve", map[string]any{}),
	}})
	if code, field := a.errorOf(t); code != "same_user_approval" || !strings.HasPrefix(field, "commands[1]") {
		t.Errorf("proposing and approving in one batch as one user: %s", a)
	}
	if got := d.streamLastSeq(t); got != before+uint64(len(want)) {
		t.Errorf("the stream moved to %d", got)
	}
}

// TestClusterRulesOverHTTP shows the strategy's cluster rules refused at the
// HTTP boundary with their codes: a third coordinator, a city coordinating
// two clusters, a fourth membership; each refusal appends nothing.
func TestClusterRulesOverHTTP(t *testing.T) {
	d := startScenarioDaemon(t)
	d.post(t, 201, "/v1/terms", "tok-ana", "", map[string]any{
		"id": "2020-2021", "starts_on": "2020-01-01", "ends_on": "2021-12-31", "target": usdMoney("1000000.00"), "fee_rate": "0.01"})
	for _, c := range [][3]string{{"gulu", "Gulu", "UG"}, {"braga", "Braga", "PT"}, {"durban", "Durban", "ZA"}, {"masaka", "Masaka", "UG"}} {
		d.post(t, 201, "/v1/cities", "tok-olu", "", map[string]any{"id": c[0], "name": c[1], "country": c[2]})
	}
	for _, c := range []string{"ESD", "EQI", "HWB", "LIT"} {
		d.post(t, 201, "/v1/clusters", "tok-ana", "", map[string]any{"id": c, "name": "Cluster " + c})
	}
	in := func(city string) map[string]any { return map[string]any{"city_id": city, "term_id": "2020-2021"} }
	d.post(t, 201, "/v1/clusters/ESD/coordinators", "tok-olu", "", in("gulu"))
	d.post(t, 201, "/v1/clusters/ESD/coordinators", "tok-ana", "", in("braga"))
	d.post(t, 201, "/v1/clusters/ESD/members", "tok-olu", "", in("masaka"))
	d.post(t, 201, "/v1/clusters/EQI/members", "tok-olu", "", in("masaka"))
	d.post(t, 201, "/v1/clusters/HWB/members", "tok-olu", "", in("masaka"))

	for _, c := range []struct {
		name, path string
		body       map[string]any
		code       string
		field      string
	}{
		{"a third coordinator", "/v1/clusters/ESD/coordinators", in("durban"), "cluster_has_two_coordinators", "cluster_id"},
		{"a city coordinating two clusters", "/v1/clusters/EQI/coordinators", in("gulu"), "city_already_coordinates", "city_id"},
		{"a fourth membership", "/v1/clusters/LIT/members", in("masaka"), "city_in_three_clusters", "city_id"},
		{"a fourth membership as coordinator", "/v1/clusters/LIT/coordinators", in("masaka"), "city_in_three_clusters", "city_id"},
		{"a member twice", "/v1/clusters/ESD/members", in("masaka"), "already_member", "city_id"},
		{"a third coordinator in a batch", "/v1/batch", map[string]any{"commands": []any{
			map[string]any{"path": "/v1/clusters/LIT/members", "body": in("durban")},
			map[string]any{"path": "/v1/clusters/ESD/coordinators", "body": in("durban")},
		}}, "cluster_has_two_coordinators", "commands[1].cluster_id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := d.streamLastSeq(t)
			a := d.post(t, 409, c.path, "tok-olu", "", c.body)
			if code, field := a.errorOf(t); code != c.code || field != c.field {
				t.Errorf("%s: %s, want %s field %s", c.name, a, c.code, c.field)
			}
			if after := d.streamLastSeq(t); after != before {
				t.Errorf("the stream moved from %d to %d", before, after)
			}
		})
	}
	var cl struct {
		Clusters []projections.ClusterRow `json:"clusters"`
	}
	d.get(t, "/v1/clusters?term=2020-2021", "tok-kim", &cl)
	got := map[string][2]int{}
	for _, c := range cl.Clusters {
		got[c.ClusterID] = [2]int{len(c.Coordinators), len(c.Members)}
	}
	// Coordinators are members too.
	want := map[string][2]int{"ESD": {2, 3}, "EQI": {0, 1}, "HWB": {0, 1}, "LIT": {0, 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("clusters (-want +got):\n%s", diff)
	}
}
