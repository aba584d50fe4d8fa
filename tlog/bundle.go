package tlog

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/proof"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// BundleFormat names the version of the bundle's JSON.
const BundleFormat = "mdfm-donor-proof/1"

// MaxBundleBytes bounds a bundle read from a file.
const MaxBundleBytes = 64 << 20

// Bundle is what a donor keeps to prove, without trusting the server, that
// its events are in the fund's log: a signed checkpoint, every event of the
// donor in the term up to it (dated by as_of) with its stored bytes and
// inclusion proof, and the totals those events give. The statement's own
// totals for the same term, as_of and checkpoint size travel with it, so
// that a check compares the two.
type Bundle struct {
	Format     string        `json:"format"`
	Fund       string        `json:"fund"`
	Donor      string        `json:"donor"`
	Term       string        `json:"term"`
	AsOf       string        `json:"as_of"`
	Checkpoint string        `json:"checkpoint"` // the signed note, byte for byte
	Events     []BundleEvent `json:"events"`
	Totals     Totals        `json:"totals"`    // what Events give (DonorTotals)
	Statement  Totals        `json:"statement"` // what the statement says
}

// BundleEvent is one event with its proof of inclusion in the checkpoint's
// tree (leaf index FundSeq-1).
type BundleEvent struct {
	FundSeq uint64   `json:"fund_seq"`
	Event   string   `json:"event"` // base64 of the stored bytes
	Proof   []string `json:"proof"` // base64 hashes, leaf to root
}

// Totals are a donor's figures of one term, as USD decimal strings.
type Totals struct {
	ReceivedUSD string `json:"received_usd"`
	FeesUSD     string `json:"fees_usd"`
	RefundedUSD string `json:"refunded_usd"`
}

// DonorTotals sums a donor's events of a term: receipts, fees and refunds,
// less those reversed. evs are the donor's events (a reversal's reversed
// event among them).
func DonorTotals(evs []events.Event) (Totals, error) {
	var received, fees, refunded int64
	amounts := map[uint64]int64{}
	for _, e := range evs {
		var p struct {
			USDAmount       money.Amount `json:"usd_amount"`
			Amount          money.Amount `json:"amount"`
			ReversedFundSeq uint64       `json:"reversed_fund_seq"`
			ReversedType    string       `json:"reversed_type"`
		}
		if e.Type == events.TypeContributionReceived || e.Type == events.TypeFeeCharged ||
			e.Type == events.TypeRefundPaid || e.Type == events.TypeEventReversed {
			if err := json.Unmarshal(e.Data, &p); err != nil {
				return Totals{}, fmt.Errorf("fund_seq %d: %s: %w", e.FundSeq, e.Type, err)
			}
		}
		sign := int64(1)
		typ := e.Type
		if e.Type == events.TypeEventReversed {
			amt, ok := amounts[p.ReversedFundSeq]
			if !ok {
				continue // a reversal of an event with no amount (none today)
			}
			sign, typ, p.USDAmount.Minor, p.Amount.Minor = -1, p.ReversedType, amt, amt
		}
		switch typ {
		case events.TypeContributionReceived:
			received += sign * p.USDAmount.Minor
			amounts[e.FundSeq] = p.USDAmount.Minor
		case events.TypeFeeCharged:
			fees += sign * p.Amount.Minor
			amounts[e.FundSeq] = p.Amount.Minor
		case events.TypeRefundPaid:
			refunded += sign * p.Amount.Minor
			amounts[e.FundSeq] = p.Amount.Minor
		}
	}
	return Totals{money.FormatUSD(received), money.FormatUSD(fees), money.FormatUSD(refunded)}, nil
}

// DonorEvents returns the donor's events of a term in the fund's tree up
// to size leaves, dated on or before asOf, in fund_seq order.
func (s *Store) DonorEvents(ctx context.Context, fund, donor, term, asOf string, size uint64) ([]Leaf, []events.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT fund_seq, stream_seq, bytes FROM tlog_leaves WHERE fund = ? AND donor_id = ? AND term_id = ? AND fund_seq <= ? ORDER BY fund_seq`, fund, donor, term, size)
	if err != nil {
		return nil, nil, fmt.Errorf("events of donor %s: %w", donor, err)
	}
	defer rows.Close()
	var leaves []Leaf
	var evs []events.Event
	for rows.Next() {
		var l Leaf
		if err := rows.Scan(&l.FundSeq, &l.StreamSeq, &l.Bytes); err != nil {
			return nil, nil, err
		}
		e, err := events.Decode(l.Bytes)
		if err != nil {
			return nil, nil, err
		}
		if e.EffectiveOn > asOf {
			continue
		}
		leaves, evs = append(leaves, l), append(evs, e)
	}
	return leaves, evs, rows.Err()
}

// BuildBundle makes the donor's bundle against the fund's latest signed
// checkpoint. stmt is the statement's totals for the same term, as_of and
// size, filled by the caller.
func (s *Store) BuildBundle(ctx context.Context, fund, donor, term, asOf string) (Bundle, error) {
	size, msg, err := s.Checkpoint(ctx, fund, 0)
	if err != nil {
		return Bundle{}, err
	}
	leaves, evs, err := s.DonorEvents(ctx, fund, donor, term, asOf, size)
	if err != nil {
		return Bundle{}, err
	}
	b := Bundle{Format: BundleFormat, Fund: fund, Donor: donor, Term: term, AsOf: asOf, Checkpoint: string(msg), Events: []BundleEvent{}}
	for _, l := range leaves {
		p, err := s.InclusionProof(ctx, fund, l.FundSeq, size)
		if err != nil {
			return Bundle{}, err
		}
		b.Events = append(b.Events, BundleEvent{FundSeq: l.FundSeq, Event: base64.StdEncoding.EncodeToString(l.Bytes), Proof: encodeHashes(p)})
	}
	if b.Totals, err = DonorTotals(evs); err != nil {
		return Bundle{}, err
	}
	return b, nil
}

func encodeHashes(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}

// DecodeHashes reads base64 hashes of a proof; each must be 32 bytes.
func DecodeHashes(ss []string) ([][]byte, error) {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		h, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil || len(h) != Hasher.Size() {
			return nil, fmt.Errorf("hash %d %q: not base64 of %d bytes", i, s, Hasher.Size())
		}
		out[i] = h
	}
	return out, nil
}

// VerifyBundle checks a bundle with no server and no log: the checkpoint's
// signature by vkey and its origin, each event's bytes (canonical, hash),
// that each event is the donor's, of the term, dated by as_of and inside
// the checkpoint, each inclusion proof against the checkpoint's root, and
// that the totals recomputed from the events equal both the bundle's and
// the statement's. The error names the first thing that failed.
func VerifyBundle(b Bundle, vkey, origin string) (Checkpoint, error) {
	if b.Format != BundleFormat {
		return Checkpoint{}, fmt.Errorf("bundle format %q, want %q", b.Format, BundleFormat)
	}
	cp, err := OpenCheckpoint([]byte(b.Checkpoint), vkey)
	if err != nil {
		return cp, err
	}
	if origin != "" && cp.Origin != origin {
		return cp, fmt.Errorf("checkpoint origin %q, want %q", cp.Origin, origin)
	}
	var evs []events.Event
	donorSeqs := map[uint64]bool{}
	var last uint64
	for i, be := range b.Events {
		e, err := verifyEvent(b, cp, be, donorSeqs)
		if err != nil {
			return cp, fmt.Errorf("event %d (fund_seq %d): %w", i, be.FundSeq, err)
		}
		if i > 0 && e.FundSeq <= last {
			return cp, fmt.Errorf("event %d (fund_seq %d): not after fund_seq %d", i, e.FundSeq, last)
		}
		last = e.FundSeq
		donorSeqs[e.FundSeq] = true
		evs = append(evs, e)
	}
	got, err := DonorTotals(evs)
	if err != nil {
		return cp, err
	}
	if got != b.Totals {
		return cp, fmt.Errorf("totals: the events give %+v, the bundle says %+v", got, b.Totals)
	}
	if got != b.Statement {
		return cp, fmt.Errorf("totals: the events give %+v, the statement says %+v", got, b.Statement)
	}
	return cp, nil
}

func verifyEvent(b Bundle, cp Checkpoint, be BundleEvent, donorSeqs map[uint64]bool) (events.Event, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(be.Event)
	if err != nil {
		return events.Event{}, fmt.Errorf("event bytes: %w", err)
	}
	e, err := events.Decode(raw)
	if err != nil {
		return e, err
	}
	if e.Fund != b.Fund || e.FundSeq != be.FundSeq {
		return e, fmt.Errorf("event is fund %s fund_seq %d, the bundle says fund %s fund_seq %d", e.Fund, e.FundSeq, b.Fund, be.FundSeq)
	}
	if e.FundSeq == 0 || e.FundSeq > cp.Size {
		return e, fmt.Errorf("fund_seq %d is not in the checkpoint's tree of size %d", e.FundSeq, cp.Size)
	}
	if e.EffectiveOn > b.AsOf {
		return e, fmt.Errorf("dated %s, after as_of %s", e.EffectiveOn, b.AsOf)
	}
	if err := checkSubject(e, b, donorSeqs); err != nil {
		return e, err
	}
	hashes, err := DecodeHashes(be.Proof)
	if err != nil {
		return e, fmt.Errorf("inclusion proof: %w", err)
	}
	if err := proof.VerifyInclusion(Hasher, e.FundSeq-1, cp.Size, LeafHash(raw), hashes, cp.Hash); err != nil {
		return e, fmt.Errorf("inclusion proof: %w", err)
	}
	return e, nil
}

// checkSubject checks that an event is the bundle's donor's and term's; a
// reversal must reverse an event the bundle holds before it.
func checkSubject(e events.Event, b Bundle, donorSeqs map[uint64]bool) error {
	var p struct {
		DonorID         string `json:"donor_id"`
		TermID          string `json:"term_id"`
		ReversedFundSeq uint64 `json:"reversed_fund_seq"`
	}
	if err := json.Unmarshal(e.Data, &p); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if e.Type == events.TypeEventReversed {
		if !donorSeqs[p.ReversedFundSeq] {
			return fmt.Errorf("reverses fund_seq %d, which is not an event of the bundle", p.ReversedFundSeq)
		}
		return nil
	}
	if p.DonorID != b.Donor || p.TermID != b.Term {
		return fmt.Errorf("event of donor %q term %q in a bundle of donor %q term %q", p.DonorID, p.TermID, b.Donor, b.Term)
	}
	return nil
}

// VerifyConsistency checks offline that the tree of newCP extends the tree
// of oldCP: the old one signed by oldVkey, the new one by vkey (the same key
// but across a key rotation), with one origin, and the proof links their
// roots. Equal sizes need equal roots (else the log forked).
func VerifyConsistency(oldVkey, vkey string, oldNote, newNote []byte, hashes [][]byte) (oldCP, newCP Checkpoint, err error) {
	if oldCP, err = OpenCheckpoint(oldNote, oldVkey); err != nil {
		return oldCP, newCP, fmt.Errorf("old %w", err)
	}
	if newCP, err = OpenCheckpoint(newNote, vkey); err != nil {
		return oldCP, newCP, fmt.Errorf("new %w", err)
	}
	if oldCP.Origin != newCP.Origin {
		return oldCP, newCP, fmt.Errorf("old checkpoint is of %q, new of %q", oldCP.Origin, newCP.Origin)
	}
	if oldCP.Size > newCP.Size {
		return oldCP, newCP, fmt.Errorf("old checkpoint has size %d, more than the new one's %d", oldCP.Size, newCP.Size)
	}
	if oldCP.Size == newCP.Size && !bytes.Equal(oldCP.Hash, newCP.Hash) {
		return oldCP, newCP, fmt.Errorf("size %d: %w", oldCP.Size, ErrFork)
	}
	if err := proof.VerifyConsistency(Hasher, oldCP.Size, newCP.Size, hashes, oldCP.Hash, newCP.Hash); err != nil {
		return oldCP, newCP, fmt.Errorf("consistency proof from size %d to %d: %w", oldCP.Size, newCP.Size, err)
	}
	return oldCP, newCP, nil
}

// ErrFork is wrapped when two checkpoints of one key and size differ.
var ErrFork = errors.New("two checkpoints of the same size with different roots: the log forked")
