// Package audit checks a read model and the log it was folded from: Verify
// replays the stream into a scratch read model, checking every event's
// hash and link, and compares it table by table with the live one;
// ReplayReader and RebuildFromReader replay an NDJSON export without NATS.
package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/progress"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// Stages of a VerifyFailure.
const (
	StageChain  = "chain"  // an event altered, removed, reordered or not linking
	StageReplay = "replay" // an intact event the read model cannot apply
	StageTable  = "table"  // the live read model differs from a fresh replay
)

// VerifyReport is the answer of an audit: OK only when every event's hash
// and link check out and the live read model equals a fresh replay.
// ChainHead and FundSeq are those of the default fund; Funds has every fund.
type VerifyReport struct {
	OK        bool                          `json:"ok"`
	Events    uint64                        `json:"events"`
	ChainHead string                        `json:"chain_head"`
	FundSeq   uint64                        `json:"fund_seq"`
	Funds     map[string]readmodel.FundHead `json:"funds,omitempty"`
	Failure   *VerifyFailure                `json:"failure,omitempty"`
}

// VerifyFailure says where an audit failed first: for the chain and replay
// stages the event (fund, fund_seq, id), for the table stage the table, the
// key of the first differing row and both values.
type VerifyFailure struct {
	Stage   string `json:"stage,omitempty"`
	Fund    string `json:"fund,omitempty"`
	FundSeq uint64 `json:"fund_seq,omitempty"`
	EventID string `json:"event_id,omitempty"`
	Table   string `json:"table,omitempty"`
	Row     string `json:"row,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// String is the failure in one line for people: "chain: fund mdfm fund_seq
// 12, event …: reason" or "table postings, row (…): reason".
func (f *VerifyFailure) String() string {
	var b strings.Builder
	b.WriteString(f.Stage + ":")
	if f.Table != "" {
		fmt.Fprintf(&b, " table %s,", f.Table)
		if f.Row != "" {
			fmt.Fprintf(&b, " row (%s),", f.Row)
		}
	} else if f.Fund != "" {
		fmt.Fprintf(&b, " fund %s fund_seq %d,", f.Fund, f.FundSeq)
		if f.EventID != "" {
			fmt.Fprintf(&b, " event %s,", f.EventID)
		}
	}
	s := strings.TrimSuffix(b.String(), ",")
	return s + ": " + f.Reason
}

// Verify audits the log and a live read model. It reads every event from
// the first, checking its bytes and hash (events.Decode) and its link to the
// one before in its fund (events.Chain); the first event that fails gives
// OK false at stage "chain" with its fund and fund_seq. It holds one read
// snapshot of the live store, replays the events up to exactly that
// snapshot's checkpoint into a scratch file under scratchDir (removed
// afterwards) and compares every table of the snapshot with the replay
// (CompareStores), so that a projector applying new events meanwhile
// changes nothing the audit sees; the first difference gives stage
// "table". It then replays the rest of the log: an intact event the read
// model has no rule for, or that contradicts the ones before it, gives
// stage "replay" (the live projector would be stuck there). If live is nil nothing is compared.
// The error is for an audit that could not run (the stream or a file
// unreadable), never for what it found.
func Verify(ctx context.Context, log *eventlog.Log, live *readmodel.Store, scratchDir string) (VerifyReport, error) {
	rep := VerifyReport{Funds: map[string]readmodel.FundHead{}}
	var (
		liveTx *sql.Tx
		liveCP uint64
	)
	if live != nil {
		// An auditor checks while people work: the snapshot, opened
		// before the stream's last sequence is read, stays at its
		// checkpoint however far the projector moves on (issue 8).
		var err error
		if liveTx, liveCP, err = live.SnapshotAtCheckpoint(ctx); err != nil {
			return rep, fmt.Errorf("verify: %w", err)
		}
		defer liveTx.Rollback()
	}
	// The live snapshot is digested while the replay folds: the fold runs
	// on one core, and the digest of the live side on the other.
	liveDigest := digestLive(ctx, liveTx)
	defer liveDigest.stop()
	last, err := log.LastStreamSeq(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	if live == nil {
		liveCP = last // nothing to compare: replay everything in one pass
	}
	dir, err := os.MkdirTemp(scratchDir, "verify-*")
	if err != nil {
		return rep, fmt.Errorf("verify: scratch folder: %w", err)
	}
	defer os.RemoveAll(dir)
	scratch, err := readmodel.OpenScratch(filepath.Join(dir, "replay.db"))
	if err != nil {
		return rep, fmt.Errorf("verify: scratch read model: %w", err)
	}
	defer scratch.Close()
	// The replay is compared table by table and thrown away: it folds
	// without the reports' indexes, and its running totals are written
	// once, before the comparison.
	if err := scratch.DeferForReplay(ctx); err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}

	check := rep.chainCheck()
	apply := func(batch []events.Event) error {
		// Only what the live model has seen is replayed.
		n := 0
		for n < len(batch) && batch[n].StreamSeq <= liveCP {
			n++
		}
		return scratch.ApplyDecoded(ctx, batch[:n])
	}
	if last > 0 {
		err = projector.ReadRange(ctx, log, 0, last, check, apply)
	}
	if h, ok := rep.Funds[eventlog.DefaultFund]; ok {
		rep.FundSeq, rep.ChainHead = h.FundSeq, h.ChainHead
	}
	if f, err := eventFailure(err); f != nil || err != nil {
		rep.Failure = f
		return rep, err
	}
	if live != nil {
		progress.Step(ctx, "writing the replay's running totals")
		if err := scratch.MakeTotals(ctx); err != nil {
			return rep, fmt.Errorf("verify: %w", err)
		}
		f, err := compareSnapshot(ctx, scratch, liveTx, liveDigest)
		if f != nil || err != nil {
			rep.Failure = f
			return rep, err
		}
	}
	// The rest of the log must replay too: a read model that cannot apply
	// the next event is stuck, even if what it has is right.
	if err := projector.CatchUpTo(ctx, log, scratch, last); err != nil {
		f, err := eventFailure(err)
		rep.Failure = f
		return rep, err
	}
	rep.OK = true
	return rep, nil
}

// chainCheck returns a check of each event's link to the one before in its
// fund (events.Chain) that counts the events and keeps each fund's head in
// the report.
func (rep *VerifyReport) chainCheck() func(events.Event) error {
	chains := map[string]*events.Chain{}
	return func(e events.Event) error {
		c, ok := chains[e.Fund]
		if !ok {
			nc := events.NewChain(e.Fund)
			c = &nc
			chains[e.Fund] = c
		}
		if err := c.Check(e); err != nil {
			return readmodel.NewEventError(e, err)
		}
		rep.Events++
		rep.Funds[e.Fund] = readmodel.FundHead{FundSeq: e.FundSeq, ChainHead: e.Hash, StreamSeq: e.StreamSeq}
		return nil
	}
}

// liveDigest is the digest of the live snapshot, made in a goroutine of
// its own (digestLive).
type liveDigest struct {
	cancel context.CancelFunc
	done   chan struct{}
	d      *readmodel.Digested
	err    error
}

// digestLive starts digesting tx, the live snapshot; nothing when tx is nil.
func digestLive(ctx context.Context, tx *sql.Tx) *liveDigest {
	ctx, cancel := context.WithCancel(ctx)
	l := &liveDigest{cancel: cancel, done: make(chan struct{})}
	if tx == nil {
		close(l.done)
		return l
	}
	go func() {
		defer close(l.done)
		// Its steps would come in the middle of the replay's progress.
		l.d, l.err = readmodel.DigestTx(progress.WithSteps(ctx, nil), tx)
	}()
	return l
}

// wait returns the digest once it is made.
func (l *liveDigest) wait() (*readmodel.Digested, error) {
	<-l.done
	return l.d, l.err
}

// stop ends the digest if it still runs (an audit that stopped early) and
// waits for it, so that the snapshot is not rolled back under it.
func (l *liveDigest) stop() {
	l.cancel()
	<-l.done
}

// compareSnapshot compares the live read model's snapshot with the scratch
// replay, which has reached the snapshot's checkpoint, and returns the first
// difference. The replay is digested on two connections at once; the live
// side's digest is live's.
func compareSnapshot(ctx context.Context, scratch *readmodel.Store, liveTx *sql.Tx, live *liveDigest) (*VerifyFailure, error) {
	progress.Step(ctx, "comparing the replay with the read model, table by table")
	txA, dA, err := scratch.DigestIdle(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer txA.Rollback()
	dB, err := live.wait()
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	d, err := readmodel.CompareDigested(ctx, txA, dA, liveTx, dB, "replay", "live")
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if d == nil {
		return nil, nil
	}
	return &VerifyFailure{Stage: StageTable, Table: d.Table, Row: d.Row, Fund: d.Fund, FundSeq: d.FundSeq, Reason: d.Reason}, nil
}

// eventFailure turns an error of a read or replay into a failure of the
// audit when an event is at fault, and leaves other errors as errors.
func eventFailure(err error) (*VerifyFailure, error) {
	if err == nil {
		return nil, nil
	}
	var ee *readmodel.EventError
	if !errors.As(err, &ee) {
		return nil, fmt.Errorf("verify: %w", err)
	}
	stage := StageReplay
	if errors.Is(err, events.ErrTampered) || errors.Is(err, events.ErrBrokenChain) {
		stage = StageChain
	}
	return &VerifyFailure{Stage: stage, Fund: ee.Fund, FundSeq: ee.FundSeq, EventID: ee.EventID,
		Reason: fmt.Sprintf("stream seq %d: %v", ee.StreamSeq, ee.Err)}, nil
}
