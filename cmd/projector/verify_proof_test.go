package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/tlog"
)

// proofFiles writes what a donor keeps after the scenario: the verifier
// key, a bundle of osaka, the checkpoint before and after one more receipt
// and the consistency proof between them. It returns the folder.
func proofFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, eventlog.DefaultFund)
	ledgertest.Scenario(t, w)
	st, err := tlog.Open(filepath.Join(dir, tlog.File))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	skey, vkey, err := tlog.GenerateKey("example.org/projector-test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := tlog.NewSigner(skey, "example.org/mdfm")
	if err != nil {
		t.Fatal(err)
	}
	f := &tlog.Follower{Log: log, Store: st, Signer: signer, Fund: eventlog.DefaultFund}
	old, err := f.Sync(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.BuildBundle(t.Context(), eventlog.DefaultFund, "osaka", ledgertest.Term, "2021-12-31")
	if err != nil {
		t.Fatal(err)
	}
	b.Statement = b.Totals
	ledgertest.MustSubmit(t, w, "more", "olu", &domain.RecordContribution{ID: "c-more", DonorID: "osaka", TermID: ledgertest.Term,
		Amount: ledgertest.USD("10.00"), ReceivedOn: "2021-06-01"})
	cur, err := f.Sync(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, oldNote, err1 := st.Checkpoint(t.Context(), eventlog.DefaultFund, old)
	_, newNote, err2 := st.Checkpoint(t.Context(), eventlog.DefaultFund, cur)
	hashes, err3 := st.ConsistencyProof(t.Context(), eventlog.DefaultFund, old, cur)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	proof := map[string]any{"fund": "mdfm", "from": old, "to": cur, "proof": hashes}
	for name, v := range map[string]any{"bundle.json": b, "proof.json": proof} {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		write(t, dir, name, j)
	}
	write(t, dir, "vkey", []byte(vkey+"\n"))
	// The key rotated: a new key signs the same tree's new checkpoint.
	skey2, vkey2, err := tlog.GenerateKey("example.org/projector-test-2")
	if err != nil {
		t.Fatal(err)
	}
	signer2, err := tlog.NewSigner(skey2, "example.org/mdfm")
	if err != nil {
		t.Fatal(err)
	}
	root, err := st.Root(t.Context(), eventlog.DefaultFund, cur)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := signer2.Sign(cur, root)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "vkey2", []byte(vkey2+"\n"))
	// A fork: the same key signs another root for the old size.
	other, _ := tlog.RootOf([][]byte{[]byte("a rewritten history")})
	forked, err := signer.Sign(old, other)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "forked.checkpoint", forked)
	// The whole log as projector export writes it, and one byte altered.
	var ex bytes.Buffer
	if _, err := exportLog(t.Context(), log, &ex); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "export.ndjson", ex.Bytes())
	altered := bytes.Replace(ex.Bytes(), []byte(`"received_on":"2020-06-01"`), []byte(`"received_on":"2020-06-02"`), 1)
	write(t, dir, "altered.ndjson", altered)
	write(t, dir, "rotated.checkpoint", rotated)
	write(t, dir, "old.checkpoint", oldNote)
	write(t, dir, "new.checkpoint", newNote)
	return dir
}

func write(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyProofCommands runs verify-proof and verify-consistency on the
// files a donor keeps, then on the same files with one thing changed.
func TestVerifyProofCommands(t *testing.T) {
	dir := proofFiles(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := Main(t.Context(), args, &out, &out)
		return code, out.String()
	}
	if code, out := run("verify-proof", "--vkey", p("vkey"), "--bundle", p("bundle.json"), "--origin", "example.org/mdfm"); code != ExitOK ||
		!strings.Contains(out, "verify-proof ok: 2 events of donor osaka") || !strings.Contains(out, "received 20000.00, fees 200.00, refunded 0.00 USD") {
		t.Errorf("verify-proof: exit %d\n%s", code, out)
	}
	if code, out := run("verify-consistency", "--vkey", p("vkey"), "--old", p("old.checkpoint"), "--new", p("new.checkpoint"), "--proof", p("proof.json")); code != ExitOK ||
		!strings.Contains(out, "verify-consistency ok") {
		t.Errorf("verify-consistency: exit %d\n%s", code, out)
	}

	// One byte of an event changed: the command says which event failed.
	var b tlog.Bundle
	raw, _ := os.ReadFile(p("bundle.json"))
	json.Unmarshal(raw, &b)
	ev, _ := base64.StdEncoding.DecodeString(b.Events[0].Event)
	ev = bytes.Replace(ev, []byte(`"20000.00"`), []byte(`"90000.00"`), 1)
	b.Events[0].Event = base64.StdEncoding.EncodeToString(ev)
	j, _ := json.Marshal(b)
	write(t, dir, "bad-bundle.json", j)
	// The old and new checkpoints swapped, and a proof of other sizes.
	write(t, dir, "bad-proof.json", []byte(`{"from":1,"to":2,"proof":[]}`))
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"verify-proof", "--vkey", p("vkey"), "--bundle", p("bad-bundle.json")}, ExitFailure, "verify-proof FAILED: event 0 (fund_seq"},
		{[]string{"verify-proof", "--vkey", p("vkey"), "--bundle", p("bundle.json"), "--origin", "other"}, ExitFailure, "origin"},
		{[]string{"verify-proof", "--vkey", p("old.checkpoint"), "--bundle", p("bundle.json")}, ExitFailure, "verifier key"},
		{[]string{"verify-proof", "--bundle", p("bundle.json")}, ExitUsage, "--vkey: required"},
		{[]string{"verify-consistency", "--vkey", p("vkey"), "--old", p("new.checkpoint"), "--new", p("old.checkpoint"), "--proof", p("proof.json")}, ExitFailure, "more than the new one's"},
		{[]string{"verify-consistency", "--vkey", p("vkey"), "--old", p("old.checkpoint"), "--new", p("new.checkpoint"), "--proof", p("bad-proof.json")}, ExitFailure, "verify-consistency FAILED"},
		{[]string{"verify-consistency", "--vkey", p("vkey"), "--old", p("old.checkpoint")}, ExitUsage, "--new: required"},
		{[]string{"verify-consistency", "--vkey", p("vkey2"), "--old", p("old.checkpoint"), "--new", p("rotated.checkpoint"), "--proof", p("proof.json")}, ExitFailure, "old checkpoint signature"},
		{[]string{"tree-root", "--from", p("export.ndjson")}, ExitOK, "fund mdfm: tree size 13 root "},
		{[]string{"tree-root", "--from", p("export.ndjson"), "--vkey", p("vkey"), "--checkpoint", p("old.checkpoint")}, ExitOK, "tree-root ok: the export's first 11 events"},
		{[]string{"tree-root", "--from", p("export.ndjson"), "--vkey", p("vkey"), "--checkpoint", p("forked.checkpoint")}, ExitFailure, "the log forked"},
		{[]string{"tree-root", "--from", p("altered.ndjson"), "--vkey", p("vkey"), "--checkpoint", p("old.checkpoint")}, ExitFailure, "event altered"},
		{[]string{"tree-root", "--from", p("export.ndjson"), "--checkpoint", p("old.checkpoint")}, ExitUsage, "go together"},
		{[]string{"verify-consistency", "--old-vkey", p("vkey"), "--vkey", p("vkey2"), "--old", p("old.checkpoint"), "--new", p("rotated.checkpoint"), "--proof", p("proof.json")}, ExitOK, "verify-consistency ok"},
	} {
		if code, out := run(c.args...); code != c.code || !strings.Contains(out, c.says) {
			t.Errorf("%v: exit %d, want %d saying %q:\n%s", c.args, code, c.code, c.says, out)
		}
	}
}
