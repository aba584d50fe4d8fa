package state

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/binenc"
)

// A state snapshot lets the writer start from the state after a known event
// instead of folding the whole log (docs/DESIGN.md, "State snapshots"). The
// encoding keeps the state exactly: decoding it and folding the events after
// it gives the state that folding every event gives
// (TestSnapshotEqualsFullFold).

// stateCodec encodes states: their interfaces hold event payloads.
var stateCodec = func() *binenc.Codec {
	var ps []any
	for _, t := range events.Types() {
		ps = append(ps, t.New())
	}
	return binenc.New(ps...)
}()

// Fingerprint names the shape of State (every field, all the way down,
// and the payload types): bytes of Encode are read back only by a
// binary whose State has the same shape.
var Fingerprint = stateCodec.Fingerprint(reflect.TypeFor[State]())

// Encode appends the encoding of s to b. A simulation's state (Undo
// set) is refused.
func Encode(b []byte, s *State) ([]byte, error) {
	if s.Undo != nil {
		return nil, errors.New("encode state: the state is a simulation")
	}
	// Growing the buffer as it fills copied it over and over, most of the
	// cost of a large state. A state encodes in about 100 bytes an event
	// (99.6 on the 1,000,000-event log of docs/performance.md): room for
	// 112 is a little to spare, where 200 (the size before the state was
	// kept compactly) held twice the snapshot at the peak of ledgerd's
	// first start.
	b = slices.Grow(b, 112*int(min(s.FundSeq, 1<<24)))
	b, err := stateCodec.Append(b, s)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return b, nil
}

// Write writes to w the bytes Encode appends, as they are encoded: the
// encoding of a large state is never held whole (ledgerd's snapshots).
func Write(w io.Writer, s *State) error {
	if s.Undo != nil {
		return errors.New("encode state: the state is a simulation")
	}
	if err := stateCodec.Write(w, s); err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return nil
}

// Decode reads a state Encode wrote, by a binary with the same
// Fingerprint.
func Decode(b []byte) (*State, error) {
	s := new(State)
	if err := stateCodec.Decode(b, s); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if err := s.Events.check(s.FundSeq); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	return s, nil
}
