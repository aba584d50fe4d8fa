package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testwait"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// TestAmendDonorOverHTTP amends a donor's name through a real ledgerd: the
// amendment is an event of its own, idempotent by key, not reversible; the
// statement and the IATI file name the donor as of their as_of, and as
// known at their at_seq; verify passes.
func TestAmendDonorOverHTTP(t *testing.T) {
	d := startScenarioDaemon(t)
	setUpScenario(t, d)
	const oldName, newName = "Donor country (test)", "Federal Republic of Germany"
	before := d.streamLastSeq(t)

	body := `{"name":"` + newName + `","reason":"official name","amended_on":"2021-06-01"}`
	a := d.post(t, 201, "/v1/donors/d-eur/amend", "tok-olu", "amend-d-eur", body)
	refs := refsOf(t, a)
	if len(refs) != 1 || refs[0].Type != events.TypeDonorAmended {
		t.Fatalf("amend: %s, want one donor_amended", a)
	}
	amendSeq := refs[0].FundSeq
	if again := d.post(t, 200, "/v1/donors/d-eur/amend", "tok-olu", "amend-d-eur", body); !bytes.Equal(again.body, a.body) {
		t.Errorf("the same key and body again: %s, want %s", again, a)
	}
	lines := d.eventLines(t, fmt.Sprintf("?after=%d", amendSeq-1), "tok-kim")
	if len(lines) != 1 || !bytes.Contains(lines[0], []byte(`"data":{"donor_id":"d-eur","name":"`+newName+`","reason":"official name"}`)) {
		t.Errorf("the stored amendment: %s", lines)
	}

	for _, tc := range []struct {
		query string
		want  string
	}{
		{"as_of=2021-05-31", oldName},
		{"as_of=2021-06-01", newName},
		{"as_of=2021-12-31", newName},
		{fmt.Sprintf("as_of=2021-12-31&at_seq=%d", amendSeq-1), oldName}, // not known yet
	} {
		var st statement.Statement
		d.get(t, "/v1/donors/d-eur/statement?term=2020-2021&"+tc.query, "tok-kim", &st)
		if st.Donor.Name != tc.want {
			t.Errorf("statement %s: donor %q, want %q", tc.query, st.Donor.Name, tc.want)
		}
		doc := d.get(t, "/v1/iati/activities.xml?term=2020-2021&"+tc.query, "tok-kim", nil).body
		for _, name := range []string{oldName, newName} {
			if got, want := bytes.Contains(doc, []byte(name)), name == tc.want; got != want {
				t.Errorf("iati %s: holds %q %v, want %v", tc.query, name, got, want)
			}
		}
		if tc.want == newName {
			xmllint(t, "iati-activities-schema.xsd", doc)
		}
	}

	// An amendment moves no money and is mended by another, not reversed.
	seq := d.streamLastSeq(t)
	r := d.post(t, 409, "/v1/reversals", "tok-olu", "", map[string]any{"id": "rv-1", "event_id": refs[0].ID, "reason": "r"})
	if code, field := r.errorOf(t); code != "not_reversible" || field != "event_id" {
		t.Errorf("reversal of an amendment: %s", r)
	}
	if after := d.streamLastSeq(t); after != seq || after != before+1 {
		t.Errorf("stream at %d after the refused reversal, want %d (one event after %d)", after, seq, before)
	}
	d.post(t, 201, "/v1/donors/d-eur/amend", "tok-olu", "", `{"name":"`+oldName+`","reason":"the old name was right","amended_on":"2021-12-31"}`)
	var st statement.Statement
	d.get(t, "/v1/donors/d-eur/statement?term=2020-2021&as_of=2021-12-31", "tok-kim", &st)
	if st.Donor.Name != oldName {
		t.Errorf("after the second amendment: %q, want %q", st.Donor.Name, oldName)
	}

	var rep audit.VerifyReport
	d.get(t, "/v1/audit/verify", "tok-kim", &rep)
	if !rep.OK {
		t.Errorf("verify: %+v", rep)
	}
}

// TestStatementsWarmedOverHTTP: a real ledgerd computes statements'
// attributions while nobody waits (httpapi.Server.KeepStatementsWarm).
// Restarted with no statement asked yet, it computes the latest term's as
// of today (donors.Memo.ExpectLatestTerm) before it answers on its port,
// and the first statement finds it; once the read model has been quiet for a moment after an event, it
// computes again the term and date last asked for, and the next statement
// finds that. The metrics count each attribution warmed, then found, and
// never computed by a statement; the statement shows the new receipt.
func TestStatementsWarmedOverHTTP(t *testing.T) {
	data, tokens := t.TempDir(), writeTestTokens(t)
	first, err := launchDaemon(t.Context(), fixedNow, "--data", data, "--tokens", tokens)
	if err != nil {
		t.Fatal(err)
	}
	setUpScenario(t, first)
	if err := first.m.Close(); err != nil {
		t.Fatal(err)
	}
	// Nothing is appended from here until the receipt below: each warm-up
	// is at the head the statements read.
	d := startDaemon(t, fixedNow, "--data", data, "--tokens", tokens)
	const path = "/v1/donors/d-usd/statement?term=2020-2021&as_of=2021-12-31" // fixedNow's date
	count := func(source string) int {
		m := regexp.MustCompile(`(?m)^mdfm_statement_attributions_total\{source="` + source + `"\} ([0-9]+)$`).
			FindSubmatch(d.get(t, "/metrics", "tok-kim", nil).body)
		if m == nil {
			t.Fatalf("no %s count in the metrics", source)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	counts := func() [3]int { return [3]int{count("warmed"), count("memo"), count("computed")} }
	// Warmed before the port answered: the latest term as of today.
	if got := count("warmed"); got != 1 {
		t.Fatalf("%d attributions warmed before the first request, want 1", got)
	}
	var st statement.Statement
	d.get(t, path, "tok-kim", &st)
	if got := counts(); st.Received.TotalUSD != "20000.00" || got != [3]int{1, 1, 0} {
		t.Fatalf("first statement after the start: received %s; attributions warmed, found, computed %v, want [1 1 0]", st.Received.TotalUSD, got)
	}
	d.post(t, 201, "/v1/contributions", "tok-olu", "", map[string]any{
		"id": "r-usd-2", "donor_id": "d-usd", "term_id": "2020-2021", "amount": usdMoney("500.00"),
		"received_on": "2021-06-01", "bank_ref": "USD-2"})
	testwait.For(t, 10*time.Second, "the attribution warmed after the receipt", func() bool { return count("warmed") == 2 })
	d.get(t, path, "tok-kim", &st)
	if st.Received.TotalUSD != "20500.00" {
		t.Errorf("after the receipt: received %s, want 20500.00", st.Received.TotalUSD)
	}
	if got := counts(); got != [3]int{2, 2, 0} {
		t.Errorf("the statement after the warm-up: attributions warmed, found, computed %v, want [2 2 0]", got)
	}
}
