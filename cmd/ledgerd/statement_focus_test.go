package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/httpapi"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// pdfToText extracts a PDF's text with pdftotext -layout; a machine without
// it fails: reading the PDF back is the point.
func pdfToText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext not found: install poppler-utils (scripts/test.sh does)")
	}
	path := filepath.Join(t.TempDir(), "statement.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// addDonorToken gives the running daemon the token tok-lena of user lena,
// role donor:il-country (the illustrative donor country).
func addDonorToken(t *testing.T, d *daemon) {
	t.Helper()
	role, err := access.ParseRole("donor:il-country")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.m.tokens.AddLine(access.TokenLine("lena", role, "tok-lena")); err != nil {
		t.Fatal(err)
	}
}

// TestReportsStatement serves the donor statement of the illustrative
// history at three dates — before the first event (refused with
// no_data_as_of, never an empty statement), in the first term, after its
// close — in JSON, CSV, HTML and PDF against golden files (the PDF by its
// text, pdftotext), with its Content-Type, stamp and PDF file name; the
// PDF's pages each carry the chain head; the statements of all donors add
// up to the term's spending, fees, interest and refunds; who may read
// which statement; that asking again at the stamped fund_seq after a
// back-dated reversal gives the same statement; and that a donor's
// statement is refused as of a date before it was registered and had any
// entry.
func TestReportsStatement(t *testing.T) {
	d, res := startIllustrativeDaemon(t)
	addDonorToken(t, d)
	seq, head := d.head(t)
	const term = "2020-2021"
	for _, asOf := range illustrativeDates {
		for _, format := range []string{"json", "csv", "html", "pdf"} {
			path := fmt.Sprintf("/v1/donors/il-country/statement?term=%s&as_of=%s&format=%s", term, asOf, format)
			a := d.do(t, request{method: "GET", path: path, token: "tok-kim"})
			name := fmt.Sprintf("statement-il-country-%s-%s.golden", term, asOf)
			if asOf == illustrativeDates[0] {
				if code, field := a.errorOf(t); a.status != http.StatusUnprocessableEntity || code != projections.CodeNoDataAsOf || field != "as_of" {
					t.Errorf("GET %s: %s, want 422 %s", path, a, projections.CodeNoDataAsOf)
				}
				if format == "json" {
					checkGolden(t, name+".json", indented(t, a))
				}
				continue
			}
			if a.status != http.StatusOK {
				t.Fatalf("GET %s: %s", path, a)
			}
			want := map[string]string{"json": "application/json", "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}[format]
			if ct := a.header.Get("Content-Type"); ct != want {
				t.Errorf("GET %s: Content-Type %q, want %q", path, ct, want)
			}
			if a.header.Get("X-Fund-Seq") != fmt.Sprint(seq) || a.header.Get("X-Chain-Head") != head || a.header.Get("X-As-Of") != asOf {
				t.Errorf("GET %s: stamp headers %v", path, a.header)
			}
			switch format {
			case "json":
				var st statement.Statement
				if err := json.Unmarshal(a.body, &st); err != nil {
					t.Fatal(err)
				}
				if st.FundSeq != seq || st.ChainHead != head || !st.Illustrative || st.AsOf != asOf {
					t.Errorf("GET %s: stamp fund_seq %d chain head %s illustrative %v", path, st.FundSeq, st.ChainHead, st.Illustrative)
				}
				checkGolden(t, name+".json", a.body)
			case "csv", "html":
				checkGolden(t, name+"."+format, a.body)
			case "pdf":
				if cd := a.header.Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename="mdfm-statement-il-country-%s-%s.pdf"`, term, asOf) {
					t.Errorf("GET %s: Content-Disposition %q", path, cd)
				}
				if !bytes.HasPrefix(a.body, []byte("%PDF-")) {
					t.Fatalf("GET %s: not a PDF", path)
				}
				text := pdfToText(t, a.body)
				checkGolden(t, name+".pdf.txt", []byte(text))
				pages := strings.Split(strings.TrimRight(text, "\f\n "), "\f")
				for i, p := range pages {
					if !strings.Contains(p, head) || !strings.Contains(p, fmt.Sprintf("Page %d of %d", i+1, len(pages))) {
						t.Errorf("GET %s: page %d lacks the chain head or its number", path, i+1)
					}
				}
				if !strings.Contains(text, "165,000.00") {
					t.Errorf("GET %s: the total received, 165,000.00, is not in the text", path)
				}
				// The same question gives the same bytes.
				if again := d.get(t, path, "tok-kim", nil).body; !bytes.Equal(again, a.body) {
					t.Errorf("GET %s twice: two different PDFs", path)
				}
			}
		}
	}
	// An earmarked donor, and the next term's receipts carried over.
	for _, c := range []struct{ donor, term string }{{"il-foundation", term}, {"il-city", "2022-2023"}} {
		path := fmt.Sprintf("/v1/donors/%s/statement?term=%s&as_of=2022-03-31", c.donor, c.term)
		checkGolden(t, fmt.Sprintf("statement-%s-%s-2022-03-31.golden.json", c.donor, c.term), d.get(t, path, "tok-kim", nil).body)
	}

	// The statements of all the donors add up to the term's figures.
	for _, asOf := range illustrativeDates[1:] {
		var b projections.Balance
		d.get(t, "/v1/funds/mdfm/balance?term="+term+"&as_of="+asOf, "tok-kim", &b)
		var focus projections.FocusReport
		d.get(t, "/v1/reports/focus?term="+term+"&as_of="+asOf, "tok-kim", &focus)
		var spent, fees, interest, refunded int64
		for _, donor := range []string{"il-city", "il-country", "il-foundation"} {
			var st statement.Statement
			d.get(t, fmt.Sprintf("/v1/donors/%s/statement?term=%s&as_of=%s", donor, term, asOf), "tok-kim", &st)
			spent += cents(t, st.PaidFor.TotalUSD)
			fees += cents(t, st.Received.FeesUSD)
			interest += cents(t, st.Share.InterestUSD)
			refunded += cents(t, st.Refunds.TotalUSD)
		}
		if got, want := [4]int64{spent, fees, interest, refunded}, [4]int64{cents(t, b.Spent), cents(t, b.Fees), cents(t, b.Interest), cents(t, b.Refunded)}; got != want ||
			cents(t, focus.Totals.Spent) != spent {
			t.Errorf("as of %s the statements add up to spent, fees, interest, refunded %v; the balance says %v, the focus report spent %s", asOf, got, want, focus.Totals.Spent)
		}
	}

	// Who may read which statement.
	own := "/v1/donors/il-country/statement?term=" + term + "&as_of=2022-03-31"
	for _, token := range []string{"tok-lena", "tok-olu", "tok-ana", "tok-admin"} {
		d.get(t, own, token, nil)
	}
	// A page past the donor's receipts (fewer than a page) lists none and
	// adds them all up; the totals stay those of the first page.
	var page0, page1 statement.Statement
	for _, c := range []struct {
		page string
		st   *statement.Statement
	}{{"", &page0}, {"&receipts_page=1", &page1}} {
		if err := json.Unmarshal(d.get(t, own+c.page, "tok-kim", nil).body, c.st); err != nil {
			t.Fatal(err)
		}
	}
	u := page1.Received.Unlisted
	if page0.Received.Unlisted != nil || len(page0.Received.Receipts) == 0 || len(page1.Received.Receipts) != 0 || u == nil ||
		*u != (statement.Unlisted{Count: int64(len(page0.Received.Receipts)), USD: page0.Received.TotalUSD, FeeUSD: page0.Received.FeesUSD, Page: 1, Pages: 1}) ||
		page1.Received.TotalUSD != page0.Received.TotalUSD || page1.Balance != page0.Balance {
		t.Errorf("receipts_page=1: receipts %v, unlisted %+v; page 0: %d receipts, total %s, fees %s", page1.Received.Receipts, u,
			len(page0.Received.Receipts), page0.Received.TotalUSD, page0.Received.FeesUSD)
	}
	for _, c := range []struct {
		path, token string
		status      int
		code        string
	}{
		{"/v1/donors/il-city/statement?term=" + term, "tok-lena", http.StatusForbidden, httpapi.CodeForbidden},
		{own, "tok-dana", http.StatusForbidden, httpapi.CodeForbidden},
		{own + "&format=xml", "tok-kim", http.StatusBadRequest, httpapi.CodeInvalidQuery},
		{own + "&receipts_page=-1", "tok-kim", http.StatusBadRequest, httpapi.CodeInvalidQuery},
		{"/v1/donors/il-country/statement?as_of=2021-02-30", "tok-kim", http.StatusUnprocessableEntity, domain.CodeInvalidDate},
		{"/v1/donors/il-nobody/statement?term=" + term, "tok-kim", http.StatusNotFound, domain.CodeUnknownDonor},
		{"/v1/donors/il-country/statement?term=1999-2000", "tok-kim", http.StatusNotFound, domain.CodeUnknownTerm},
		{own + "&at_seq=1000000", "tok-kim", http.StatusUnprocessableEntity, projections.CodeInvalidAtSeq},
		{"/v1/donors/il-country/statement", "", http.StatusUnauthorized, httpapi.CodeUnauthorized},
	} {
		a := d.do(t, request{method: "GET", path: c.path, token: c.token})
		if code, _ := a.errorOf(t); a.status != c.status || code != c.code {
			t.Errorf("GET %s as %s: %s, want %d %s", c.path, c.token, a, c.status, c.code)
		}
	}

	// The ledger moves on with a back-dated reversal; asked at the stamped
	// fund_seq the statement comes out as before, but for its at_seq.
	path := "/v1/donors/il-country/statement?term=" + term + "&as_of=2020-12-31"
	before := d.get(t, path, "tok-kim", nil).body
	reverseLate(t, d, res)
	if now := d.get(t, path, "tok-kim", nil).body; bytes.Equal(now, before) {
		t.Errorf("the statement as of 2020-12-31 did not change when il-x-2 of 2020-11-20 was reversed")
	}
	var again statement.Statement
	d.get(t, fmt.Sprintf("%s&at_seq=%d", path, seq), "tok-kim", &again)
	if again.AtSeq != seq || again.FundSeq != seq {
		t.Errorf("at_seq=%d: statement at_seq %d fund_seq %d", seq, again.AtSeq, again.FundSeq)
	}
	again.AtSeq = 0
	b, err := json.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	var first statement.Statement
	if err := json.Unmarshal(before, &first); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(first)
	if !bytes.Equal(a, b) {
		t.Errorf("at_seq=%d gives another statement:\n%s\nwant\n%s", seq, b, a)
	}

	// A donor registered today with nothing recorded before: its statement
	// as of yesterday is refused, as of today it is all zeros.
	d.post(t, http.StatusCreated, "/v1/donors", "tok-olu", "", map[string]any{"id": "il-late", "name": "ILLUSTRATIVE Late Donor", "kind": "company", "country": "FR"})
	late := "/v1/donors/il-late/statement?term=2022-2023&as_of="
	if a := d.do(t, request{method: "GET", path: late + "2022-03-30", token: "tok-kim"}); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.String(), projections.CodeNoDataAsOf) {
		t.Errorf("a statement as of the day before the donor was registered: %s", a)
	}
	var zero statement.Statement
	if d.get(t, late+"2022-03-31", "tok-kim", &zero); zero.Balance.UnspentUSD != "0.00" || zero.PaidFor.TotalUSD != "0.00" || len(zero.Received.Receipts) != 0 {
		t.Errorf("the statement of a donor with nothing recorded: %+v", zero)
	}
}

// TestReportsFocus serves the focus report of the illustrative history at
// three dates (refused before the first event) against golden files, and
// checks its stamp, that its lines, clusters and unclustered lines add up
// to its totals, its totals worked out by hand, that asking again at the
// stamped fund_seq after a back-dated reversal gives the same report, and
// who may read it.
func TestReportsFocus(t *testing.T) {
	d, res := startIllustrativeDaemon(t)
	addDonorToken(t, d)
	seq, head := d.head(t)
	for _, asOf := range illustrativeDates {
		for _, term := range []string{"2020-2021", "2022-2023"} {
			path := "/v1/reports/focus?term=" + term + "&as_of=" + asOf
			a := d.do(t, request{method: "GET", path: path, token: "tok-kim"})
			name := fmt.Sprintf("focus-%s-%s.golden.json", term, asOf)
			// Before the term's first event: refused.
			if asOf < term[:4]+"-01-01" {
				checkGolden(t, name, indented(t, a))
				if code, field := a.errorOf(t); a.status != http.StatusUnprocessableEntity || code != projections.CodeNoDataAsOf || field != "as_of" {
					t.Errorf("GET %s: %s, want 422 %s", path, a, projections.CodeNoDataAsOf)
				}
				continue
			}
			if a.status != http.StatusOK {
				t.Fatalf("GET %s: %s", path, a)
			}
			checkGolden(t, name, indented(t, a))
			checkStamp(t, path, a, seq, head)
			var rep projections.FocusReport
			if err := json.Unmarshal(a.body, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.IncomeGroupFY != "FY2026" || !strings.Contains(rep.Classification, "World Bank") {
				t.Errorf("GET %s: classification %s %q", path, rep.IncomeGroupFY, rep.Classification)
			}
			var lines, groups [4]int64
			add := func(to *[4]int64, f projections.FocusFigures) {
				to[0] += cents(t, f.Spent)
				to[1] += cents(t, f.Africa)
				to[2] += cents(t, f.LowIncome)
				to[3] += cents(t, f.AfricaLowIncome)
			}
			for _, l := range rep.Lines {
				add(&lines, l.FocusFigures)
			}
			for _, c := range rep.Clusters {
				add(&groups, c.FocusFigures)
			}
			add(&groups, rep.Unclustered)
			var totals [4]int64
			add(&totals, rep.Totals)
			if lines != totals || groups != totals {
				t.Errorf("GET %s: lines add up to %v, clusters and unclustered to %v, totals %v", path, lines, groups, totals)
			}
		}
	}
	// As of 2022-03-31 the 2020–2021 term spent 74,130.00: ESD-2.1
	// 12,000.00 in South Africa, LIT-2.1 10,890.00 in Uganda (low income),
	// MDFM-1.1 22,500.00 + 7,500.00 in Germany, MDFM-1.2 21,240.00 in Kenya.
	// Africa 44,130.00 = 59.53 %; low income 10,890.00 = 14.69 %.
	path := "/v1/reports/focus?term=2020-2021&as_of=2022-03-31"
	var rep projections.FocusReport
	before := d.get(t, path, "tok-kim", &rep).body
	want := projections.FocusFigures{Spent: "74130.00", Africa: "44130.00", AfricaPct: strp("59.53"), LowIncome: "10890.00", LowIncomePct: strp("14.69"),
		AfricaLowIncome: "10890.00", AfricaLowIncomePct: strp("14.69"), NotClassified: "0.00"}
	if diff := cmp.Diff(want, rep.Totals); diff != "" {
		t.Errorf("focus totals (-want +got):\n%s", diff)
	}
	// Reversing il-x-2 (Kenya, 21,240.00) leaves Africa 22,890.00 of
	// 52,890.00 = 43.28 %; asked at the stamped fund_seq the report is as
	// before but for its at_seq.
	reverseLate(t, d, res)
	if d.get(t, path, "tok-kim", &rep); rep.Totals.Africa != "22890.00" || *rep.Totals.AfricaPct != "43.28" {
		t.Errorf("after il-x-2 was reversed: %+v", rep.Totals)
	}
	again := d.get(t, fmt.Sprintf("%s&at_seq=%d", path, seq), "tok-kim", nil).body
	again = bytes.Replace(again, []byte(fmt.Sprintf(`,"at_seq":%d`, seq)), nil, 1)
	if !bytes.Equal(again, before) {
		t.Errorf("at_seq=%d:\n%s\nwant\n%s", seq, again, before)
	}

	for _, token := range []string{"tok-olu", "tok-ana", "tok-admin"} {
		d.get(t, "/v1/reports/focus?as_of=2022-03-31", token, nil)
	}
	for _, c := range []struct {
		path, token string
		status      int
	}{
		{"/v1/reports/focus", "tok-lena", http.StatusForbidden},
		{"/v1/reports/focus?term=1999-2000", "tok-kim", http.StatusNotFound},
		{"/v1/reports/focus?as_of=2021-13-01", "tok-kim", http.StatusUnprocessableEntity},
		{"/v1/reports/focus?region=africa", "tok-kim", http.StatusBadRequest},
	} {
		if a := d.do(t, request{method: "GET", path: c.path, token: c.token}); a.status != c.status {
			t.Errorf("GET %s as %s: %s, want %d", c.path, c.token, a, c.status)
		}
	}
}

// cents parses a US dollar figure.
func cents(t *testing.T, s string) int64 {
	t.Helper()
	if s == "0.00" {
		return 0
	}
	n, err := money.ParseMinor(s, money.USD)
	if err != nil {
		t.Fatalf("figure %q: %v", s, err)
	}
	return n
}

func strp(s string) *string { return &s }
