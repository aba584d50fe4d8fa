package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/internal/golden"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// checkGolden compares got with testdata/reports/name, or rewrites it with
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "reports", name), got)
}

// startIllustrativeDaemon runs ledgerd in process on the illustrative
// history's clock with pinned event ids, writes ledgertest.Illustrative
// through its writer and returns it with the history's results: every byte
// it answers is stable.
func startIllustrativeDaemon(t *testing.T) (*daemon, map[string]ledger.Result) {
	t.Helper()
	d := &daemon{m: NewMain(), stdout: &syncBuffer{}, logs: &syncBuffer{}}
	d.m.Stdout, d.m.Stderr = d.stdout, d.logs
	d.m.Now, d.m.NewEventID = ledgertest.IllustrativeNow, ledgertest.SequentialEventIDs()
	if err := d.m.ParseFlags([]string{"--http", "127.0.0.1:0", "--data", t.TempDir(), "--tokens", writeTestTokens(t)}); err != nil {
		t.Fatal(err)
	}
	if err := d.m.Run(t.Context()); err != nil {
		d.m.Close()
		t.Fatalf("run: %v\n%s", err, d.logs)
	}
	t.Cleanup(func() {
		if err := d.m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("ledgerd log:\n%s", d.logs)
		}
	})
	d.url = d.m.URL()
	return d, ledgertest.Illustrative(t, d.m.writer)
}

// reverseLate reverses the illustrative expenditure il-x-2 of 2020-11-20,
// in the closed 2020–2021 term, as the approver: a back-dated change to
// every report of that term as of its dates.
func reverseLate(t *testing.T, d *daemon, res map[string]ledger.Result) {
	t.Helper()
	d.post(t, http.StatusCreated, "/v1/reversals", "tok-ana", "late-rv", map[string]any{"id": "late-rv",
		"event_id": res["il-x-2"].Events[0].ID, "reason": "ILLUSTRATIVE: the venue refunded the workshop"})
}

// illustrativeDates are the three dates every report is asked at: before
// the first event (refused), in the first term, and on the clock's day,
// after the first term's close.
var illustrativeDates = []string{"2019-12-31", "2020-12-31", "2022-03-31"}

// indented returns a JSON answer indented, for golden files a person can
// read; the served bytes are compact.
func indented(t *testing.T, a answer) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, a.body, "", "  "); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	return b.Bytes()
}

// reportStamp is what every JSON report stamps.
type reportStamp struct {
	Fund      string `json:"fund"`
	AsOf      string `json:"as_of"`
	AtSeq     uint64 `json:"at_seq"`
	DateAxis  string `json:"date_axis"`
	FundSeq   uint64 `json:"fund_seq"`
	ChainHead string `json:"chain_head"`
}

// head returns the fund's last fund_seq and hash from the audit log.
func (d *daemon) head(t *testing.T) (uint64, string) {
	t.Helper()
	lines := d.eventLines(t, "?limit=10000", "tok-kim")
	var e struct {
		FundSeq uint64 `json:"fund_seq"`
		Hash    string `json:"hash"`
	}
	if err := json.Unmarshal(lines[len(lines)-1], &e); err != nil {
		t.Fatal(err)
	}
	return e.FundSeq, e.Hash
}

// checkStamp checks the stamp of a JSON report: the fund's fund_seq and
// chain head, and the date axis.
func checkStamp(t *testing.T, path string, a answer, seq uint64, head string) reportStamp {
	t.Helper()
	var st reportStamp
	if err := json.Unmarshal(a.body, &st); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if st.FundSeq != seq || st.ChainHead != head || st.DateAxis != projections.DateAxisEffective || st.Fund != "mdfm" {
		t.Errorf("%s: stamp %+v, want fund_seq %d chain head %s axis %s", path, st, seq, head, projections.DateAxisEffective)
	}
	return st
}

// TestReportsBudgetAndTrialBalance asks the budget report and the trial
// balance of the illustrative history at three dates, the first before any
// event (refused with no_data_as_of), against golden files; checks their
// stamps, that asking again at_seq the stamped fund_seq after the ledger
// moved on gives the same figures, that the trial balance's debits equal
// its credits, and who may read them.
func TestReportsBudgetAndTrialBalance(t *testing.T) {
	d, res := startIllustrativeDaemon(t)
	seq, head := d.head(t)
	for _, asOf := range illustrativeDates {
		for _, rep := range []struct{ name, path string }{
			{"budget", "/v1/reports/budget?term=2020-2021&as_of=" + asOf},
			{"trial-balance", "/v1/reports/trial-balance?as_of=" + asOf},
		} {
			a := d.do(t, request{method: "GET", path: rep.path, token: "tok-kim"})
			checkGolden(t, fmt.Sprintf("%s-%s.golden.json", rep.name, asOf), indented(t, a))
			if asOf == illustrativeDates[0] {
				if code, field := a.errorOf(t); a.status != http.StatusUnprocessableEntity || code != projections.CodeNoDataAsOf || field != "as_of" {
					t.Errorf("GET %s: %s, want 422 %s", rep.path, a, projections.CodeNoDataAsOf)
				}
				continue
			}
			if a.status != http.StatusOK {
				t.Fatalf("GET %s: %s", rep.path, a)
			}
			checkStamp(t, rep.path, a, seq, head)
			if rep.name == "trial-balance" {
				checkTrialBalance(t, rep.path, a.body)
			}
		}
	}
	for _, token := range []string{"tok-olu", "tok-ana"} {
		d.get(t, "/v1/reports/budget?as_of=2022-03-31", token, nil)
	}
	if a := d.do(t, request{method: "GET", path: "/v1/reports/budget", token: "tok-dana"}); a.status != http.StatusForbidden {
		t.Errorf("a donor reads the budget report: %s", a)
	}
	if a := d.do(t, request{method: "GET", path: "/v1/reports/budget?term=1999-2000", token: "tok-kim"}); a.status != http.StatusNotFound {
		t.Errorf("unknown term: %s", a)
	}
	if a := d.do(t, request{method: "GET", path: "/v1/reports/budget?as_of=2021-02-30", token: "tok-kim"}); a.status != http.StatusUnprocessableEntity {
		t.Errorf("bad date: %s", a)
	}
	if a := d.do(t, request{method: "GET", path: "/v1/reports/budget?asof=2021-01-01", token: "tok-kim"}); a.status != http.StatusBadRequest {
		t.Errorf("misspelt parameter: %s", a)
	}

	// The ledger moves on with a back-dated reversal; asked at the stamped
	// fund_seq the reports come out as before.
	before := map[string][]byte{}
	paths := []string{"/v1/reports/budget?term=2020-2021&as_of=2020-12-31", "/v1/reports/trial-balance?as_of=2020-12-31"}
	for _, p := range paths {
		before[p] = d.get(t, p, "tok-kim", nil).body
	}
	reverseLate(t, d, res)
	var moved struct {
		Totals projections.BudgetFigures `json:"totals"`
	}
	if d.get(t, paths[0], "tok-kim", &moved); moved.Totals.Spent != "22500.00" {
		t.Errorf("spent as of 2020-12-31 after il-x-2 was reversed: %s, want 22500.00", moved.Totals.Spent)
	}
	for _, p := range paths {
		again := d.get(t, fmt.Sprintf("%s&at_seq=%d", p, seq), "tok-kim", nil).body
		again = bytes.Replace(again, []byte(fmt.Sprintf(`,"at_seq":%d`, seq)), nil, 1)
		if !bytes.Equal(again, before[p]) {
			t.Errorf("%s at_seq=%d:\n%s\nwant\n%s", p, seq, again, before[p])
		}
	}
}

// checkTrialBalance checks that the accounts' debits and credits add up to
// the totals, which are equal.
func checkTrialBalance(t *testing.T, path string, body []byte) {
	t.Helper()
	var tb projections.TrialBalanceReport
	if err := json.Unmarshal(body, &tb); err != nil {
		t.Fatal(err)
	}
	minor := func(s string) int64 {
		n, err := money.ParseMinor(s, money.USD)
		if err != nil && s != "0.00" {
			t.Fatalf("%s: amount %q: %v", path, s, err)
		}
		return n
	}
	var dr, cr, bal int64
	for _, a := range tb.Accounts {
		dr += minor(a.Debit)
		cr += minor(a.Credit)
		b := a.Balance
		if strings.HasPrefix(b, "-") {
			bal -= minor(b[1:])
		} else {
			bal += minor(b)
		}
	}
	if tb.TotalDebit != tb.TotalCredit || money.FormatUSD(dr) != tb.TotalDebit || money.FormatUSD(cr) != tb.TotalCredit || bal != 0 || len(tb.Accounts) == 0 {
		t.Errorf("%s: %d accounts, debits %d credits %d balances %d; totals %s %s", path, len(tb.Accounts), dr, cr, bal, tb.TotalDebit, tb.TotalCredit)
	}
}

// xmllint validates doc against a schema of iati/testdata/iati-2.03. A
// machine without xmllint fails: the schema check is the point.
func xmllint(t fatalT, schema string, doc []byte) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint not found: install libxml2-utils (scripts/test.sh does)")
	}
	f, err := os.CreateTemp("", "iati-*.xml")
	if err != nil {
		t.Fatal(err)
	}
	file := f.Name()
	defer os.Remove(file)
	_, err = f.Write(doc)
	if err = errors.Join(err, f.Close()); err != nil {
		t.Fatal(err)
	}
	// --nonet: the schemas are all local; never fetch from the network.
	out, err := exec.Command(bin, "--nonet", "--noout", "--schema", filepath.Join("..", "..", "iati", "testdata", "iati-2.03", schema), file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "validates") {
		t.Fatalf("xmllint --schema %s: %v\n%s\n--- document:\n%s", schema, err, out, doc)
	}
}

// iatiFile is what the tests read back from an activity file.
type iatiFile struct {
	Activities []struct {
		Identifier   string `xml:"iati-identifier"`
		Transactions []struct {
			Ref  string `xml:"ref,attr"`
			Type struct {
				Code string `xml:"code,attr"`
			} `xml:"transaction-type"`
			Value struct {
				Currency  string `xml:"currency,attr"`
				ValueDate string `xml:"value-date,attr"`
			} `xml:"value"`
			Date struct {
				ISODate string `xml:"iso-date,attr"`
			} `xml:"transaction-date"`
		} `xml:"transaction"`
	} `xml:"iati-activity"`
}

var stampComment = regexp.MustCompile(`(?m)^<!-- mdfm-ledger .* -->\n`)

// TestReportsIATI serves the IATI activity file of the illustrative history
// at three dates (refused before the first event) and the organisation
// file, against golden files; validates every file with xmllint against
// the IATI 2.03 schemas; and checks that the file holds every receipt and
// expenditure of the history that stands, by ref, and none that was
// reversed.
func TestReportsIATI(t *testing.T) {
	d, res := startIllustrativeDaemon(t)
	seq, head := d.head(t)
	for _, asOf := range illustrativeDates {
		for _, rep := range []struct{ name, path, schema string }{
			{"iati-activities-2020-2021", "/v1/iati/activities.xml?term=2020-2021&as_of=" + asOf, "iati-activities-schema.xsd"},
			{"iati-activities", "/v1/iati/activities.xml?as_of=" + asOf, "iati-activities-schema.xsd"},
			{"iati-organisation", "/v1/iati/organisation.xml?as_of=" + asOf, "iati-organisations-schema.xsd"},
		} {
			a := d.do(t, request{method: "GET", path: rep.path, token: "tok-kim"})
			if asOf == illustrativeDates[0] {
				checkGolden(t, fmt.Sprintf("%s-%s.golden.json", rep.name, asOf), indented(t, a))
				if code, _ := a.errorOf(t); a.status != http.StatusUnprocessableEntity || code != projections.CodeNoDataAsOf {
					t.Errorf("GET %s: %s, want 422 %s", rep.path, a, projections.CodeNoDataAsOf)
				}
				continue
			}
			if a.status != http.StatusOK {
				t.Fatalf("GET %s: %s", rep.path, a)
			}
			checkGolden(t, fmt.Sprintf("%s-%s.golden.xml", rep.name, asOf), a.body)
			if ct := a.header.Get("Content-Type"); ct != "application/xml" {
				t.Errorf("GET %s: Content-Type %q", rep.path, ct)
			}
			if a.header.Get("X-Fund-Seq") != fmt.Sprint(seq) || a.header.Get("X-Chain-Head") != head || a.header.Get("X-Date-Axis") != projections.DateAxisEffective {
				t.Errorf("GET %s: stamp headers %v", rep.path, a.header)
			}
			if !bytes.Contains(a.body, []byte(fmt.Sprintf("fund_seq=%d chain_head=%s -->", seq, head))) {
				t.Errorf("GET %s: the file does not name fund_seq %d and chain head %s", rep.path, seq, head)
			}
			xmllint(t, rep.schema, a.body)
		}
	}

	// Every receipt and expenditure of the history is in the file by ref,
	// with its own transaction type, unless it was reversed.
	a := d.get(t, "/v1/iati/activities.xml?as_of=2022-03-31", "tok-kim", nil)
	var f iatiFile
	if err := xml.Unmarshal(a.body, &f); err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, act := range f.Activities {
		for _, x := range act.Transactions {
			if _, twice := types[x.Ref]; twice {
				t.Errorf("transaction %s twice", x.Ref)
			}
			types[x.Ref] = x.Type.Code
			if x.Value.ValueDate != x.Date.ISODate {
				t.Errorf("transaction %s: value date %s, transaction date %s", x.Ref, x.Value.ValueDate, x.Date.ISODate)
			}
		}
	}
	reversed := []string{ledgertest.IllustrativeReversedReceipt, ledgertest.IllustrativeReversedExpenditure}
	for _, list := range []struct {
		refs []string
		code string
	}{{ledgertest.IllustrativeReceipts, "1"}, {ledgertest.IllustrativeExpenditures, "4"}} {
		for _, ref := range list.refs {
			got, ok := types[ref]
			switch {
			case slices.Contains(reversed, ref) && ok:
				t.Errorf("reversed %s is in the file", ref)
			case !slices.Contains(reversed, ref) && got != list.code:
				t.Errorf("%s: transaction type %q, want %s", ref, got, list.code)
			}
		}
	}
	for _, ref := range []string{"il-pl-city", "il-pl-country", "il-pl-foundation", "il-pl-city-2"} {
		if types[ref] != "11" {
			t.Errorf("pledge %s: transaction type %q, want 11", ref, types[ref])
		}
	}
	if n := len(f.Activities); n != 2 {
		t.Errorf("%d activities without a term, want 2", n)
	}

	// Asked again at the stamped fund_seq after the ledger moved on: the
	// same file but for the stamp's at_seq.
	reverseLate(t, d, res)
	now := d.get(t, "/v1/iati/activities.xml?as_of=2022-03-31", "tok-kim", nil).body
	if bytes.Contains(now, []byte(`ref="il-x-2"`)) {
		t.Errorf("il-x-2, reversed since, is still in the file")
	}
	again := d.get(t, fmt.Sprintf("/v1/iati/activities.xml?as_of=2022-03-31&at_seq=%d", seq), "tok-kim", nil).body
	if !bytes.Equal(stampComment.ReplaceAll(again, nil), stampComment.ReplaceAll(a.body, nil)) {
		t.Errorf("at_seq=%d gives another file:\n%s", seq, again)
	}
	if a := d.do(t, request{method: "GET", path: "/v1/iati/organisation.xml?term=2020-2021", token: "tok-kim"}); a.status != http.StatusBadRequest {
		t.Errorf("organisation file with a term: %s", a)
	}
	if a := d.do(t, request{method: "GET", path: "/v1/iati/activities.xml", token: "tok-dana"}); a.status != http.StatusForbidden {
		t.Errorf("a donor reads the IATI file: %s", a)
	}
}

// TestReportsEventsExport checks that the audit log GET /v1/events serves
// of the illustrative history is, byte for byte, the export golden file of
// `projector export` (cmd/projector/testdata/export.golden.ndjson): the
// same stored bytes, whichever way they are read.
func TestReportsEventsExport(t *testing.T) {
	d, _ := startIllustrativeDaemon(t)
	a := d.get(t, "/v1/events?limit=10000", "tok-kim", nil)
	want, err := os.ReadFile(filepath.Join("..", "projector", "testdata", "export.golden.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(a.body)); diff != "" {
		t.Errorf("GET /v1/events differs from the projector's export golden file (-export +served):\n%s", diff)
	}
}
