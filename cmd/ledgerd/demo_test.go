package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
)

// TestDemo loads the demo into an empty data folder on today's real clock,
// reads the balance with the demo tokens and checks that it is not empty and
// keeps the accounting identity; a restart with --demo loads nothing more
// and the demo tokens stay valid.
func TestDemo(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, nil, "--data", data, "--demo")

	path := filepath.Join(data, DemoTokensFile)
	if !strings.Contains(d.stdout.String(), "demo: tokens for ana (approver), olu (officer), kim (auditor), admin and dana (donor) are in "+path+"\n") {
		t.Errorf("stdout does not say where the tokens are:\n%s", d.stdout)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("demo tokens file: %v %v", st, err)
	}
	tokens := readDemoTokens(t, path)
	for _, u := range []string{"ana approver", "olu officer", "kim auditor", "admin admin", "dana donor:demo-foundation"} {
		if tokens[u] == "" {
			t.Errorf("no demo token for %s in %v", u, tokens)
		}
	}

	var b projections.Balance
	d.get(t, "/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-12-31", tokens["kim auditor"], &b)
	checkDemoBalance(t, b)
	// The donor's token reads the balance too, and writes nothing.
	var db projections.Balance
	d.get(t, "/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-12-31", tokens["dana donor:demo-foundation"], &db)
	if diff := cmp.Diff(b, db); diff != "" {
		t.Errorf("donor and auditor read other balances (-auditor +donor):\n%s", diff)
	}
	d.post(t, 403, "/v1/donors", tokens["dana donor:demo-foundation"], "", `{"id":"x","name":"x","kind":"other","country":"FR"}`)
	// olu, the officer who proposed demo-al-4, may not approve it.
	d.post(t, 403, "/v1/allocations/demo-al-4/approve", tokens["olu officer"], "", `{"approved_on":"2021-05-11"}`)
	var rep audit.VerifyReport
	d.get(t, "/v1/audit/verify", tokens["kim auditor"], &rep)
	if !rep.OK || rep.FundSeq != b.FundSeq {
		t.Errorf("verify after the demo: %+v", rep)
	}
	// The registry: two coordinators for each of the seven clusters in
	// 2022–2023, in one batch.
	var cl struct {
		Clusters []projections.ClusterRow `json:"clusters"`
	}
	d.get(t, "/v1/clusters?term=2022-2023", tokens["kim auditor"], &cl)
	if len(cl.Clusters) != 7 {
		t.Errorf("%d clusters, want 7", len(cl.Clusters))
	}
	for _, c := range cl.Clusters {
		if len(c.Coordinators) != 2 {
			t.Errorf("cluster %s has %d coordinators", c.ClusterID, len(c.Coordinators))
		}
	}
	// The registry batch sent again through the API with the demo's key
	// answers the demo's result: the demo hashed it as the API does.
	for _, c := range demoCommands() {
		if c.id == "demo-registry" {
			body, err := demoBody(c)
			if err != nil {
				t.Fatal(err)
			}
			d.post(t, 200, "/v1/batch", tokens["olu officer"], c.id, string(body))
		}
	}
	var pl struct {
		Pledges []projections.PledgeRow `json:"pledges"`
	}
	d.get(t, "/v1/pledges?term=2020-2021&as_of=2021-12-31", tokens["olu officer"], &pl)
	if len(pl.Pledges) != 3 {
		t.Errorf("%d pledges, want 3", len(pl.Pledges))
	}
	var tb projections.TrialBalance
	d.get(t, "/v1/reports/trial-balance?as_of=2021-12-31", tokens["kim auditor"], &tb)
	if tb.TotalDebit != tb.TotalCredit || tb.FundSeq != b.FundSeq {
		t.Errorf("trial balance after the demo: %+v", tb)
	}
	seq := d.streamLastSeq(t)
	if err := d.m.Close(); err != nil {
		t.Fatal(err)
	}
	// Close left the writer's state snapshot, which the next start
	// begins from (its decisions below are made on it).
	if _, err := os.Stat(filepath.Join(data, SnapshotFilePrefix+"mdfm"+SnapshotFileSuffix)); err != nil {
		t.Errorf("no state snapshot after Close: %v", err)
	}

	// Again on the same folder: nothing loaded, the tokens still work.
	d2 := startDaemon(t, nil, "--data", data, "--demo")
	if !strings.Contains(d2.stdout.String(), "demo: fund mdfm already has events; nothing loaded\n") {
		t.Errorf("second --demo says:\n%s", d2.stdout)
	}
	if got := d2.streamLastSeq(t); got != seq {
		t.Errorf("second --demo moved the stream from %d to %d", seq, got)
	}
	var b2 projections.Balance
	d2.get(t, "/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-12-31", tokens["kim auditor"], &b2)
	if diff := cmp.Diff(b, b2); diff != "" {
		t.Errorf("balance changed across the restart (-before +after):\n%s", diff)
	}
	// ana approves it.
	d2.post(t, 201, "/v1/allocations/demo-al-4/approve", tokens["ana approver"], "", `{"approved_on":"2021-05-11"}`)
}

// checkDemoBalance checks the demo's figures: money received and spent, and
// the identity trust = received + interest − fees − spent − refunded =
// unallocated + allocated unspent.
func checkDemoBalance(t *testing.T, b projections.Balance) {
	t.Helper()
	c := func(s string) int64 {
		n, err := money.ParseMinor(s, money.USD)
		if err == money.ErrNotPositive && s == "0.00" {
			return 0
		}
		if err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		return n
	}
	if c(b.Received) == 0 || c(b.Spent) == 0 || c(b.TrustBalance) == 0 || c(b.AllocatedUnspent) == 0 {
		t.Errorf("demo balance has empty parts: %+v", b)
	}
	if c(b.TrustBalance) != c(b.Unallocated)+c(b.AllocatedUnspent) {
		t.Errorf("trust %s ≠ unallocated %s + allocated unspent %s", b.TrustBalance, b.Unallocated, b.AllocatedUnspent)
	}
	if c(b.TrustBalance) != c(b.Received)+c(b.Interest)+c(b.CarriedIn)-c(b.CarriedOut)-c(b.Fees)-c(b.Spent)-c(b.Refunded) {
		t.Errorf("trust %s ≠ received + interest + carried in − carried out − fees − spent − refunded: %+v", b.TrustBalance, b)
	}
	if b.Fees != b.UILRevenue {
		t.Errorf("fees %s, UIL revenue %s", b.Fees, b.UILRevenue)
	}
	// The demo's own figures: 93,000.00 (JPY) + 165,000.00 (EUR) +
	// 50,000.00 + 48,000.00 (JPY) + 20,000.00 received (the 25,000.00 keyed
	// wrong is reversed), 1 % fees; interest 1,520.35 + 1,104.80; spent
	// 22,500.00 + 21,240.00 (EUR) + 12,000.00 + 10,890.00 (EUR); refunded
	// 5,000.00. Approved 195,000.00 (25,000.00 pending). The Literacy pot
	// holds 49,500.00 + 19,800.00 − 45,000.00. Pledged 186,000.00 (JPY) +
	// 165,000.00 (EUR) + 80,000.00.
	want := projections.Balance{Received: "376000.00", Interest: "2625.15", Fees: "3760.00", Spent: "66630.00", Refunded: "5000.00",
		TrustBalance: "303235.15", AllocatedUnspent: "128370.00", Unallocated: "174865.15", UnallocatedUnearmarked: "150565.15",
		Pledged: "431000.00", TermStatus: "open"}
	got := projections.Balance{Received: b.Received, Interest: b.Interest, Fees: b.Fees, Spent: b.Spent, Refunded: b.Refunded,
		TrustBalance: b.TrustBalance, AllocatedUnspent: b.AllocatedUnspent, Unallocated: b.Unallocated, UnallocatedUnearmarked: b.UnallocatedUnearmarked,
		Pledged: b.Pledged, TermStatus: b.TermStatus}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("demo balance (-want +got):\n%s", diff)
	}
	if pots := b.UnallocatedEarmarked.Map(); len(pots) != 1 || pots["cluster:LIT"] != "24300.00" {
		t.Errorf("demo earmarked pots %v, want cluster:LIT 24300.00", pots)
	}
}

// readDemoTokens reads the demo tokens file: "user role" → token.
func readDemoTokens(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			t.Fatalf("demo tokens line %q", sc.Text())
		}
		out[f[0]+" "+f[1]] = f[2]
	}
	return out
}
