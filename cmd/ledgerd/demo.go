package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// DemoTokensFile is where --demo writes the demo users' tokens, and
// DemoPasswordsFile their passwords for the web app, in the data folder.
const (
	DemoTokensFile    = "demo-tokens.txt"
	DemoPasswordsFile = "demo-passwords.txt"
)

// demoUsers are the demo's API users. ana approves what olu proposes.
var demoUsers = []struct{ user, role string }{
	{"ana", "approver"},
	{"olu", "officer"},
	{"kim", "auditor"},
	{"admin", "admin"},
	{"dana", "donor:demo-foundation"},
}

// loadDemo loads the demo into an empty fund through the writer, as real
// commands, and makes tokens for the demo users. On a fund that has events
// it loads nothing; tokens an earlier --demo wrote to the data folder stay
// valid, so that a restarted demo can still be used.
func (m *Main) loadDemo(ctx context.Context) error {
	path := filepath.Join(m.Config.DataDir, DemoTokensFile)
	if m.writer.LastSeq() != 0 {
		fmt.Fprintf(m.Stdout, "demo: fund %s already has events; nothing loaded\n", m.Config.Fund)
		n, err := m.addDemoTokens(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "demo: the %d demo tokens in %s stay valid\n", n, path)
		pwPath := filepath.Join(m.Config.DataDir, DemoPasswordsFile)
		n, err = m.addDemoPasswords(pwPath)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "demo: the %d demo passwords in %s stay valid\n", n, pwPath)
		return nil
	}
	var b strings.Builder
	b.WriteString("# mdfm-ledger demo tokens, for the ILLUSTRATIVE demo data only: never for real books.\n")
	b.WriteString("# Send one as the header  Authorization: Bearer <token>\n")
	b.WriteString("# user role token\n")
	for _, u := range demoUsers {
		role, err := access.ParseRole(u.role)
		if err != nil {
			return err
		}
		tok, err := access.NewToken()
		if err != nil {
			return err
		}
		if err := m.addDemoLine(access.TokenLine(u.user, role, tok)); err != nil {
			return fmt.Errorf("demo token of %s: %w", u.user, err)
		}
		fmt.Fprintf(&b, "%s %s %s\n", u.user, role, tok)
	}
	var pw strings.Builder
	pw.WriteString("# mdfm-ledger demo passwords for the web app, for the ILLUSTRATIVE demo data only.\n")
	pw.WriteString("# user password\n")
	for _, u := range demoUsers {
		p, err := access.NewToken()
		if err != nil {
			return err
		}
		p = p[:16] // 96 bits: plenty for a demo, short enough to type
		fmt.Fprintf(&pw, "%s %s\n", u.user, p)
	}
	pwPath := filepath.Join(m.Config.DataDir, DemoPasswordsFile)
	if err := os.WriteFile(pwPath, []byte(pw.String()), 0o600); err != nil {
		return fmt.Errorf("write demo passwords: %w", err)
	}
	if _, err := m.addDemoPasswords(pwPath); err != nil {
		return err
	}
	if err := m.submitDemo(ctx); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write demo tokens: %w", err)
	}
	fmt.Fprintf(m.Stdout, "demo: loaded term %s (open) with %d budget lines of the strategy and its %d clusters, term %s with %d member cities coordinating and joining them, and an ILLUSTRATIVE history (pledges, receipts, interest, allocations, spending, a reversal, a refund) into fund %s\n",
		demoTerm, len(mdfmLines)+len(clusters)*len(clusterActivities), len(clusters), demoNextTerm, len(demoCities), m.Config.Fund)
	fmt.Fprintf(m.Stdout, "demo: tokens for ana (approver), olu (officer), kim (auditor), admin and dana (donor) are in %s\n", path)
	fmt.Fprintf(m.Stdout, "demo: their passwords for the web app (sign in at the address printed below) are in %s\n", pwPath)
	return nil
}

// addDemoLine adds a tokens-file line to the daemon's set and keeps it for
// the web app, which reads --tokens again when it changes.
func (m *Main) addDemoLine(line string) error {
	if err := m.tokens.AddLine(line); err != nil {
		return err
	}
	m.demoLines = append(m.demoLines, line)
	return nil
}

// addDemoPasswords gives each user of a demo passwords file (user password)
// its password, in the role of the demo user, and returns how many.
func (m *Main) addDemoPasswords(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	roles := map[string]string{}
	for _, u := range demoUsers {
		roles[u.user] = u.role
	}
	n := 0
	for i, l := range strings.Split(string(b), "\n") {
		l, _, _ = strings.Cut(l, "#")
		fs := strings.Fields(l)
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 2 || roles[fs[0]] == "" {
			return n, fmt.Errorf("%s line %d: want `<demo user> <password>`", path, i+1)
		}
		role, err := access.ParseRole(roles[fs[0]])
		if err != nil {
			return n, err
		}
		line, err := access.PasswordLine(fs[0], role, fs[1])
		if err != nil {
			return n, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		if err := m.addDemoLine(line); err != nil {
			return n, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		n++
	}
	return n, nil
}

// addDemoTokens adds the tokens of a demo tokens file (user role token) to
// the daemon's set and returns how many.
func (m *Main) addDemoTokens(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, line := 0, 0
	for sc.Scan() {
		line++
		l, _, _ := strings.Cut(sc.Text(), "#")
		fs := strings.Fields(l)
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 3 {
			return n, fmt.Errorf("%s line %d: want `<user> <role> <token>`", path, line)
		}
		if err := m.addDemoLine(fs[0] + " " + fs[1] + " " + access.HashToken(fs[2])); err != nil {
			return n, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		n++
	}
	return n, sc.Err()
}

// The strategy's seven MDFM budget lines (UIL's own activities).
var mdfmLines = []struct{ id, title, amount string }{
	{"MDFM-1.1", "Develop training modules on the thematic topics", "200000.00"},
	{"MDFM-1.2", "Capacity-building and training workshops for policy-makers of UNESCO GNLC member cities, with a focus on Africa and low-income countries", "200000.00"},
	{"MDFM-2.1", "Best-practice analyses, a handbook and toolkits on the thematic topics at the global level", "80000.00"},
	{"MDFM-2.2", "Policy briefs and recommendations at the global level", "20000.00"},
	{"MDFM-2.3", "Research and analytical reports on the thematic topics at the global level", "200000.00"},
	{"MDFM-2.4", "Indicators for cities to monitor and evaluate progress in implementing lifelong learning", "200000.00"},
	{"MDFM-3.1", "Online communication platform on learning cities development worldwide", "100000.00"},
}

// The seven thematic clusters of the strategy.
var clusters = []struct{ id, name string }{
	{"ESD", "Education for Sustainable Development"},
	{"EQI", "Equity and inclusion"},
	{"EPME", "Educational planning, monitoring and evaluation"},
	{"GCED", "Global citizenship education"},
	{"ENT", "Entrepreneurship"},
	{"HWB", "Health and well-being"},
	{"LIT", "Literacy"},
}

// The strategy's indicative activities of each cluster with their estimated
// cost.
var clusterActivities = []struct{ num, title, amount string }{
	{"1.1", "Develop the objectives, goals and a working plan for the cluster (preliminary meeting of all members)", "50000.00"},
	{"1.2", "Advance knowledge in the domain among all members (thematic experts' meeting)", "50000.00"},
	{"1.3", "Small-scale learning and exchange activities on policies, strategies, programmes and projects", "50000.00"},
	{"1.4", "Monitor the cluster's work against its goals (annual members' meeting)", "10000.00"},
	{"2.1", "Capacity-building for members of the cluster (annual capacity-building workshop, 50,000 x 2)", "100000.00"},
	{"3.1", "Reports and case studies of best practice", "50000.00"},
	{"3.2", "Outcome analysis and progress report for the International Conference on Learning Cities", "20000.00"},
	{"4.1", "Communication: activities and news for the UNESCO GNLC newsletter every six months", "20000.00"},
}

// demoCities are member cities of the UNESCO Global Network of Learning
// Cities in every region, most of them admitted in 2022 (UNESCO's
// announcement of 77 new members), with Medellín and Cork, hosts of the
// International Conference on Learning Cities in 2019 and 2017. Which
// cluster each coordinates or joins in 2022–2023 is ILLUSTRATIVE.
var demoCities = []struct{ id, name, country string }{
	{"gulu", "Gulu", "UG"}, {"lira", "Lira", "UG"}, {"masaka", "Masaka", "UG"}, {"kara", "Kara", "TG"},
	{"durban", "Durban", "ZA"}, {"kilifi", "Kilifi County", "KE"}, {"libreville", "Libreville", "GA"}, {"bouake", "Bouaké", "CI"},
	{"doha", "Doha", "QA"}, {"fayoum", "Fayoum", "EG"}, {"marrakech", "Marrakech", "MA"},
	{"guangzhou", "Guangzhou", "CN"}, {"hwaseong", "Hwaseong", "KR"}, {"thrissur", "Thrissur", "IN"}, {"cao-lanh", "Cao Lãnh", "VN"},
	{"braga", "Braga", "PT"}, {"brest", "Brest", "FR"}, {"edmonton", "Edmonton", "CA"}, {"girona", "Girona", "ES"}, {"derby", "Derby", "GB"},
	{"cork", "Cork", "IE"}, {"medellin", "Medellín", "CO"},
}

// demoCoordinators are the two coordinating cities of each cluster in
// 2022–2023, and demoMembers the other members (ILLUSTRATIVE). Masaka is a
// member of three clusters, the most a city may be.
var (
	demoCoordinators = map[string][2]string{
		"ESD": {"guangzhou", "braga"}, "EQI": {"gulu", "edmonton"}, "EPME": {"hwaseong", "kilifi"}, "GCED": {"marrakech", "girona"},
		"ENT": {"durban", "thrissur"}, "HWB": {"doha", "lira"}, "LIT": {"kara", "medellin"},
	}
	demoMembers = []struct{ cluster, city string }{
		{"LIT", "masaka"}, {"HWB", "masaka"}, {"EQI", "masaka"}, {"ESD", "libreville"}, {"ESD", "cao-lanh"},
		{"GCED", "brest"}, {"LIT", "fayoum"}, {"ENT", "derby"}, {"EQI", "bouake"}, {"EPME", "cork"},
	}
)

func usd(s string) domain.MoneyInput { return domain.MoneyInput{Amount: s, Currency: "USD"} }

func moneyIn(amount, currency string) domain.MoneyInput {
	return domain.MoneyInput{Amount: amount, Currency: currency}
}

// demoCommand is one command of the demo with the endpoint path and user it
// would come through. A batch has items instead of cmd. reverses names the
// demo command whose receipt a ReverseEvent reverses: its event id is known
// once that command is appended.
type demoCommand struct {
	id, path, actor string
	cmd             domain.Command
	items           []demoCommand
	reverses        string
}

// demoRoles are the roles the demo's users act in.
var demoRoles = map[string]string{"ana": "approver", "olu": "officer"}

// Terms of the demo: 2020–2021 holds the history and stays open for users
// to go on with; 2022–2023 is opened and holds the cluster registry.
const (
	demoTerm     = "2020-2021"
	demoNextTerm = "2022-2023"
)

// demoCommands returns the demo in order: the terms, the budget, the
// clusters and, in one atomic batch, the registry of cities with each
// cluster's coordinators and members; then an ILLUSTRATIVE history (no real
// donor or payment): pledges in JPY, EUR and USD (the USD one earmarked to
// the Literacy cluster), receipts paying them partly, interest, allocations
// proposed by olu and approved by ana (one left pending), expenditures in
// USD and EUR, a receipt keyed wrong, reversed and entered again, and a
// refund.
func demoCommands() []demoCommand {
	return append(demoSetup(), demoHistory()...)
}

// demoSetup returns the terms, the budget, the clusters and the registry
// batch.
func demoSetup() []demoCommand {
	var cs []demoCommand
	add := func(id, path, actor string, c domain.Command) {
		cs = append(cs, demoCommand{id: "demo-" + id, path: path, actor: actor, cmd: c})
	}
	const term = demoTerm
	add("term-"+term, "/v1/terms", "ana", &domain.OpenTerm{ID: term, StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: usd("1000000.00"), FeeRate: "0.01"})
	add("term-"+demoNextTerm, "/v1/terms", "ana", &domain.OpenTerm{ID: demoNextTerm, StartsOn: "2022-01-01", EndsOn: "2023-12-31", Target: usd("1000000.00"), FeeRate: "0.01"})
	for _, l := range mdfmLines {
		add("line-"+l.id, "/v1/budget-lines", "olu", &domain.AddBudgetLine{ID: l.id, TermID: term, Title: l.title, Amount: usd(l.amount)})
	}
	// A cluster's lines name a registered cluster.
	for _, c := range clusters {
		add("cluster-"+c.id, "/v1/clusters", "olu", &domain.RegisterCluster{ID: c.id, Name: c.name})
	}
	for _, c := range clusters {
		for _, a := range clusterActivities {
			id := c.id + "-" + a.num
			add("line-"+id, "/v1/budget-lines", "olu", &domain.AddBudgetLine{ID: id, TermID: term, Title: c.name + ": " + a.title, Amount: usd(a.amount), ClusterID: c.id})
		}
	}
	registry := demoCommand{id: "demo-registry", path: "/v1/batch", actor: "olu"}
	item := func(path string, c domain.Command) {
		registry.items = append(registry.items, demoCommand{path: path, cmd: c})
	}
	for _, c := range demoCities {
		item("/v1/cities", &domain.RegisterCity{ID: c.id, Name: c.name, Country: c.country})
	}
	for _, c := range clusters {
		for _, city := range demoCoordinators[c.id] {
			item("/v1/clusters/"+c.id+"/coordinators", &domain.AppointCoordinator{ClusterID: c.id, CityID: city, TermID: demoNextTerm})
		}
	}
	for _, m := range demoMembers {
		item("/v1/clusters/"+m.cluster+"/members", &domain.JoinCluster{ClusterID: m.cluster, CityID: m.city, TermID: demoNextTerm})
	}
	return append(cs, registry)
}

// demoHistory returns the ILLUSTRATIVE history of the demo's first term.
func demoHistory() []demoCommand {
	var cs []demoCommand
	add := func(id, path, actor string, c domain.Command) {
		cs = append(cs, demoCommand{id: "demo-" + id, path: path, actor: actor, cmd: c})
	}
	const term = demoTerm
	add("donor-city", "/v1/donors", "olu", &domain.RegisterDonor{ID: "demo-city", Name: "ILLUSTRATIVE Member City A", Kind: "member_city", Country: "JP", City: "ILLUSTRATIVE City A"})
	add("donor-country", "/v1/donors", "olu", &domain.RegisterDonor{ID: "demo-country", Name: "ILLUSTRATIVE Donor Country B", Kind: "country", Country: "DE"})
	add("donor-foundation", "/v1/donors", "olu", &domain.RegisterDonor{ID: "demo-foundation", Name: "ILLUSTRATIVE Foundation C", Kind: "foundation", Country: "US"})

	pledge := func(id, donor, amount, cur, rate, signed, due, cluster string) {
		c := &domain.RecordPledge{ID: "demo-" + id, DonorID: donor, TermID: term, Amount: moneyIn(amount, cur), USDRate: rate, SignedOn: signed, DueOn: due}
		if cluster != "" {
			c.Earmark = &domain.EarmarkInput{ClusterID: cluster}
		}
		add(id, "/v1/pledges", "olu", c)
	}
	pledge("pl-city", "demo-city", "20000000", "JPY", "0.0093", "2020-02-14", "2021-06-30", "")          // 186,000.00 USD
	pledge("pl-country", "demo-country", "150000.00", "EUR", "1.1", "2020-03-02", "2020-06-30", "")      // 165,000.00 USD
	pledge("pl-foundation", "demo-foundation", "80000.00", "USD", "", "2020-07-15", "2021-09-30", "LIT") // earmarked to Literacy

	rcpt := func(id, donor, pledge, amount, cur, rate, on string) {
		add(id, "/v1/contributions", "olu", &domain.RecordContribution{ID: "demo-" + id, DonorID: donor, TermID: term, PledgeID: "demo-" + pledge,
			Amount: moneyIn(amount, cur), USDRate: rate, ReceivedOn: on, BankRef: "ILLUSTRATIVE-" + on})
	}
	rcpt("rcpt-1", "demo-city", "pl-city", "10000000", "JPY", "0.0093", "2020-03-16")       // 93,000.00 USD
	rcpt("rcpt-2", "demo-country", "pl-country", "150000.00", "EUR", "1.1", "2020-05-04")   // 165,000.00 USD
	rcpt("rcpt-3", "demo-foundation", "pl-foundation", "50000.00", "USD", "", "2020-09-01") // to Literacy
	rcpt("rcpt-4", "demo-city", "pl-city", "5000000", "JPY", "0.0096", "2021-03-15")        // 48,000.00 USD
	rcpt("rcpt-5-wrong", "demo-foundation", "pl-foundation", "25000.00", "USD", "", "2021-04-20")
	cs = append(cs, demoCommand{id: "demo-rv-1", path: "/v1/reversals", actor: "olu", reverses: "demo-rcpt-5-wrong",
		cmd: &domain.ReverseEvent{ID: "demo-rv-1", Reason: "ILLUSTRATIVE: keyed as 25,000.00; the bank statement says 20,000.00"}})
	rcpt("rcpt-5", "demo-foundation", "pl-foundation", "20000.00", "USD", "", "2021-04-20")

	interest := func(id, amount, on string) {
		add(id, "/v1/interest", "olu", &domain.RecordInterest{ID: "demo-" + id, TermID: term, Amount: usd(amount), EarnedOn: on})
	}
	interest("int-2020", "1520.35", "2020-12-31")
	interest("int-2021-h1", "1104.80", "2021-06-30")

	alloc := func(id, line, amount, proposed, approved, note string) {
		add(id, "/v1/allocations", "olu", &domain.ProposeAllocation{ID: "demo-" + id, LineID: line, Amount: usd(amount), Note: "ILLUSTRATIVE: " + note, ProposedOn: proposed})
		if approved != "" {
			add(id+"-approve", "/v1/allocations/demo-"+id+"/approve", "ana", &domain.ApproveAllocation{ID: "demo-" + id, ApprovedOn: approved})
		}
	}
	alloc("al-1", "MDFM-1.1", "60000.00", "2020-06-01", "2020-06-03", "first training modules")
	alloc("al-2", "MDFM-1.2", "50000.00", "2020-10-01", "2020-10-05", "workshop for policy-makers of African member cities")
	alloc("al-3", "ESD-2.1", "40000.00", "2021-04-01", "2021-04-06", "ESD cluster capacity-building workshop")
	alloc("al-4", "MDFM-3.1", "25000.00", "2021-05-10", "", "communication platform, awaiting approval")
	alloc("al-5", "LIT-2.1", "45000.00", "2021-05-03", "2021-05-05", "Literacy cluster capacity-building, from the foundation's earmarked money")

	spend := func(id, al, amount, cur, rate, on, payee, country, cityID, city, what string) {
		add(id, "/v1/expenditures", "olu", &domain.RecordExpenditure{ID: "demo-" + id, AllocationID: "demo-" + al,
			Amount: moneyIn(amount, cur), USDRate: rate, SpentOn: on,
			Payee: payee, Description: "ILLUSTRATIVE: " + what, Country: country, CityID: cityID, City: city})
	}
	spend("x-1", "al-1", "22500.00", "USD", "", "2020-08-20", "ILLUSTRATIVE Consultant", "DE", "", "", "drafting of the first two modules")
	spend("x-2", "al-2", "18000.00", "EUR", "1.18", "2020-11-20", "ILLUSTRATIVE Venue and travel", "KE", "", "Nairobi", "workshop venue and travel") // 21,240.00 USD
	spend("x-3", "al-3", "12000.00", "USD", "", "2021-06-10", "ILLUSTRATIVE Workshop provider", "ZA", "durban", "", "cluster workshop")
	spend("x-4", "al-5", "9000.00", "EUR", "1.21", "2021-07-12", "ILLUSTRATIVE Literacy trainers", "UG", "gulu", "", "literacy facilitators' training") // 10,890.00 USD

	add("refund-1", "/v1/refunds", "olu", &domain.RecordRefund{ID: "demo-refund-1", DonorID: "demo-country", TermID: term, Amount: usd("5000.00"),
		PaidOn: "2021-09-15", Reason: "ILLUSTRATIVE: part of an unspent contribution returned at the donor's request"})
	return cs
}

// demoBody returns the JSON body the HTTP request of a demo command would
// carry: a batch's is {"commands": [{"path", "body"}, …]}.
func demoBody(c demoCommand) ([]byte, error) {
	if c.items == nil {
		return json.Marshal(c.cmd)
	}
	type item struct {
		Path string         `json:"path"`
		Body domain.Command `json:"body"`
	}
	var b struct {
		Commands []item `json:"commands"`
	}
	for _, it := range c.items {
		b.Commands = append(b.Commands, item{it.path, it.cmd})
	}
	return json.Marshal(b)
}

// submitDemo submits the demo commands in order, as their users, with the
// command hash their HTTP request would have: sending the same body with
// the same Idempotency-Key through the API answers the demo's result.
func (m *Main) submitDemo(ctx context.Context) error {
	results := map[string]ledger.Result{}
	for _, c := range demoCommands() {
		if c.reverses != "" {
			id, err := receiptEventID(results[c.reverses])
			if err != nil {
				return fmt.Errorf("%s: %w", c.id, err)
			}
			c.cmd.(*domain.ReverseEvent).EventID = id
		}
		if c.items != nil {
			b := &domain.Batch{}
			for _, it := range c.items {
				b.Commands = append(b.Commands, it.cmd)
			}
			c.cmd = b
		}
		body, err := demoBody(c)
		if err != nil {
			return err
		}
		hash, err := ledger.CommandHash(c.path, body)
		if err != nil {
			return err
		}
		domain.SetMeta(c.cmd, domain.Meta{Actor: c.actor, Today: m.writer.Today(), Role: demoRoles[c.actor]})
		res, err := m.writer.Submit(ctx, ledger.Request{CommandID: c.id, CommandHash: hash, Command: c.cmd})
		if err != nil {
			return fmt.Errorf("%s: %w", c.id, err)
		}
		results[c.id] = res
	}
	return nil
}

// receiptEventID returns the id of the contribution_received event of a
// receipt's result.
func receiptEventID(res ledger.Result) (string, error) {
	for _, e := range res.Events {
		if e.Type == events.TypeContributionReceived {
			return e.ID, nil
		}
	}
	return "", fmt.Errorf("no %s among the events %v", events.TypeContributionReceived, res.Events)
}
