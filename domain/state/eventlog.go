package state

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"unique"

	"github.com/google/uuid"
	"github.com/unesco-uil/mdfm-ledger/events"
)

// EventLog is what the state keeps of every event of the fund: its id,
// type, date and term, and for a money event (or a carry-over) its payload,
// which a reversal and AttributableOn read. It grows with the log and was
// most of the writer's memory (a map of records and decoded payloads:
// about 520 bytes an event, 924 MB for ledgerd on a million events,
// issue 10), so it is kept compact:
//
//   - an event is an entry at its position (Entries[i] is fund_seq i+1)
//     with no pointer of its own (48 bytes): its type, date and term are
//     numbers of Labels, which a million events share;
//   - its id, a canonical UUID as the writer makes them, is kept as 16
//     bytes in its entry. The writer's ids (UUIDv7) grow with time, so
//     the events whose id is above every id before it are found by binary
//     search through Ascending (4 bytes an event, where a map took about
//     40); an id below one before it (another writer's clock) is kept in
//     UUIDs, and any other id, as tests may give, as a string in Named and
//     NamedAt;
//   - a payload is kept encoded (binenc, the snapshot's encoding), back to
//     back in Payloads, and decoded when asked (EventAt): exactly the
//     payload that was folded, so a reversal and AttributableOn decide as
//     they did when the payloads were kept decoded.
//
// Read it through State.Event, EventAt and SeqOf; change it only through
// Apply.
type EventLog struct {
	Entries []EventEntry
	// Ascending holds, in order, the fund_seqs of the events whose ids
	// are canonical UUIDs, each above the ids of those before it.
	Ascending []uint32
	UUIDs     map[[16]byte]uint64 // id → fund_seq, for the other canonical UUID ids
	Named     map[string]uint64   // id → fund_seq, for any other id
	NamedAt   map[uint64]string   // fund_seq → id, for those
	Payloads  []byte              // the encoded payloads, in fund_seq order
	// ReversedBy holds, for each reversed event, the reversal's id.
	ReversedBy map[uint64]string
	// Labels are the types, dates and term ids the entries name, each
	// once, and LabelOf their numbers.
	Labels  []string
	LabelOf map[string]uint32
}

// EventEntry is one event of an EventLog.
type EventEntry struct {
	ID                        [16]byte // zero when the id is in EventLog.Named
	Type, EffectiveOn, TermID uint32   // numbers of Labels
	// End is where the event's encoded payload ends in Payloads; it
	// starts where the previous entry's ends (none when they are equal).
	End uint64
	// Fee is, for a receipt, the fund_seq of its fee_charged (0: none).
	Fee uint64
}

// EventRecord is what the state knows of one event, as EventAt returns it.
// For a money event (receipt, fee, approval, expenditure, interest,
// refund) it has the payload a reversal needs, and ReversedBy once
// reversed; for a carry-over, its payload (it is never reversed). Its
// postings are computed from the payload when asked (Postings).
type EventRecord struct {
	ID          string
	Type        string
	FundSeq     uint64
	EffectiveOn string
	TermID      string
	Payload     events.Payload
	ReversedBy  string // reversal id
	FeeEventID  string // of a receipt: its fee_charged event
}

// Postings returns the legs of the recorded money event: those its fold
// posted.
func (r *EventRecord) Postings() ([]Posting, error) { return postingsOf(r.Payload) }

// clone returns a copy of l that shares nothing it may change: its
// payloads, which are only ever appended to, are shared up to their length.
func (l *EventLog) clone() EventLog {
	return EventLog{Entries: slices.Clone(l.Entries), Ascending: slices.Clip(l.Ascending), UUIDs: maps.Clone(l.UUIDs), Named: maps.Clone(l.Named),
		NamedAt: maps.Clone(l.NamedAt), Payloads: slices.Clip(l.Payloads), ReversedBy: maps.Clone(l.ReversedBy),
		Labels: slices.Clip(l.Labels), LabelOf: maps.Clone(l.LabelOf)}
}

func newEventLog() EventLog {
	return EventLog{UUIDs: map[[16]byte]uint64{}, Named: map[string]uint64{}, NamedAt: map[uint64]string{}, ReversedBy: map[uint64]string{},
		LabelOf: map[string]uint32{}}
}

// check reports an event log that does not hold fundSeq events, or whose
// entries name labels or payload bytes it does not have: a decoded
// state is read through them without further checks.
func (l *EventLog) check(fundSeq uint64) error {
	if uint64(len(l.Entries)) != fundSeq || uint64(len(l.Ascending)+len(l.UUIDs)+len(l.Named)) != fundSeq || len(l.Named) != len(l.NamedAt) ||
		l.UUIDs == nil || l.Named == nil || l.NamedAt == nil || l.ReversedBy == nil || l.LabelOf == nil {
		return fmt.Errorf("event log of %d entries and %d ids for fund_seq %d", len(l.Entries), len(l.Ascending)+len(l.UUIDs)+len(l.Named), fundSeq)
	}
	for i, seq := range l.Ascending {
		if seq == 0 || uint64(seq) > fundSeq || (i > 0 && bytes.Compare(l.Entries[l.Ascending[i-1]-1].ID[:], l.Entries[seq-1].ID[:]) >= 0) {
			return fmt.Errorf("event log: the ascending ids are not in order at %d", i)
		}
	}
	var end uint64
	for i, e := range l.Entries {
		n := uint32(len(l.Labels))
		if e.Type >= n || e.EffectiveOn >= n || e.TermID >= n || e.End < end || e.End > uint64(len(l.Payloads)) || e.Fee > fundSeq {
			return fmt.Errorf("event log entry %d does not fit the log", i+1)
		}
		end = e.End
	}
	return nil
}

// Len returns how many events the log holds.
func (l *EventLog) Len() int { return len(l.Entries) }

// uuidKey returns the 16 bytes of a canonical UUID (lowercase, hyphens
// where the writer puts them); ok is false for any other id, which must
// be kept as it is written.
func uuidKey(id string) (k [16]byte, ok bool) {
	if len(id) != 36 {
		return k, false
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return k, false
	}
	// Only the canonical (lower-case) spelling is a key; checked without
	// u.String()'s allocation, twice an event at start-up.
	var canon [36]byte
	hex.Encode(canon[0:8], u[0:4])
	hex.Encode(canon[9:13], u[4:6])
	hex.Encode(canon[14:18], u[6:8])
	hex.Encode(canon[19:23], u[8:10])
	hex.Encode(canon[24:], u[10:])
	canon[8], canon[13], canon[18], canon[23] = '-', '-', '-', '-'
	if string(canon[:]) != id {
		return k, false
	}
	return u, true
}

// SeqOf returns the fund_seq of the event with id.
func (s *State) SeqOf(id string) (uint64, bool) {
	if k, ok := uuidKey(id); ok {
		l := &s.Events
		if seq, ok := l.UUIDs[k]; ok {
			return seq, true
		}
		i, found := slices.BinarySearchFunc(l.Ascending, k, func(seq uint32, k [16]byte) int {
			return bytes.Compare(l.Entries[seq-1].ID[:], k[:])
		})
		if !found {
			return 0, false
		}
		return uint64(l.Ascending[i]), true
	}
	seq, ok := s.Events.Named[id]
	return seq, ok
}

// IDAt returns the id of the event at fund_seq seq (1 to FundSeq).
func (s *State) IDAt(seq uint64) string {
	e := &s.Events.Entries[seq-1]
	if e.ID == ([16]byte{}) {
		if id, ok := s.Events.NamedAt[seq]; ok {
			return id
		}
	}
	return uuid.UUID(e.ID).String()
}

// Event returns the record of the event with id; ok is false when the
// fund has none. The error is for a payload that cannot be read back: a
// state that contradicts itself.
func (s *State) Event(id string) (rec *EventRecord, ok bool, err error) {
	seq, ok := s.SeqOf(id)
	if !ok {
		return nil, false, nil
	}
	rec, err = s.EventAt(seq)
	return rec, err == nil, err
}

// EventAt returns the record of the event at fund_seq seq (1 to FundSeq),
// its payload decoded.
func (s *State) EventAt(seq uint64) (*EventRecord, error) {
	l := &s.Events
	e := &l.Entries[seq-1]
	rec := &EventRecord{ID: s.IDAt(seq), Type: l.Labels[e.Type], FundSeq: seq, EffectiveOn: l.Labels[e.EffectiveOn],
		TermID: l.Labels[e.TermID], ReversedBy: l.ReversedBy[seq]}
	if e.Fee != 0 {
		rec.FeeEventID = s.IDAt(e.Fee)
	}
	p, err := s.payloadAt(seq)
	if err != nil {
		return nil, err
	}
	rec.Payload = p
	return rec, nil
}

// payloadAt decodes the payload kept of the event at fund_seq seq; nil
// when none was kept.
func (s *State) payloadAt(seq uint64) (events.Payload, error) {
	l := &s.Events
	var start uint64
	if seq > 1 {
		start = l.Entries[seq-2].End
	}
	e := &l.Entries[seq-1]
	if start == e.End {
		return nil, nil
	}
	t, ok := events.LookupType(l.Labels[e.Type])
	if !ok {
		return nil, fmt.Errorf("event at fund_seq %d: unknown type %s", seq, l.Labels[e.Type])
	}
	p := t.New()
	if err := stateCodec.Decode(l.Payloads[start:e.End], p); err != nil {
		return nil, fmt.Errorf("payload of the event at fund_seq %d: %w", seq, err)
	}
	return p, nil
}

// intern returns the one copy of s that the process keeps: the ids,
// currencies and dates the state keeps of a long log repeat.
func intern(s string) string { return unique.Make(s).Value() }

// Label returns the string numbered n in the log's Labels.
func (l *EventLog) Label(n uint32) string { return l.Labels[n] }

// label returns the number of x in the log's Labels, adding it if new.
func (s *State) label(x string) uint32 {
	l := &s.Events
	if n, ok := l.LabelOf[x]; ok {
		return n
	}
	n := uint32(len(l.Labels))
	l.Labels = append(l.Labels, x)
	l.LabelOf[x] = n
	m := l.LabelOf
	s.undo(func() { delete(m, x) })
	return n
}

// addEvent adds the event with id, described by rec, and its payload p
// (nil: none kept) at the end of the log.
func (s *State) addEvent(id string, rec *EventRecord, p events.Payload) error {
	l := &s.Events
	entry := EventEntry{Type: s.label(rec.Type), EffectiveOn: s.label(rec.EffectiveOn), TermID: s.label(rec.TermID)}
	if p != nil {
		b, err := stateCodec.Append(l.Payloads, p)
		if err != nil {
			return fmt.Errorf("keep payload: %w", err)
		}
		l.Payloads = b
	}
	entry.End = uint64(len(l.Payloads))
	seq := rec.FundSeq
	if k, ok := uuidKey(id); ok {
		entry.ID = k
		if n := len(l.Ascending); seq <= math.MaxUint32 && (n == 0 || bytes.Compare(l.Entries[l.Ascending[n-1]-1].ID[:], k[:]) < 0) {
			// Past the end of what a simulation shares: no undoing.
			l.Ascending = append(l.Ascending, uint32(seq))
		} else {
			m := l.UUIDs
			m[k] = seq
			s.undo(func() { delete(m, k) })
		}
	} else {
		l.Named[id], l.NamedAt[seq] = seq, id
		s.undo(func() { delete(l.Named, id); delete(l.NamedAt, seq) })
	}
	// A simulation's appends land past the end of the slices it shares
	// with its state: they need no undoing.
	l.Entries = append(l.Entries, entry)
	return nil
}

// setFee records that the receipt at fund_seq seq was charged the fee at
// fund_seq fee.
func (s *State) setFee(seq, fee uint64) {
	e := &s.Events.Entries[seq-1]
	old := e.Fee
	s.undo(func() { e.Fee = old })
	e.Fee = fee
}

// setReversed records that the event at fund_seq seq was reversed by the
// reversal with id by.
func (s *State) setReversed(seq uint64, by string) {
	m := s.Events.ReversedBy
	s.undo(func() { delete(m, seq) })
	m[seq] = by
}

// undo records f in the state's undo log, if it has one (see Simulation).
func (s *State) undo(f func()) {
	if s.Undo != nil {
		s.Undo.steps = append(s.Undo.steps, f)
	}
}
