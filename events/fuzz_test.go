package events

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
)

// goldenExport is the projector's export of the illustrative history: real
// stored events, one a line, the seed corpus of the fuzz targets.
const goldenExport = "../cmd/projector/testdata/export.golden.ndjson"

// goldenLines returns the lines of goldenExport.
func goldenLines(f testing.TB) [][]byte {
	f.Helper()
	b, err := os.ReadFile(goldenExport)
	if err != nil {
		f.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, MaxEventBytes+1)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	if len(lines) == 0 {
		f.Fatalf("%s holds no event", goldenExport)
	}
	return lines
}

// FuzzDecode: whatever the bytes, Decode never panics; it either refuses
// them as ErrTampered or accepts exactly the bytes the writer would have
// sealed: re-encoding the event gives them back, byte for byte, and its
// hash matches its content.
func FuzzDecode(f *testing.F) {
	lines := goldenLines(f)
	for _, l := range lines {
		f.Add(l)
	}
	first := lines[0]
	for _, odd := range [][]byte{
		nil, []byte("{}"), []byte("null"), []byte("[]"), []byte(`""`), []byte("{"),
		append(bytes.Clone(first), ' '),          // trailing space
		append(bytes.Clone(first), '\n'),         // trailing newline
		append([]byte("\xef\xbb\xbf"), first...), // byte order mark
		append(bytes.Clone(first), first...),     // two events on a line
		bytes.Replace(first, []byte(`"v":1`), []byte(`"v":1.0`), 1),
		bytes.Replace(first, []byte(`"fund_seq":1`), []byte(`"fund_seq":-1`), 1),
		bytes.Replace(first, []byte(`"fund_seq":1`), []byte(`"fund_seq":18446744073709551616`), 1),
		bytes.Replace(first, []byte(`"actor":"ana"`), []byte(`"actor":"ana","actor":"ana"`), 1),
		bytes.Replace(first, []byte(`"actor":"ana"`), []byte(`"actor":"a\u006ea"`), 1),
		bytes.Replace(first, []byte(`"actor":"ana"`), []byte("\"actor\":\"a\xffa\""), 1),
		bytes.Replace(first, []byte(`"actor":"ana"`), []byte(`"Actor":"ana"`), 1),
		bytes.Replace(first, []byte(`"data":{`), []byte(`"data":{"extra":null,`), 1),
		bytes.Replace(first, []byte(`,"v":1}`), []byte(`,"v":1,"x":0}`), 1),
	} {
		f.Add(odd)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("Decode(%q): error %v does not wrap ErrTampered", b, err)
			}
			return
		}
		again, err := e.Encode()
		if err != nil {
			t.Fatalf("Decode accepted %q, Encode refuses it: %v", b, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("Decode accepted bytes it does not encode back to:\n in %q\nout %q", b, again)
		}
		if h, err := e.ComputeHash(); err != nil || h != e.Hash {
			t.Fatalf("Decode accepted %q whose hash is %s, content hashes to %s (%v)", b, e.Hash, h, err)
		}
	})
}

// FuzzCanonical: for any envelope fields and data, the hand-written
// canonical bytes are the marshal-and-sort definition's (referenceCanonical,
// as TestCanonicalEnvelopeMatchesReference holds them), canonicalising them
// again changes nothing, and a sealed event goes through Encode and Decode
// and comes back with the same bytes.
func FuzzCanonical(f *testing.F) {
	for _, l := range goldenLines(f) {
		e, err := Decode(l)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(e.ID, e.Fund, e.FundSeq, e.Type, e.V, e.RecordedAt, e.EffectiveOn, e.Actor, e.CommandID, e.CommandHash, e.PrevHash, []byte(e.Data))
	}
	for _, s := range []string{"", "a\"b", "back\\slash", "<b>&amp;</b>", "line\u2028sep", "tab\tnew\nline", "\x00\x1f\x7f", "\u0085\u009b",
		"\xff\xfeinvalid", "\xed\xa0\x80", "Medellín", "日本", "\u202eevil", "e\u0301", "👩‍👩‍👧"} {
		f.Add(s, s, uint64(1), s, 1, s, s, s, s, s, s, []byte(`{"name":`+quoteRaw(s)+`}`))
	}
	for _, data := range []string{"", "null", "1e400", "-0", "[1,2,", `{"a":1,"a":2}`, `{"b":1,"a":[true,false,null]}`, `"\ud800"`,
		` { "a" : 1 } `, `{"a":1} {"b":2}`, "\"\x00\"", `{"\u00e9":"é"}`, `123456789012345678901234567890`} {
		f.Add("id", "mdfm", uint64(18446744073709551615), "term_opened", -1, "2020-01-01T00:00:00Z", "2020-01-01", "ana", "c", "h", ZeroHash, []byte(data))
	}
	f.Fuzz(func(t *testing.T, id, fund string, seq uint64, typ string, v int, recordedAt, effectiveOn, actor, commandID, commandHash, prevHash string, data []byte) {
		if len(data) == 0 {
			data = nil // empty data is no data: stored as null
		}
		e := Event{ID: id, Fund: fund, FundSeq: seq, Type: typ, V: v, RecordedAt: recordedAt, EffectiveOn: effectiveOn,
			Actor: actor, CommandID: commandID, CommandHash: commandHash, PrevHash: prevHash, Data: data}
		if len(data) > 0 {
			if _, err := Canonical(data); err != nil {
				// Not JSON: the envelope must refuse it too.
				if _, err := e.canonical(true); err == nil {
					t.Fatalf("data %q is not JSON, the envelope encodes it", data)
				}
				return
			}
		}
		for _, withHash := range []bool{false, true} {
			got, err := e.canonical(withHash)
			if err != nil {
				t.Fatal(err)
			}
			want, err := referenceCanonical(e, withHash)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("withHash %v:\n got %s\nwant %s", withHash, got, want)
			}
			if again, err := Canonical(got); err != nil || !bytes.Equal(again, got) {
				t.Fatalf("canonical bytes are not stable:\n   %s\nto %s (%v)", got, again, err)
			}
		}
		if err := e.Seal(prevHash); err != nil {
			if isHash(prevHash) {
				t.Fatal(err)
			}
			// Refused, as it must be: seal after a hash instead.
			sum := sha256.Sum256([]byte(prevHash))
			if err := e.Seal(hex.EncodeToString(sum[:])); err != nil {
				t.Fatal(err)
			}
		}
		b, err := e.Encode()
		if err != nil {
			if e.encodedLen() > MaxEventBytes {
				return // too big to store: refused, as it must be
			}
			t.Fatal(err)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("a sealed event does not decode: %v\n%s", err, b)
		}
		again, err := d.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("encode → decode → encode changed the bytes:\n   %s\nto %s (%v)", b, again, err)
		}
	})
}

// encodedLen is the length of the event's canonical bytes, hash included.
func (e Event) encodedLen() int {
	b, _ := e.canonical(true)
	return len(b)
}

// quoteRaw quotes s as a JSON string without fixing invalid UTF-8, so that
// seeds carry raw bytes into the data.
func quoteRaw(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestSealedEventsDecode: Seal either refuses a prev_hash or makes an event
// that Decode accepts. A prev_hash with invalid UTF-8 used to seal into
// bytes whose hash never matched (the hash took the raw bytes, the stored
// text their U+FFFD).
func TestSealedEventsDecode(t *testing.T) {
	for _, prev := range []string{ZeroHash, "\xff" + ZeroHash[1:], ZeroHash[1:], strings.ToUpper(ZeroHash[:63]) + "A", "x"} {
		e, err := New("2020-01-01", &CityRegistered{CityID: "cork", Name: "Cork", Country: "IE"})
		if err != nil {
			t.Fatal(err)
		}
		e.ID, e.Fund, e.FundSeq = "id", "mdfm", 1
		if err := e.Seal(prev); err != nil {
			if prev == ZeroHash {
				t.Fatalf("Seal(ZeroHash): %v", err)
			}
			continue
		}
		b, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(b); err != nil {
			t.Errorf("sealed after prev_hash %q, does not decode: %v", prev, err)
		}
	}
}

// FuzzFastCanonical: whatever the bytes, the fast path of Canonical either
// gives up or gives exactly the bytes of the slow path, the definition
// (decode into maps, encode with encoding/json), which must then accept
// them.
func FuzzFastCanonical(f *testing.F) {
	for _, l := range goldenLines(f) {
		f.Add(l)
		e, err := Decode(l)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(e.Data))
	}
	for _, s := range []string{"", " ", "{}", "[]", " { } ", `{"b":1,"a":2}`, `{"a":1,"a":2}`, `{"b":1,"a":2,"b":3}`, `[1, 2 ,3 ]`,
		`{"a":{"d":[],"c":{}},"b":[{"y":1,"x":2}]}`, "-0", "01", "1.", "1.5e+10", "1E-2", "-", "1e400", "123456789012345678901234567890",
		`"a\"b"`, `"\u00e9"`, "\"\x7f\"", "\"<&>\"", "\"\u2028\"", "\"\xff\"", "\"\xed\xa0\x80\"", "\"\t\"", `"日本"`, "\"\ufffd\"",
		"true", "false", "null", "nul", "truex", `{"a":1}{"b":2}`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `{1:2}`, "\ufeff{}", "\v{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := fastCanonical(b)
		if !ok {
			return
		}
		slow, err := slowCanonical(b)
		if err != nil {
			t.Fatalf("fast path accepted %q, which is not JSON: %v", b, err)
		}
		if !bytes.Equal(fast, slow) {
			t.Fatalf("canonical of %q:\nfast %q\nslow %q", b, fast, slow)
		}
	})
}

// TestFastCanonicalTaken: the fast path takes the JSON the writer makes
// (payloads of the golden export, an envelope, a command body with keys
// out of order and white space), so that the speed it was written for is
// not lost without notice.
func TestFastCanonicalTaken(t *testing.T) {
	b, err := os.ReadFile(goldenExport)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	e, err := Decode(line)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]byte{line, e.Data, []byte(`{ "received_on": "2021-01-15", "amount": {"currency":"USD","amount":"100.00"}, "id": "c-1" }`)} {
		if _, ok := fastCanonical(in); !ok {
			t.Errorf("the fast path gave up on %s", in)
		}
	}
}
