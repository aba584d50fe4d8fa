package statement

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/internal/golden"
	"github.com/unesco-uil/mdfm-ledger/money"
)

var (
	docs = flag.Bool("docs", false, "write docs/statement-page1.png from the example statement")
)

const exampleHead = "3f9a1c7e5b2d4086a1f3c5e7092b4d6f8a0c2e4f6b8d0a2c4e6f8091b3d5f7a9"

// example is an illustrative statement: a member city that paid in euros and
// in dollars, with a pledge earmarked to MDFM-1.2, spending on fund-wide and
// cluster lines in Africa, Asia and the Pacific and Latin America, and one
// refund. Its figures agree: Validate passes.
func example() Statement {
	return Statement{
		Fund:  "mdfm",
		Term:  Term{ID: "2020-2021", StartsOn: "2020-01-01", EndsOn: "2021-12-31"},
		Donor: Donor{ID: "medellin", Name: "City of Medellín", Kind: "member_city", Country: "CO", City: "Medellín"},
		AsOf:  "2021-06-30", GeneratedAt: "2021-07-01T08:30:00Z",
		FundSeq: 42, ChainHead: exampleHead, Illustrative: true,
		Checkpoint: &Checkpoint{Origin: "uil.unesco.org/mdfm-ledger/mdfm", Size: 42, Root: "3kTmBShxmi7VPfJpTqB4AGhFOKRI1pe1D2Tt1c7VrbA=", KeyName: "uil.unesco.org/mdfm-ledger"},
		Pledged: Pledged{
			Pledges: []Pledge{
				{ID: "P-MED-2020-1", SignedOn: "2020-02-10", DueOn: "2020-06-30", Amount: Money{"50000.00", "EUR"}, USDRate: "1.10", USD: "55000.00", Status: "paid", Outstanding: Money{"0.00", "EUR"}, OutstandingUSD: "0.00"},
				{ID: "P-MED-2020-2", SignedOn: "2020-09-01", DueOn: "2021-03-31", Amount: Money{"40000.00", "USD"}, USD: "40000.00", Earmark: &Earmark{LineID: "MDFM-1.2"}, Status: "partly_paid", Outstanding: Money{"20000.00", "USD"}, OutstandingUSD: "20000.00"},
			},
			ByCurrency:     []CurrencyTotal{{"EUR", "50000.00", "55000.00"}, {"USD", "40000.00", "40000.00"}},
			TotalUSD:       "95000.00",
			OutstandingUSD: "20000.00",
		},
		Received: Received{
			Receipts: []Receipt{
				{ID: "R-MED-2020-1", ReceivedOn: "2020-05-15", Amount: Money{"50000.00", "EUR"}, USDRate: "1.10", USD: "55000.00", FeeUSD: "550.00", BankRef: "DEUTDEFF 2020-05-15 0042", PledgeID: "P-MED-2020-1"},
				{ID: "R-MED-2021-1", ReceivedOn: "2021-01-20", Amount: Money{"20000.00", "USD"}, USD: "20000.00", FeeUSD: "200.00", BankRef: "CITIUS33 210120-7781", PledgeID: "P-MED-2020-2"},
			},
			ByCurrency: []CurrencyTotal{{"EUR", "50000.00", "55000.00"}, {"USD", "20000.00", "20000.00"}},
			TotalUSD:   "75000.00",
			FeesUSD:    "750.00",
		},
		Share: Share{
			UnearmarkedUSD: "55000.00", TermUnearmarkedUSD: "220000.00", PoolPct: "25.00",
			TermFeesUSD: "3150.00", FeesPct: "23.81",
			InterestUSD: "300.00", TermInterestUSD: "1200.00", InterestPct: "25.00",
		},
		PaidFor: PaidFor{
			Lines: []LineUse{
				{LineID: "MDFM-1.1", Title: "Develop training modules on the thematic topics", EarmarkedUSD: "0.00", ProRataUSD: "15000.00", TotalUSD: "15000.00"},
				{LineID: "MDFM-1.2", Title: "Capacity-building and training workshops for policy-makers of UNESCO GNLC member cities, with a focus on Africa and low-income countries", EarmarkedUSD: "12500.00", ProRataUSD: "10000.00", TotalUSD: "22500.00"},
				{LineID: "ESD-2.1", Title: "Education for Sustainable Development: Capacity-building for members of the cluster (annual capacity-building workshop)", ClusterID: "ESD", EarmarkedUSD: "0.00", ProRataUSD: "10000.00", TotalUSD: "10000.00"},
				{LineID: "LIT-1.3", Title: "Literacy: Small-scale learning and exchange activities on policies, strategies, programmes and projects", ClusterID: "LIT", EarmarkedUSD: "0.00", ProRataUSD: "2500.00", TotalUSD: "2500.00"},
			},
			Clusters: []ClusterUse{
				{ClusterID: "", USD: "37500.00", Pct: "75.00"},
				{ClusterID: "ESD", Name: "Education for Sustainable Development", USD: "10000.00", Pct: "20.00"},
				{ClusterID: "LIT", Name: "Literacy", USD: "2500.00", Pct: "5.00"},
			},
			Regions: []GroupUse{
				{Name: "Africa", USD: "30000.00", Pct: "60.00", Cities: []string{"Nairobi (KE)", "Ouagadougou (BF)"}},
				{Name: "Asia and the Pacific", USD: "12500.00", Pct: "25.00", Cities: []string{"Kathmandu (NP)"}},
				{Name: "Latin America and the Caribbean", USD: "7500.00", Pct: "15.00", Cities: []string{"Medellín (CO)"}},
			},
			IncomeGroups: []GroupUse{
				{Name: "Low income", USD: "20000.00", Pct: "40.00", Cities: []string{"Ouagadougou (BF)"}},
				{Name: "Lower middle income", USD: "22500.00", Pct: "45.00", Cities: []string{"Kathmandu (NP)", "Nairobi (KE)"}},
				{Name: "Upper middle income", USD: "7500.00", Pct: "15.00", Cities: []string{"Medellín (CO)"}},
			},
			TotalUSD:      "50000.00",
			IncomeGroupFY: "FY2026",
		},
		Refunds: Refunds{
			Refunds:  []Refund{{ID: "RF-MED-2021-1", PaidOn: "2021-05-31", USD: "1000.00", Note: "Part of the MDFM-1.2 earmark the donor asked back"}},
			TotalUSD: "1000.00",
		},
		Balance: Balance{
			UnspentUSD:          "23550.00",
			AllocatedUnspentUSD: "15000.00",
			UnallocatedUSD:      "8550.00",
			AtClose:             Entitlement{Kind: EntitlementPending, USD: "8550.00"},
		},
	}
}

// long is the example with n more receipts of US$ 500.00 (fee 5.00), its
// totals and balance moved to match: long enough for several PDF pages.
func long(n int) Statement {
	s := example()
	add := func(p *string, cents int64) { *p = money.FormatUSD(mustCents(*p) + cents) }
	for i := range n {
		s.Received.Receipts = append(s.Received.Receipts, Receipt{
			ID: fmt.Sprintf("R-MED-2021-%03d", i+2), ReceivedOn: "2021-02-01", Amount: Money{"500.00", "USD"},
			USD: "500.00", FeeUSD: "5.00", BankRef: fmt.Sprintf("CITIUS33 2102-%04d", i), PledgeID: "P-MED-2020-2",
		})
	}
	add(&s.Received.TotalUSD, int64(n)*50000)
	add(&s.Received.FeesUSD, int64(n)*500)
	add(&s.Received.ByCurrency[1].Amount, int64(n)*50000)
	add(&s.Received.ByCurrency[1].USD, int64(n)*50000)
	for _, p := range []*string{&s.Balance.UnspentUSD, &s.Balance.UnallocatedUSD, &s.Balance.AtClose.USD} {
		add(p, int64(n)*49500)
	}
	return s
}

func mustCents(s string) int64 {
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		render func(Statement) ([]byte, error)
	}{
		{"statement.csv", CSV},
		{"statement.html", HTML},
		{"statement.json", JSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.render(example())
			if err != nil {
				t.Fatal(err)
			}
			again, err := tc.render(example())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, again) {
				t.Error("two renderings of the same statement differ")
			}
			golden.Check(t, filepath.Join("testdata", tc.name), got)
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	b, err := JSON(example())
	if err != nil {
		t.Fatal(err)
	}
	var got Statement
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(example(), got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, key := range []string{`"chain_head"`, `"fund_seq": 42`, `"as_of": "2021-06-30"`, `"usd_rate": "1.10"`, `"earmark": {`, `"pool_pct": "25.00"`, `"illustrative": true`, `"amount": "50000.00"`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func TestCSV(t *testing.T) {
	b, err := CSV(example())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("\r\n")) {
		t.Error("CSV lines do not end in CRLF")
	}
	// The default reader insists on the same number of fields in every
	// record, as RFC 4180 asks.
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	var current string
	for i, r := range rows {
		if r[0] == "section" {
			current = ""
			continue
		}
		if current == "" {
			current = r[0]
			sections[current] = true
		}
		if r[0] != current {
			t.Errorf("row %d: section %q inside section %q without a header row", i+1, r[0], current)
		}
	}
	for _, want := range []string{"statement", "summary", "pledge", "pledged_by_currency", "receipt", "received_by_currency", "share", "line", "cluster", "region", "income_group", "refund", "at_close"} {
		if !sections[want] {
			t.Errorf("no section %q", want)
		}
	}
	find := func(section, key string) []string {
		for _, r := range rows {
			if r[0] == section && r[1] == key {
				return r
			}
		}
		t.Fatalf("no row %s,%s", section, key)
		return nil
	}
	if got := find("summary", "received")[2]; got != "75000.00" {
		t.Errorf("summary received = %q, want 75000.00", got)
	}
	if got := find("statement", "chain_head")[2]; got != exampleHead {
		t.Errorf("chain_head = %q", got)
	}
	if got := find("statement", "donor_name")[2]; got != "City of Medellín" {
		t.Errorf("donor_name = %q", got)
	}
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	s := example()
	s.Donor.Name = "=HYPERLINK(\"http://example.invalid\",\"x\")"
	s.Received.Receipts[0].BankRef = "@SUM(A1)"
	b, err := CSV(s)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+@", rune(c[0])) {
				t.Errorf("cell %q would run as a formula", c)
			}
		}
	}
}

func TestHTML(t *testing.T) {
	b, err := HTML(example())
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		"<!DOCTYPE html>", "Accountability statement", "City of Medellín",
		"75,000.00", "95,000.00", "20,000.00", "23,550.00", "50,000.00", "750.00",
		exampleHead, "fund_seq 42", "Illustrative data", "2021-06-30",
		"Africa", "Asia and the Pacific", "Low income", "MDFM-1.2", "25.00 %",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// The chain head is at the foot of the page.
	if foot := page[strings.LastIndex(page, "<footer>"):]; !strings.Contains(foot, exampleHead) {
		t.Error("chain head not in the footer")
	}
	for _, bad := range []string{"<script", "http://", "https://", "src="} {
		if strings.Contains(page, bad) {
			t.Errorf("standalone page contains %q", bad)
		}
	}
}

func TestHTMLEscapes(t *testing.T) {
	s := example()
	s.Donor.Name = `City of <script>alert("x")</script>`
	s.PaidFor.Lines[0].Title = `<img src=x onerror=alert(1)>`
	s.Refunds.Refunds[0].Note = `"quoted" & <b>bold</b>`
	b, err := HTML(s)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, bad := range []string{"<script", "<img", "<b>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"City of &lt;script&gt;", "&lt;img src=x", "&amp; &lt;b&gt;bold"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks escaped %q", want)
		}
	}
}

func TestPDFDeterministic(t *testing.T) {
	a, err := PDF(example())
	if err != nil {
		t.Fatal(err)
	}
	b, err := PDF(example())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(a, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", a[:min(len(a), 16)])
	}
	if !bytes.Equal(a, b) {
		t.Error("two renderings of the same statement differ")
	}
	if !bytes.Contains(a, []byte("/CreationDate (D:20210701083000)")) {
		t.Error("creation date is not GeneratedAt")
	}
	s := example()
	s.GeneratedAt = "2021-07-02T08:30:00Z"
	c, err := PDF(s)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Error("a different GeneratedAt gives the same bytes")
	}
}

// pdfText writes pdf to a file and returns its text by pdftotext -layout,
// pages separated by form feeds.
func pdfText(t *testing.T, pdf []byte) string {
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

// pages splits pdftotext output into pages.
func pages(text string) []string {
	p := strings.Split(text, "\f")
	if n := len(p); n > 0 && strings.TrimSpace(p[n-1]) == "" {
		p = p[:n-1]
	}
	return p
}

func TestPDFText(t *testing.T) {
	b, err := PDF(example())
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, b)
	ps := pages(text)
	if len(ps) < 1 {
		t.Fatalf("no pages in %q", text)
	}
	for _, want := range []string{
		"Accountability statement", "City of Medellín", "Learning Cities Multi-donor Funding Modality",
		"2020-2021", "2021-06-30", "Illustrative data",
		"75,000.00", "95,000.00", "23,550.00", "MDFM-1.2", "Ouagadougou (BF)", "Low income", "EUR",
		"Signed checkpoint: log", "3kTmBShxmi7VPfJpTqB4AGhFOKRI1pe1D2Tt1c7VrbA=",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if !regexp.MustCompile(`Total received\s+75,000\.00\s+750\.00`).MatchString(text) {
		t.Errorf("no total received row with 75,000.00 and its fees in:\n%s", text)
	}
	for i, p := range ps {
		if !strings.Contains(p, exampleHead) {
			t.Errorf("page %d lacks the chain head", i+1)
		}
		if !strings.Contains(p, "fund_seq 42") {
			t.Errorf("page %d lacks fund_seq 42", i+1)
		}
		if want := fmt.Sprintf("Page %d of %d", i+1, len(ps)); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
	}
}

func TestPDFLong(t *testing.T) {
	s := long(80)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := PDF(s)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, b)
	ps := pages(text)
	if len(ps) < 2 {
		t.Fatalf("got %d pages, want 2 or more", len(ps))
	}
	if !strings.Contains(text, "Page 2 of") {
		t.Error("no \"Page 2 of\"")
	}
	if !strings.Contains(text, "115,000.00") {
		t.Error("total received 115,000.00 not printed")
	}
	for i, p := range ps {
		if !strings.Contains(p, exampleHead) || !strings.Contains(p, fmt.Sprintf("Page %d of %d", i+1, len(ps))) {
			t.Errorf("page %d lacks its foot", i+1)
		}
	}
	// The receipts table goes on with its head on the next page.
	if !strings.Contains(ps[1], "Bank reference") {
		t.Error("the receipts' head row is not repeated on page 2")
	}
}

// TestWriteDocsPicture renders page 1 of the example PDF as a PNG with
// pdftoppm: into a temporary folder, or into docs/statement-page1.png with
// -docs.
func TestWriteDocsPicture(t *testing.T) {
	tool, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Fatal("pdftoppm not found: install poppler-utils (scripts/test.sh does)")
	}
	b, err := PDF(example())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "statement.pdf")
	if err := os.WriteFile(pdf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "statement-page1")
	if *docs {
		out = filepath.Join("..", "docs", "statement-page1")
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if msg, err := exec.Command(tool, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, out).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, msg)
	}
	png, err := os.ReadFile(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Error("pdftoppm wrote no PNG")
	}
}

func TestValidate(t *testing.T) {
	if err := example().Validate(); err != nil {
		t.Fatalf("example: %v", err)
	}
	for _, tc := range []struct {
		field string
		edit  func(*Statement)
	}{
		{"fund", func(s *Statement) { s.Fund = "" }},
		{"donor.name", func(s *Statement) { s.Donor.Name = " " }},
		{"as_of", func(s *Statement) { s.AsOf = "30/06/2021" }},
		{"as_of", func(s *Statement) { s.AsOf = "2021-02-30" }},
		{"generated_at", func(s *Statement) { s.GeneratedAt = "yesterday" }},
		{"fund_seq", func(s *Statement) { s.FundSeq = 0 }},
		{"fund_seq", func(s *Statement) { s.AtSeq = 41 }},
		{"chain_head", func(s *Statement) { s.ChainHead = strings.ToUpper(exampleHead) }},
		{"checkpoint", func(s *Statement) { s.Checkpoint.Size = 41 }},
		{"checkpoint", func(s *Statement) { s.Checkpoint.Root = "not base64" }},
		{"pledged.pledges[0].usd", func(s *Statement) { s.Pledged.Pledges[0].USD = "55000" }},
		{"pledged.pledges[0].usd", func(s *Statement) { s.Pledged.Pledges[0].USD = "55,000.00" }},
		{"pledged.pledges[0].usd_rate", func(s *Statement) { s.Pledged.Pledges[0].USDRate = "" }},
		{"pledged.pledges[0].usd_rate", func(s *Statement) { s.Pledged.Pledges[0].USDRate = "0" }},
		{"received.receipts[0].usd_rate", func(s *Statement) { s.Received.Receipts[0].USDRate = "1e1" }},
		{"pledged.pledges[0].amount.currency", func(s *Statement) { s.Pledged.Pledges[0].Amount.Currency = "XXX" }},
		{"pledged.pledges[0].amount.amount", func(s *Statement) { s.Pledged.Pledges[0].Amount.Amount = "50000.001" }},
		{"pledged.pledges[1].earmark", func(s *Statement) { s.Pledged.Pledges[1].Earmark.ClusterID = "ESD" }},
		{"pledged.total_usd", func(s *Statement) { s.Pledged.TotalUSD = "95000.01" }},
		{"pledged.outstanding_usd", func(s *Statement) { s.Pledged.OutstandingUSD = "0.00" }},
		{"received.receipts[1].usd", func(s *Statement) { s.Received.Receipts[1].USD = "-20000.00" }},
		{"received.total_usd", func(s *Statement) { s.Received.TotalUSD = "74000.00" }},
		{"received.fees_usd", func(s *Statement) { s.Received.FeesUSD = "700.00" }},
		{"share.pool_pct", func(s *Statement) { s.Share.PoolPct = "25%" }},
		{"paid_for.lines[1].total_usd", func(s *Statement) { s.PaidFor.Lines[1].EarmarkedUSD = "12000.00" }},
		{"paid_for.clusters", func(s *Statement) { s.PaidFor.Clusters = s.PaidFor.Clusters[1:] }},
		{"paid_for.regions", func(s *Statement) { s.PaidFor.Regions[0].USD = "29000.00" }},
		{"paid_for.income_groups[0].name", func(s *Statement) { s.PaidFor.IncomeGroups[0].Name = "" }},
		{"refunds.total_usd", func(s *Statement) { s.Refunds.TotalUSD = "0.00" }},
		{"balance.unspent_usd", func(s *Statement) {
			s.Balance.UnspentUSD, s.Balance.UnallocatedUSD = "23560.00", "8560.00"
		}},
		{"balance.unspent_usd", func(s *Statement) { s.Balance.UnallocatedUSD = "8500.00" }},
		{"balance.at_close.kind", func(s *Statement) { s.Balance.AtClose.Kind = "keep" }},
		{"balance.at_close.to_term_id", func(s *Statement) { s.Balance.AtClose.Kind = EntitlementCarryOver }},
		{"refunds.refunds[0].note", func(s *Statement) { s.Refunds.Refunds[0].Note = strings.Repeat("x", MaxTextLen+1) }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			s := example()
			tc.edit(&s)
			err := s.Validate()
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Validate() = %v, want an *InvalidError", err)
			}
			if ie.Field != tc.field {
				t.Errorf("field = %q (%v), want %q", ie.Field, err, tc.field)
			}
			for name, render := range map[string]func(Statement) ([]byte, error){"CSV": CSV, "HTML": HTML, "PDF": PDF, "JSON": JSON} {
				if b, err := render(s); err == nil || b != nil {
					t.Errorf("%s rendered an invalid statement", name)
				}
			}
		})
	}
}

// TestValidateTakesRecordedRates validates every rate form the ledger
// records (what money.ParseRate accepts), so that a statement never answers
// 500 on a rate the API took (issue 8).
func TestValidateTakesRecordedRates(t *testing.T) {
	for _, rate := range []string{"1.1", "0.0000000001", "00000000000000000001.1", "10000000000000000", strings.Repeat("9", 24)} {
		s := example()
		s.Received.Receipts[0].USDRate = rate
		s.Pledged.Pledges[0].USDRate = rate
		if err := s.Validate(); err != nil {
			t.Errorf("usd_rate %q: %v", rate, err)
		}
	}
}

func TestEntitlementAndAxisText(t *testing.T) {
	s := example()
	s.AtSeq = 42
	s.Term.ClosedOn = "2022-01-31"
	s.Balance.AtClose = Entitlement{Kind: EntitlementCarryOver, USD: "8550.00", ToTermID: "2022-2023", Note: "As decided at the close."}
	b, err := HTML(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"carried over to term 2022-2023", "US$ 8,550.00", "at fund_seq 42", "closed on 2022-01-31", "As decided at the close."} {
		if !strings.Contains(string(b), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	s.Balance.AtClose = Entitlement{Kind: EntitlementRefund, USD: "8550.00"}
	b, err = PDF(s)
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, b); !strings.Contains(strings.Join(strings.Fields(text), " "), "is refunded to you") {
		t.Error("PDF does not say the balance is refunded")
	}
}

// TestValidateOverLimit: a list longer than MaxRows is an InvalidError
// marked OverLimit (the API answers report_too_large); other faults are not.
func TestValidateOverLimit(t *testing.T) {
	s := example()
	r := s.Received.Receipts[0]
	s.Received.Receipts = make([]Receipt, MaxRows+1)
	for i := range s.Received.Receipts {
		s.Received.Receipts[i] = r
	}
	var ie *InvalidError
	if err := s.Validate(); !errors.As(err, &ie) || !ie.OverLimit || ie.Field != "received.receipts" {
		t.Errorf("Validate() of %d receipts = %v (%+v), want an InvalidError over the limit on received.receipts", MaxRows+1, err, ie)
	}
	s = example()
	s.Fund = ""
	if err := s.Validate(); !errors.As(err, &ie) || ie.OverLimit {
		t.Errorf("Validate() without a fund = %v (%+v), want an InvalidError not over a limit", err, ie)
	}
}

// TestUnlistedReceipts checks a statement that lists a page of its
// receipts: the unlisted ones count in its totals (Validate fails when
// they do not add up), and every format shows them in one line.
func TestUnlistedReceipts(t *testing.T) {
	paged := func() Statement {
		s := long(5)
		n := len(s.Received.Receipts)
		s.Received.Receipts = s.Received.Receipts[:n-3] // three of US$ 500.00, fee 5.00
		s.Received.Unlisted = &Unlisted{Count: 3, USD: "1500.00", FeeUSD: "15.00", Page: 1, Pages: 2}
		return s
	}
	s := paged()
	if err := s.Validate(); err != nil {
		t.Fatalf("a statement with unlisted receipts: %v", err)
	}
	text := "3 receipts not listed (listed: page 2 of 2, latest first)"
	for name, render := range map[string]func(Statement) ([]byte, error){"CSV": CSV, "HTML": HTML, "PDF": PDF, "JSON": JSON} {
		b, err := render(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := string(b)
		want := map[string]string{"CSV": "receipts_unlisted,3,1500.00,15.00,1,2", "HTML": text, "JSON": `"unlisted": {`}[name]
		if name == "PDF" {
			got, want = strings.Join(strings.Fields(pdfText(t, b)), " "), text
		}
		if !strings.Contains(got, want) {
			t.Errorf("%s does not show the unlisted receipts (%q)", name, want)
		}
	}
	for _, tc := range []struct {
		field string
		edit  func(*Unlisted)
	}{
		{"received.total_usd", func(u *Unlisted) { u.USD = "1499.99" }},
		{"received.fees_usd", func(u *Unlisted) { u.FeeUSD = "15.01" }},
		{"received.unlisted", func(u *Unlisted) { u.Count = 0 }},
		{"received.unlisted", func(u *Unlisted) { u.Pages = 0 }},
		{"received.unlisted.usd", func(u *Unlisted) { u.USD = "-1.00" }},
	} {
		s := paged()
		tc.edit(s.Received.Unlisted)
		var ie *InvalidError
		if err := s.Validate(); !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: Validate() = %v, want an error at %s", *s.Received.Unlisted, err, tc.field)
		}
	}
}

// TestShapesMatchTheirExpressions: the hand-written checks of a date's,
// a dollar amount's and a decimal's shape accept exactly what the regular
// expressions they replaced accept, on strings made of the characters that
// matter (digits, the separators, a letter, a sign, a newline) and of
// lengths around the limits.
func TestShapesMatchTheirExpressions(t *testing.T) {
	shapes := []struct {
		name string
		re   *regexp.Regexp
		is   func(string) bool
	}{
		{"date", regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`), isDateShape},
		{"usd", regexp.MustCompile(`^[0-9]{1,16}\.[0-9]{2}$`), isUSDShape},
		{"decimal", regexp.MustCompile(`^[0-9]{1,16}(\.[0-9]{1,10})?$`), isDecimalShape},
	}
	rapid.Check(t, func(t *rapid.T) {
		// Mostly digits, so that long valid strings are drawn too.
		char := rapid.SampledFrom([]byte("0123456789012345678901234567890123456789.-.-a+\n"))
		s := string(rapid.SliceOfN(char, 0, 30).Draw(t, "s"))
		for _, sh := range shapes {
			if got, want := sh.is(s), sh.re.MatchString(s); got != want {
				t.Fatalf("%s shape of %q: %v, the expression says %v", sh.name, s, got, want)
			}
		}
	})
	for _, s := range []string{"2021-06-30", "0.00", "1234567890123456.99", "12345678901234567.99", "1.1234567890", "1.12345678901", "7", "", ".5", "5.", "2021-6-30"} {
		for _, sh := range shapes {
			if got, want := sh.is(s), sh.re.MatchString(s); got != want {
				t.Errorf("%s shape of %q: %v, the expression says %v", sh.name, s, got, want)
			}
		}
	}
}
