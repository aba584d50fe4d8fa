package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/internal/golden"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// illustrativeExport writes ledgertest.Illustrative through a real writer
// to a real stream and exports it with `projector export --nats`.
func illustrativeExport(t *testing.T) []byte {
	t.Helper()
	ns, log := testnats.Log(t)
	ledgertest.Illustrative(t, ledgertest.IllustrativeWriter(t, log, eventlog.DefaultFund))
	out := filepath.Join(t.TempDir(), "events.ndjson")
	var stdout, stderr bytes.Buffer
	if code := Main(t.Context(), []string{"export", "--nats", ns.ClientURL(), "--out", out}, &stdout, &stderr); code != ExitOK {
		t.Fatalf("export: exit %d\n%s%s", code, &stdout, &stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExportGolden exports the illustrative history, written with a
// pinned clock and pinned event ids, and compares it byte for byte with
// testdata/export.golden.ndjson (go test ./cmd/projector/ -run
// TestExportGolden -update rewrites it).
func TestExportGolden(t *testing.T) {
	got := illustrativeExport(t)
	golden.Check(t, filepath.Join("testdata", "export.golden.ndjson"), got)
}

// TestVerifyFrom re-verifies a real export of a real ledger from the file
// alone (no NATS): the chain, a rebuilt read model and every report; then
// copies altered in one line, missing a line, with two lines swapped or
// with a line cut short, each of which fails naming the line, fund and
// fund_seq.
func TestVerifyFrom(t *testing.T) {
	export := illustrativeExport(t)
	dir := t.TempDir()
	file := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	verify := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := Main(t.Context(), append([]string{"verify"}, args...), &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}

	good := file("events.ndjson", export)
	code, out := verify("--from", good, "--scratch", dir)
	if code != ExitOK {
		t.Fatalf("verify --from a good export: exit %d\n%s", code, out)
	}
	t.Logf("verify --from output:\n%s", out)
	lines := strings.Split(strings.TrimSuffix(string(export), "\n"), "\n")
	for _, s := range []string{
		"chain ok: 59 events of 1 fund(s)",
		"fund mdfm: fund_seq 59, chain head ",
		"reports as of 2022-03-31",
		"fund mdfm trial balance: ",
		"fund mdfm term 2020-2021 balance: ",
		"fund mdfm term 2020-2021 budget: 5 lines, 2 clusters, budget 470000.00, allocated 195000.00, spent 74130.00, delivery rate 38.02 %",
		"fund mdfm term 2022-2023 budget: 1 lines, 0 clusters",
		"fund mdfm term 2020-2021 focus: spent 74130.00, in Africa 44130.00, in low-income countries 10890.00 (FY2026)",
		"fund mdfm term 2020-2021 statements: 3 donors, each in json, csv, html and pdf",
		"fund mdfm IATI activities: 2 activities, ",
		"fund mdfm IATI organisation: 4 yearly budgets",
		"verify --from ok",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	if len(lines) != 59 {
		t.Fatalf("export of %d lines, want 59", len(lines))
	}
	if code, out := verify("--from", good, "--scratch", dir, "--as-of", "2020-12-31"); code != ExitOK || !strings.Contains(out, "budget 470000.00, allocated 110000.00, spent 43740.00") ||
		!strings.Contains(out, "term 2022-2023: no report: its first event is after 2020-12-31") {
		t.Errorf("verify --from --as-of 2020-12-31: exit %d\n%s", code, out)
	}
	// The scratch read model is removed.
	if left, _ := filepath.Glob(filepath.Join(dir, "verify-from-*")); len(left) != 0 {
		t.Errorf("scratch left behind: %v", left)
	}

	altered := append([]string(nil), lines...)
	altered[29] = strings.Replace(altered[29], `"actor":"olu"`, `"actor":"eve"`, 1)
	if altered[29] == lines[29] {
		t.Fatalf("line 30 has no actor olu: %s", lines[29])
	}
	dropped := append(append([]string(nil), lines[:9]...), lines[10:]...)
	swapped := append([]string(nil), lines...)
	swapped[19], swapped[20] = swapped[20], swapped[19]
	cut := append([]string(nil), lines...)
	cut[44] = cut[44][:len(cut[44])/2]
	for _, c := range []struct {
		name  string
		lines []string
		says  string
	}{
		{"altered", altered, "line 30: fund mdfm fund_seq 30: event altered"},
		{"dropped", dropped, "line 10: fund mdfm fund_seq 11: hash chain broken"},
		{"swapped", swapped, "line 20: fund mdfm fund_seq 21: hash chain broken"},
		{"cut short", cut, "line 45: fund mdfm fund_seq 45: event altered"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := verify("--from", file(c.name+".ndjson", []byte(strings.Join(c.lines, "\n")+"\n")), "--scratch", dir)
			if code != ExitFailure || !strings.Contains(out, "verify --from FAILED") || !strings.Contains(out, c.says) {
				t.Errorf("exit %d, want %d saying %q:\n%s", code, ExitFailure, c.says, out)
			}
		})
	}

	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--from", good, "--nats", "nats://127.0.0.1:1"}, ExitUsage, "excludes --data and --nats"},
		{[]string{"--from", good, "--db", "x.db"}, ExitUsage, "excludes --db"},
		{[]string{"--from", good, "--as-of", "2022-02-30"}, ExitUsage, "--as-of"},
		{[]string{"--from", good, "--as-of", "0001-01-01"}, ExitUsage, "before the first event of the file (effective 2020-01-01)"},
		{[]string{"--from", good, "--as-of", "2019-12-31"}, ExitUsage, "before the first event of the file"},
		{[]string{"--from", filepath.Join(dir, "missing.ndjson")}, ExitFailure, "no such file"},
		{[]string{"--from", file("empty.ndjson", nil)}, ExitFailure, "holds no event"},
		{[]string{"--nats", "nats://127.0.0.1:1", "--db", "x.db", "--as-of", "2022-01-01"}, ExitUsage, "--as-of is for verify --from"},
	} {
		if code, out := verify(c.args...); code != c.code || !strings.Contains(out, c.says) {
			t.Errorf("verify %v: exit %d, want %d saying %q:\n%s", c.args, code, c.code, c.says, out)
		}
	}
}

// TestVerifyUnbalancedEvent appends a correctly chained event whose
// postings do not balance: `projector verify` (against the stream and a
// read model) and `verify --from` its export both exit non-zero naming the
// fund and fund_seq, where domain.Postings used to panic (issue 8).
func TestVerifyUnbalancedEvent(t *testing.T) {
	ns, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, eventlog.DefaultFund)
	ledgertest.Scenario(t, w)
	ledgertest.MustSubmit(t, w, "propose-2", "olu", &domain.ProposeAllocation{ID: "al-2", LineID: "MDFM-1.1", Amount: ledgertest.USD("300.00"), ProposedOn: "2020-07-03"})
	w.Close()
	forged := ledgertest.AppendUnbalanced(t, log, eventlog.DefaultFund, ledgertest.Term, "MDFM-1.1", "al-2")
	where := fmt.Sprintf("fund mdfm fund_seq %d", forged.FundSeq)
	dir := t.TempDir()
	db, out := filepath.Join(dir, "ledger.db"), filepath.Join(dir, "events.ndjson")

	run := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := Main(t.Context(), args, &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	// The read model verify compares with: an empty one is enough.
	s, err := projections.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if code, got := run("verify", "--nats", ns.ClientURL(), "--db", db, "--scratch", dir); code == ExitOK || !strings.Contains(got, where) {
		t.Errorf("verify: exit %d, want a failure naming %s:\n%s", code, where, got)
	}
	if code, got := run("export", "--nats", ns.ClientURL(), "--out", out); code != ExitOK {
		t.Fatalf("export: exit %d\n%s", code, got)
	}
	if code, got := run("verify", "--from", out, "--scratch", dir); code == ExitOK || !strings.Contains(got, where) {
		t.Errorf("verify --from: exit %d, want a failure naming %s:\n%s", code, where, got)
	}
	// verify and export read the log with direct gets: no consumer stays.
	if info, err := log.Info(t.Context()); err != nil || info.Consumers != 0 {
		t.Errorf("after verify and export the stream holds consumers: %+v (%v), want 0", info, err)
	}
}
