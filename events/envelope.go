// Package events is the event catalogue of the ledger: the envelope every
// event is stored in, one payload type per event with a stable type name, the
// canonical encoding and the per-fund hash chain. It does no I/O.
package events

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ZeroHash is the prev_hash of a fund's first event.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// MaxEventBytes bounds one encoded event. The server's message limit is
// higher; this keeps a batch of MaxBatchEvents well inside it.
const MaxEventBytes = 64 << 10

// Event is the envelope of one stored event. Its canonical JSON (sorted keys,
// no insignificant white space) is what the stream holds, byte for byte.
type Event struct {
	ID          string          `json:"id"`           // UUIDv7
	Fund        string          `json:"fund"`         // unit of consistency
	FundSeq     uint64          `json:"fund_seq"`     // 1-based position in the fund
	Type        string          `json:"type"`         // stable type name
	V           int             `json:"v"`            // payload schema version
	RecordedAt  string          `json:"recorded_at"`  // RFC 3339 UTC, server time
	EffectiveOn string          `json:"effective_on"` // business date, YYYY-MM-DD
	Actor       string          `json:"actor"`        // user of the API token
	CommandID   string          `json:"command_id"`   // idempotency key
	CommandHash string          `json:"command_hash"` // SHA-256 of the canonical command
	PrevHash    string          `json:"prev_hash"`
	Hash        string          `json:"hash"`
	Data        json.RawMessage `json:"data"`

	// StreamSeq is the event's position in the JetStream stream. It is set on
	// read and is not part of the stored bytes: the same event keeps its hash
	// wherever it is copied.
	StreamSeq uint64 `json:"-"`
}

// Ref is how a write answer names an event it appended.
type Ref struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	FundSeq uint64 `json:"fund_seq"`
	Hash    string `json:"hash"`
}

// Ref returns the event's reference.
func (e Event) Ref() Ref { return Ref{e.ID, e.Type, e.FundSeq, e.Hash} }

// Canonical re-encodes any JSON value with sorted object keys, no
// insignificant white space and numbers as written. It is the one encoding
// that hashes are computed over.
func Canonical(b []byte) ([]byte, error) {
	if out, ok := fastCanonical(b); ok {
		return out, nil
	}
	return slowCanonical(b)
}

// slowCanonical is the definition of Canonical: a decode into maps and an
// encode by encoding/json, for any JSON.
func slowCanonical(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// CanonicalValue marshals v and returns its canonical encoding.
func CanonicalValue(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Canonical(b)
}

// ComputeHash returns SHA-256 over prev_hash and the canonical envelope
// without its hash field, in lower-case hex.
func (e Event) ComputeHash() (string, error) {
	data, err := e.canonicalData()
	if err != nil {
		return "", err
	}
	return e.hashWith(data), nil
}

// hashWith is ComputeHash with the data already canonical.
func (e Event) hashWith(data []byte) string {
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(e.envelope(data, false))
	return hex.EncodeToString(h.Sum(nil))
}

// canonical writes the envelope's canonical JSON directly: its keys are
// fixed, so they are written in sorted order by hand, and only the data is
// canonicalised by a decode and encode. It gives the same bytes as
// CanonicalValue(e) (a test holds it to that) at a fraction of the cost:
// every event is hashed when written and again whenever it is read.
func (e Event) canonical(withHash bool) ([]byte, error) {
	data, err := e.canonicalData()
	if err != nil {
		return nil, err
	}
	return e.envelope(data, withHash), nil
}

// canonicalData is the canonical encoding of the event's data: the costly
// part of canonical, which Decode does once for both of its checks.
func (e Event) canonicalData() ([]byte, error) {
	if len(e.Data) == 0 {
		return []byte("null"), nil
	}
	data, err := Canonical(e.Data)
	if err != nil {
		return nil, fmt.Errorf("event data: %w", err)
	}
	return data, nil
}

// envelope writes the canonical envelope around data, which must be
// canonical already.
func (e Event) envelope(data []byte, withHash bool) []byte {
	var b bytes.Buffer
	b.Grow(len(data) + 512)
	str := func(key, v string) {
		b.WriteString(key)
		writeJSONString(&b, v)
	}
	str(`{"actor":`, e.Actor)
	str(`,"command_hash":`, e.CommandHash)
	str(`,"command_id":`, e.CommandID)
	b.WriteString(`,"data":`)
	b.Write(data)
	str(`,"effective_on":`, e.EffectiveOn)
	str(`,"fund":`, e.Fund)
	b.WriteString(`,"fund_seq":`)
	b.WriteString(strconv.FormatUint(e.FundSeq, 10))
	if withHash {
		str(`,"hash":`, e.Hash)
	}
	str(`,"id":`, e.ID)
	str(`,"prev_hash":`, e.PrevHash)
	str(`,"recorded_at":`, e.RecordedAt)
	str(`,"type":`, e.Type)
	b.WriteString(`,"v":`)
	b.WriteString(strconv.Itoa(e.V))
	b.WriteByte('}')
	return b.Bytes()
}

// writeJSONString writes s as Canonical writes strings: encoding/json's
// escaping without the HTML escapes, invalid UTF-8 as U+FFFD.
func writeJSONString(b *bytes.Buffer, s string) {
	if plainString(s) {
		// Nothing to escape: the encoder would write it as it is.
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
	if !utf8.ValidString(s) {
		// encoding/json writes each invalid byte as the escape \ufffd, which
		// Canonical's decode and encode turn into the character itself.
		var fixed strings.Builder
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				fixed.WriteRune(utf8.RuneError)
			} else {
				fixed.WriteString(s[i : i+size])
			}
			i += size
		}
		s = fixed.String()
	}
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // a string always encodes
	b.Truncate(b.Len() - 1) // the encoder's newline
}

// plainString reports whether encoding/json, without its HTML escapes,
// writes s between quotes as it is: printable ASCII but for the quote and
// the backslash (the ids, hashes, dates and names of nearly every event).
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Seal sets the event's prev_hash and hash. It is the writer's last step
// before an event is encoded. prevHash must be a hash (64 lower-case hex
// digits): the hash covers prev_hash as given, the stored bytes as encoded,
// and the two differ for text that is not valid UTF-8 (found by
// FuzzCanonical: such an event sealed but never decoded).
func (e *Event) Seal(prevHash string) error {
	if !isHash(prevHash) {
		return fmt.Errorf("seal event %s: prev_hash %q is not 64 lower-case hex digits", e.ID, prevHash)
	}
	e.PrevHash = prevHash
	h, err := e.ComputeHash()
	if err != nil {
		return fmt.Errorf("hash event %s: %w", e.ID, err)
	}
	e.Hash = h
	return nil
}

// isHash reports whether s is a SHA-256 in lower-case hex, as ComputeHash
// writes it.
func isHash(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Encode returns the stored bytes of a sealed event.
func (e Event) Encode() ([]byte, error) {
	b, err := e.canonical(true)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	if len(b) > MaxEventBytes {
		return nil, fmt.Errorf("encode event %s: %d bytes, limit %d", e.ID, len(b), MaxEventBytes)
	}
	return b, nil
}

// ErrTampered is wrapped by Decode when stored bytes are not what the writer
// sealed: not canonical, or a hash that does not match the content.
var ErrTampered = errors.New("event altered")

// Decode parses stored bytes and checks that they are canonical and that the
// hash matches the content. It does not check the link to the previous event
// (see Chain).
func Decode(b []byte) (Event, error) {
	if e, unhashed, ok := decodeCanonical(b); ok {
		if !hashIs(e.Hash, e.PrevHash, unhashed) {
			return e, hashMismatch(e, hashOf(e.PrevHash, unhashed))
		}
		return e, nil
	}
	return decodeSlow(b)
}

// decodeSlow is Decode by its definition: a strict decode of the
// envelope, then its bytes compared with the canonical encoding of what was
// decoded, then the hash checked.
func decodeSlow(b []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Event{}, fmt.Errorf("%w: not a valid envelope: %v", ErrTampered, err)
	}
	// The data is canonicalised once, for both checks: it is most of the
	// cost of reading an event.
	data, err := e.canonicalData()
	if err != nil || !bytes.Equal(e.envelope(data, true), b) {
		return e, fmt.Errorf("%w: fund %s fund_seq %d: bytes are not canonical", ErrTampered, e.Fund, e.FundSeq)
	}
	if h := e.hashWith(data); h != e.Hash {
		return e, hashMismatch(e, h)
	}
	return e, nil
}

func hashMismatch(e Event, h string) error {
	return fmt.Errorf("%w: fund %s fund_seq %d: hash %s does not match content (%s)", ErrTampered, e.Fund, e.FundSeq, e.Hash, h)
}

// ErrBrokenChain is wrapped by Chain.Check when an event does not follow the
// one before it.
var ErrBrokenChain = errors.New("hash chain broken")

// Chain follows one fund's hash chain.
type Chain struct {
	Fund    string
	FundSeq uint64 // last event seen, 0 before the first
	Head    string // its hash, ZeroHash before the first
}

// NewChain returns the chain of a fund with no events.
func NewChain(fund string) Chain { return Chain{Fund: fund, Head: ZeroHash} }

// Check verifies that e is the next event of the chain and advances it.
func (c *Chain) Check(e Event) error {
	if e.Fund != c.Fund {
		return fmt.Errorf("%w: event %s of fund %q in chain of fund %q", ErrBrokenChain, e.ID, e.Fund, c.Fund)
	}
	if e.FundSeq != c.FundSeq+1 {
		return fmt.Errorf("%w: fund %s fund_seq %d follows fund_seq %d", ErrBrokenChain, e.Fund, e.FundSeq, c.FundSeq)
	}
	if e.PrevHash != c.Head {
		return fmt.Errorf("%w: fund %s fund_seq %d: prev_hash %s, previous event's hash is %s", ErrBrokenChain, e.Fund, e.FundSeq, e.PrevHash, c.Head)
	}
	c.FundSeq, c.Head = e.FundSeq, e.Hash
	return nil
}
