package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/domain/state"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/binenc"
)

// A state snapshot is the writer's domain.State as it stood after one event
// of the log, in a file, so that start-up folds only the events after it
// instead of the whole log (issue 10; docs/DESIGN.md, "State snapshots").
// It is never trusted on its own word: it is used only when its checksum,
// format, fund and the shape of domain.State match this binary, and the
// log's event at its stream sequence is the fund's event at its fund_seq
// with its hash. Anything else and the writer folds the whole log, as
// without a snapshot.

// SnapshotEvery is how many events start-up must fold after the snapshot
// it loaded (or from the start) before it writes a new one. Close writes
// one whenever the state moved since.
const SnapshotEvery = 50_000

// snapshotVersion changes when a fold changes what it makes of the same
// events without changing the shape of domain.State (which the fingerprint
// catches): snapshots written before are then refused.
const snapshotVersion = 1

var snapshotMagic = []byte("mdfm-ledger state snapshot\n")

// snapshotHeader says which event of the log a snapshot reflects.
type snapshotHeader struct {
	Version     int
	Fingerprint string // of domain.State's shape
	Fund        string
	FundSeq     uint64
	StreamSeq   uint64
	Hash        string // of the event at FundSeq
}

// headerCodec encodes snapshot headers.
var headerCodec = binenc.New()

// encodeSnapshot returns the snapshot file of a state whose last event is
// at stream sequence streamSeq with hash head (writeSnapshot's bytes).
func encodeSnapshot(s *domain.State, streamSeq uint64, head string) ([]byte, error) {
	var b bytes.Buffer
	if err := writeSnapshot(&b, s, streamSeq, head); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeSnapshot writes to w the snapshot file of a state whose last event
// is at stream sequence streamSeq with hash head: the magic line, the
// header's length and the header, the state, and the SHA-256 of all that.
// The state is written as it is encoded (state.Write), never held whole:
// at 1,000,000 events it is about 100 MB, which each snapshot held in a
// buffer on top of the state, under the memory limit ledgerd serves with
// (issue 10).
func writeSnapshot(w io.Writer, s *domain.State, streamSeq uint64, head string) error {
	h := snapshotHeader{Version: snapshotVersion, Fingerprint: state.Fingerprint, Fund: s.Fund, FundSeq: s.FundSeq, StreamSeq: streamSeq, Hash: head}
	hb, err := headerCodec.Append(nil, &h)
	if err != nil {
		return err
	}
	sum := sha256.New()
	body := io.MultiWriter(w, sum)
	start := append(bytes.Clone(snapshotMagic), binary.AppendUvarint(nil, uint64(len(hb)))...)
	if _, err := body.Write(append(start, hb...)); err != nil {
		return err
	}
	if err := state.Write(body, s); err != nil {
		return err
	}
	_, err = w.Write(sum.Sum(nil))
	return err
}

// decodeSnapshot reads a snapshot file of fund: its header, and the state
// once the header shows it was written for this shape of state.
func decodeSnapshot(b []byte, fund string) (*domain.State, snapshotHeader, error) {
	var h snapshotHeader
	if len(b) < len(snapshotMagic)+sha256.Size || !bytes.HasPrefix(b, snapshotMagic) {
		return nil, h, errors.New("not a state snapshot")
	}
	body := b[:len(b)-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], b[len(body):]) {
		return nil, h, errors.New("checksum does not match: the file is damaged")
	}
	body = body[len(snapshotMagic):]
	n, k := binary.Uvarint(body)
	if k <= 0 || n > uint64(len(body)-k) {
		return nil, h, errors.New("header damaged")
	}
	if err := headerCodec.Decode(body[k:k+int(n)], &h); err != nil {
		return nil, h, fmt.Errorf("header: %w", err)
	}
	switch {
	case h.Version != snapshotVersion || h.Fingerprint != state.Fingerprint:
		return nil, h, fmt.Errorf("written by another version (format %d, state %s; this binary: %d, %s)", h.Version, h.Fingerprint, snapshotVersion, state.Fingerprint)
	case h.Fund != fund:
		return nil, h, fmt.Errorf("of fund %s, not %s", h.Fund, fund)
	}
	s, err := state.Decode(body[k+int(n):])
	if err != nil {
		return nil, h, err
	}
	if s.Fund != h.Fund || s.FundSeq != h.FundSeq {
		return nil, h, fmt.Errorf("state at fund %s fund_seq %d, header says %s %d", s.Fund, s.FundSeq, h.Fund, h.FundSeq)
	}
	return s, h, nil
}

// errFound stops a read once it has what it looked for.
var errFound = errors.New("found")

// start builds the writer's state at Open: from the snapshot when there is
// a sound one, else from the whole log; it marks a snapshot due if it had
// to fold many events.
func (w *Writer) start(ctx context.Context) error {
	loaded := false
	if w.snapshotPath != "" && w.commands != nil {
		var err error
		if loaded, err = w.loadSnapshot(ctx); err != nil {
			slog.Warn("state snapshot not used: folding the whole log", "file", w.snapshotPath, "err", err)
		}
	}
	if !loaded {
		if err := w.reload(ctx); err != nil {
			return err
		}
	} else if err := w.catchUp(ctx); err != nil {
		return err
	}
	// The snapshot is written by the run goroutine before it takes the
	// first command, not here: Open returns, and ledgerd answers reads,
	// while it is written (docs/performance.md, "Start-up decodes while it
	// folds").
	w.snapshotDue = w.state.FundSeq >= w.snapFundSeq+SnapshotEvery
	return nil
}

// writeStartUpSnapshot writes the snapshot of a start-up that folded at
// least SnapshotEvery events.
func (w *Writer) writeStartUpSnapshot() {
	w.snapshotDue = false
	// The fold ends with its garbage uncollected (up to GOGC % of the
	// state); the snapshot's buffer, about half the state's size, on top
	// of it was the peak of ledgerd's first start on 1,000,000 events
	// (docs/performance.md, "Start-up and verify at 1,000,000 events").
	// One collection first costs a fraction of a second. The snapshot is
	// now written as it is encoded, without that buffer; at 1,000,000
	// events a first start without this collection peaked and answered
	// its first requests the same, so it stays as it was.
	runtime.GC()
	w.saveSnapshot()
}

// loadSnapshot sets the writer's state from the snapshot file, having
// checked it against the log; false with no error when there is none.
func (w *Writer) loadSnapshot(ctx context.Context) (bool, error) {
	b, err := os.ReadFile(w.snapshotPath)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s, h, err := decodeSnapshot(b, w.fund)
	if err != nil {
		return false, err
	}
	if h.StreamSeq == 0 {
		return false, errors.New("header names no event")
	}
	// The log must hold, at the snapshot's stream sequence, the fund's event
	// it reflects: its hash names the whole chain before it.
	var at events.Event
	err = w.log.ReadFund(ctx, w.fund, h.StreamSeq-1, func(e events.Event) error { at = e; return errFound })
	if err != nil && !errors.Is(err, errFound) {
		return false, fmt.Errorf("read the event at stream seq %d: %w", h.StreamSeq, err)
	}
	if at.StreamSeq != h.StreamSeq || at.FundSeq != h.FundSeq || at.Hash != h.Hash {
		return false, fmt.Errorf("stale: it reflects fund_seq %d (stream seq %d, hash %s), the log holds fund_seq %d (stream seq %d, hash %s) there",
			h.FundSeq, h.StreamSeq, h.Hash, at.FundSeq, at.StreamSeq, at.Hash)
	}
	w.state = s
	w.version++
	w.chain = events.Chain{Fund: w.fund, FundSeq: h.FundSeq, Head: h.Hash}
	w.ids, w.idOrder = map[string]seen{}, nil
	w.snapFundSeq = h.FundSeq
	if err := w.rememberUnfolded(ctx, h.StreamSeq); err != nil {
		return false, err
	}
	w.setLastSeq(h.StreamSeq)
	slog.Info("state snapshot loaded: folding the events after it", "fund", w.fund, "fund_seq", h.FundSeq, "stream_seq", h.StreamSeq)
	return true, nil
}

// rememberUnfolded keeps in memory the command ids of the events up to
// stream sequence upTo that the command store has not folded yet (it may
// lag behind the snapshot, or be rebuilding): the store cannot answer for
// them, and the snapshot does not hold them.
func (w *Writer) rememberUnfolded(ctx context.Context, upTo uint64) error {
	cp, err := w.commands.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("read model checkpoint: %w", err)
	}
	if cp >= upTo {
		return nil
	}
	first := ""
	err = w.log.ReadFund(ctx, w.fund, cp, func(e events.Event) error {
		if e.StreamSeq > upTo {
			return errFound
		}
		if first == "" {
			first = e.CommandID
		}
		s := w.ids[e.CommandID]
		s.hash = e.CommandHash
		s.refs = append(s.refs, e.Ref())
		s.streamSeq = e.StreamSeq
		w.remember(e.CommandID, s)
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return fmt.Errorf("read the command ids after the read model's checkpoint: %w", err)
	}
	if first == "" {
		return nil
	}
	// The store's checkpoint may fall inside the first command's events:
	// those it holds come first.
	return w.commands.Commands(ctx, w.fund, []string{first}, func(id, _ string, refs []events.Ref, _ uint64) {
		s := w.ids[id]
		if len(refs) > 0 && len(s.refs) > 0 && refs[len(refs)-1].FundSeq < s.refs[0].FundSeq {
			s.refs = append(refs, s.refs...)
			w.ids[id] = s
		}
	})
}

// saveSnapshot writes the state to the snapshot file, through a temporary
// file renamed into place so that a crash leaves the old one or the new
// one. A failure is logged: the next start-up folds more, that is all.
func (w *Writer) saveSnapshot() {
	if w.snapshotPath == "" || w.lastSeq == 0 || w.state.FundSeq != w.chain.FundSeq || w.state.FundSeq == w.snapFundSeq {
		return
	}
	err := writeFileAtomic(w.snapshotPath, func(f io.Writer) error { return writeSnapshot(f, w.state, w.lastSeq, w.chain.Head) })
	if err != nil {
		slog.Warn("write state snapshot", "file", w.snapshotPath, "err", err)
		return
	}
	w.snapFundSeq = w.state.FundSeq
}

// writeFileAtomic writes a file at path with write, through a temporary
// file synced and renamed into place.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
