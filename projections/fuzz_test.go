package projections_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
	"github.com/unesco-uil/mdfm-ledger/projections/iatireport"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// goldenExport is projector export's output for the illustrative history.
const goldenExport = "../cmd/projector/testdata/export.golden.ndjson"

func readGoldenExport(f *testing.F) []byte {
	f.Helper()
	b, err := os.ReadFile(goldenExport)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// oddExports are exports a careless hand or a broken disk makes of good
// ones: blank, cut, doubled, reordered, CRLF, a line too long.
func oddExports(good []byte) [][]byte {
	lines := bytes.SplitAfter(good, []byte("\n"))
	swapped := append(append(append([][]byte{}, lines[1]), lines[0]), lines[2:]...)
	return [][]byte{
		nil, []byte("\n"), []byte("\n\n"), []byte("{}\n"), []byte("null"),
		good[:len(good)/2],
		bytes.Join(lines[:3], nil),
		bytes.TrimSuffix(good, []byte("\n")),
		append(bytes.Clone(good), '\n'),
		append(bytes.Clone(lines[0]), lines[0]...),
		bytes.Join(swapped, nil),
		bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")),
		append(append([]byte(nil), lines[0]...), bytes.Repeat([]byte("x"), audit.MaxExportLineBytes+1)...),
	}
}

// checkReplay rebuilds a read model from export and checks what any export
// must get: no panic, and either every line applied or an *EventError
// naming the line (as StreamSeq) with nothing left behind. It returns the
// rebuilt store's path and the replay's summary when it succeeded.
func checkReplay(t *testing.T, export []byte) (string, audit.ReplaySummary, bool) {
	// Not t.TempDir(): a fuzz seed's name holds '#', which Open refuses.
	// In memory where there is a tmpfs: the fuzzer makes a read model
	// per input, and fsyncs to disk would leave it a few inputs a second.
	dir, err := os.MkdirTemp(scratchDir(), "fuzz-replay-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "replay.db")
	sum, err := audit.RebuildFromReader(t.Context(), bytes.NewReader(export), path)
	lines := uint64(bytes.Count(export, []byte("\n")))
	if len(export) > 0 && export[len(export)-1] != '\n' {
		lines++
	}
	if err != nil {
		var ee *readmodel.EventError
		if !errors.As(err, &ee) {
			t.Fatalf("replay refused with %v, not an error naming the line", err)
		}
		if ee.StreamSeq < 1 || ee.StreamSeq > lines+1 {
			t.Fatalf("replay refused line %d of an export of %d lines: %v", ee.StreamSeq, lines, err)
		}
		if _, serr := os.Lstat(path); !errors.Is(serr, os.ErrNotExist) {
			t.Fatalf("a failed replay left %s behind (%v)", path, serr)
		}
		return "", sum, false
	}
	if sum.Events != lines {
		t.Fatalf("replay applied %d events of %d lines", sum.Events, lines)
	}
	return path, sum, true
}

// scratchDir is /dev/shm when it is a folder, else the default temporary
// folder.
func scratchDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// FuzzReplayReader: an export of any bytes is replayed or refused with the
// line named, never a panic.
func FuzzReplayReader(f *testing.F) {
	good := readGoldenExport(f)
	f.Add(good)
	for _, b := range oddExports(good) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, export []byte) {
		checkReplay(t, export)
	})
}

// FuzzReplayResealed: like FuzzReplayReader, but every line that parses as
// an envelope is given its fund's next fund_seq and sealed after its fund's
// chain head first, so that the fuzzer's changes to the data reach the read
// model's rules instead of stopping at the hash. Whatever the events say,
// the replay applies them or refuses one with the line named; the reports
// of a replayed model are computed or refused, never a panic.
func FuzzReplayResealed(f *testing.F) {
	good := readGoldenExport(f)
	f.Add(good)
	for _, b := range oddExports(good) {
		f.Add(b)
	}
	// Data a forger or an older writer might have stored.
	for _, r := range [][2]string{
		{`"amount":"1000000.00"`, `"amount":"-1000000.00"`},
		{`"usd_amount":{"amount":"`, `"usd_amount":{"amount":"-`},
		{`"currency":"USD"`, `"currency":"JPY"`},
		{`"currency":"USD"`, `"currency":"XXX"`},
		{`"term_id":"2020-2021"`, `"term_id":"2099-2100"`},
		{`"type":"term_opened"`, `"type":"term_closed"`},
		{`"type":"contribution_received"`, `"type":"refund_paid"`},
		{`"data":{`, `"data":{"unknown":1,`},
		{`"effective_on":"2020-`, `"effective_on":"0000-`},
		{`"fund":"mdfm"`, `"fund":"other"`},
	} {
		f.Add(bytes.ReplaceAll(good, []byte(r[0]), []byte(r[1])))
	}
	f.Fuzz(func(t *testing.T, export []byte) {
		path, sum, ok := checkReplay(t, reseal(export))
		if !ok {
			return
		}
		s, err := projections.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx, asOf := t.Context(), "9999-12-31"
		for fund := range sum.Funds {
			// Errors are fine (a fund with no term, a date before its
			// data); a panic is not.
			s.TrialBalanceReport(ctx, fund, asOf, 0)
			if acts, err := iatireport.Activities(ctx, s, iatireport.Query{Fund: fund, AsOf: asOf}); err == nil {
				acts.Render()
			}
			if org, err := iatireport.Organisation(ctx, s, iatireport.Query{Fund: fund, AsOf: asOf}); err == nil {
				org.Render()
			}
			terms, _ := s.TermIDs(ctx, fund)
			for _, term := range terms {
				s.Balance(ctx, projections.BalanceQuery{Fund: fund, Term: term, AsOf: asOf})
				s.Budget(ctx, projections.BudgetQuery{Fund: fund, Term: term, AsOf: asOf})
			}
		}
	})
}

// reseal re-chains an export: each line that parses as an envelope gets its
// fund's next fund_seq and is sealed after the fund's head; other lines are
// kept as they are.
func reseal(export []byte) []byte {
	heads := map[string]events.Chain{}
	var out bytes.Buffer
	for i, line := range bytes.Split(export, []byte("\n")) {
		if i > 0 {
			out.WriteByte('\n')
		}
		var e events.Event
		if json.Unmarshal(line, &e) != nil {
			out.Write(line)
			continue
		}
		c, ok := heads[e.Fund]
		if !ok {
			c = events.NewChain(e.Fund)
		}
		e.FundSeq = c.FundSeq + 1
		b, err := sealed(&e, c.Head)
		if err != nil {
			out.Write(line)
			continue
		}
		c.FundSeq, c.Head = e.FundSeq, e.Hash
		heads[e.Fund] = c
		out.Write(b)
	}
	return out.Bytes()
}

// sealed seals e after prev and encodes it.
func sealed(e *events.Event, prev string) ([]byte, error) {
	if err := e.Seal(prev); err != nil {
		return nil, err
	}
	return e.Encode()
}
