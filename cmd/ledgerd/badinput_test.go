package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/httpapi"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// TestBadInputs sends one refused request per row to a ledgerd that holds
// the scenario plus an approved allocation, two pledges, a receipt to
// reverse, two cities and a cluster, and checks the status, the code, the
// field when the row names one (and the index of a batch item's error), and
// that the stream did not move.
func TestBadInputs(t *testing.T) {
	d := startScenarioDaemon(t)
	setUpScenario(t, d)
	d.post(t, 201, "/v1/allocations", "tok-olu", "", map[string]any{
		"id": "al-1", "line_id": "MDFM-1.1", "amount": usdMoney("30000.00"), "proposed_on": "2021-05-01"})
	d.post(t, 201, "/v1/allocations/al-1/approve", "tok-ana", "", `{"approved_on":"2021-05-02"}`)
	d.post(t, 201, "/v1/allocations", "tok-olu", "", map[string]any{
		"id": "al-pending", "line_id": "MDFM-1.1", "amount": usdMoney("1000.00"), "proposed_on": "2021-05-01"})
	d.post(t, 201, "/v1/pledges", "tok-olu", "", map[string]any{
		"id": "p-1", "donor_id": "d-eur", "term_id": "2020-2021", "amount": moneyOf("60000.00", "EUR"), "usd_rate": "1.1",
		"signed_on": "2021-01-10", "due_on": "2021-09-30"})
	d.post(t, 201, "/v1/pledges", "tok-olu", "", map[string]any{
		"id": "p-2", "donor_id": "d-usd", "term_id": "2020-2021", "amount": usdMoney("10000.00"), "signed_on": "2021-01-10", "due_on": "2021-09-30"})
	d.post(t, 201, "/v1/pledges", "tok-olu", "", map[string]any{
		"id": "p-paid", "donor_id": "d-usd", "term_id": "2020-2021", "amount": usdMoney("500.00"), "signed_on": "2021-01-10", "due_on": "2021-09-30"})
	d.post(t, 201, "/v1/contributions", "tok-olu", "", map[string]any{
		"id": "r-paid", "donor_id": "d-usd", "term_id": "2020-2021", "pledge_id": "p-paid", "amount": usdMoney("500.00"), "received_on": "2021-02-01"})
	wrong := refsOf(t, d.post(t, 201, "/v1/contributions", "tok-olu", "", map[string]any{
		"id": "r-wrong", "donor_id": "d-usd", "term_id": "2020-2021", "amount": usdMoney("700.00"), "received_on": "2021-06-15"}))
	d.post(t, 201, "/v1/cities", "tok-olu", "", map[string]any{"id": "gulu", "name": "Gulu", "country": "UG"})
	d.post(t, 201, "/v1/cities", "tok-ana", "", map[string]any{"id": "lira", "name": "Lira", "country": "UG"})
	d.post(t, 201, "/v1/clusters", "tok-olu", "", map[string]any{"id": "LIT", "name": "Literacy"})

	// Good bodies of each endpoint; rows change one thing.
	const (
		term   = `{"id":"2022-2023","starts_on":"2022-01-01","ends_on":"2023-12-31","target":{"amount":"1000000.00","currency":"USD"},"fee_rate":"0.01"}`
		donor  = `{"id":"d-new","name":"New donor","kind":"member_city","country":"JP","city":"Osaka"}`
		amendD = `{"name":"Federal Republic of Germany","reason":"official name","amended_on":"2021-06-01"}`
		rcpt   = `{"id":"r-new","donor_id":"d-eur","term_id":"2020-2021","amount":{"amount":"100.00","currency":"EUR"},"usd_rate":"1.1","received_on":"2021-06-01","bank_ref":"B"}`
		line   = `{"id":"ESD-1.1","term_id":"2020-2021","title":"Objectives and work plan","amount":{"amount":"50000.00","currency":"USD"}}`
		alloc  = `{"id":"al-new","line_id":"MDFM-1.1","amount":{"amount":"100.00","currency":"USD"},"note":"n","proposed_on":"2021-06-01"}`
		spend  = `{"id":"x-new","allocation_id":"al-1","amount":{"amount":"100.00","currency":"USD"},"spent_on":"2021-06-01","payee":"P","country":"KE","city":"Nairobi"}`
		pledge = `{"id":"p-new","donor_id":"d-eur","term_id":"2020-2021","amount":{"amount":"100000.00","currency":"EUR"},"usd_rate":"1.1","signed_on":"2021-01-15","due_on":"2021-09-30"}`
		amend  = `{"amount":{"amount":"70000.00","currency":"EUR"},"usd_rate":"1.2","reason":"signed addendum","amended_on":"2021-06-01"}`
		cancel = `{"reason":"donor withdrew","cancelled_on":"2021-07-01"}`
		intr   = `{"id":"i-new","term_id":"2020-2021","amount":{"amount":"12.34","currency":"USD"},"earned_on":"2021-06-30"}`
		refund = `{"id":"rf-new","donor_id":"d-usd","term_id":"2020-2021","amount":{"amount":"100.00","currency":"USD"},"paid_on":"2021-07-01","reason":"overpaid"}`
		city   = `{"id":"c-new","name":"Masaka","country":"UG"}`
		clus   = `{"id":"ESD","name":"Education for Sustainable Development","technical_partner":"Partner"}`
		coord  = `{"city_id":"gulu","term_id":"2020-2021"}`
		member = `{"city_id":"lira","term_id":"2020-2021"}`
		closeT = `{"closed_on":"2021-12-31","disposition":{"kind":"carry_over","to_term_id":"2022-2023"}}`
		okTerm = "tok-ana"
		okOff  = "tok-olu"
	)
	reversal := `{"id":"rv-new","event_id":"` + wrong[0].ID + `","reason":"keyed twice"}`
	batch := `{"commands":[{"path":"/v1/donors","body":{"id":"d-batch","name":"Batch donor","kind":"other","country":"FR"}},` +
		`{"path":"/v1/contributions","body":{"id":"r-batch","donor_id":"d-batch","term_id":"2020-2021","amount":{"amount":"10.00","currency":"USD"},"received_on":"2021-06-02"}}]}`
	with := func(body, from, to string) string {
		if !strings.Contains(body, from) {
			t.Fatalf("%q not in %s", from, body)
		}
		return strings.Replace(body, from, to, 1)
	}
	writes := []struct{ path, token, body string }{
		{"/v1/terms", okTerm, term},
		{"/v1/donors", okOff, donor},
		{"/v1/donors/d-eur/amend", okOff, amendD},
		{"/v1/contributions", okOff, rcpt},
		{"/v1/budget-lines", okOff, line},
		{"/v1/allocations", okOff, alloc},
		{"/v1/allocations/al-pending/approve", okTerm, `{"approved_on":"2021-06-01"}`},
		{"/v1/expenditures", okOff, spend},
		{"/v1/pledges", okOff, pledge},
		{"/v1/pledges/p-1/amend", okOff, amend},
		{"/v1/pledges/p-2/cancel", okOff, cancel},
		{"/v1/interest", okOff, intr},
		{"/v1/refunds", okOff, refund},
		{"/v1/reversals", okOff, reversal},
		{"/v1/cities", okOff, city},
		{"/v1/clusters", okOff, clus},
		{"/v1/clusters/LIT/coordinators", okOff, coord},
		{"/v1/clusters/LIT/members", okTerm, member},
		{"/v1/batch", okOff, batch},
		// Last: after the close, the term takes no more postings.
		{"/v1/terms/2020-2021/close", okTerm, closeT},
	}
	// Paths that also answer GET.
	reads := map[string]bool{"/v1/pledges": true, "/v1/clusters": true}

	type row struct {
		name          string
		req           request
		status        int
		code, field   string
		walksHTTPCode bool
	}
	var rows []row
	post := func(name, path, token, body string, status int, code, field string) {
		rows = append(rows, row{name: name, req: request{method: "POST", path: path, token: token, body: body}, status: status, code: code, field: field})
	}

	// Every write endpoint: malformed JSON, trailing data, an unknown field,
	// a key in the wrong case, a body over the limit, no token, a bad
	// token, a donor and an auditor writing, a content type that is not
	// JSON, an Idempotency-Key too long.
	bigOf := func(path string) string {
		n := httpapi.MaxBodyBytes
		if path == "/v1/batch" {
			n = httpapi.MaxBatchBodyBytes
		}
		return `{"bank_ref":"` + strings.Repeat("x", n) + `"}`
	}
	for _, w := range writes {
		big := bigOf(w.path)
		post(w.path+" malformed", w.path, w.token, `{"id":`, 400, "malformed_json", "")
		post(w.path+" trailing data", w.path, w.token, w.body+`{}`, 400, "malformed_json", "")
		post(w.path+" not an object", w.path, w.token, `["id"]`, 400, "malformed_json", "")
		post(w.path+" unknown field", w.path, w.token, with(w.body, `{`, `{"bogus":1,`), 400, "unknown_field", "bogus")
		post(w.path+" actor in body", w.path, w.token, with(w.body, `{`, `{"Actor":"someone-else",`), 400, "unknown_field", "Actor")
		post(w.path+" too large", w.path, w.token, big, 413, "body_too_large", "")
		post(w.path+" no token", w.path, "", w.body, 401, "unauthorized", "")
		post(w.path+" bad token", w.path, "tok-nobody", w.body, 401, "unauthorized", "")
		post(w.path+" donor writes", w.path, "tok-dana", w.body, 403, "forbidden", "")
		post(w.path+" auditor writes", w.path, "tok-kim", w.body, 403, "forbidden", "")
		rows = append(rows,
			row{name: w.path + " text/plain", req: request{method: "POST", path: w.path, token: w.token, body: w.body, header: map[string]string{"Content-Type": "text/plain"}}, status: 415, code: "unsupported_media_type"},
			row{name: w.path + " utf-16", req: request{method: "POST", path: w.path, token: w.token, body: w.body, header: map[string]string{"Content-Type": "application/json; charset=utf-16"}}, status: 415, code: "unsupported_media_type"},
			row{name: w.path + " two tokens", req: request{method: "POST", path: w.path, token: w.token, body: w.body, added: [][2]string{{"Authorization", "Bearer tok-nobody"}}}, status: 400, code: "invalid_header", field: "Authorization"},
			row{name: w.path + " long key", req: request{method: "POST", path: w.path, token: w.token, body: w.body, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 129)}}, status: 400, code: "invalid_idempotency_key"},
		)
		if !reads[w.path] {
			rows = append(rows, row{name: w.path + " GET", req: request{method: "GET", path: w.path, token: w.token}, status: 405, code: "method_not_allowed"})
		}
	}
	// Roles: who may not do what.
	post("officer opens a term", "/v1/terms", "tok-olu", term, 403, "forbidden", "")
	post("approver records a receipt", "/v1/contributions", "tok-ana", rcpt, 403, "forbidden", "")
	post("officer approves", "/v1/allocations/al-pending/approve", "tok-olu", `{}`, 403, "forbidden", "")
	post("officer closes a term", "/v1/terms/2020-2021/close", okOff, closeT, 403, "forbidden", "")
	post("approver records a pledge", "/v1/pledges", okTerm, pledge, 403, "forbidden", "")
	post("approver amends a donor", "/v1/donors/d-eur/amend", okTerm, amendD, 403, "forbidden", "")
	post("approver amends a pledge", "/v1/pledges/p-1/amend", okTerm, amend, 403, "forbidden", "")
	post("approver cancels a pledge", "/v1/pledges/p-2/cancel", okTerm, cancel, 403, "forbidden", "")
	post("approver records interest", "/v1/interest", okTerm, intr, 403, "forbidden", "")
	post("approver records a refund", "/v1/refunds", okTerm, refund, 403, "forbidden", "")
	post("donor reverses", "/v1/reversals", "tok-dana", reversal, 403, "forbidden", "")
	post("batch: officer opens a term", "/v1/batch", okOff, `{"commands":[{"path":"/v1/donors","body":`+donor+`},{"path":"/v1/terms","body":`+term+`}]}`, 403, "forbidden", "commands[1].path")
	post("batch: approver records a receipt", "/v1/batch", okTerm, `{"commands":[{"path":"/v1/contributions","body":`+rcpt+`}]}`, 403, "forbidden", "commands[0].path")
	post("malformed authorization", "/v1/donors", "", donor, 401, "unauthorized", "")
	rows[len(rows)-1].req.header = map[string]string{"Authorization": "Basic b2x1OnB3"}

	// Types and shapes the decoder refuses.
	post("number for money", "/v1/contributions", okOff, with(rcpt, `{"amount":"100.00","currency":"EUR"}`, `100`), 400, "malformed_json", "amount")
	post("number for amount", "/v1/contributions", okOff, with(rcpt, `"100.00"`, `100.00`), 400, "malformed_json", "amount.amount")
	post("key in other case", "/v1/donors", okOff, with(donor, `"name"`, `"Name"`), 400, "unknown_field", "Name")
	post("key twice", "/v1/donors", okOff, with(donor, `"name":"New donor"`, `"name":"A","name":"B"`), 400, "malformed_json", "name")
	post("unknown money field", "/v1/budget-lines", okOff, with(line, `"currency":"USD"`, `"currency":"USD","rate":"1"`), 400, "unknown_field", "amount.rate")
	post("id in approve body", "/v1/allocations/al-pending/approve", okTerm, `{"id":"al-1"}`, 400, "unknown_field", "id")

	// Missing fields, one per endpoint.
	post("term without id", "/v1/terms", okTerm, with(term, `"id":"2022-2023",`, ``), 422, "missing_field", "id")
	post("term without fee rate", "/v1/terms", okTerm, with(term, `,"fee_rate":"0.01"`, ``), 422, "missing_field", "fee_rate")
	post("donor without name", "/v1/donors", okOff, with(donor, `"name":"New donor",`, ``), 422, "missing_field", "name")
	post("donor without country", "/v1/donors", okOff, with(donor, `"country":"JP",`, ``), 422, "missing_field", "country")
	post("receipt without donor", "/v1/contributions", okOff, with(rcpt, `"donor_id":"d-eur",`, ``), 422, "missing_field", "donor_id")
	post("receipt without date", "/v1/contributions", okOff, with(rcpt, `"received_on":"2021-06-01",`, ``), 422, "missing_field", "received_on")
	post("receipt without amount", "/v1/contributions", okOff, with(rcpt, `"amount":{"amount":"100.00","currency":"EUR"},`, ``), 422, "missing_field", "amount")
	post("line without title", "/v1/budget-lines", okOff, with(line, `"title":"Objectives and work plan",`, ``), 422, "missing_field", "title")
	post("allocation without line", "/v1/allocations", okOff, with(alloc, `"line_id":"MDFM-1.1",`, ``), 422, "missing_field", "line_id")
	post("expenditure without allocation", "/v1/expenditures", okOff, with(spend, `"allocation_id":"al-1",`, ``), 422, "missing_field", "allocation_id")
	post("expenditure without payee", "/v1/expenditures", okOff, with(spend, `"payee":"P",`, ``), 422, "missing_field", "payee")
	post("empty body", "/v1/donors", okOff, ``, 400, "malformed_json", "")
	post("empty object", "/v1/donors", okOff, `{}`, 422, "missing_field", "id")

	// Amounts: negative, zero, too many decimals, unknown currency, no rate.
	for _, c := range []struct{ name, path, token, body, amount string }{
		{"term target", "/v1/terms", okTerm, term, `"1000000.00"`},
		{"receipt", "/v1/contributions", okOff, rcpt, `"100.00"`},
		{"line", "/v1/budget-lines", okOff, line, `"50000.00"`},
		{"allocation", "/v1/allocations", okOff, alloc, `"100.00"`},
		{"expenditure", "/v1/expenditures", okOff, spend, `"100.00"`},
	} {
		post(c.name+" negative", c.path, c.token, with(c.body, c.amount, `"-5.00"`), 422, "amount_not_positive", "")
		post(c.name+" zero", c.path, c.token, with(c.body, c.amount, `"0.00"`), 422, "amount_not_positive", "")
		post(c.name+" not a number", c.path, c.token, with(c.body, c.amount, `"1e5"`), 422, "invalid_amount", "")
	}
	post("USD with three decimals", "/v1/expenditures", okOff, with(spend, `"100.00"`, `"10.001"`), 422, "too_many_decimals", "amount")
	post("JPY with decimals", "/v1/contributions", okOff, with(with(rcpt, `"100.00"`, `"5.5"`), `"EUR"`, `"JPY"`), 422, "too_many_decimals", "amount")
	post("unknown currency", "/v1/contributions", okOff, with(rcpt, `"EUR"`, `"XYZ"`), 422, "unknown_currency", "amount")
	post("EUR without rate", "/v1/contributions", okOff, with(rcpt, `"usd_rate":"1.1",`, ``), 422, "missing_rate", "usd_rate")
	post("EUR with a bad rate", "/v1/contributions", okOff, with(rcpt, `"1.1"`, `"-1.1"`), 422, "invalid_rate", "usd_rate")
	post("allocation in EUR", "/v1/allocations", okOff, with(alloc, `"USD"`, `"EUR"`), 422, "usd_required", "amount")
	post("fee rate of 100 %", "/v1/terms", okTerm, with(term, `"0.01"`, `"1"`), 422, "invalid_fee_rate", "fee_rate")

	// Dates that do not exist, or are not yet.
	post("term starts on 30 February", "/v1/terms", okTerm, with(term, `"2022-01-01"`, `"2021-02-30"`), 422, "invalid_date", "starts_on")
	post("received on 30 February", "/v1/contributions", okOff, with(rcpt, `"2021-06-01"`, `"2021-02-30"`), 422, "invalid_date", "received_on")
	post("received in the future", "/v1/contributions", okOff, with(rcpt, `"2021-06-01"`, `"2022-01-15"`), 422, "date_in_future", "received_on")
	post("proposed on 30 February", "/v1/allocations", okOff, with(alloc, `"2021-06-01"`, `"2021-02-30"`), 422, "invalid_date", "proposed_on")
	post("approved on 30 February", "/v1/allocations/al-pending/approve", okTerm, `{"approved_on":"2021-02-30"}`, 422, "invalid_date", "approved_on")
	post("spent on 30 February", "/v1/expenditures", okOff, with(spend, `"2021-06-01"`, `"2021-02-30"`), 422, "invalid_date", "spent_on")
	post("date with time", "/v1/expenditures", okOff, with(spend, `"2021-06-01"`, `"2021-06-01T00:00:00Z"`), 422, "invalid_date", "spent_on")

	// Ids the fund does not know, or knows already.
	post("unknown donor", "/v1/contributions", okOff, with(rcpt, `"d-eur"`, `"d-nobody"`), 404, "unknown_donor", "donor_id")
	post("unknown term", "/v1/contributions", okOff, with(rcpt, `"term_id":"2020-2021"`, `"term_id":"2030-2031"`), 404, "unknown_term", "term_id")
	post("unknown term of a line", "/v1/budget-lines", okOff, with(line, `"2020-2021"`, `"2030-2031"`), 404, "unknown_term", "term_id")
	post("line of an unregistered cluster", "/v1/budget-lines", okOff, with(line, `"currency":"USD"}`, `"currency":"USD"},"cluster_id":"NOPE"`), 404, "unknown_cluster", "cluster_id")
	post("unknown line", "/v1/allocations", okOff, with(alloc, `"MDFM-1.1"`, `"MDFM-9.9"`), 404, "unknown_line", "line_id")
	post("unknown allocation", "/v1/expenditures", okOff, with(spend, `"al-1"`, `"al-nobody"`), 404, "unknown_allocation", "allocation_id")
	post("approve unknown allocation", "/v1/allocations/al-nobody/approve", okTerm, ``, 404, "unknown_allocation", "id")
	post("unknown pledge", "/v1/contributions", okOff, with(rcpt, `"bank_ref"`, `"pledge_id":"p-nobody","bank_ref"`), 404, "unknown_pledge", "pledge_id")
	post("duplicate donor", "/v1/donors", okOff, with(donor, `"d-new"`, `"d-eur"`), 409, "duplicate_id", "id")
	post("invalid id", "/v1/donors", okOff, with(donor, `"d-new"`, `"d new"`), 422, "invalid_id", "id")
	post("unknown country", "/v1/donors", okOff, with(donor, `"JP"`, `"XX"`), 422, "unknown_country", "country")
	post("overlapping term", "/v1/terms", okTerm, with(term, `"2022-01-01"`, `"2021-06-01"`), 409, "term_overlaps", "")

	// Rules of the fund.
	post("allocation above unallocated", "/v1/allocations", okOff, with(alloc, `"100.00"`, `"190000.00"`), 409, "insufficient_unallocated_balance", "amount")
	post("spend a pending allocation", "/v1/expenditures", okOff, with(spend, `"al-1"`, `"al-pending"`), 409, "allocation_not_approved", "allocation_id")
	post("spend beyond the allocation", "/v1/expenditures", okOff, with(spend, `"100.00"`, `"30000.01"`), 409, "insufficient_allocation_balance", "amount")
	post("approve twice", "/v1/allocations/al-1/approve", okTerm, ``, 409, "allocation_already_approved", "id")

	// Pledges, interest, refunds, reversals, the close, the registry.
	post("pledge without donor", "/v1/pledges", okOff, with(pledge, `"donor_id":"d-eur",`, ``), 422, "missing_field", "donor_id")
	post("pledge without signing date", "/v1/pledges", okOff, with(pledge, `"signed_on":"2021-01-15",`, ``), 422, "missing_field", "signed_on")
	post("pledge without amount", "/v1/pledges", okOff, with(pledge, `"amount":{"amount":"100000.00","currency":"EUR"},`, ``), 422, "missing_field", "amount")
	post("pledge without rate", "/v1/pledges", okOff, with(pledge, `"usd_rate":"1.1",`, ``), 422, "missing_rate", "usd_rate")
	post("pledge of an unknown donor", "/v1/pledges", okOff, with(pledge, `"d-eur"`, `"d-nobody"`), 404, "unknown_donor", "donor_id")
	post("pledge to an unknown term", "/v1/pledges", okOff, with(pledge, `"2020-2021"`, `"2030-2031"`), 404, "unknown_term", "term_id")
	post("pledge due before signed", "/v1/pledges", okOff, with(pledge, `"2021-09-30"`, `"2020-12-31"`), 422, "invalid_date", "due_on")
	post("pledge signed in the future", "/v1/pledges", okOff, with(pledge, `"2021-01-15"`, `"2022-01-15"`), 422, "date_in_future", "signed_on")
	post("pledge earmarked twice", "/v1/pledges", okOff, with(pledge, `"due_on"`, `"earmark":{"cluster_id":"LIT","line_id":"MDFM-1.1"},"due_on"`), 422, "invalid_earmark", "earmark")
	post("pledge earmarked to an unknown cluster", "/v1/pledges", okOff, with(pledge, `"due_on"`, `"earmark":{"cluster_id":"NOPE"},"due_on"`), 404, "unknown_cluster", "earmark.cluster_id")
	post("pledge earmarked to an unknown line", "/v1/pledges", okOff, with(pledge, `"due_on"`, `"earmark":{"line_id":"MDFM-9.9"},"due_on"`), 404, "unknown_line", "earmark.line_id")
	post("pledge earmark unknown field", "/v1/pledges", okOff, with(pledge, `"due_on"`, `"earmark":{"city_id":"gulu"},"due_on"`), 400, "unknown_field", "earmark.city_id")
	post("pledge id twice", "/v1/pledges", okOff, with(pledge, `"p-new"`, `"p-1"`), 409, "duplicate_id", "id")
	post("amend an unknown pledge", "/v1/pledges/p-nobody/amend", okOff, amend, 404, "unknown_pledge", "id")
	post("amend without reason", "/v1/pledges/p-1/amend", okOff, with(amend, `,"reason":"signed addendum"`, ``), 422, "missing_field", "reason")
	post("amend nothing", "/v1/pledges/p-1/amend", okOff, `{"reason":"r"}`, 422, "missing_field", "amount")
	post("amend into another currency", "/v1/pledges/p-1/amend", okOff, with(with(amend, `"EUR"`, `"USD"`), `"usd_rate":"1.2",`, ``), 409, "pledge_currency_mismatch", "amount")
	post("amend the id in the body", "/v1/pledges/p-1/amend", okOff, with(amend, `{`, `{"id":"p-2",`), 400, "unknown_field", "id")
	post("amend an unknown donor", "/v1/donors/d-nobody/amend", okOff, amendD, 404, "unknown_donor", "id")
	post("amend a donor without reason", "/v1/donors/d-eur/amend", okOff, with(amendD, `"reason":"official name",`, ``), 422, "missing_field", "reason")
	post("amend nothing of a donor", "/v1/donors/d-eur/amend", okOff, `{"reason":"r"}`, 422, "missing_field", "name")
	post("amend a donor to what it is", "/v1/donors/d-eur/amend", okOff, with(amendD, `"Federal Republic of Germany"`, `"Donor country (test)"`), 409, "amendment_changes_nothing", "")
	post("amend a donor's kind and country to theirs", "/v1/donors/d-eur/amend", okOff, `{"kind":"country","country":"DE","reason":"r"}`, 409, "amendment_changes_nothing", "")
	post("amend a donor to an empty name", "/v1/donors/d-eur/amend", okOff, with(amendD, `"Federal Republic of Germany"`, `""`), 422, "missing_field", "name")
	post("amend a donor to a bad kind", "/v1/donors/d-eur/amend", okOff, with(amendD, `"name"`, `"kind":"government","name"`), 422, "invalid_donor_kind", "kind")
	post("amend a donor to a bad country", "/v1/donors/d-eur/amend", okOff, with(amendD, `"name"`, `"country":"XX","name"`), 422, "unknown_country", "country")
	post("amend a donor in the future", "/v1/donors/d-eur/amend", okOff, with(amendD, `"2021-06-01"`, `"2022-01-15"`), 422, "date_in_future", "amended_on")
	post("amend a donor on 30 February", "/v1/donors/d-eur/amend", okOff, with(amendD, `"2021-06-01"`, `"2021-02-30"`), 422, "invalid_date", "amended_on")
	post("amend a donor with its id in the body", "/v1/donors/d-eur/amend", okOff, with(amendD, `{`, `{"id":"d-usd",`), 400, "unknown_field", "id")
	post("amend a donor with a number for a name", "/v1/donors/d-eur/amend", okOff, with(amendD, `"Federal Republic of Germany"`, `5`), 400, "malformed_json", "name")
	post("cancel an unknown pledge", "/v1/pledges/p-nobody/cancel", okOff, cancel, 404, "unknown_pledge", "id")
	post("cancel without reason", "/v1/pledges/p-2/cancel", okOff, `{"cancelled_on":"2021-07-01"}`, 422, "missing_field", "reason")
	post("cancel a paid pledge", "/v1/pledges/p-paid/cancel", okOff, cancel, 409, "pledge_fully_paid", "id")
	post("receipt in another currency than its pledge", "/v1/contributions", okOff, with(with(rcpt, `"bank_ref"`, `"pledge_id":"p-2","bank_ref"`), `"d-eur"`, `"d-usd"`), 409, "pledge_currency_mismatch", "amount")
	post("receipt of another donor's pledge", "/v1/contributions", okOff, with(rcpt, `"bank_ref"`, `"pledge_id":"p-2","bank_ref"`), 409, "pledge_donor_mismatch", "pledge_id")
	post("receipt above its pledge", "/v1/contributions", okOff, with(with(rcpt, `"bank_ref"`, `"pledge_id":"p-1","bank_ref"`), `"100.00"`, `"60000.01"`), 409, "receipt_exceeds_pledge", "amount")
	post("interest without date", "/v1/interest", okOff, with(intr, `,"earned_on":"2021-06-30"`, ``), 422, "missing_field", "earned_on")
	post("interest without term", "/v1/interest", okOff, with(intr, `"term_id":"2020-2021",`, ``), 422, "missing_field", "term_id")
	post("interest in EUR", "/v1/interest", okOff, with(intr, `"USD"`, `"EUR"`), 422, "usd_required", "amount")
	post("interest to an unknown term", "/v1/interest", okOff, with(intr, `"2020-2021"`, `"2030-2031"`), 404, "unknown_term", "term_id")
	post("interest before the term", "/v1/interest", okOff, with(intr, `"2021-06-30"`, `"2019-12-31"`), 422, "date_outside_term", "earned_on")
	post("refund without donor", "/v1/refunds", okOff, with(refund, `"donor_id":"d-usd",`, ``), 422, "missing_field", "donor_id")
	post("refund without date", "/v1/refunds", okOff, with(refund, `"paid_on":"2021-07-01",`, ``), 422, "missing_field", "paid_on")
	post("refund to an unknown donor", "/v1/refunds", okOff, with(refund, `"d-usd"`, `"d-nobody"`), 404, "unknown_donor", "donor_id")
	post("refund above the donor's balance", "/v1/refunds", okOff, with(refund, `"100.00"`, `"30000.00"`), 409, "refund_exceeds_attributable_balance", "amount")
	post("reversal without event", "/v1/reversals", okOff, with(reversal, `"event_id":"`+wrong[0].ID+`",`, ``), 422, "missing_field", "event_id")
	post("reversal without reason", "/v1/reversals", okOff, with(reversal, `,"reason":"keyed twice"`, ``), 422, "missing_field", "reason")
	post("reversal of an unknown event", "/v1/reversals", okOff, with(reversal, wrong[0].ID, "0190a000-0000-7000-8000-000000000000"), 404, "unknown_event", "event_id")
	post("reversal of a fee", "/v1/reversals", okOff, with(reversal, wrong[0].ID, wrong[1].ID), 409, "not_reversible", "event_id")
	post("close without date", "/v1/terms/2020-2021/close", okTerm, with(closeT, `"closed_on":"2021-12-31",`, ``), 422, "missing_field", "closed_on")
	post("close without disposition", "/v1/terms/2020-2021/close", okTerm, `{"closed_on":"2021-12-31"}`, 422, "missing_field", "disposition.kind")
	post("close with a disposition of another kind", "/v1/terms/2020-2021/close", okTerm, with(closeT, `"carry_over"`, `"donate"`), 422, "invalid_disposition", "disposition.kind")
	post("close of an unknown term", "/v1/terms/2030-2031/close", okTerm, closeT, 404, "unknown_term", "id")
	post("close before the term ends", "/v1/terms/2020-2021/close", okTerm, with(closeT, `"2021-12-31"`, `"2021-06-30"`), 409, "term_not_ended", "closed_on")
	post("close carried to a term not opened", "/v1/terms/2020-2021/close", okTerm, closeT, 404, "unknown_term", "disposition.to_term_id")
	post("close with an unknown disposition field", "/v1/terms/2020-2021/close", okTerm, with(closeT, `"kind"`, `"to":"x","kind"`), 400, "unknown_field", "disposition.to")
	post("city without name", "/v1/cities", okOff, with(city, `"name":"Masaka",`, ``), 422, "missing_field", "name")
	post("city without country", "/v1/cities", okOff, with(city, `,"country":"UG"`, ``), 422, "missing_field", "country")
	post("city in an unknown country", "/v1/cities", okOff, with(city, `"UG"`, `"XX"`), 422, "unknown_country", "country")
	post("city id twice", "/v1/cities", okOff, with(city, `"c-new"`, `"gulu"`), 409, "duplicate_id", "id")
	post("cluster without name", "/v1/clusters", okOff, with(clus, `"name":"Education for Sustainable Development",`, ``), 422, "missing_field", "name")
	post("cluster id twice", "/v1/clusters", okOff, with(clus, `"ESD"`, `"LIT"`), 409, "duplicate_id", "id")
	post("coordinator without city", "/v1/clusters/LIT/coordinators", okOff, `{"term_id":"2020-2021"}`, 422, "missing_field", "city_id")
	post("coordinator without term", "/v1/clusters/LIT/coordinators", okOff, `{"city_id":"gulu"}`, 422, "missing_field", "term_id")
	post("coordinator of an unknown cluster", "/v1/clusters/NOPE/coordinators", okOff, coord, 404, "unknown_cluster", "cluster_id")
	post("coordinator: an unknown city", "/v1/clusters/LIT/coordinators", okOff, with(coord, `"gulu"`, `"atlantis"`), 404, "unknown_city", "city_id")
	post("coordinator for an unknown term", "/v1/clusters/LIT/coordinators", okOff, with(coord, `"2020-2021"`, `"2030-2031"`), 404, "unknown_term", "term_id")
	post("coordinator: cluster in the body", "/v1/clusters/LIT/coordinators", okOff, with(coord, `{`, `{"cluster_id":"ESD",`), 400, "unknown_field", "cluster_id")
	post("member without city", "/v1/clusters/LIT/members", okOff, `{"term_id":"2020-2021"}`, 422, "missing_field", "city_id")
	post("member of an unknown cluster", "/v1/clusters/NOPE/members", okOff, member, 404, "unknown_cluster", "cluster_id")
	post("member: an unknown city", "/v1/clusters/LIT/members", okOff, with(member, `"lira"`, `"atlantis"`), 404, "unknown_city", "city_id")
	post("expenditure in a city of another country", "/v1/expenditures", okOff, with(spend, `"city":"Nairobi"`, `"city_id":"gulu"`), 409, "city_country_mismatch", "")
	for _, c := range []struct{ name, path, body, amount string }{
		{"pledge", "/v1/pledges", pledge, `"100000.00"`},
		{"amendment", "/v1/pledges/p-1/amend", amend, `"70000.00"`},
		{"interest", "/v1/interest", intr, `"12.34"`},
		{"refund", "/v1/refunds", refund, `"100.00"`},
	} {
		post(c.name+" negative", c.path, okOff, with(c.body, c.amount, `"-5.00"`), 422, "amount_not_positive", "")
		post(c.name+" zero", c.path, okOff, with(c.body, c.amount, `"0.00"`), 422, "amount_not_positive", "")
		post(c.name+" not a number", c.path, okOff, with(c.body, c.amount, `"five"`), 422, "invalid_amount", "")
	}

	// Batches: shapes, paths, limits and an item's refusal.
	item := func(path, body string) string { return `{"path":"` + path + `","body":` + body + `}` }
	items := func(is ...string) string { return `{"commands":[` + strings.Join(is, ",") + `]}` }
	post("batch without commands", "/v1/batch", okOff, `{"commands":[]}`, 422, "missing_field", "commands")
	post("batch of nothing", "/v1/batch", okOff, `{}`, 422, "missing_field", "commands")
	post("batch of an object", "/v1/batch", okOff, `{"commands":{}}`, 400, "malformed_json", "commands")
	post("batch in a batch", "/v1/batch", okOff, items(item("/v1/donors", donor), item("/v1/batch", batch)), 422, "invalid_batch_item", "commands[1].path")
	post("batch item to a read", "/v1/batch", okOff, items(item("/v1/funds/mdfm/balance", `{}`)), 422, "invalid_batch_item", "commands[0].path")
	post("batch item without path", "/v1/batch", okOff, items(`{"body":`+donor+`}`), 422, "invalid_batch_item", "commands[0].path")
	post("batch item with a query", "/v1/batch", okOff, items(item("/v1/donors?x=1", donor)), 422, "invalid_batch_item", "commands[0].path")
	post("batch item unknown key", "/v1/batch", okOff, items(item("/v1/donors", donor), `{"path":"/v1/donors","body":{},"key":"k"}`), 400, "unknown_field", "commands[1].key")
	post("batch item without body", "/v1/batch", okOff, items(`{"path":"/v1/donors"}`), 400, "malformed_json", "commands[0]")
	post("batch item unknown field", "/v1/batch", okOff, items(item("/v1/donors", donor), item("/v1/donors", with(with(donor, `"d-new"`, `"d-2"`), `{`, `{"bogus":1,`))), 400, "unknown_field", "commands[1].bogus")
	post("batch item malformed amount", "/v1/batch", okOff, items(item("/v1/contributions", with(rcpt, `"100.00"`, `100`))), 400, "malformed_json", "commands[0].amount.amount")
	post("batch item refused", "/v1/batch", okOff, items(item("/v1/donors", donor), item("/v1/contributions", with(rcpt, `"d-eur"`, `"d-new"`)), item("/v1/contributions", with(with(rcpt, `"r-new"`, `"r-2"`), `"100.00"`, `"-1.00"`))), 422, "amount_not_positive", "commands[2].amount")
	post("batch: officer approves", "/v1/batch", okOff, items(item("/v1/allocations/al-pending/approve", `{}`)), 403, "forbidden", "commands[0].path")
	post("batch item approve unknown", "/v1/batch", okTerm, items(item("/v1/allocations/al-nobody/approve", `null`)), 404, "unknown_allocation", "commands[0].id")
	post("batch item amends nothing", "/v1/batch", okOff, items(item("/v1/donors", donor), item("/v1/donors/d-new/amend", `{"reason":"r"}`)), 422, "missing_field", "commands[1].name")
	post("batch item id twice", "/v1/batch", okOff, items(item("/v1/donors", donor), item("/v1/donors", donor)), 409, "duplicate_id", "commands[1].id")
	many := make([]string, httpapi.MaxBatchItems+1)
	for i := range many {
		many[i] = item("/v1/donors", `{}`)
	}
	post("batch too large", "/v1/batch", okOff, items(many...), 422, "batch_too_large", "commands")

	// Dates outside the window (issue 8): every date field of every
	// command, and of a batch item.
	for _, c := range []struct{ name, path, token, body, field, date string }{
		{"term start", "/v1/terms", okTerm, term, "starts_on", "2022-01-01"},
		{"term end", "/v1/terms", okTerm, term, "ends_on", "2023-12-31"},
		{"receipt", "/v1/contributions", okOff, rcpt, "received_on", "2021-06-01"},
		{"allocation", "/v1/allocations", okOff, alloc, "proposed_on", "2021-06-01"},
		{"approval", "/v1/allocations/al-pending/approve", okTerm, `{"approved_on":"2021-06-01"}`, "approved_on", "2021-06-01"},
		{"expenditure", "/v1/expenditures", okOff, spend, "spent_on", "2021-06-01"},
		{"pledge signing", "/v1/pledges", okOff, pledge, "signed_on", "2021-01-15"},
		{"pledge due", "/v1/pledges", okOff, pledge, "due_on", "2021-09-30"},
		{"amendment", "/v1/pledges/p-1/amend", okOff, amend, "amended_on", "2021-06-01"},
		{"amended due", "/v1/pledges/p-1/amend", okOff, with(amend, `"reason"`, `"due_on":"2021-12-31","reason"`), "due_on", "2021-12-31"},
		{"donor amendment", "/v1/donors/d-eur/amend", okOff, amendD, "amended_on", "2021-06-01"},
		{"cancellation", "/v1/pledges/p-2/cancel", okOff, cancel, "cancelled_on", "2021-07-01"},
		{"interest", "/v1/interest", okOff, intr, "earned_on", "2021-06-30"},
		{"refund", "/v1/refunds", okOff, refund, "paid_on", "2021-07-01"},
		{"close", "/v1/terms/2020-2021/close", okTerm, closeT, "closed_on", "2021-12-31"},
		{"batch item", "/v1/batch", okOff, batch, "commands[1].received_on", "2021-06-02"},
	} {
		key := c.field[strings.LastIndex(c.field, ".")+1:]
		for _, bad := range []string{"0000-01-01", "0001-01-01", "1899-12-31", "1999-12-31", "2100-01-01"} {
			post(c.name+" dated "+bad, c.path, c.token, with(c.body, `"`+key+`":"`+c.date+`"`, `"`+key+`":"`+bad+`"`), 422, "date_out_of_range", c.field)
		}
	}
	post("term of more than 10 years", "/v1/terms", okTerm, with(term, `"2023-12-31"`, `"2032-01-02"`), 422, "invalid_term_period", "ends_on")
	post("receipt more than a year before its term", "/v1/contributions", okOff, with(rcpt, `"2021-06-01"`, `"2018-12-31"`), 422, "date_outside_term", "received_on")
	post("pledge signed more than two years before its term", "/v1/pledges", okOff, with(pledge, `"2021-01-15"`, `"2017-12-31"`), 422, "date_outside_term", "signed_on")
	post("amendment before the pledge was signed", "/v1/pledges/p-1/amend", okOff, with(amend, `"2021-06-01"`, `"2021-01-09"`), 422, "invalid_date", "amended_on")
	post("cancellation before the pledge was signed", "/v1/pledges/p-2/cancel", okOff, with(cancel, `"2021-07-01"`, `"2021-01-09"`), 422, "invalid_date", "cancelled_on")

	// Text that the reports cannot carry (issue 8): control characters,
	// noncharacters, invalid UTF-8 (caught on the raw body, before
	// encoding/json would make it U+FFFD), half a surrogate pair and blank
	// text, in every text field of every command, and of a batch item.
	// Tabs and line breaks pass only in notes, descriptions and reasons.
	for _, c := range []struct {
		name, path, token, body, field, text string
		multiline                            bool
	}{
		{"donor name", "/v1/donors", okOff, donor, "name", "New donor", false},
		{"donor city", "/v1/donors", okOff, donor, "city", "Osaka", false},
		{"donor's new name", "/v1/donors/d-eur/amend", okOff, amendD, "name", "Federal Republic of Germany", false},
		{"donor's new city", "/v1/donors/d-eur/amend", okOff, with(amendD, `"reason"`, `"city":"Bonn","reason"`), "city", "Bonn", false},
		{"donor amendment reason", "/v1/donors/d-eur/amend", okOff, amendD, "reason", "official name", true},
		{"bank ref", "/v1/contributions", okOff, rcpt, "bank_ref", "B", false},
		{"line title", "/v1/budget-lines", okOff, line, "title", "Objectives and work plan", false},
		{"allocation note", "/v1/allocations", okOff, alloc, "note", "n", true},
		{"payee", "/v1/expenditures", okOff, spend, "payee", "P", false},
		{"expenditure city", "/v1/expenditures", okOff, spend, "city", "Nairobi", false},
		{"expenditure description", "/v1/expenditures", okOff, with(spend, `"payee"`, `"description":"d","payee"`), "description", "d", true},
		{"amendment reason", "/v1/pledges/p-1/amend", okOff, amend, "reason", "signed addendum", true},
		{"cancellation reason", "/v1/pledges/p-2/cancel", okOff, cancel, "reason", "donor withdrew", true},
		{"refund reason", "/v1/refunds", okOff, refund, "reason", "overpaid", true},
		{"reversal reason", "/v1/reversals", okOff, reversal, "reason", "keyed twice", true},
		{"city name", "/v1/cities", okOff, city, "name", "Masaka", false},
		{"cluster name", "/v1/clusters", okOff, clus, "name", "Education for Sustainable Development", false},
		{"technical partner", "/v1/clusters", okOff, clus, "technical_partner", "Partner", false},
		{"batch item name", "/v1/batch", okOff, batch, "commands[0].name", "Batch donor", false},
	} {
		key := c.field[strings.LastIndex(c.field, ".")+1:]
		set := func(raw string) string { return with(c.body, `"`+key+`":"`+c.text+`"`, `"`+key+`":"`+raw+`"`) }
		for _, bad := range []string{`a\u0000b`, `a\u001b[2Jb`, `a\u007fb`, `a\u0085b`, `a\ufffeb`, "a\xffb", "a\xed\xa0\x80b", `a\ud800b`, `\udfffa`} {
			post(c.name+" holding "+bad, c.path, c.token, set(bad), 422, "invalid_text", c.field)
		}
		for _, blank := range []string{`   `, `\u00a0`, `\u3000\u200b`} {
			post(c.name+" of "+blank, c.path, c.token, set(blank), 422, "blank_text", c.field)
		}
		if c.multiline {
			post(c.name+" of line breaks", c.path, c.token, set(`\t\n`), 422, "blank_text", c.field)
		} else {
			post(c.name+" on two lines", c.path, c.token, set(`a\nb`), 422, "invalid_text", c.field)
			post(c.name+" with a tab", c.path, c.token, set(`a\tb`), 422, "invalid_text", c.field)
		}
	}

	// Reads.
	get := func(name, path, token string, status int, code, field string) {
		rows = append(rows, row{name: name, req: request{method: "GET", path: path, token: token}, status: status, code: code, field: field})
	}
	get("unknown path", "/v1/nothing", okOff, 404, "not_found", "")
	// "/" is the web app's sign-in page (issue 7); other paths outside /v1 are the API's.
	get("outside v1", "/nothing", "", 404, "not_found", "")
	get("trailing slash", "/v1/donors/", okOff, 404, "not_found", "")
	rows = append(rows, row{name: "DELETE events", req: request{method: "DELETE", path: "/v1/events", token: "tok-kim"}, status: 405, code: "method_not_allowed"})
	rows = append(rows, row{name: "POST balance", req: request{method: "POST", path: "/v1/funds/mdfm/balance", token: "tok-kim", body: `{}`}, status: 405, code: "method_not_allowed"})
	get("balance without token", "/v1/funds/mdfm/balance", "", 401, "unauthorized", "")
	get("balance as of 30 February", "/v1/funds/mdfm/balance?as_of=2021-02-30", "tok-kim", 422, "invalid_date", "as_of")
	get("balance as of a non-date", "/v1/funds/mdfm/balance?as_of=yesterday", "tok-kim", 422, "invalid_date", "as_of")
	get("balance at_seq not a number", "/v1/funds/mdfm/balance?at_seq=abc", "tok-kim", 400, "invalid_query", "at_seq")
	get("balance at_seq 0", "/v1/funds/mdfm/balance?at_seq=0", "tok-kim", 400, "invalid_query", "at_seq")
	get("balance at_seq beyond the log", "/v1/funds/mdfm/balance?at_seq=999", "tok-kim", 422, "invalid_at_seq", "at_seq")
	get("balance unknown parameter", "/v1/funds/mdfm/balance?trem=2020-2021", "tok-kim", 400, "invalid_query", "trem")
	get("balance parameter twice", "/v1/funds/mdfm/balance?term=a&term=b", "tok-kim", 400, "invalid_query", "term")
	get("balance of an impossible fund", "/v1/funds/MDFM!/balance", "tok-kim", 404, "unknown_fund", "fund")
	get("balance of a fund without events", "/v1/funds/other/balance", "tok-kim", 404, "unknown_fund", "fund")
	get("balance of an unknown term", "/v1/funds/mdfm/balance?term=2030-2031", "tok-kim", 404, "unknown_term", "term")
	get("events as a donor", "/v1/events", "tok-dana", 403, "forbidden", "")
	get("events limit 0", "/v1/events?limit=0", "tok-kim", 400, "invalid_query", "limit")
	get("events limit above the maximum", "/v1/events?limit=10001", "tok-kim", 400, "invalid_query", "limit")
	get("events after negative", "/v1/events?after=-1", "tok-kim", 400, "invalid_query", "after")
	get("events of an impossible fund", "/v1/events?fund=A.B", "tok-kim", 404, "unknown_fund", "fund")
	get("verify as officer", "/v1/audit/verify", okOff, 403, "forbidden", "")
	get("verify as donor", "/v1/audit/verify", "tok-dana", 403, "forbidden", "")
	get("metrics without token", "/metrics", "", 401, "unauthorized", "")
	get("metrics as donor", "/metrics", "tok-dana", 403, "forbidden", "")
	get("pledges as donor", "/v1/pledges", "tok-dana", 403, "forbidden", "")
	get("pledges as of a non-date", "/v1/pledges?as_of=2021-13-01", "tok-kim", 422, "invalid_date", "as_of")
	get("pledges of an unknown term", "/v1/pledges?term=2030-2031", "tok-kim", 404, "unknown_term", "term")
	get("pledges unknown parameter", "/v1/pledges?donor=d-eur", "tok-kim", 400, "invalid_query", "donor")
	get("pledges of an impossible fund", "/v1/pledges?fund=A.B", "tok-kim", 404, "unknown_fund", "fund")
	get("clusters as donor", "/v1/clusters", "tok-dana", 403, "forbidden", "")
	get("clusters of an unknown term", "/v1/clusters?term=2030-2031", "tok-kim", 404, "unknown_term", "term")
	get("clusters unknown parameter", "/v1/clusters?as_of=2021-01-01", "tok-kim", 400, "invalid_query", "as_of")
	get("trial balance as donor", "/v1/reports/trial-balance", "tok-dana", 403, "forbidden", "")
	get("trial balance without token", "/v1/reports/trial-balance", "", 401, "unauthorized", "")
	get("trial balance as of a non-date", "/v1/reports/trial-balance?as_of=31.12.2021", "tok-kim", 422, "invalid_date", "as_of")
	get("trial balance at_seq 0", "/v1/reports/trial-balance?at_seq=0", "tok-kim", 400, "invalid_query", "at_seq")
	get("trial balance at_seq beyond the log", "/v1/reports/trial-balance?at_seq=9999", "tok-kim", 422, "invalid_at_seq", "at_seq")
	get("trial balance of a fund without events", "/v1/reports/trial-balance?fund=other", "tok-kim", 404, "unknown_fund", "fund")
	rows = append(rows, row{name: "events with two tokens", req: request{method: "GET", path: "/v1/events", token: "tok-kim", added: [][2]string{{"Authorization", "Bearer tok-admin"}}}, status: 400, code: "invalid_header", field: "Authorization"})
	// Query parameters far off (issue 8): a clear 4xx, never a 500.
	for _, p := range []string{"/v1/reports/trial-balance?", "/v1/reports/budget?term=2020-2021&", "/v1/reports/focus?term=2020-2021&",
		"/v1/iati/activities.xml?", "/v1/iati/organisation.xml?", "/v1/donors/d-usd/statement?term=2020-2021&"} {
		get(p+" as of year 0", p+"as_of=0000-01-01", "tok-kim", 422, "no_data_as_of", "as_of")
		get(p+" as of 1899", p+"as_of=1899-12-31", "tok-kim", 422, "no_data_as_of", "as_of")
		get(p+" as of a NUL", p+"as_of=%00", "tok-kim", 422, "invalid_date", "as_of")
		get(p+" at_seq negative", p+"at_seq=-1", "tok-kim", 400, "invalid_query", "at_seq")
		get(p+" at_seq above 2^64", p+"at_seq=99999999999999999999", "tok-kim", 400, "invalid_query", "at_seq")
	}
	// This daemon runs without --signing-key: it keeps no transparency log.
	rows = append(rows, row{name: "checkpoint without a log", req: request{method: "GET", path: "/v1/checkpoint", token: "tok-dana"}, status: 404, code: "no_checkpoint"})
	rows = append(rows, row{name: "DELETE pledges", req: request{method: "DELETE", path: "/v1/pledges", token: "tok-kim"}, status: 405, code: "method_not_allowed"})

	walked := map[string]bool{}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			before := d.streamLastSeq(t)
			a := d.do(t, r.req)
			code, field := a.errorOf(t)
			walked[code] = true
			if a.status != r.status || code != r.code {
				t.Errorf("%s %s: %s, want %d %s", r.req.method, r.req.path, a, r.status, r.code)
			}
			if r.field != "" && field != r.field {
				t.Errorf("%s %s: field %q, want %q: %s", r.req.method, r.req.path, field, r.field, a)
			}
			// A batch item's error says which item, as index too.
			if m := itemIndex.FindStringSubmatch(field); m != nil {
				if got := a.errorIndex(t); got == nil || strconv.Itoa(*got) != m[1] {
					t.Errorf("field %s without its index: %s", field, a)
				}
			} else if a.errorIndex(t) != nil {
				t.Errorf("an index on an error that is not an item's: %s", a)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if a.status == http.StatusMethodNotAllowed && a.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if after := d.streamLastSeq(t); after != before {
				t.Errorf("the stream moved from seq %d to %d", before, after)
			}
		})
	}
	// Every HTTP-level code but those a healthy, idle server cannot be made
	// to answer here (busy, unavailable, internal, too_many_requests: see
	// httpapi's TestLogReadsCappedPerCaller) and the one of
	// TestIdempotencyOverHTTP, and not_in_log, which needs a signing key
	// (TestTransparencyOverHTTP), and report_too_large, which needs a term of
	// more than 100,000 transactions (httpapi's TestIATIOverLimitIsRefused),
	// has a row; so has every code of the other
	// layers that the API answers for its query parameters alone.
	codes := []string{domain.CodeInvalidDate, domain.CodeUnknownTerm, projections.CodeUnknownFund}
	for _, c := range httpapi.Codes {
		codes = append(codes, c.Code)
	}
	for _, code := range codes {
		switch code {
		case httpapi.CodeBusy, httpapi.CodeUnavailable, httpapi.CodeInternal, httpapi.CodeIdempotencyKeyReused, httpapi.CodeTooManyRequests, httpapi.CodeNotInLog,
			httpapi.CodeReportTooLarge:
			continue
		}
		if !walked[code] {
			t.Errorf("no row answers %s", code)
		}
	}

	// The good bodies of the table are good: each is accepted once. An
	// approval's body may be empty: approved today.
	for _, w := range writes {
		if w.path == "/v1/terms/2020-2021/close" {
			d.post(t, 201, "/v1/allocations", "tok-olu", "", with(alloc, `"al-new"`, `"al-empty"`))
			d.post(t, 201, "/v1/allocations/al-empty/approve", "tok-ana", "", "")
		}
		d.post(t, 201, w.path, w.token, "", w.body)
	}
	// A closed term takes no new postings.
	a := d.post(t, 409, "/v1/interest", okOff, "", with(intr, `"i-new"`, `"i-late"`))
	if code, field := a.errorOf(t); code != "term_closed" || field != "term_id" {
		t.Errorf("interest in a closed term: %s", a)
	}
}

var itemIndex = regexp.MustCompile(`^commands\[([0-9]+)\]`)
