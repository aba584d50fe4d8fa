package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/httpapi"
)

// TestBadInputs sends one refused request per row to a ledgerd that holds
// the scenario plus an approved allocation, and checks the status, the code,
// the field when the row names one, and that the stream did not move.
func TestBadInputs(t *testing.T) {
	d := startScenarioDaemon(t)
	setUpScenario(t, d)
	d.post(t, 201, "/v1/allocations", "tok-olu", "", map[string]any{
		"id": "al-1", "line_id": "MDFM-1.1", "amount": usdMoney("30000.00"), "proposed_on": "2021-05-01"})
	d.post(t, 201, "/v1/allocations/al-1/approve", "tok-ana", "", `{"approved_on":"2021-05-02"}`)
	d.post(t, 201, "/v1/allocations", "tok-olu", "", map[string]any{
		"id": "al-pending", "line_id": "MDFM-1.1", "amount": usdMoney("1000.00"), "proposed_on": "2021-05-01"})

	// Good bodies of each endpoint; rows change one thing.
	const (
		term   = `{"id":"2022-2023","starts_on":"2022-01-01","ends_on":"2023-12-31","target":{"amount":"1000000.00","currency":"USD"},"fee_rate":"0.01"}`
		donor  = `{"id":"d-new","name":"New donor","kind":"member_city","country":"JP","city":"Osaka"}`
		rcpt   = `{"id":"r-new","donor_id":"d-eur","term_id":"2020-2021","amount":{"amount":"100.00","currency":"EUR"},"usd_rate":"1.1","received_on":"2021-06-01","bank_ref":"B"}`
		line   = `{"id":"ESD-1.1","term_id":"2020-2021","title":"Objectives and work plan","amount":{"amount":"50000.00","currency":"USD"}}`
		alloc  = `{"id":"al-new","line_id":"MDFM-1.1","amount":{"amount":"100.00","currency":"USD"},"note":"n","proposed_on":"2021-06-01"}`
		spend  = `{"id":"x-new","allocation_id":"al-1","amount":{"amount":"100.00","currency":"USD"},"spent_on":"2021-06-01","payee":"P","country":"KE","city":"Nairobi"}`
		okTerm = "tok-ana"
		okOff  = "tok-olu"
	)
	with := func(body, from, to string) string {
		if !strings.Contains(body, from) {
			t.Fatalf("%q not in %s", from, body)
		}
		return strings.Replace(body, from, to, 1)
	}
	writes := []struct{ path, token, body string }{
		{"/v1/terms", okTerm, term},
		{"/v1/donors", okOff, donor},
		{"/v1/contributions", okOff, rcpt},
		{"/v1/budget-lines", okOff, line},
		{"/v1/allocations", okOff, alloc},
		{"/v1/allocations/al-pending/approve", okTerm, `{"approved_on":"2021-06-01"}`},
		{"/v1/expenditures", okOff, spend},
	}

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
	big := `{"bank_ref":"` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
	for _, w := range writes {
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
			row{name: w.path + " long key", req: request{method: "POST", path: w.path, token: w.token, body: w.body, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 129)}}, status: 400, code: "invalid_idempotency_key"},
			row{name: w.path + " GET", req: request{method: "GET", path: w.path, token: w.token}, status: 405, code: "method_not_allowed"},
		)
	}
	// Roles: who may not do what.
	post("officer opens a term", "/v1/terms", "tok-olu", term, 403, "forbidden", "")
	post("approver records a receipt", "/v1/contributions", "tok-ana", rcpt, 403, "forbidden", "")
	post("officer approves", "/v1/allocations/al-pending/approve", "tok-olu", `{}`, 403, "forbidden", "")
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
	post("unknown pledge", "/v1/contributions", okOff, with(rcpt, `"bank_ref"`, `"pledge_id":"p-1","bank_ref"`), 404, "unknown_pledge", "pledge_id")
	post("duplicate donor", "/v1/donors", okOff, with(donor, `"d-new"`, `"d-eur"`), 409, "duplicate_id", "id")
	post("invalid id", "/v1/donors", okOff, with(donor, `"d-new"`, `"d new"`), 422, "invalid_id", "id")
	post("unknown country", "/v1/donors", okOff, with(donor, `"JP"`, `"XX"`), 422, "unknown_country", "country")
	post("overlapping term", "/v1/terms", okTerm, with(term, `"2022-01-01"`, `"2021-06-01"`), 409, "term_overlaps", "")

	// Rules of the fund.
	post("allocation above unallocated", "/v1/allocations", okOff, with(alloc, `"100.00"`, `"190000.00"`), 409, "insufficient_unallocated_balance", "amount")
	post("spend a pending allocation", "/v1/expenditures", okOff, with(spend, `"al-1"`, `"al-pending"`), 409, "allocation_not_approved", "allocation_id")
	post("spend beyond the allocation", "/v1/expenditures", okOff, with(spend, `"100.00"`, `"30000.01"`), 409, "insufficient_allocation_balance", "amount")
	post("approve twice", "/v1/allocations/al-1/approve", okTerm, ``, 409, "allocation_already_approved", "id")

	// Reads.
	get := func(name, path, token string, status int, code, field string) {
		rows = append(rows, row{name: name, req: request{method: "GET", path: path, token: token}, status: status, code: code, field: field})
	}
	get("unknown path", "/v1/nothing", okOff, 404, "not_found", "")
	get("root", "/", "", 404, "not_found", "")
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
	// to answer here (busy, unavailable, internal) and the one of
	// TestIdempotencyOverHTTP has a row.
	for _, c := range httpapi.Codes {
		switch c.Code {
		case httpapi.CodeBusy, httpapi.CodeUnavailable, httpapi.CodeInternal, httpapi.CodeIdempotencyKeyReused:
			continue
		}
		if !walked[c.Code] {
			t.Errorf("no row answers %s", c.Code)
		}
	}

	// The good bodies of the table are good: each is accepted once.
	for _, w := range writes {
		d.post(t, 201, w.path, w.token, "", w.body)
	}
	// An approval's body may be empty: approved today.
	d.post(t, 201, "/v1/allocations", "tok-olu", "", with(alloc, `"al-new"`, `"al-empty"`))
	d.post(t, 201, "/v1/allocations/al-empty/approve", "tok-ana", "", "")
}
