package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/domain/state"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// countingLog counts the events its reads deliver.
type countingLog struct {
	*eventlog.Log
	read int
}

func (l *countingLog) ReadFund(ctx context.Context, fund string, after uint64, fn func(events.Event) error) error {
	return l.Log.ReadFund(ctx, fund, after, func(e events.Event) error { l.read++; return fn(e) })
}

// TestSnapshotStart: a writer closed with a snapshot path leaves a
// snapshot; the next one starts from it, reading only the events after it,
// with the state a full fold gives and every command id still answered,
// those the read model has not folded included. A snapshot that is
// damaged, of another history, of another shape of the state or of another fund is not used: the writer
// folds the whole log and gets the same state.
func TestSnapshotStart(t *testing.T) {
	ctx := t.Context()
	log := fundWithDonor(t)
	dir := t.TempDir()
	snap := filepath.Join(dir, "state.snapshot")
	store, err := projections.Open(filepath.Join(dir, "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	receipt := func(i int) *domain.RecordContribution {
		return &domain.RecordContribution{ID: fmt.Sprintf("r-%d", i), DonorID: "osaka", TermID: "2020-2021",
			Amount: domain.MoneyInput{Amount: "10.00", Currency: "USD"}, ReceivedOn: "2021-01-15"}
	}
	submitAll := func(w *Writer, from, to int) map[string]Result {
		out := map[string]Result{}
		for i := from; i < to; i++ {
			r, err := w.Submit(ctx, request(w, fmt.Sprintf("k-%d", i), receipt(i)))
			if err != nil {
				t.Fatal(err)
			}
			out[r.CommandID] = r
		}
		return out
	}
	open := func(path string) (*Writer, *countingLog) {
		t.Helper()
		cl := &countingLog{Log: log}
		w, err := Open(ctx, cl, "mdfm", Options{Now: overflowNow, Commands: store, SnapshotPath: path})
		if err != nil {
			t.Fatal(err)
		}
		return w, cl
	}
	// fullFold is the state of a writer that folds the whole log.
	fullFold := func() *domain.State {
		w, _ := open("")
		defer w.Close()
		return w.state
	}
	fold := func(upTo int) { // the read model folds the log's first upTo events (all, if fewer)
		var evs []events.Event
		if err := log.ReadAll(ctx, 0, func(e events.Event) error { evs = append(evs, e); return nil }); err != nil {
			t.Fatal(err)
		}
		cp, err := store.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.ApplyBatch(ctx, evs[cp:min(upTo, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}

	w, cl := open(snap)
	if cl.read != 2 {
		t.Errorf("with no snapshot the writer read %d events, want the log's 2", cl.read)
	}
	results := submitAll(w, 0, 5)
	w.Close()
	if _, err := os.Stat(snap); err != nil {
		t.Fatalf("Close left no snapshot: %v", err)
	}
	// The read model has folded the first receipt's first event only: the
	// writer must keep the other command ids in memory, and the first one's
	// events whole.
	fold(3)
	w, cl = open(snap)
	if cl.read != 1+9 {
		t.Errorf("from a snapshot at the head the writer read %d events, want the one it checks and the 9 the read model has not folded", cl.read)
	}
	if diff := cmp.Diff(fullFold(), w.state); diff != "" {
		t.Errorf("state from the snapshot differs from the full fold (-full +snapshot):\n%s", diff)
	}
	for id, want := range results {
		got, err := w.Submit(ctx, request(w, id, receipt(0)))
		want.Replayed = true
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("replay of %s after a start from the snapshot = %+v, %v; want %+v", id, got, err, want)
		}
	}
	// More events after the snapshot: the next start folds them.
	for id, r := range submitAll(w, 5, 8) {
		results[id] = r
	}
	fold(100)
	w.Close()
	if err := os.WriteFile(snap+".old", mustRead(t, snap), 0o600); err != nil {
		t.Fatal(err)
	}
	w, _ = open("")
	submitAll(w, 8, 9)
	w.Close()
	if err := os.Rename(snap+".old", snap); err != nil {
		t.Fatal(err)
	}
	w, cl = open(snap)
	if cl.read != 1+2 {
		t.Errorf("from a snapshot 2 events behind the writer read %d events, want 3", cl.read)
	}
	if diff := cmp.Diff(fullFold(), w.state); diff != "" {
		t.Errorf("state from a snapshot behind the log differs from the full fold (-full +snapshot):\n%s", diff)
	}
	w.Close()

	good := mustRead(t, snap)
	s, h, err := decodeSnapshot(good, "mdfm")
	if err != nil {
		t.Fatal(err)
	}
	otherHistory, err := encodeSnapshot(s, h.StreamSeq, events.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	// A snapshot of an older shape of the state (its event records before
	// they were kept compactly, say) is refused on its header alone.
	h.Fingerprint = "an older shape of domain.State"
	hb, err := headerCodec.Append(nil, &h)
	if err != nil {
		t.Fatal(err)
	}
	otherShape := append(append(bytes.Clone(snapshotMagic), binary.AppendUvarint(nil, uint64(len(hb)))...), hb...)
	if otherShape, err = state.Encode(otherShape, s); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(otherShape)
	otherShape = append(otherShape, sum[:]...)
	damaged := append([]byte(nil), good...)
	damaged[len(damaged)/2] ^= 1
	for name, b := range map[string][]byte{"damaged": damaged, "of another history": otherHistory, "of another shape": otherShape, "cut short": good[:len(good)-1], "empty": nil} {
		if err := os.WriteFile(snap, b, 0o600); err != nil {
			t.Fatal(err)
		}
		w, cl := open(snap)
		if diff := cmp.Diff(fullFold(), w.state); diff != "" {
			t.Errorf("state with a snapshot %s differs from the full fold (-full +snapshot):\n%s", name, diff)
		}
		if cl.read < 20 {
			t.Errorf("with a snapshot %s the writer read %d events, want the whole log's 20 (and more)", name, cl.read)
		}
		w.Close()
	}
	if _, _, err := decodeSnapshot(good, "other"); err == nil {
		t.Error("a snapshot of fund mdfm was read as one of fund other")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
