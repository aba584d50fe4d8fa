package binenc_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/internal/binenc"
)

type shape interface{ area() int64 }

type square struct{ Side int64 }

func (s *square) area() int64 { return s.Side * s.Side }

type node struct {
	Name     string
	Empty    *string
	Nil      *string
	Maps     map[string]map[string]int64
	NilMap   map[string]int64
	Slice    []uint64
	NilSlice []uint64
	Shape    shape
	NoShape  shape
	Next     *node
	Flag     bool
	Count    int32
	Bytes    []byte
	NilBytes []byte
	IDs      map[[16]byte]uint64
	Pair     [2]int32
}

// TestRoundTrip: what Go tells apart stays apart — a pointer to "" and a
// nil one, an empty map or slice and a nil one — through a recursive type
// and an interface holding a registered type.
func TestRoundTrip(t *testing.T) {
	c := binenc.New(&square{})
	empty := ""
	in := node{Name: "a", Empty: &empty, Maps: map[string]map[string]int64{"x": {}, "y": {"z": -3}}, Slice: []uint64{},
		Shape: &square{Side: 4}, Next: &node{Name: "b", Slice: []uint64{1, 1 << 63}, Flag: true, Count: -7, Bytes: []byte{}},
		Bytes: []byte{0, 1, 200, 255}, IDs: map[[16]byte]uint64{{1, 255, 15: 7}: 3, {}: 0}, Pair: [2]int32{-1, 1 << 30}}
	b, err := c.Append(nil, &in)
	if err != nil {
		t.Fatal(err)
	}
	var out node
	if err := c.Decode(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out, cmp.AllowUnexported(square{})); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
	if out.Empty == nil || out.Nil != nil || out.Maps["x"] == nil || out.NilMap != nil || out.Slice == nil || out.NilSlice != nil || out.NoShape != nil ||
		out.Next.Bytes == nil || out.NilBytes != nil {
		t.Errorf("nil and empty were mixed up: %+v", out)
	}
	for i := range len(b) {
		if err := c.Decode(b[:i], &node{}); err == nil {
			t.Fatalf("the first %d of %d bytes decoded", i, len(b))
		}
	}
	if c.Fingerprint(reflect.TypeFor[node]()) == binenc.New().Fingerprint(reflect.TypeFor[node]()) {
		t.Error("the fingerprint does not depend on the types an interface may hold")
	}
}

// TestRefusals: what cannot be kept exactly is refused when met.
// TestFingerprintArrayLength: arrays of other lengths have other shapes.
func TestFingerprintArrayLength(t *testing.T) {
	c := binenc.New()
	if c.Fingerprint(reflect.TypeFor[struct{ A [16]byte }]()) == c.Fingerprint(reflect.TypeFor[struct{ A [8]byte }]()) {
		t.Error("[16]byte and [8]byte have the same fingerprint")
	}
}

func TestRefusals(t *testing.T) {
	c := binenc.New()
	type withFloat struct{ X float64 }
	type withHidden struct{ x int }
	for name, v := range map[string]any{
		"float":        &withFloat{1.5},
		"unexported":   &withHidden{1},
		"unregistered": &node{Shape: &square{}},
		"func":         &[]func(){func() {}},
	} {
		if _, err := c.Append(nil, v); err == nil || !strings.Contains(err.Error(), "binenc") {
			t.Errorf("%s: encoded (%v)", name, err)
		}
	}
	if _, err := c.Append(nil, node{}); err == nil {
		t.Error("a value, not a pointer, was encoded")
	}
}

// chunks records each Write it is given.
type chunks struct{ got [][]byte }

func (c *chunks) Write(p []byte) (int, error) {
	c.got = append(c.got, append([]byte(nil), p...))
	return len(p), nil
}

// TestWriteIsAppendInChunks: Write writes what Append gives, in
// several writes, none of which holds much more than one element beyond
// the spill size (32 KiB), except a large []byte, written as it is: a
// large value is never encoded whole in memory.
func TestWriteIsAppendInChunks(t *testing.T) {
	c := binenc.New(&square{})
	in := node{Name: "big", Maps: map[string]map[string]int64{}, Bytes: make([]byte, 300<<10), Shape: &square{Side: 2},
		Next: &node{Name: "tail", Slice: make([]uint64, 50_000)}}
	for i := range 20_000 {
		in.Maps[strings.Repeat("k", i%40)+string(rune('a'+i%26))+strings.Repeat("x", i%7)] = map[string]int64{"v": int64(i) << 20}
	}
	for i := range in.Bytes {
		in.Bytes[i] = byte(i)
	}
	for i := range in.Next.Slice {
		in.Next.Slice[i] = uint64(i) << 40
	}
	want, err := c.Append(nil, &in)
	if err != nil {
		t.Fatal(err)
	}
	var w chunks
	if err := c.Write(&w, &in); err != nil {
		t.Fatal(err)
	}
	var got []byte
	large := 0
	for _, p := range w.got {
		got = append(got, p...)
		switch {
		case len(p) == len(in.Bytes):
			large++
		case len(p) > 40<<10:
			t.Errorf("a write of %d bytes: more than the spill size and an element", len(p))
		}
	}
	// A map's entries come in Go's random order, so the bytes are compared
	// by what they decode to.
	var out node
	if err := c.Decode(got, &out); err != nil || len(got) != len(want) {
		t.Fatalf("Write wrote %d bytes (%v), Append %d", len(got), err, len(want))
	}
	if diff := cmp.Diff(in, out, cmp.AllowUnexported(square{})); diff != "" {
		t.Errorf("Write, then Decode (-in +out):\n%s", diff)
	}
	if large != 1 || len(w.got) < 10 {
		t.Errorf("%d writes, %d of them the large []byte as it is; want it once among many", len(w.got), large)
	}
}
