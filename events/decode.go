package events

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// decodeCanonical parses b when it is already an envelope exactly as
// envelope writes it: its keys in their sorted order, each string one that
// encoding/json writes back as it is (canonScanner.str), the numbers as
// strconv formats them and the data canonical. It returns the event and the
// bytes the hash covers, beside prev_hash: b without its hash member. Any
// other bytes give false, and Decode takes the slow path, which is the
// definition (decode, re-encode, compare); FuzzDecodeCanonical holds the two
// to the same answer. Reading a stored event is most of the work of
// replaying or verifying the log, and nearly every stored event is
// canonical, so that the one scan here does the work of a decode by
// reflection and a re-encode (issue 10).
func decodeCanonical(b []byte) (e Event, unhashed [2][]byte, ok bool) {
	s := canonScanner{b: b}
	str := func(key string, dst *string) bool {
		if !s.literal(key) {
			return false
		}
		q, ok := s.str()
		if ok {
			*dst = string(q[1 : len(q)-1])
		}
		return ok
	}
	if !str(`{"actor":`, &e.Actor) || !str(`,"command_hash":`, &e.CommandHash) ||
		!str(`,"command_id":`, &e.CommandID) || !s.literal(`,"data":`) {
		return Event{}, unhashed, false
	}
	start := s.i
	data, ok := s.value(make([]byte, 0, 256), 0)
	if !ok || !bytes.Equal(data, b[start:s.i]) {
		return Event{}, unhashed, false
	}
	e.Data = data
	if !str(`,"effective_on":`, &e.EffectiveOn) || !str(`,"fund":`, &e.Fund) || !s.literal(`,"fund_seq":`) {
		return Event{}, unhashed, false
	}
	if e.FundSeq, ok = s.canonicalUint(); !ok {
		return Event{}, unhashed, false
	}
	hashStart := s.i
	if !str(`,"hash":`, &e.Hash) {
		return Event{}, unhashed, false
	}
	hashEnd := s.i
	if !str(`,"id":`, &e.ID) || !str(`,"prev_hash":`, &e.PrevHash) || !str(`,"recorded_at":`, &e.RecordedAt) ||
		!str(`,"type":`, &e.Type) || !s.literal(`,"v":`) {
		return Event{}, unhashed, false
	}
	neg := s.next('-')
	v, ok := s.canonicalUint()
	if !ok || v > 1<<(strconv.IntSize-1)-1 || (neg && v == 0) || !s.literal("}") || s.i != len(b) {
		return Event{}, unhashed, false
	}
	if e.V = int(v); neg {
		e.V = -e.V
	}
	return e, [2][]byte{b[:hashStart], b[hashEnd:]}, true
}

// literal consumes p if the bytes go on with it.
func (s *canonScanner) literal(p string) bool {
	if len(s.b)-s.i < len(p) || string(s.b[s.i:s.i+len(p)]) != p {
		return false
	}
	s.i += len(p)
	return true
}

// canonicalUint scans an unsigned integer as strconv writes it: digits,
// no leading zero, no more than a uint64 holds.
func (s *canonScanner) canonicalUint() (uint64, bool) {
	start := s.i
	if !s.digits() || (s.b[start] == '0' && s.i-start > 1) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s.b[start:s.i]), 10, 64)
	return n, err == nil
}

// hashOf is the hash of an event whose bytes, beside prev_hash, are parts.
func hashOf(prevHash string, parts [2][]byte) string {
	sum := hashSum(prevHash, parts)
	return hex.EncodeToString(sum[:])
}

// hashIs reports whether hashOf(prevHash, parts) is want, without the
// string: it was a tenth of what reading a long log allocated.
func hashIs(want, prevHash string, parts [2][]byte) bool {
	sum := hashSum(prevHash, parts)
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	return string(hx[:]) == want
}

func hashSum(prevHash string, parts [2][]byte) (sum [sha256.Size]byte) {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(parts[0])
	h.Write(parts[1])
	h.Sum(sum[:0])
	return sum
}
