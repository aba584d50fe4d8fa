package tlog_test

import (
	"bytes"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/tlog"
)

const testOrigin = "example.org/mdfm-ledger/test"

// newKey makes a signing key for the tests and returns the signer and the
// verifier key.
func newKey(t *testing.T) (*tlog.Signer, string) {
	t.Helper()
	skey, vkey, err := tlog.GenerateKey("example.org/test-key")
	if err != nil {
		t.Fatal(err)
	}
	s, err := tlog.NewSigner(skey, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

// illustrative writes the illustrative history (pledges, receipts, a
// reversed receipt, a refund, a closed term) into a fresh log and follows
// it into a tree store with a signed checkpoint.
func illustrative(t *testing.T) (*eventlog.Log, *tlog.Store, *tlog.Follower, string) {
	t.Helper()
	_, log := testnats.Log(t)
	w := ledgertest.IllustrativeWriter(t, log, eventlog.DefaultFund)
	ledgertest.Illustrative(t, w)
	st, err := tlog.Open(filepath.Join(t.TempDir(), tlog.File))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	signer, vkey := newKey(t)
	f := &tlog.Follower{Log: log, Store: st, Signer: signer, Fund: eventlog.DefaultFund}
	if _, err := f.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	return log, st, f, vkey
}

// export writes the whole log as projector export does: the stored bytes,
// one event a line.
func export(t *testing.T, log *eventlog.Log) []byte {
	t.Helper()
	last, err := log.LastSeq(t.Context(), eventlog.DefaultFund)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = log.ReadRaw(t.Context(), eventlog.AllFilter, 0, last, func(m eventlog.RawMsg) error {
		buf.Write(m.Data)
		buf.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTreeFromExportHasCheckpointRoot: the tree rebuilt from the NDJSON
// export alone, and a tree store built afresh from the log, have the root
// the signed checkpoint names.
func TestTreeFromExportHasCheckpointRoot(t *testing.T) {
	log, st, _, vkey := illustrative(t)
	_, msg, err := st.Checkpoint(t.Context(), eventlog.DefaultFund, 0)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := tlog.OpenCheckpoint(msg, vkey)
	if err != nil {
		t.Fatal(err)
	}
	size, root, err := tlog.RootFromExport(bytes.NewReader(export(t, log)), eventlog.DefaultFund)
	if err != nil {
		t.Fatal(err)
	}
	if size != cp.Size || !bytes.Equal(root, cp.Hash) {
		t.Errorf("export gives size %d root %x; checkpoint says size %d root %x", size, root, cp.Size, cp.Hash)
	}
	// A second store, built from the log from nothing, agrees at every size.
	st2, err := tlog.Open(filepath.Join(t.TempDir(), tlog.File))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if _, err := (&tlog.Follower{Log: log, Store: st2, Fund: eventlog.DefaultFund}).Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	for n := uint64(1); n <= cp.Size; n++ {
		a, err1 := st.Root(t.Context(), eventlog.DefaultFund, n)
		b, err2 := st2.Root(t.Context(), eventlog.DefaultFund, n)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("size %d: roots %x (%v) and %x (%v)", n, a, err1, b, err2)
		}
	}
	// An export with one byte changed does not rebuild.
	ex := export(t, log)
	ex[len(ex)/2] ^= 1
	if _, r2, err := tlog.RootFromExport(bytes.NewReader(ex), eventlog.DefaultFund); err == nil && bytes.Equal(r2, root) {
		t.Error("an altered export gave the same root")
	}
}

// bundleOf builds the bundle of a donor in the illustrative term; the
// statement's totals are set to the events' (the daemon's test compares
// them with the real statement).
func bundleOf(t *testing.T, st *tlog.Store, donor string) tlog.Bundle {
	t.Helper()
	b, err := st.BuildBundle(t.Context(), eventlog.DefaultFund, donor, ledgertest.IllustrativeTerm, "2021-12-31")
	if err != nil {
		t.Fatal(err)
	}
	b.Statement = b.Totals
	return b
}

// TestBundleVerifiesOffline: the bundle of a donor whose receipt was
// reversed verifies with the verifier key alone, and its totals are the
// receipts less the reversed one.
func TestBundleVerifiesOffline(t *testing.T) {
	_, st, _, vkey := illustrative(t)
	b := bundleOf(t, st, "il-foundation")
	if _, err := tlog.VerifyBundle(b, vkey, testOrigin); err != nil {
		t.Fatalf("bundle does not verify: %v", err)
	}
	// Receipts il-r-3 50,000.00, il-r-4-wrong 25,000.00 (reversed) and
	// il-r-4 20,000.00, with their 1 % fees.
	want := tlog.Totals{ReceivedUSD: "70000.00", FeesUSD: "700.00", RefundedUSD: "0.00"}
	if b.Totals != want {
		t.Errorf("totals %+v, want %+v", b.Totals, want)
	}
	var reversal bool
	for _, e := range b.Events {
		raw, _ := base64.StdEncoding.DecodeString(e.Event)
		reversal = reversal || bytes.Contains(raw, []byte(`"type":"event_reversed"`))
	}
	if !reversal {
		t.Error("the bundle holds no reversal")
	}
	// Another key, another origin: refused.
	_, other := newKey(t)
	if _, err := tlog.VerifyBundle(b, other, testOrigin); err == nil {
		t.Error("a bundle verified with another key")
	}
	if _, err := tlog.VerifyBundle(b, vkey, "example.org/other"); err == nil {
		t.Error("a bundle verified with another origin")
	}
}

// TestBundleOneByteChanged: one byte changed anywhere in an event, a proof
// hash, the checkpoint's lines or its signature makes the bundle fail.
func TestBundleOneByteChanged(t *testing.T) {
	_, st, _, vkey := illustrative(t)
	orig := bundleOf(t, st, "il-country")
	check := func(what string, b tlog.Bundle) {
		t.Helper()
		if _, err := tlog.VerifyBundle(b, vkey, testOrigin); err == nil {
			t.Fatalf("%s changed: the bundle still verifies", what)
		}
	}
	clone := func() tlog.Bundle {
		b := orig
		b.Events = make([]tlog.BundleEvent, len(orig.Events))
		for i, e := range orig.Events {
			e.Proof = append([]string(nil), e.Proof...)
			b.Events[i] = e
		}
		return b
	}
	flip := func(s string, i int) string {
		raw, _ := base64.StdEncoding.DecodeString(s)
		raw[i] ^= 1
		return base64.StdEncoding.EncodeToString(raw)
	}
	var n int
	for i, e := range orig.Events {
		raw, _ := base64.StdEncoding.DecodeString(e.Event)
		for j := range raw {
			b := clone()
			b.Events[i].Event = flip(e.Event, j)
			check("event "+e.Event[:8]+" byte", b)
			n++
		}
		for k, h := range e.Proof {
			for j := 0; j < 32; j++ {
				b := clone()
				b.Events[i].Proof[k] = flip(h, j)
				check("proof hash", b)
				n++
			}
		}
	}
	for j := range len(orig.Checkpoint) {
		b := clone()
		c := []byte(orig.Checkpoint)
		c[j] ^= 1
		b.Checkpoint = string(c)
		check("checkpoint byte "+strings.ReplaceAll(orig.Checkpoint[:j], "\n", "⏎"), b)
		n++
	}
	// The signature itself, decoded: one bit of the Ed25519 signature.
	body, sig, _ := strings.Cut(orig.Checkpoint, "\n\n")
	name, b64sig, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(sig, "— "), "\n"), " ")
	for j := 4; j < 68; j++ {
		b := clone()
		b.Checkpoint = body + "\n\n— " + name + " " + flip(b64sig, j) + "\n"
		check("signature byte", b)
		n++
	}
	if len(orig.Events) < 3 || n < 1000 {
		t.Fatalf("only %d events and %d changes tried", len(orig.Events), n)
	}
	t.Logf("%d events, %d one-byte changes, each refused", len(orig.Events), n)
}

// TestAlteredEventStopsTheTree: an event in the log that does not decode
// stops the tree before it; what was signed stays, and the tree never
// skips it to sign a root over the events after it.
func TestAlteredEventStopsTheTree(t *testing.T) {
	log, st, f, vkey := illustrative(t)
	good, msg, err := st.Checkpoint(t.Context(), eventlog.DefaultFund, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.JetStreamForTests().Publish(t.Context(), eventlog.Subject(eventlog.DefaultFund, "junk"), []byte(`{"not":"an event"}`)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.Sync(t.Context()); err == nil || !strings.Contains(err.Error(), "event altered") {
			t.Fatalf("sync over an altered event: %v", err)
		}
	}
	h, err := st.Head(t.Context(), eventlog.DefaultFund)
	if err != nil || h.Size != good {
		t.Fatalf("tree size %d (%v), want %d", h.Size, err, good)
	}
	size, again, err := st.Checkpoint(t.Context(), eventlog.DefaultFund, 0)
	if err != nil || size != good || !bytes.Equal(again, msg) {
		t.Fatalf("latest checkpoint size %d (%v), want the one of size %d", size, err, good)
	}
	if _, err := tlog.OpenCheckpoint(again, vkey); err != nil {
		t.Fatal(err)
	}
}
