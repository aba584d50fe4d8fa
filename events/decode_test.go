package events

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecodeCanonical: whatever the bytes, the fast path of Decode
// (decodeCanonical) either gives up or gives exactly the answer of the
// definition, decodeSlow: the same event and the same error, for an intact
// event and for one whose hash does not match.
func FuzzDecodeCanonical(f *testing.F) {
	lines := goldenLines(f)
	for _, l := range lines {
		f.Add(l)
	}
	first := lines[0]
	for _, odd := range [][]byte{
		bytes.Replace(first, []byte(`"v":1`), []byte(`"v":-1`), 1),
		bytes.Replace(first, []byte(`"v":1`), []byte(`"v":-0`), 1),
		bytes.Replace(first, []byte(`"v":1`), []byte(`"v":01`), 1),
		bytes.Replace(first, []byte(`"v":1`), []byte(`"v":9223372036854775808`), 1),
		bytes.Replace(first, []byte(`"v":1`), []byte(`"v":-9223372036854775808`), 1),
		bytes.Replace(first, []byte(`"fund_seq":1`), []byte(`"fund_seq":18446744073709551615`), 1),
		bytes.Replace(first, []byte(`"fund_seq":1`), []byte(`"fund_seq":18446744073709551616`), 1),
		bytes.Replace(first, []byte(`"fund_seq":1`), []byte(`"fund_seq":0`), 1),
		bytes.Replace(first, []byte(`"fund_seq":1`), []byte(`"fund_seq":00`), 1),
		bytes.Replace(first, []byte(`"actor":"ana"`), []byte(`"actor":"<&>"`), 1),
		bytes.Replace(first, []byte(`"actor":"ana"`), []byte(`"actor":"a\u006ea"`), 1),
		bytes.Replace(first, []byte(`"actor":"ana"`), []byte("\"actor\":\"a\xffa\""), 1),
		bytes.Replace(first, []byte(`"data":{`), []byte(`"data":{ `), 1),
		bytes.Replace(first, []byte(`"data":{`), []byte(`"data":{"zz":1,`), 1),
		bytes.Replace(first, []byte(`"hash":"`), []byte(`"hash":"0`), 1),
		bytes.Replace(first, []byte(`"data":{`), []byte(`"data":null,"x":{`), 1),
	} {
		f.Add(odd)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, unhashed, ok := decodeCanonical(b)
		if !ok {
			return
		}
		var fastErr error
		if h := hashOf(fast.PrevHash, unhashed); h != fast.Hash {
			fastErr = hashMismatch(fast, h)
		}
		slow, slowErr := decodeSlow(b)
		if (fastErr == nil) != (slowErr == nil) || (fastErr != nil && fastErr.Error() != slowErr.Error()) {
			t.Fatalf("%q: fast path error %v, definition %v", b, fastErr, slowErr)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast path\n%+v\ndefinition\n%+v", b, fast, slow)
		}
	})
}

// TestDecodeTakesTheFastPath: the stored events of the illustrative
// history, and an event whose strings and numbers are at the edges of what
// the fast path takes, all decode by it: a change that made it give up on
// ordinary events would leave Decode right but ten times slower.
func TestDecodeTakesTheFastPath(t *testing.T) {
	lines := goldenLines(t)
	e := benchEvent()
	e.V, e.FundSeq, e.Actor = -3, 1<<64-1, "<Zoë & Ana>\x7f"
	if err := e.Seal(ZeroHash); err != nil {
		t.Fatal(err)
	}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range append(lines, b) {
		if _, _, ok := decodeCanonical(l); !ok {
			t.Errorf("the fast path gives up on a stored event:\n%s", l)
		}
	}
}
