package main

import (
	"fmt"
	"testing"
)

// TestReportsTakeWhatTheAPIAccepts records, through the API, what the
// input rules accept at their edges — dates at the start of each window
// (a receipt a year and a signing two years before the term, a pledge due
// on the last date the ledger takes), text in other scripts, right-to-left
// and combining marks, emoji, surrounding spaces, and multi-line notes,
// descriptions and reasons — and checks that every report then answers 200
// in every format and that the IATI files validate (issue 8: accepted
// data made the IATI file and a donor's statement answer 500).
func TestReportsTakeWhatTheAPIAccepts(t *testing.T) {
	d := startScenarioDaemon(t)
	setUpScenario(t, d)
	const term = "2020-2021"
	odd := "  Zürich \u202eدبي\u202c e\u0301te\u0301 😀 東京 "
	d.post(t, 201, "/v1/donors", "tok-olu", "", map[string]any{
		"id": "d-odd", "name": odd, "kind": "member_city", "country": "FR", "city": "Ville\u00a0d’Évry"})
	d.post(t, 201, "/v1/pledges", "tok-olu", "", map[string]any{
		"id": "p-early", "donor_id": "d-odd", "term_id": term, "amount": usdMoney("5000.00"), "signed_on": "2018-01-01", "due_on": "2099-12-31"})
	d.post(t, 201, "/v1/contributions", "tok-olu", "", map[string]any{
		"id": "r-early", "donor_id": "d-odd", "term_id": term, "pledge_id": "p-early", "amount": usdMoney("3000.00"),
		"received_on": "2019-01-01", "bank_ref": "\u200bREF \u05d0\u05d1"})
	// A rate as money.ParseRate takes it: up to 24 characters, leading
	// zeros and all; the statement once refused more than 16 whole digits.
	d.post(t, 201, "/v1/contributions", "tok-olu", "", map[string]any{
		"id": "r-rate", "donor_id": "d-odd", "term_id": term, "amount": moneyOf("100.00", "EUR"),
		"usd_rate": "00000000000000000001.1", "received_on": "2020-06-30"})
	d.post(t, 201, "/v1/budget-lines", "tok-olu", "", map[string]any{
		"id": "L-odd", "term_id": term, "title": odd, "amount": usdMoney("1000.00")})
	d.post(t, 201, "/v1/allocations", "tok-olu", "", map[string]any{
		"id": "al-odd", "line_id": "L-odd", "amount": usdMoney("1000.00"), "note": "line 1\nline 2\ttab\r\n", "proposed_on": "2020-01-01"})
	d.post(t, 201, "/v1/allocations/al-odd/approve", "tok-ana", "", `{"approved_on":"2020-01-01"}`)
	d.post(t, 201, "/v1/expenditures", "tok-olu", "", map[string]any{
		"id": "x-odd", "allocation_id": "al-odd", "amount": moneyOf("100.00", "EUR"), "usd_rate": "1.1", "spent_on": "2020-01-01",
		"payee": odd, "description": "first line\r\n\tsecond line <&>\"'", "country": "FR", "city": " Évry "})
	d.post(t, 201, "/v1/refunds", "tok-olu", "", map[string]any{
		"id": "rf-odd", "donor_id": "d-odd", "term_id": term, "amount": usdMoney("10.00"), "paid_on": "2021-12-31", "reason": "returned:\n\tpart"})
	d.post(t, 201, "/v1/pledges/p-early/amend", "tok-olu", "", map[string]any{"due_on": "2099-12-31", "reason": "kept\n", "amended_on": "2018-01-01"})

	for _, path := range []string{
		"/v1/funds/mdfm/balance?term=" + term,
		"/v1/reports/trial-balance",
		"/v1/reports/budget?term=" + term,
		"/v1/reports/focus?term=" + term,
		"/v1/pledges?term=" + term,
		"/v1/donors/d-odd/statement?term=" + term + "&format=json",
		"/v1/donors/d-odd/statement?term=" + term + "&format=csv",
		"/v1/donors/d-odd/statement?term=" + term + "&format=html",
		"/v1/donors/d-odd/statement?term=" + term + "&format=pdf",
		"/v1/donors/d-usd/statement?term=" + term,
	} {
		d.get(t, path, "tok-kim", nil)
	}
	xmllint(t, "iati-activities-schema.xsd", d.get(t, "/v1/iati/activities.xml", "tok-kim", nil).body)
	xmllint(t, "iati-activities-schema.xsd", d.get(t, "/v1/iati/activities.xml?term="+term, "tok-kim", nil).body)
	xmllint(t, "iati-organisations-schema.xsd", d.get(t, "/v1/iati/organisation.xml", "tok-kim", nil).body)
}

// TestReportsTakeTheWholeDateWindow opens terms over every year of the
// date window and checks that the IATI files, whose organisation file
// gives one budget per year, still answer and validate.
func TestReportsTakeTheWholeDateWindow(t *testing.T) {
	d := startScenarioDaemon(t)
	for y := 2000; y < 2100; y += 10 {
		d.post(t, 201, "/v1/terms", "tok-ana", "", map[string]any{
			"id": fmt.Sprintf("T%d", y), "starts_on": fmt.Sprintf("%d-01-01", y), "ends_on": fmt.Sprintf("%d-12-31", y+9),
			"target": usdMoney("1000000.00"), "fee_rate": "0.01"})
	}
	d.post(t, 422, "/v1/terms", "tok-ana", "", map[string]any{
		"id": "T2100", "starts_on": "2100-01-01", "ends_on": "2100-12-31", "target": usdMoney("1.00"), "fee_rate": "0"})
	xmllint(t, "iati-organisations-schema.xsd", d.get(t, "/v1/iati/organisation.xml?as_of=2099-12-31", "tok-kim", nil).body)
	xmllint(t, "iati-activities-schema.xsd", d.get(t, "/v1/iati/activities.xml?as_of=2099-12-31", "tok-kim", nil).body)
}
