package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/historygen"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
)

// TestHostileHistories drives a ledgerd over HTTP with generated histories
// whose text, dates, amounts and keys come from hostile alphabets (issue
// 8): control characters, invalid UTF-8 in the raw JSON, blank and
// 10,000-character strings, right-to-left and combining marks, emoji,
// dates at and beyond every window, amounts at the limits of each currency,
// unknown currencies, reused ids and Idempotency-Keys. After every accepted
// command every report answers in every format (balance, pledges, budget,
// focus, trial balance, every donor's statement in json, csv, html and pdf,
// IATI activities and organisation, GET /v1/events); the IATI files are
// checked against the schema every few commands and at the end. A refused
// command changes nothing: the stream's last sequence and the balances stay
// as they were. At the end of each history GET /v1/audit/verify answers ok
// and `projector verify --from` passes on the export.
//
// It tries hostileChecks histories, about a minute here; -rapid.checks=N
// tries N (README.md, Testing). When a kind of command was never accepted or
// a class of hostile input never tried, it draws another round, up to
// historygen.CoverageRounds, and then fails: it cannot pass without trying.
func TestHostileHistories(t *testing.T) {
	defaultChecks(t, hostileChecks)
	projector := buildProjector(t)
	tally := hostileTally{}
	check := func() {
		rapid.Check(t, func(rt *rapid.T) {
			h := newHostileHistory(t, rt, projector, tally)
			defer h.close()
			h.run()
		})
		if t.Failed() {
			t.FailNow()
		}
	}
	// A kind of command that no history got accepted, or a hostile class
	// never tried, would make the test pass without testing: draw more
	// rounds until each was, or fail.
	missing := historygen.UntilCovered(check, tally, tally.wanted())
	for _, g := range []string{"accepted", "refused", "refusal", "tried", "hostile accepted", "report"} {
		t.Logf("%s: %v", g, tally.group(g))
	}
	if len(missing) > 0 {
		t.Error(historygen.Missing("acceptance or try of", missing))
	}
}

// hostileChecks is how many histories TestHostileHistories tries when
// -rapid.checks is not given.
const hostileChecks = 12

// defaultChecks sets -rapid.checks to n for this test unless the command
// line set it.
func defaultChecks(t *testing.T, n int) {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.checks" })
	f := flag.Lookup("rapid.checks")
	if given || f == nil {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(fmt.Sprint(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Value.Set(old) })
}

// buildProjector builds cmd/projector for verify --from.
func buildProjector(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "projector")
	if out, err := exec.Command("go", "build", "-o", bin, "../projector").CombinedOutput(); err != nil {
		t.Fatalf("go build ../projector: %v\n%s", err, out)
	}
	return bin
}

// hostileNow is the daemon's clock: after every generated term's end.
func hostileNow() time.Time { return time.Date(2023, 12, 31, 12, 0, 0, 0, time.UTC) }

const (
	hostileToday    = "2023-12-31"
	hostileTomorrow = "2024-01-01"
	// hostileIATIEvery is how often (in accepted commands) the IATI files
	// are checked against the schema; xmllint is slow next to the rest.
	hostileIATIEvery = 8
)

// Hostile alphabets.
var (
	hostileTexts = []string{
		"", " ", "   ", "\t\n", "\u00a0", "\u3000", "\u200b", "\u2028",
		"nul\x00byte", "esc\x1b[31mred", "bell\x07", "del\x7f", "c1\u0085next", "csi\u009b", "cr\rlf",
		"line\nbreak", "tab\there",
		strings.Repeat("x", 10000), strings.Repeat("é", 5000), strings.Repeat("👩‍👩‍👧", 100),
		"\u202eevil\u202c", "שלום", "مرحبا", "e\u0301\u0301\u0301", "Z\u0351\u0352\u0353\u0354",
		"👩‍👩‍👧", "🏳️‍🌈", "\U0001F4A9",
		"<script>alert(1)</script>", "]]>&amp;<!--", "=cmd|' /C calc'!A0", `"quoted", a;b`, "(paren) \\ backslash %PDF",
		"\ufffd", "\ufeffbom", "\ud7ff\ue000", "Medellín", "日本", "Ωμέγα",
	}
	// hostileRaw are bytes json.Marshal cannot carry: invalid UTF-8 and
	// unescaped control characters, put into the raw JSON.
	hostileRaw = []string{"\xff\xfe", "a\xc3\x28b", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "raw\x01ctl", "raw\ttab"}
	// hostileDates sit at and beyond every window.
	hostileDates = []string{
		"0000-01-01", "0001-01-01", "1899-12-31", "1900-01-01", "1969-12-31", "1970-01-01", "1999-12-31", "2000-01-01",
		"2019-12-31", "2020-01-01", "2021-12-31", "2022-06-30", "2023-12-31", hostileToday, hostileTomorrow, "2024-02-29", "2099-12-31", "9999-12-31",
		"2021-02-29", "2020-13-01", "2020-00-10", "2020-1-1", "20200101", "2020-01-01T00:00:00Z", " 2020-01-01", "２０２０-01-01",
		"+2020-01-01", "-2020-01-01", "10000-01-01", "",
	}
	hostileAmounts = []string{
		"0.01", "0.001", "0.0001", "1", "1.5", "1.50", "1.500", "1000000000000.00", "9999999999999.99", "10000000000000.00",
		// money.MaxAmountMinor and one more, in 2, 0 and 3 decimals (USD, JPY, KWD).
		"10000000000000.01", "1000000000000000", "1000000000000001", "1000000000000.000", "1000000000000.001",
		"10000000000000000", "9223372036854775807", "99999999999999999999.99", "0", "0.00", "-0.00", "-1.00", "-0.01",
		"1e3", " 1.00", "1.00 ", "+1.00", "1,000.00", "NaN", "Infinity", "0x10", "１.００", ".5", "5.", "",
	}
	hostileCurrencies = []string{"USD", "EUR", "JPY", "KRW", "KWD", "BHD", "usd", "XXX", "XAU", "BTC", "US$", "", "EUR ", "ＵＳＤ"}
	hostileRates      = []string{"0", "-1", "1e3", "0.00000000001", "1.0000000001", "99999999999999999999999", "1.1", "NaN", "", " 1"}
	// hostileKeys are Idempotency-Keys net/http will send.
	hostileKeys = []string{strings.Repeat("k", 129), strings.Repeat("k", 128), "ключ", "a b", "a\tb", "é"}
)

// hostileTally counts, over every history, what was tried and what came
// back, as "group key": accepted and refused by kind of command, tried and
// accepted by class of hostile input, refusals by kind and code, report
// answers by report and status. The test cannot pass without trying.
type hostileTally map[string]int

func (c hostileTally) add(group, key string) { c[group+" "+key]++ }

// group returns the counts of one group, by key.
func (c hostileTally) group(g string) map[string]int {
	out := map[string]int{}
	for k, n := range c {
		if key, ok := strings.CutPrefix(k, g+" "); ok {
			out[key] = n
		}
	}
	return out
}

// hostileKinds are the kinds of command, every one of domain.Commands: each
// must be accepted at least once over the run, so a command the generator
// does not draw fails the test.
func hostileKinds() []string {
	var kinds []string
	for _, c := range domain.Commands() {
		kinds = append(kinds, kindOf(c))
	}
	return kinds
}

// kindOf names a command's kind by its type: "RecordPledge".
func kindOf(c domain.Command) string { return strings.TrimPrefix(fmt.Sprintf("%T", c), "*domain.") }

// hostileClasses are the classes of hostile input; each must be tried.
var hostileClasses = []string{"text", "raw bytes", "date", "amount", "currency", "rate", "idempotency key",
	"replayed key", "reused key", "duplicate id"}

// wanted is what the run must have reached to say anything: every kind of
// command accepted, every class of hostile input tried, and the reports
// that are slowest to reach answered.
func (c hostileTally) wanted() []string {
	var w []string
	for _, k := range hostileKinds() {
		w = append(w, "accepted "+k)
	}
	for _, k := range hostileClasses {
		w = append(w, "tried "+k)
	}
	return append(w, "report statement pdf 200", "report iati activities valid", "report verify --from ok")
}

// hostileHistory is one generated history against its own daemon.
type hostileHistory struct {
	t          *testing.T
	rt         *rapid.T
	d          *daemon
	projector  string
	tally      hostileTally
	state      *domain.State
	lastStream uint64
	balances   map[string][]byte // term → the balance answer after the last accepted command
	sent       []sentWrite       // accepted writes, for replays and reused keys
	accepted   int
}

// sentWrite is an accepted write: its key, path, token, body and answer.
type sentWrite struct {
	key, path, token string
	body, answer     []byte
}

func newHostileHistory(t *testing.T, rt *rapid.T, projector string, tally hostileTally) *hostileHistory {
	dir, err := os.MkdirTemp("", "hostile-")
	if err != nil {
		rt.Fatal(err)
	}
	d, err := launchDaemon(t.Context(), hostileNow, "--data", dir, "--tokens", writeTestTokens(t))
	if err != nil {
		os.RemoveAll(dir)
		rt.Fatal(err)
	}
	h := &hostileHistory{t: t, rt: rt, d: d, projector: projector, tally: tally, state: domain.NewState("mdfm"),
		balances: map[string][]byte{}}
	h.lastStream = d.streamLastSeq(rt)
	return h
}

func (h *hostileHistory) close() {
	if err := h.d.m.Close(); err != nil {
		h.t.Errorf("close: %v", err)
	}
	if h.rt.Failed() {
		h.rt.Logf("ledgerd's warnings and errors:\n%s", problems(h.d.logs.String()))
	}
	os.RemoveAll(h.d.m.Config.DataDir)
}

// problems returns the log's lines above INFO.
func problems(log string) string {
	var b strings.Builder
	for line := range strings.Lines(log) {
		if !strings.Contains(line, "level=INFO") && !strings.Contains(line, "level=DEBUG") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// run sends the prelude, then generated commands, then checks the end.
func (h *hostileHistory) run() {
	for i, c := range hostilePrelude() {
		w := h.writeOf(c)
		w.key = fmt.Sprintf("prelude-%d", i)
		if a := h.send(w); a.status != 201 {
			h.rt.Fatalf("prelude %s: %s", w.path, a)
		}
		h.follow()
	}
	steps := rapid.IntRange(60, 100).Draw(h.rt, "commands")
	for i := range steps {
		h.step(i)
	}
	h.checkReports(true)
	h.checkVerify()
}

// hostileWrite is one write request as the test sends it.
type hostileWrite struct {
	kind, path, token, key string
	body                   []byte
	classes                []string // hostile classes it carries
}

// writeOf turns a command into its request: path, token and body as JSON.
func (h *hostileHistory) writeOf(c domain.Command) hostileWrite {
	body, err := json.Marshal(c)
	if err != nil {
		h.rt.Fatal(err)
	}
	w := hostileWrite{kind: kindOf(c), token: "tok-olu", body: body}
	seg := url.PathEscape
	switch c := c.(type) {
	case *domain.OpenTerm:
		w.path, w.token = "/v1/terms", "tok-ana"
	case *domain.CloseTerm:
		w.path, w.token = "/v1/terms/"+seg(c.ID)+"/close", "tok-ana"
	case *domain.RegisterDonor:
		w.path = "/v1/donors"
	case *domain.AmendDonor:
		w.path = "/v1/donors/" + seg(c.ID) + "/amend"
	case *domain.RecordPledge:
		w.path = "/v1/pledges"
	case *domain.AmendPledge:
		w.path = "/v1/pledges/" + seg(c.ID) + "/amend"
	case *domain.CancelPledge:
		w.path = "/v1/pledges/" + seg(c.ID) + "/cancel"
	case *domain.RecordContribution:
		w.path = "/v1/contributions"
	case *domain.AddBudgetLine:
		w.path = "/v1/budget-lines"
	case *domain.ProposeAllocation:
		w.path = "/v1/allocations"
	case *domain.ApproveAllocation:
		w.path, w.token = "/v1/allocations/"+seg(c.ID)+"/approve", "tok-ana"
	case *domain.RecordExpenditure:
		w.path = "/v1/expenditures"
	case *domain.RecordInterest:
		w.path = "/v1/interest"
	case *domain.RecordRefund:
		w.path = "/v1/refunds"
	case *domain.ReverseEvent:
		w.path = "/v1/reversals"
	case *domain.RegisterCity:
		w.path = "/v1/cities"
	case *domain.RegisterCluster:
		w.path = "/v1/clusters"
	case *domain.AppointCoordinator:
		w.path = "/v1/clusters/" + seg(c.ClusterID) + "/coordinators"
	case *domain.JoinCluster:
		w.path = "/v1/clusters/" + seg(c.ClusterID) + "/members"
	default:
		h.rt.Fatalf("no path for %T", c)
	}
	return w
}

// step draws one write, hostile or not, sends it and checks the outcome.
func (h *hostileHistory) step(i int) {
	var w hostileWrite
	switch {
	case len(h.sent) > 0 && rapid.IntRange(0, 19).Draw(h.rt, "replay") == 0:
		// The same key and body again: the first answer, nothing appended.
		s := rapid.SampledFrom(h.sent).Draw(h.rt, "replayed")
		h.tally.add("tried", "replayed key")
		before := h.d.streamLastSeq(h.rt)
		a := h.send(hostileWrite{kind: "replay", path: s.path, token: s.token, key: s.key, body: s.body})
		if a.status != 200 || !bytes.Equal(a.body, s.answer) {
			h.rt.Fatalf("replay of %s key %q: %s, want 200 with the first answer %s", s.path, s.key, a, s.answer)
		}
		if after := h.d.streamLastSeq(h.rt); after != before {
			h.rt.Fatalf("replay of %s key %q appended: stream %d → %d", s.path, s.key, before, after)
		}
		return
	default:
		w = h.writeOf(h.genCommand())
		w.key = fmt.Sprintf("h-%d", i)
	}
	w = h.makeHostile(w)
	before := h.d.streamLastSeq(h.rt)
	if before != h.lastStream {
		h.rt.Fatalf("stream at %d, last seen %d", before, h.lastStream)
	}
	a := h.send(w)
	switch {
	case a.status == 201:
		if slices.ContainsFunc(h.sent, func(s sentWrite) bool { return s.key == w.key }) {
			h.rt.Fatalf("%s %s: Idempotency-Key %q, used before, appended another command: %s", w.kind, w.path, w.key, a)
		}
		h.tally.add("accepted", w.kind)
		for _, c := range w.classes {
			h.tally.add("hostile accepted", c)
		}
		h.sent = append(h.sent, sentWrite{w.key, w.path, w.token, w.body, a.body})
		h.follow()
		h.accepted++
		h.checkReports(h.accepted%hostileIATIEvery == 0)
	case a.status == 200:
		// Only a reused key with its own path and body is a replay. The
		// body is compared as the server hashes it, canonical JSON: a body
		// drawn again with its keys in another order is the same command.
		if !slices.ContainsFunc(h.sent, func(s sentWrite) bool {
			return s.key == w.key && s.path == w.path && sameCommand(s.body, w.body)
		}) {
			h.rt.Fatalf("%s %s key %q: 200 for a command not sent before: %s", w.kind, w.path, w.key, a)
		}
		if after := h.d.streamLastSeq(h.rt); after != h.lastStream {
			h.rt.Fatalf("a replay of key %q appended: stream %d → %d", w.key, h.lastStream, after)
		}
	case a.status >= 400 && a.status < 500:
		h.tally.add("refused", w.kind)
		code, _ := a.errorOf(h.rt)
		if code == "" {
			h.rt.Fatalf("%s %s: a refusal without a code: %s", w.kind, w.path, a)
		}
		h.tally.add("refusal", w.kind+" "+code)
		h.checkUnchanged(w, a)
	default:
		h.rt.Fatalf("%s %s (hostile %v) key %q body %q: %s", w.kind, w.path, w.classes, w.key, w.body, a)
	}
}

// send posts w and returns the answer.
func (h *hostileHistory) send(w hostileWrite) answer {
	r := request{method: "POST", path: w.path, token: w.token, body: string(w.body)}
	if w.key != "" {
		r.header = map[string]string{"Idempotency-Key": w.key}
	}
	return h.d.do(h.rt, r)
}

// checkUnchanged: a refused write appended nothing and moved no balance.
func (h *hostileHistory) checkUnchanged(w hostileWrite, a answer) {
	if after := h.d.streamLastSeq(h.rt); after != h.lastStream {
		h.rt.Fatalf("refused %s %s (%s) appended: stream %d → %d", w.kind, w.path, a, h.lastStream, after)
	}
	for _, term := range slices.Sorted(maps.Keys(h.balances)) {
		b := h.report("balance", "/v1/funds/mdfm/balance?term="+url.QueryEscape(term))
		if !bytes.Equal(b, h.balances[term]) {
			h.rt.Fatalf("refused %s %s (%s) changed the balance of term %s:\n%s\nto %s", w.kind, w.path, a, term, h.balances[term], b)
		}
	}
}

// follow reads the events the accepted command appended, by direct gets,
// and applies them to the State the generator draws from.
func (h *hostileHistory) follow() {
	last := h.d.streamLastSeq(h.rt)
	if last <= h.lastStream {
		h.rt.Fatalf("a command was accepted, the stream did not move from %d", last)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for seq := h.lastStream + 1; seq <= last; seq++ {
		m, err := h.d.m.log.ReadMsg(ctx, seq)
		if err != nil {
			h.rt.Fatalf("read stream seq %d: %v", seq, err)
		}
		e, err := events.Decode(m.Data)
		if err != nil {
			h.rt.Fatalf("stream seq %d: %v", seq, err)
		}
		if err := domain.Apply(h.state, e); err != nil {
			h.rt.Fatalf("apply stream seq %d (%s): %v", seq, e.Type, err)
		}
	}
	h.lastStream = last
}

// report GETs path as the auditor and fails unless it answers 200, or one
// of the refusals the README documents for a report of that state (a term
// that starts after today has no data as of today; a statement may be not
// attributable). It returns the body.
func (h *hostileHistory) report(what, path string) []byte {
	h.rt.Helper()
	a := h.d.do(h.rt, request{method: "GET", path: path, token: "tok-kim"})
	if a.status == 200 {
		h.tally.add("report", what+" 200")
		return a.body
	}
	if a.status == 422 {
		code, _ := a.errorOf(h.rt)
		if code == "no_data_as_of" || (code == "not_attributable" && strings.HasPrefix(what, "statement")) {
			h.tally.add("report", what+" 422 "+code)
			return a.body
		}
	}
	h.rt.Fatalf("GET %s: %s", path, a)
	return nil
}

// checkReports asks every report in every format, and with iati the IATI
// files' validity against the schema.
func (h *hostileHistory) checkReports(iati bool) {
	terms := slices.Sorted(maps.Keys(h.state.Terms))
	donors := slices.Sorted(maps.Keys(h.state.Donors))
	for _, term := range terms {
		q := "?term=" + url.QueryEscape(term)
		h.balances[term] = h.report("balance", "/v1/funds/mdfm/balance"+q)
		h.report("budget", "/v1/reports/budget"+q)
		h.report("focus", "/v1/reports/focus"+q)
		for _, donor := range donors {
			for _, f := range []string{"json", "csv", "html", "pdf"} {
				h.report("statement "+f, "/v1/donors/"+url.PathEscape(donor)+"/statement"+q+"&format="+f)
			}
		}
	}
	h.report("pledges", "/v1/pledges")
	h.report("clusters", "/v1/clusters")
	h.report("trial balance", "/v1/reports/trial-balance")
	acts := h.report("iati activities", "/v1/iati/activities.xml")
	org := h.report("iati organisation", "/v1/iati/organisation.xml")
	lines := bytes.Count(h.report("events", "/v1/events?limit=10000"), []byte("\n"))
	if uint64(lines) != h.lastStream {
		h.rt.Fatalf("GET /v1/events: %d lines, the stream holds %d events", lines, h.lastStream)
	}
	if iati {
		if bytes.HasPrefix(acts, []byte("<")) {
			xmllint(h.rt, "iati-activities-schema.xsd", acts)
			h.tally.add("report", "iati activities valid")
		}
		if bytes.HasPrefix(org, []byte("<")) {
			xmllint(h.rt, "iati-organisations-schema.xsd", org)
			h.tally.add("report", "iati organisation valid")
		}
	}
}

// checkVerify: the auditor's verify answers ok, and projector verify --from
// passes on the export (GET /v1/events is the stored bytes, one a line).
func (h *hostileHistory) checkVerify() {
	var v struct {
		OK bool `json:"ok"`
	}
	a := h.d.get(h.rt, "/v1/audit/verify", "tok-kim", &v)
	if !v.OK {
		h.rt.Fatalf("GET /v1/audit/verify: %s", a)
	}
	export := h.report("events", "/v1/events?limit=10000")
	f, err := os.CreateTemp("", "hostile-export-*.ndjson")
	if err != nil {
		h.rt.Fatal(err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(export)
	if err := errors.Join(err, f.Close()); err != nil {
		h.rt.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, h.projector, "verify", "--from", f.Name()).CombinedOutput()
	if err != nil {
		h.rt.Fatalf("projector verify --from: %v\n%s", err, out)
	}
	h.tally.add("report", "verify --from ok")
}

// hostilePrelude is how every history starts: two terms, two donors, a
// receipt and a budget line, valid, so that the generated commands have
// something to build on from the start.
func hostilePrelude() []domain.Command {
	return []domain.Command{
		&domain.OpenTerm{ID: "T20", StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: ledgertest.USD("1000000.00"), FeeRate: "0.01"},
		&domain.OpenTerm{ID: "T22", StartsOn: "2022-01-01", EndsOn: "2023-12-31", Target: ledgertest.USD("1000000.00"), FeeRate: "0.01"},
		&domain.RegisterDonor{ID: "D1", Name: "City of Osaka", Kind: "member_city", Country: "JP"},
		&domain.RegisterDonor{ID: "D2", Name: "Germany", Kind: "country", Country: "DE"},
		&domain.RecordContribution{ID: "C0", DonorID: "D2", TermID: "T20", Amount: ledgertest.USD("200000.00"), ReceivedOn: "2020-03-15"},
		&domain.AddBudgetLine{ID: "L0", TermID: "T20", Title: "Coordination", Amount: ledgertest.USD("150000.00")},
	}
}

// hostileGen draws the valid commands; the hostile fields are put in after
// (makeHostile), so its own mistakes are few.
var hostileGen = historygen.Gen{BadAmounts: []string{"0"}}

// genCommand draws a command, mostly one the state is ready for.
func (h *hostileHistory) genCommand() domain.Command {
	t, s, g, pick := h.rt, h.state, hostileGen, historygen.Pick
	var m domain.Meta
	terms := historygen.Known(s.Terms, "T20")
	var ready []string
	add := func(kinds ...string) { ready = append(ready, kinds...) }
	add("AmendDonor", "RecordContribution", "RecordContribution", "RecordContribution", "RecordPledge", "RecordPledge", "AddBudgetLine")
	if len(s.Clusters) < 2 {
		add("RegisterCluster")
	}
	if len(s.Cities) < 3 {
		add("RegisterCity")
	}
	if len(s.Donors) < 4 {
		add("RegisterDonor")
	}
	if len(s.Terms) < 4 {
		add("OpenTerm")
	}
	if len(s.Lines) > 0 && len(s.Contributions) > 0 {
		add("ProposeAllocation", "ProposeAllocation", "ProposeAllocation")
	}
	for _, a := range s.Allocations {
		if s.Terms[a.TermID].Closed {
			continue
		}
		if a.Approved {
			add("RecordExpenditure", "RecordExpenditure")
		} else {
			add("ApproveAllocation", "ApproveAllocation", "ApproveAllocation")
		}
	}
	if len(s.Pledges) > 0 {
		add("AmendPledge", "AmendPledge", "CancelPledge")
	}
	if len(s.Contributions) > 0 {
		add("RecordInterest", "RecordRefund", "RecordRefund")
	}
	if len(historygen.ReversibleEvents(s, false)) > 0 {
		add("ReverseEvent")
	}
	if len(s.Clusters) > 0 && len(s.Cities) > 0 {
		add("AppointCoordinator", "JoinCluster")
	}
	if t20 := s.Terms["T20"]; t20 != nil && !t20.Closed && s.FundSeq > 30 {
		add("CloseTerm")
	}
	switch rapid.SampledFrom(ready).Draw(t, "kind") {
	case "OpenTerm":
		id := pick(t, "term", []string{"T21", "T24"}, []string{"T20"})
		span := map[string][2]string{"T21": {"2021-06-01", "2022-06-30"}, "T24": {"2024-01-01", "2025-12-31"}}[id]
		return &domain.OpenTerm{ID: id, StartsOn: span[0], EndsOn: span[1], Target: g.Money(t, "target", 100000000, false), FeeRate: "0.01"}
	case "RegisterDonor":
		return &domain.RegisterDonor{ID: pick(t, "donor", []string{"D3", "D4"}, []string{"D1"}), Name: "Donor",
			Kind: rapid.SampledFrom([]string{"country", "member_city", "foundation"}).Draw(t, "donor kind"), Country: "KE", City: "Nairobi"}
	case "AmendDonor":
		name := rapid.SampledFrom([]string{"Donor (amended)", "City of Ōsaka"}).Draw(t, "amended name")
		city := ""
		c := &domain.AmendDonor{ID: rapid.SampledFrom(historygen.Known(s.Donors, "D1")).Draw(t, "donor_id"), Name: &name,
			Reason: "typo", AmendedOn: rapid.SampledFrom([]string{"", "2021-03-15", hostileToday}).Draw(t, "amended_on")}
		if rapid.Bool().Draw(t, "amend the city") {
			c.City = &city
		}
		return c
	case "RecordContribution":
		c := g.Contribution(t, s, m)
		c.ID, c.BankRef = h.freshID("C", c.ID), "BANK-1"
		return c
	case "AddBudgetLine":
		c := g.BudgetLine(t, s, m)
		c.ID = h.freshID("L", c.ID)
		if _, ok := s.Clusters[c.ClusterID]; !ok {
			c.ClusterID = ""
		}
		return c
	case "ProposeAllocation":
		c := g.Proposal(t, s, m)
		c.ID, c.Note = h.freshID("A", c.ID), "note"
		return c
	case "ApproveAllocation":
		return g.Approval(t, s, m)
	case "RecordExpenditure":
		c := g.Expenditure(t, s, m)
		c.ID = h.freshID("E", c.ID)
		c.Description, c.Country, c.City = "Workshop", "KE", "Nairobi"
		if len(s.Cities) > 0 && rapid.Bool().Draw(t, "in a registered city") {
			c.Country, c.City = "", ""
			c.CityID = rapid.SampledFrom(historygen.Known(s.Cities, "cork")).Draw(t, "city_id")
		}
		return c
	case "RegisterCluster":
		c := g.Cluster(t, m)
		c.TechnicalPartner = "Partner"
		return c
	case "RegisterCity":
		return &domain.RegisterCity{ID: pick(t, "city", []string{"cork", "gulu", "lagos"}, []string{"cork"}), Name: "City",
			Country: rapid.SampledFrom([]string{"IE", "UG", "NG"}).Draw(t, "city country")}
	case "RecordPledge":
		term := rapid.SampledFrom(terms).Draw(t, "term_id")
		in := g.Money(t, "pledged", 20000000, true)
		return &domain.RecordPledge{ID: h.freshID("P", "P1"),
			DonorID: rapid.SampledFrom(historygen.Known(s.Donors, "D1")).Draw(t, "donor_id"), TermID: term, Amount: in,
			USDRate: g.Rate(t, "usd_rate", in.Currency), SignedOn: g.Date(t, "signed_on", term), DueOn: g.Date(t, "due_on", term)}
	case "AmendPledge":
		c := g.AmendPledge(t, s, m)
		if pl, ok := s.Pledges[c.ID]; ok {
			c.AmendedOn = g.Date(t, "amended_on", pl.TermID)
		}
		return c
	case "CancelPledge":
		c := g.CancelPledge(t, s, m)
		if pl, ok := s.Pledges[c.ID]; ok {
			c.CancelledOn = g.Date(t, "cancelled_on", pl.TermID)
		}
		return c
	case "RecordInterest":
		c := g.Interest(t, s, m)
		c.ID = h.freshID("I", c.ID)
		return c
	case "RecordRefund":
		c := g.Refund(t, s, m)
		c.ID, c.Reason = h.freshID("R", c.ID), "overpaid"
		// Mostly a donor who paid into the term, near what is theirs.
		if rapid.IntRange(0, 3).Draw(t, "refund a payer") > 0 {
			paid := s.Contributions[rapid.SampledFrom(historygen.Known(s.Contributions, "")).Draw(t, "refunded receipt")]
			c.DonorID, c.TermID = paid.DonorID, paid.TermID
			c.Amount = historygen.USDNear(t, "refund", domain.Attributable(s, c.TermID, c.DonorID))
			c.PaidOn = g.Date(t, "paid_on", c.TermID)
		}
		return c
	case "ReverseEvent":
		return &domain.ReverseEvent{ID: fmt.Sprintf("X%d", s.FundSeq),
			EventID: rapid.SampledFrom(historygen.ReversibleEvents(s, false)).Draw(t, "event_id"), Reason: "wrong entry"}
	case "AppointCoordinator", "JoinCluster":
		cl := rapid.SampledFrom(historygen.Known(s.Clusters, "ESD")).Draw(t, "cluster_id")
		city := rapid.SampledFrom(historygen.Known(s.Cities, "cork")).Draw(t, "city_id")
		term := rapid.SampledFrom(terms).Draw(t, "term_id")
		if rapid.Bool().Draw(t, "coordinator") {
			return &domain.AppointCoordinator{ClusterID: cl, CityID: city, TermID: term}
		}
		return &domain.JoinCluster{ClusterID: cl, CityID: city, TermID: term}
	default: // CloseTerm
		c := &domain.CloseTerm{ID: "T20", ClosedOn: rapid.SampledFrom([]string{"2021-12-31", hostileToday}).Draw(t, "closed_on")}
		c.Disposition.Kind = rapid.SampledFrom([]string{domain.DispositionRefund, domain.DispositionCarryOver}).Draw(t, "disposition")
		if c.Disposition.Kind == domain.DispositionCarryOver {
			c.Disposition.ToTermID = "T22"
		}
		return c
	}
}

// freshID returns, most of the time, an id no command of the history has
// used (prefix and the fund's next fund_seq), and otherwise drawn, the
// generator's own draw, which may be taken or malformed.
func (h *hostileHistory) freshID(prefix, drawn string) string {
	if rapid.IntRange(0, 7).Draw(h.rt, "generator's id") == 0 {
		return drawn
	}
	return fmt.Sprintf("%s%d", prefix, h.state.FundSeq+1)
}

// makeHostile puts hostile values into a third of the writes: into a
// text, date, money or rate field of the body, the raw bytes of the JSON,
// the Idempotency-Key, or a key or id used before.
func (h *hostileHistory) makeHostile(w hostileWrite) hostileWrite {
	t := h.rt
	if rapid.IntRange(0, 2).Draw(t, "hostile") > 0 {
		return w
	}
	var body map[string]any
	if err := json.Unmarshal(w.body, &body); err != nil {
		t.Fatal(err)
	}
	var raw []string // raw values to put in place of their placeholders
	// One hostile value a field, so that each counted class is in the body.
	touched := map[string]bool{}
	fields := func(ok func(string) bool) []string {
		return fieldsOf(body, func(k string) bool { return !touched[k] && ok(k) })
	}
	for n := rapid.IntRange(1, 2).Draw(t, "hostile fields"); n > 0; n-- {
		class := rapid.SampledFrom([]string{"text", "text", "raw bytes", "date", "date", "amount", "currency", "rate",
			"idempotency key", "reused key", "duplicate id"}).Draw(t, "hostile class")
		switch class {
		case "text", "raw bytes":
			keys := fields(func(k string) bool {
				return !strings.HasSuffix(k, "_on") && k != "amount" && k != "target" && !strings.HasSuffix(k, "_rate")
			})
			// The id in a path (/v1/pledges/{id}/amend) is text too.
			segs := strings.Split(w.path, "/")
			if len(segs) == 5 && !touched["(path)"] {
				keys = append(keys, "(path)")
			}
			if len(keys) == 0 {
				continue
			}
			k := rapid.SampledFrom(keys).Draw(t, "text field")
			touched[k] = true
			v := rapid.OneOf(rapid.SampledFrom(hostileTexts), rapid.String()).Draw(t, "hostile text")
			if class == "raw bytes" {
				v = rapid.SampledFrom(hostileRaw).Draw(t, "raw")
			}
			switch {
			case k == "(path)":
				segs[3] = url.PathEscape(v)
				w.path = strings.Join(segs, "/")
			case class == "raw bytes":
				// A placeholder, replaced by the raw bytes once marshalled.
				body[k] = fmt.Sprintf("RAW-%d", len(raw))
				raw = append(raw, v)
			default:
				body[k] = v
			}
		case "date":
			keys := fields(func(k string) bool { return strings.HasSuffix(k, "_on") })
			if len(keys) == 0 {
				continue
			}
			k := rapid.SampledFrom(keys).Draw(t, "date field")
			touched[k] = true
			body[k] = rapid.SampledFrom(hostileDates).Draw(t, "hostile date")
		case "amount", "currency":
			keys := fields(func(k string) bool { return k == "amount" || k == "target" })
			if len(keys) == 0 {
				continue
			}
			m, ok := body[rapid.SampledFrom(keys).Draw(t, "money field")].(map[string]any)
			if !ok {
				continue
			}
			if class == "amount" {
				m["amount"] = rapid.SampledFrom(hostileAmounts).Draw(t, "hostile amount")
			} else {
				m["currency"] = rapid.SampledFrom(hostileCurrencies).Draw(t, "hostile currency")
			}
		case "rate":
			keys := fields(func(k string) bool { return strings.HasSuffix(k, "_rate") })
			if len(keys) == 0 {
				continue
			}
			k := rapid.SampledFrom(keys).Draw(t, "rate field")
			touched[k] = true
			body[k] = rapid.SampledFrom(hostileRates).Draw(t, "hostile rate")
		case "idempotency key":
			if touched["(key)"] {
				continue
			}
			touched["(key)"] = true
			w.key = rapid.SampledFrom(hostileKeys).Draw(t, "hostile key")
		case "reused key":
			if len(h.sent) == 0 || touched["(key)"] {
				continue
			}
			touched["(key)"] = true
			// An accepted command's key with this body: 409, unless the
			// body happens to be the same (then a replay, 200).
			w.key = rapid.SampledFrom(h.sent).Draw(t, "reused").key
		case "duplicate id":
			if _, ok := body["id"]; !ok || touched["id"] {
				continue
			}
			ids := h.knownIDs()
			if len(ids) == 0 {
				continue
			}
			touched["id"] = true
			body["id"] = rapid.SampledFrom(ids).Draw(t, "duplicate id")
		}
		w.classes = append(w.classes, class)
		h.tally.add("tried", class)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range raw {
		b = bytes.Replace(b, []byte(fmt.Sprintf(`"RAW-%d"`, i)), []byte(`"`+r+`"`), 1)
	}
	w.body = b
	return w
}

// fieldsOf returns the body's string fields whose key ok accepts, and its
// money objects when ok accepts their key, sorted.
func fieldsOf(body map[string]any, ok func(string) bool) []string {
	var keys []string
	for k, v := range body {
		switch v.(type) {
		case string, map[string]any:
			if ok(k) {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// knownIDs are the ids the history has used, of any kind.
func (h *hostileHistory) knownIDs() []string {
	s := h.state
	var ids []string
	for _, m := range [][]string{slices.Collect(maps.Keys(s.Terms)), slices.Collect(maps.Keys(s.Donors)),
		slices.Collect(maps.Keys(s.Pledges)), slices.Collect(maps.Keys(s.Contributions)), slices.Collect(maps.Keys(s.Lines)),
		slices.Collect(maps.Keys(s.Allocations)), slices.Collect(maps.Keys(s.Expenditures)), slices.Collect(maps.Keys(s.Cities)),
		slices.Collect(maps.Keys(s.Clusters))} {
		ids = append(ids, m...)
	}
	sort.Strings(ids)
	return slices.Compact(ids)
}

// sameCommand says whether two bodies are the same command as the writer
// tells them apart: equal canonical JSON (ledger.CommandHash).
func sameCommand(a, b []byte) bool {
	ca, errA := events.Canonical(a)
	cb, errB := events.Canonical(b)
	if errA != nil || errB != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca, cb)
}
