package iati

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/internal/golden"
)

const (
	schemaDir          = "testdata/iati-2.03"
	activitiesSchema   = "iati-activities-schema.xsd"
	organisationSchema = "iati-organisations-schema.xsd"
	generatedAt        = "2022-03-31T12:00:00Z"
)

// illustrativeTerm is an ILLUSTRATIVE closed term (no real donor or payment),
// shaped like the ledger's demo: a member city paying in JPY, a country in
// EUR and a foundation in USD; pledges announced (13) and signed (11);
// receipts (1) with the value date of the rate applied; expenditures (4) in
// three countries and one attributed to none.
func illustrativeTerm(t *testing.T) Activity {
	t.Helper()
	budgets, err := YearlyBudgets("2020-01-01", "2021-12-31", "1000000.00", "2020-01-01")
	if err != nil {
		t.Fatal(err)
	}
	city := Participant{Name: "ILLUSTRATIVE Member City A", Type: OrgTypeForDonorKind("member_city")}
	country := Participant{Name: "ILLUSTRATIVE Donor Country B", Ref: "XM-DAC-5", Type: OrgTypeForDonorKind("country")}
	foundation := Participant{Name: "ILLUSTRATIVE Fondation d'Éducation C", Type: OrgTypeForDonorKind("foundation")}
	return Activity{
		FundID:      "mdfm",
		TermID:      "2020-2021",
		Title:       "Learning Cities Multi-donor Funding Modality, term 2020-2021 (ILLUSTRATIVE)",
		Description: "Pooled fund held in trust by UIL for the UNESCO Global Network of Learning Cities: target US$1,000,000 for the two-year term. <ILLUSTRATIVE data> & \"quotes\".",
		StartsOn:    "2020-01-01",
		EndsOn:      "2021-12-31",
		Status:      StatusClosed,
		LastUpdated: "2022-02-28T10:15:00+01:00",
		Donors:      []Participant{city, country, foundation},
		Budgets:     budgets,
		Transactions: []Transaction{
			{Ref: "demo-pledge-city", Type: TypeIncomingPledge, Date: "2020-02-10", ValueDate: "2020-02-01", Currency: "JPY", Value: "15000000", Description: "Pledge announced at the network meeting", ProviderOrg: city},
			{Ref: "demo-pledge-country", Type: TypeIncomingCommitment, Date: "2020-03-02", ValueDate: "2020-03-01", Currency: "EUR", Value: "150000", Description: "Signed contribution agreement", ProviderOrg: country},
			{Ref: "demo-pledge-foundation", Type: TypeIncomingCommitment, Date: "2020-06-15", Value: "50000.00", ProviderOrg: foundation},
			{Ref: "demo-rcpt-1", Type: TypeIncomingFunds, Date: "2020-03-16", ValueDate: "2020-03-01", Currency: "JPY", Value: "10000000", ValueUSD: "93000.00", ProviderOrg: city},
			{Ref: "demo-rcpt-2", Type: TypeIncomingFunds, Date: "2020-05-04", ValueDate: "2020-05-01", Currency: "EUR", Value: "150000.00", ValueUSD: "165000.00", ProviderOrg: country},
			{Ref: "demo-rcpt-3", Type: TypeIncomingFunds, Date: "2020-09-01", Value: "50000.00", ProviderOrg: foundation},
			{Ref: "demo-rcpt-4", Type: TypeIncomingFunds, Date: "2021-03-15", ValueDate: "2021-03-01", Currency: "JPY", Value: "5000000", ValueUSD: "48000.00", ProviderOrg: city},
			{Ref: "demo-x-1", Type: TypeExpenditure, Date: "2020-08-20", Value: "22500.00", Description: "Drafting of the first two training modules", ReceiverOrg: Participant{Name: "ILLUSTRATIVE Consultant"}, RecipientCountry: "DE"},
			{Ref: "demo-x-2", Type: TypeExpenditure, Date: "2020-11-20", ValueDate: "2020-11-01", Currency: "EUR", Value: "18000.00", ValueUSD: "21240.00", Description: "Workshop venue & travel, Nairobi", ReceiverOrg: Participant{Name: "ILLUSTRATIVE Venue and travel", Type: "70"}, RecipientCountry: "KE"},
			{Ref: "demo-x-3", Type: TypeExpenditure, Date: "2021-06-10", Value: "12000.00", Description: "ESD cluster workshop, Lagos", ReceiverOrg: Participant{Name: "ILLUSTRATIVE Workshop provider"}, RecipientCountry: "NG"},
			{Ref: "demo-x-4", Type: TypeExpenditure, Date: "2021-09-30", Value: "1500.00", Description: "Hosting of the communication platform"},
		},
	}
}

// xmllint validates doc against a schema of testdata/iati-2.03 and fails the
// test with xmllint's report when it is not valid. A machine without xmllint
// fails: the schema check is the point of these tests.
func xmllint(t *testing.T, schema string, doc []byte) {
	t.Helper()
	if err := runXmllint(t, schema, doc); err != nil {
		t.Fatalf("%v\n--- document:\n%s", err, doc)
	}
}

func runXmllint(t *testing.T, schema string, doc []byte) error {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint not found: install libxml2-utils (scripts/test.sh does)")
	}
	file := filepath.Join(t.TempDir(), "doc.xml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	// --nonet: the schemas are all local; never fetch from the network.
	out, err := exec.Command(bin, "--nonet", "--noout", "--schema", filepath.Join(schemaDir, schema), file).CombinedOutput()
	if err != nil {
		return &xmllintError{err: err, out: string(out)}
	}
	if !strings.Contains(string(out), "validates") {
		t.Fatalf("xmllint gave no verdict: %s", out)
	}
	return nil
}

type xmllintError struct {
	err error
	out string
}

func (e *xmllintError) Error() string { return "xmllint: " + e.err.Error() + "\n" + e.out }

func renderTerm(t *testing.T, a Activity) []byte {
	t.Helper()
	out, err := RenderActivities([]Activity{a}, generatedAt)
	if err != nil {
		t.Fatalf("RenderActivities: %v", err)
	}
	return out
}

// parsed is what the tests read back from a rendered activity file.
type parsed struct {
	Generated  string `xml:"generated-datetime,attr"`
	Activities []struct {
		Identifier   string `xml:"iati-identifier"`
		LastUpdated  string `xml:"last-updated-datetime,attr"`
		Title        string `xml:"title>narrative"`
		Description  string `xml:"description>narrative"`
		Participants []struct {
			Role string `xml:"role,attr"`
			Type string `xml:"type,attr"`
			Ref  string `xml:"ref,attr"`
			Name string `xml:"narrative"`
		} `xml:"participating-org"`
		Dates []struct {
			Type string `xml:"type,attr"`
			Date string `xml:"iso-date,attr"`
		} `xml:"activity-date"`
		Countries []struct {
			Code string `xml:"code,attr"`
			Pct  string `xml:"percentage,attr"`
		} `xml:"recipient-country"`
		Regions []struct {
			Code string `xml:"code,attr"`
			Pct  string `xml:"percentage,attr"`
		} `xml:"recipient-region"`
		Budgets []struct {
			Start dateAttr `xml:"period-start"`
			Value string   `xml:"value"`
		} `xml:"budget"`
		Transactions []struct {
			Ref       string   `xml:"ref,attr"`
			Type      codeAttr `xml:"transaction-type"`
			Date      dateAttr `xml:"transaction-date"`
			Value     parsedValue
			Provider  string     `xml:"provider-org>narrative"`
			Receiver  string     `xml:"receiver-org>narrative"`
			Countries []codeAttr `xml:"recipient-country"`
		} `xml:"transaction"`
	} `xml:"iati-activity"`
}

type codeAttr struct {
	Code string `xml:"code,attr"`
}

type dateAttr struct {
	Date string `xml:"iso-date,attr"`
}

type parsedValue struct {
	XMLName   xml.Name `xml:"value"`
	Currency  string   `xml:"currency,attr"`
	ValueDate string   `xml:"value-date,attr"`
	Amount    string   `xml:",chardata"`
}

func parse(t *testing.T, doc []byte) parsed {
	t.Helper()
	var p parsed
	if err := xml.Unmarshal(doc, &p); err != nil {
		t.Fatalf("read back: %v", err)
	}
	return p
}

func TestIllustrativeTermIsValid(t *testing.T) {
	a := illustrativeTerm(t)
	out := renderTerm(t, a)
	xmllint(t, activitiesSchema, out)

	p := parse(t, out)
	if len(p.Activities) != 1 {
		t.Fatalf("got %d activities, want 1", len(p.Activities))
	}
	act := p.Activities[0]
	if got, want := act.Identifier, "XM-DAC-41304-MDFM-2020-2021"; got != want {
		t.Errorf("identifier: got %s, want %s", got, want)
	}
	if got, want := act.LastUpdated, "2022-02-28T09:15:00Z"; got != want {
		t.Errorf("last-updated: got %s, want %s (in UTC)", got, want)
	}
	if got, want := act.Description, a.Description; got != want {
		t.Errorf("description read back: got %q, want %q", got, want)
	}

	// Every transaction given appears once, with its type, date and value.
	wantByType := map[string]int{}
	for _, tx := range a.Transactions {
		wantByType[tx.Type]++
	}
	gotByType := map[string]int{}
	byRef := map[string]int{}
	for i, tx := range act.Transactions {
		gotByType[tx.Type.Code]++
		byRef[tx.Ref] = i
		if len(tx.Countries) != 0 {
			t.Errorf("transaction %s has a recipient-country; countries belong to the activity only", tx.Ref)
		}
	}
	if diff := cmp.Diff(wantByType, gotByType); diff != "" {
		t.Errorf("transactions by type (-want +got):\n%s", diff)
	}
	if got, want := gotByType, (map[string]int{"13": 1, "11": 2, "1": 4, "4": 4}); !cmp.Equal(got, want) {
		t.Errorf("fixture: got %v, want %v", got, want)
	}
	for _, in := range a.Transactions {
		i, ok := byRef[in.Ref]
		if !ok {
			t.Errorf("transaction %s missing", in.Ref)
			continue
		}
		got := act.Transactions[i]
		if got.Date.Date != in.Date {
			t.Errorf("%s: date %s, want %s", in.Ref, got.Date.Date, in.Date)
		}
		wantCur := in.Currency
		if wantCur == "USD" {
			wantCur = ""
		}
		if got.Value.Currency != wantCur {
			t.Errorf("%s: currency attribute %q, want %q (none for USD, the default)", in.Ref, got.Value.Currency, wantCur)
		}
		wantVD := in.ValueDate
		if wantVD == "" {
			wantVD = in.Date
		}
		if got.Value.ValueDate != wantVD {
			t.Errorf("%s: value-date %s, want %s", in.Ref, got.Value.ValueDate, wantVD)
		}
		incoming := in.Type != TypeExpenditure
		if incoming && got.Provider != in.ProviderOrg.Name {
			t.Errorf("%s: provider %q, want %q", in.Ref, got.Provider, in.ProviderOrg.Name)
		}
		if incoming && got.Receiver != ReportingOrgName {
			t.Errorf("%s: receiver %q, want UIL", in.Ref, got.Receiver)
		}
		if !incoming && got.Receiver != in.ReceiverOrg.Name {
			t.Errorf("%s: receiver %q, want %q", in.Ref, got.Receiver, in.ReceiverOrg.Name)
		}
	}
	// Values are written with the currency's decimals.
	for ref, want := range map[string]string{"demo-pledge-country": "150000.00", "demo-rcpt-1": "10000000", "demo-x-1": "22500.00"} {
		if got := act.Transactions[byRef[ref]].Value.Amount; got != want {
			t.Errorf("%s: value %s, want %s", ref, got, want)
		}
	}

	type org struct{ Role, Type, Ref, Name string }
	var orgs []org
	for _, o := range act.Participants {
		orgs = append(orgs, org{o.Role, o.Type, o.Ref, o.Name})
	}
	wantOrgs := []org{
		{"1", "11", "", "ILLUSTRATIVE Member City A"},
		{"1", "10", "XM-DAC-5", "ILLUSTRATIVE Donor Country B"},
		{"1", "60", "", "ILLUSTRATIVE Fondation d'Éducation C"},
		{"2", "40", "XM-DAC-41304", ReportingOrgName},
		{"4", "40", "XM-DAC-41304", ReportingOrgName},
	}
	if diff := cmp.Diff(wantOrgs, orgs); diff != "" {
		t.Errorf("participating-org (-want +got):\n%s", diff)
	}

	type date struct{ Type, Date string }
	var dates []date
	for _, d := range act.Dates {
		dates = append(dates, date{d.Type, d.Date})
	}
	// Actual start: the first transaction (the city's pledge), after the
	// planned start. Actual end: the planned end, the term being closed.
	wantDates := []date{{"1", "2020-01-01"}, {"2", "2020-02-10"}, {"3", "2021-12-31"}, {"4", "2021-12-31"}}
	if diff := cmp.Diff(wantDates, dates); diff != "" {
		t.Errorf("activity-date (-want +got):\n%s", diff)
	}

	// USD spent: DE 22,500.00, KE 21,240.00, NG 12,000.00, none 1,500.00 of
	// 57,240.00; largest remainder in hundredths of a per cent.
	type pct struct{ Code, Pct string }
	var geo []pct
	for _, c := range act.Countries {
		geo = append(geo, pct{c.Code, c.Pct})
	}
	for _, r := range act.Regions {
		geo = append(geo, pct{"region " + r.Code, r.Pct})
	}
	wantGeo := []pct{{"DE", "39.31"}, {"KE", "37.11"}, {"NG", "20.96"}, {"region 998", "2.62"}}
	if diff := cmp.Diff(wantGeo, geo); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}

	if len(act.Budgets) != 2 || act.Budgets[0].Value != "500000.00" || act.Budgets[1].Value != "500000.00" ||
		act.Budgets[0].Start.Date != "2020-01-01" || act.Budgets[1].Start.Date != "2021-01-01" {
		t.Errorf("budgets: got %+v, want 500000.00 for 2020 and for 2021", act.Budgets)
	}
}

// node is a generic XML element.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []node     `xml:",any"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func readTree(t *testing.T, b []byte) node {
	t.Helper()
	var n node
	if err := xml.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// schemaSequence returns the names of the elements of the xsd:sequence of the
// top-level element name of a schema, in order.
func schemaSequence(t *testing.T, schema node, name string) []string {
	t.Helper()
	for _, el := range schema.Nodes {
		if el.XMLName.Local != "element" || el.attr("name") != name {
			continue
		}
		for _, ct := range el.Nodes {
			if ct.XMLName.Local != "complexType" {
				continue
			}
			for _, seq := range ct.Nodes {
				if seq.XMLName.Local != "sequence" {
					continue
				}
				var names []string
				for _, e := range seq.Nodes {
					if e.XMLName.Local != "element" {
						continue
					}
					n := e.attr("name")
					if n == "" {
						n = e.attr("ref")
					}
					names = append(names, n)
				}
				return names
			}
		}
	}
	t.Fatalf("no top-level element %s with a sequence in the schema", name)
	return nil
}

// checkOrder fails unless the children of el come in the order of seq, and
// every child is in seq.
func checkOrder(t *testing.T, el node, seq []string) {
	t.Helper()
	pos := map[string]int{}
	for i, n := range seq {
		pos[n] = i
	}
	last := -1
	for _, c := range el.Nodes {
		i, ok := pos[c.XMLName.Local]
		if !ok {
			t.Errorf("%s: child %s is not in the schema's sequence %v", el.XMLName.Local, c.XMLName.Local, seq)
			continue
		}
		if i < last {
			t.Errorf("%s: child %s comes after %s, against the schema's sequence", el.XMLName.Local, c.XMLName.Local, seq[last])
		}
		last = i
	}
}

// TestElementOrder reads the xsd:sequence of iati-activity, transaction,
// budget, iati-organisation and total-budget from the schemas themselves and
// checks the rendered children against them.
func TestElementOrder(t *testing.T) {
	read := func(name string) node {
		b, err := os.ReadFile(filepath.Join(schemaDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return readTree(t, b)
	}
	acts, orgs := read(activitiesSchema), read(organisationSchema)

	doc := readTree(t, renderTerm(t, illustrativeTerm(t)))
	activitySeq := schemaSequence(t, acts, "iati-activity")
	transactionSeq := schemaSequence(t, acts, "transaction")
	budgetSeq := schemaSequence(t, acts, "budget")
	want := []string{"iati-identifier", "reporting-org", "title", "description", "participating-org", "activity-status",
		"activity-date", "activity-scope", "recipient-country", "recipient-region", "sector", "default-finance-type", "budget", "transaction"}
	var got []string
	for _, act := range doc.Nodes {
		checkOrder(t, act, activitySeq)
		for _, c := range act.Nodes {
			if len(got) == 0 || got[len(got)-1] != c.XMLName.Local {
				got = append(got, c.XMLName.Local)
			}
			switch c.XMLName.Local {
			case "transaction":
				checkOrder(t, c, transactionSeq)
			case "budget":
				checkOrder(t, c, budgetSeq)
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("iati-activity children (-want +got):\n%s", diff)
	}

	out, err := RenderOrganisation(illustrativeOrganisation(t), generatedAt)
	if err != nil {
		t.Fatal(err)
	}
	orgSeq := schemaSequence(t, orgs, "iati-organisation")
	totalBudgetSeq := schemaSequence(t, orgs, "total-budget")
	for _, org := range readTree(t, out).Nodes {
		checkOrder(t, org, orgSeq)
		for _, c := range org.Nodes {
			if c.XMLName.Local == "total-budget" {
				checkOrder(t, c, totalBudgetSeq)
			}
		}
	}
}

// TestXmllintCatchesErrors makes sure the validation the other tests rely on
// is not a no-op: a document with two elements swapped must fail.
func TestXmllintCatchesErrors(t *testing.T) {
	out := renderTerm(t, illustrativeTerm(t))
	title := "<title>"
	i, j := bytes.Index(out, []byte("<reporting-org")), bytes.Index(out, []byte(title))
	end := bytes.Index(out, []byte("</reporting-org>")) + len("</reporting-org>")
	if i < 0 || j < 0 || end > j {
		t.Fatal("fixture lost its reporting-org or title")
	}
	titleEnd := bytes.Index(out, []byte("</title>")) + len("</title>")
	var swapped []byte
	swapped = append(swapped, out[:i]...)
	swapped = append(swapped, out[j:titleEnd]...)
	swapped = append(swapped, out[end:j]...)
	swapped = append(swapped, out[i:end]...)
	swapped = append(swapped, out[titleEnd:]...)
	if err := runXmllint(t, activitiesSchema, swapped); err == nil {
		t.Fatalf("xmllint accepted a title before reporting-org:\n%s", swapped)
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

func TestGolden(t *testing.T) {
	a := illustrativeTerm(t)
	out := renderTerm(t, a)
	if again := renderTerm(t, illustrativeTerm(t)); !bytes.Equal(out, again) {
		t.Fatal("two renders of the same input differ")
	}
	checkGolden(t, "activity.golden.xml", out)

	org, err := RenderOrganisation(illustrativeOrganisation(t), generatedAt)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "organisation.golden.xml", org)
}

func illustrativeOrganisation(t *testing.T) Organisation {
	t.Helper()
	budgets, err := YearlyBudgets("2020-01-01", "2021-12-31", "1000000.00", "")
	if err != nil {
		t.Fatal(err)
	}
	return Organisation{LastUpdated: "2022-02-28T09:15:00Z", TotalBudgets: budgets}
}

func TestRenderOrganisation(t *testing.T) {
	for _, o := range []Organisation{
		illustrativeOrganisation(t),
		{LastUpdated: "2022-02-28T09:15:00Z"}, // no budgets
		{Name: "UNESCO Institute for Lifelong Learning", LastUpdated: "2022-02-28T09:15:00.5Z"},
	} {
		out, err := RenderOrganisation(o, generatedAt)
		if err != nil {
			t.Fatal(err)
		}
		xmllint(t, organisationSchema, out)
		if !bytes.Contains(out, []byte("<organisation-identifier>XM-DAC-41304</organisation-identifier>")) {
			t.Errorf("no organisation-identifier XM-DAC-41304:\n%s", out)
		}
		if got, want := bytes.Count(out, []byte("<total-budget ")), len(o.TotalBudgets); got != want {
			t.Errorf("%d total-budget, want %d", got, want)
		}
	}
	if _, err := RenderOrganisation(Organisation{}, generatedAt); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("no last_updated: got %v, want ErrInvalidInput", err)
	}
}

// TestShapes renders terms at other points of their life and checks each
// against the schema: a new term with nothing yet, a running term with only
// pledges, spending attributed to no country, and several activities.
func TestShapes(t *testing.T) {
	base := illustrativeTerm(t)

	empty := base
	empty.TermID, empty.Status, empty.Transactions, empty.Budgets = "2024-2025", StatusPipeline, nil, nil
	empty.StartsOn, empty.EndsOn = "2024-01-01", "2025-12-31"

	pledges := base
	pledges.TermID, pledges.Status, pledges.Transactions = "2022-2023", StatusImplementation, base.Transactions[:3]
	pledges.StartsOn, pledges.EndsOn = "2022-01-01", "2023-12-31"
	pledges.Budgets, _ = YearlyBudgets("2022-01-01", "2023-12-31", "1000000.00", "")
	pledges.Sectors = []Sector{{Vocabulary: "1", Code: "11110", Percentage: "60"}, {Vocabulary: "1", Code: "43030", Percentage: "40"}}

	nowhere := base
	nowhere.TermID = "2018-2019"
	nowhere.StartsOn, nowhere.EndsOn, nowhere.Budgets = "2018-01-01", "2019-12-31", nil
	nowhere.Transactions = []Transaction{{Ref: "x", Type: TypeExpenditure, Date: "2018-05-01", Value: "10.00"}}

	type check struct {
		countries, regions int
		dates              string
	}
	for _, tc := range []struct {
		name string
		a    Activity
		want check
	}{
		{"pipeline, nothing yet", empty, check{0, 1, "1 3"}},
		{"running, pledges only", pledges, check{0, 1, "1 2 3"}},
		{"spent nowhere in particular", nowhere, check{0, 1, "1 2 3 4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := renderTerm(t, tc.a)
			xmllint(t, activitiesSchema, out)
			act := parse(t, out).Activities[0]
			var types []string
			for _, d := range act.Dates {
				types = append(types, d.Type)
			}
			got := check{len(act.Countries), len(act.Regions), strings.Join(types, " ")}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if len(act.Regions) == 1 && (act.Regions[0].Code != "998" || act.Regions[0].Pct != "100") {
				t.Errorf("region: got %+v, want 998 at 100", act.Regions[0])
			}
		})
	}

	out, err := RenderActivities([]Activity{base, empty, pledges}, generatedAt)
	if err != nil {
		t.Fatal(err)
	}
	xmllint(t, activitiesSchema, out)
	if got := len(parse(t, out).Activities); got != 3 {
		t.Errorf("got %d activities, want 3", got)
	}
	if _, err := RenderActivities([]Activity{base, base}, generatedAt); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("the same term twice: got %v, want ErrInvalidInput", err)
	}
}

// TestInvalidInput: every bad input is refused with an error naming its
// field, and no bytes.
func TestInvalidInput(t *testing.T) {
	tx := func(i int, f func(*Transaction)) func(*Activity) {
		return func(a *Activity) { f(&a.Transactions[i]) }
	}
	const rcpt, exp = 4, 8 // demo-rcpt-2 (EUR receipt), demo-x-2 (EUR expenditure)
	for _, tc := range []struct {
		name  string
		edit  func(*Activity)
		field string
	}{
		{"empty term id", func(a *Activity) { a.TermID = "" }, "term_id"},
		{"term id with a space", func(a *Activity) { a.TermID = "2020 2021" }, "term_id"},
		{"empty fund id", func(a *Activity) { a.FundID = "" }, "fund_id"},
		{"empty title", func(a *Activity) { a.Title = "  " }, "title"},
		{"control character in description", func(a *Activity) { a.Description = "bell\x07" }, "description"},
		{"invalid UTF-8 in title", func(a *Activity) { a.Title = "caf\xe9" }, "title"},
		{"month 13", func(a *Activity) { a.StartsOn = "2020-13-01" }, "starts_on"},
		{"one-digit month", func(a *Activity) { a.StartsOn = "2020-1-01" }, "starts_on"},
		{"29 February of a common year", func(a *Activity) { a.EndsOn = "2021-02-29" }, "ends_on"},
		{"end before start", func(a *Activity) { a.EndsOn = "2019-12-31" }, "ends_on"},
		{"bad last updated", func(a *Activity) { a.LastUpdated = "2022-02-28 10:15" }, "last_updated"},
		{"status 5", func(a *Activity) { a.Status = 5 }, "status"},
		{"donor without name", func(a *Activity) { a.Donors[0].Name = "" }, "donors[0].name"},
		{"donor without type", func(a *Activity) { a.Donors[1].Type = OrgTypeForDonorKind("municipality") }, "donors[1].type"},
		{"donor ref with a slash", func(a *Activity) { a.Donors[1].Ref = "XM/DAC" }, "donors[1].ref"},
		{"unknown transaction type", tx(0, func(t *Transaction) { t.Type = "2" }), "transactions[0].type"},
		{"empty transaction type", tx(0, func(t *Transaction) { t.Type = "" }), "transactions[0].type"},
		{"transaction date bad", tx(rcpt, func(t *Transaction) { t.Date = "04/05/2020" }), "transactions[4].date"},
		{"value date bad", tx(rcpt, func(t *Transaction) { t.ValueDate = "2020-05-32" }), "transactions[4].value_date"},
		{"value with exponent", tx(rcpt, func(t *Transaction) { t.Value = "1e5" }), "transactions[4].value"},
		{"negative value", tx(rcpt, func(t *Transaction) { t.Value = "-150000.00" }), "transactions[4].value"},
		{"zero value", tx(rcpt, func(t *Transaction) { t.Value = "0.00" }), "transactions[4].value"},
		{"too many decimals", tx(rcpt, func(t *Transaction) { t.Value = "1.005" }), "transactions[4].value"},
		{"decimals in JPY", tx(3, func(t *Transaction) { t.Value = "10000000.5" }), "transactions[3].value"},
		{"thousands separator", tx(rcpt, func(t *Transaction) { t.Value = "150,000.00" }), "transactions[4].value"},
		{"empty value", tx(rcpt, func(t *Transaction) { t.Value = "" }), "transactions[4].value"},
		{"unknown currency", tx(rcpt, func(t *Transaction) { t.Currency = "XYZ" }), "transactions[4].currency"},
		{"lower-case currency", tx(rcpt, func(t *Transaction) { t.Currency = "eur" }), "transactions[4].currency"},
		{"empty ref", tx(rcpt, func(t *Transaction) { t.Ref = "" }), "transactions[4].ref"},
		{"repeated ref", tx(rcpt, func(t *Transaction) { t.Ref = "demo-rcpt-1" }), "transactions[4].ref"},
		{"receipt without provider", tx(rcpt, func(t *Transaction) { t.ProviderOrg = Participant{} }), "transactions[4].provider_org.name"},
		{"receipt with a country", tx(rcpt, func(t *Transaction) { t.RecipientCountry = "DE" }), "transactions[4].recipient_country"},
		{"unknown country", tx(exp, func(t *Transaction) { t.RecipientCountry = "ZZ" }), "transactions[8].recipient_country"},
		{"expenditure in EUR without USD", tx(exp, func(t *Transaction) { t.ValueUSD = "" }), "transactions[8].value_usd"},
		{"USD value that differs", tx(7, func(t *Transaction) { t.ValueUSD = "1.00" }), "transactions[7].value_usd"},
		{"payee with a bad type", tx(exp, func(t *Transaction) { t.ReceiverOrg.Type = "99" }), "transactions[8].receiver_org.type"},
		{"budget over a year", func(a *Activity) { a.Budgets[0].PeriodEnd = "2021-01-01" }, "budgets[0].period_end"},
		{"overlapping budgets", func(a *Activity) { a.Budgets[1].PeriodStart = "2020-12-31" }, "budgets[1].period_start"},
		{"budget value with exponent", func(a *Activity) { a.Budgets[0].Value = "5e5" }, "budgets[0].value"},
		{"sectors not adding up", func(a *Activity) { a.Sectors = []Sector{{"1", "11110", "60"}} }, "sectors"},
		{"sector code not DAC", func(a *Activity) { a.Sectors = []Sector{{"1", "1111", "100"}} }, "sectors[0].code"},
		{"sector percentage bad", func(a *Activity) { a.Sectors = []Sector{{"1", "11110", "100.000"}} }, "sectors[0].percentage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := illustrativeTerm(t)
			tc.edit(&a)
			out, err := RenderActivities([]Activity{a}, generatedAt)
			if err == nil {
				t.Fatalf("no error; rendered:\n%s", out)
			}
			if out != nil {
				t.Errorf("bytes returned with the error %v", err)
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("error %v does not wrap ErrInvalidInput", err)
			}
			var ie *InputError
			if !errors.As(err, &ie) || !strings.HasSuffix(ie.Field, tc.field) {
				t.Errorf("error %v: want the field to end with %q", err, tc.field)
			}
		})
	}

	for _, tc := range []struct {
		name string
		acts []Activity
		gen  string
	}{
		{"no activities", nil, generatedAt},
		{"bad generated-at", []Activity{illustrativeTerm(t)}, "yesterday"},
		{"generated-at without zone", []Activity{illustrativeTerm(t)}, "2022-03-31T12:00:00"},
	} {
		if out, err := RenderActivities(tc.acts, tc.gen); !errors.Is(err, ErrInvalidInput) || out != nil {
			t.Errorf("%s: got %v and %d bytes, want ErrInvalidInput and none", tc.name, err, len(out))
		}
	}
}

func TestYearlyBudgets(t *testing.T) {
	type period struct{ Start, End, Value string }
	for _, tc := range []struct {
		from, to, total string
		want            []period
	}{
		{"2020-01-01", "2021-12-31", "1000000.00", []period{
			{"2020-01-01", "2020-12-31", "500000.00"}, {"2021-01-01", "2021-12-31", "500000.00"}}},
		{"2020-07-01", "2022-06-30", "1000000.00", []period{
			{"2020-07-01", "2020-12-31", "250000.00"}, {"2021-01-01", "2021-12-31", "500000.00"}, {"2022-01-01", "2022-06-30", "250000.00"}}},
		// Half of January (16 of 31 days) and all of February: 16/31 + 1 months.
		{"2021-01-16", "2021-02-28", "100.00", []period{{"2021-01-16", "2021-02-28", "100.00"}}},
		{"2020-12-16", "2021-02-28", "100.00", []period{
			{"2020-12-16", "2020-12-31", "20.51"}, {"2021-01-01", "2021-02-28", "79.49"}}},
		{"2020-01-01", "2022-12-31", "1000000.00", []period{
			{"2020-01-01", "2020-12-31", "333333.34"}, {"2021-01-01", "2021-12-31", "333333.33"}, {"2022-01-01", "2022-12-31", "333333.33"}}},
		{"2021-05-05", "2021-05-05", "0", []period{{"2021-05-05", "2021-05-05", "0.00"}}},
	} {
		bs, err := YearlyBudgets(tc.from, tc.to, tc.total, "")
		if err != nil {
			t.Errorf("%s..%s: %v", tc.from, tc.to, err)
			continue
		}
		var got []period
		for _, b := range bs {
			got = append(got, period{b.PeriodStart, b.PeriodEnd, b.Value})
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s..%s (-want +got):\n%s", tc.from, tc.to, diff)
		}
		// Whatever the split, the periods are accepted as budgets.
		a := illustrativeTerm(t)
		a.Budgets = bs
		xmllint(t, activitiesSchema, renderTerm(t, a))
	}
	for _, bad := range [][4]string{
		{"2021-01-01", "2020-12-31", "1.00", ""},
		{"2020-01-01", "2021-12-31", "1e6", ""},
		{"2020-01-01", "2021-12-31", "1000000.001", ""},
		{"2020-01-01", "2021-13-31", "1.00", ""},
		{"2020-01-01", "2021-12-31", "1.00", "2020-00-01"},
		{"2020-01-01", "2199-12-31", "1.00", ""},
	} {
		if _, err := YearlyBudgets(bad[0], bad[1], bad[2], bad[3]); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("YearlyBudgets%q: got %v, want ErrInvalidInput", bad, err)
		}
	}
}

func TestOrgTypeForDonorKind(t *testing.T) {
	for kind, want := range map[string]string{
		"member_city": "11", "country": "10", "company": "70", "foundation": "60", "other": "90", "": "", "city": "",
	} {
		if got := OrgTypeForDonorKind(kind); got != want {
			t.Errorf("OrgTypeForDonorKind(%q) = %q, want %q", kind, got, want)
		}
	}
}

func TestActivityIdentifier(t *testing.T) {
	if got, want := ActivityIdentifier("mdfm", "2020-2021"), "XM-DAC-41304-MDFM-2020-2021"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestEscaping: text with markup characters and non-ASCII letters reads back
// as given, and the document stays valid.
func TestEscaping(t *testing.T) {
	a := illustrativeTerm(t)
	a.Title = `Cities <of> "Learning" & 'Lifelong' — Städte, villes, 学习型城市]]>`
	a.Donors[0].Name = "Ville & <Cité>\t\"Apprenante\""
	a.Transactions[0].ProviderOrg = a.Donors[0]
	out := renderTerm(t, a)
	xmllint(t, activitiesSchema, out)
	act := parse(t, out).Activities[0]
	if act.Title != a.Title {
		t.Errorf("title: got %q, want %q", act.Title, a.Title)
	}
	if act.Participants[0].Name != a.Donors[0].Name {
		t.Errorf("donor: got %q, want %q", act.Participants[0].Name, a.Donors[0].Name)
	}
	if bytes.Contains(out, []byte("<of>")) || bytes.Contains(out, []byte("]]>")) {
		t.Errorf("markup characters written unescaped:\n%s", out)
	}
}
