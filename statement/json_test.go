package statement

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"pgregory.net/rapid"
)

// jsonRunes are the runes json.Marshal escapes or that look like JSON's
// structure, with a few plain ones, so that drawn strings are escape-heavy:
// quotes, backslashes, control characters, HTML's <>&, the line separators
// JSON escapes for JavaScript, and multi-byte runes.
var jsonRunes = []rune{
	'"', '\\', '/', '\x00', '\x01', '\b', '\f', '\n', '\r', '\t', '\x1f', '\x7f',
	'<', '>', '&', '\u2028', '\u2029', 'é', '€', '😀', '\ufffd',
	'{', '}', '[', ']', ':', ',', ' ', 'a', 'u', '0',
}

// jsonString draws strings of quotes and backslashes (where an indenter
// that takes `\"` for a string's end, or misses the end of `\\"`, goes
// wrong), of jsonRunes, of any Unicode, or of any bytes (json.Marshal
// replaces invalid UTF-8), the empty string among them. rapid's OneOf
// favours its first generators: the escape-heavy ones come first.
func jsonString() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.StringOfN(rapid.SampledFrom([]rune{'"', '\\', 'a', ','}), 1, 8, -1),
		rapid.StringOf(rapid.SampledFrom(jsonRunes)),
		rapid.String(),
		rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) string { return string(b) }),
		rapid.Just(""),
	)
}

// jsonValue draws what json.Unmarshal gives into an any, nested up to depth
// levels: arrays and objects (empty ones included), strings, numbers,
// booleans and null. Containers come first, as OneOf favours its first
// generators, so that most draws nest.
func jsonValue(depth int) *rapid.Generator[any] {
	scalar := rapid.OneOf(
		rapid.Map(jsonString(), func(s string) any { return s }),
		rapid.Map(rapid.Int64(), func(n int64) any { return n }),
		rapid.Map(rapid.Float64(), func(f float64) any {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return 0.0 // json.Marshal refuses them
			}
			return f
		}),
		rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		rapid.Just[any](nil),
	)
	if depth == 0 {
		return scalar
	}
	elem := jsonValue(depth - 1)
	return rapid.OneOf(
		rapid.Map(rapid.MapOfN(jsonString(), elem, 1, 4), func(m map[string]any) any { return m }),
		rapid.Map(rapid.SliceOfN(elem, 1, 4), func(v []any) any { return v }),
		scalar,
		rapid.Just[any](map[string]any{}),
		rapid.Just[any]([]any{}),
	)
}

// shape is what a drawn value holds, to check the generator draws what the
// test needs.
type shape struct {
	depth int  // containers nested: 0 for a scalar
	empty bool // an empty array or object somewhere
}

func shapeOf(v any) shape {
	var kids []any
	switch v := v.(type) {
	case []any:
		kids = v
	case map[string]any:
		for _, k := range v {
			kids = append(kids, k)
		}
	default:
		return shape{}
	}
	sh := shape{depth: 1, empty: len(kids) == 0}
	for _, k := range kids {
		ks := shapeOf(k)
		sh.depth = max(sh.depth, ks.depth+1)
		sh.empty = sh.empty || ks.empty
	}
	return sh
}

// TestIndentMatchesEncodingJSON: indentJSON gives exactly the bytes
// json.Indent gives (what json.MarshalIndent gives) on json.Marshal's output
// of any JSON value.
func TestIndentMatchesEncodingJSON(t *testing.T) {
	var nested, empty, escapedQuote, escapedBackslash, cases int
	rapid.Check(t, func(t *rapid.T) {
		v := jsonValue(4).Draw(t, "v")
		compact, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact, "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := indentJSON(nil, compact); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("indentJSON(%s):\n%s\nwant (json.Indent):\n%s", compact, got, want.Bytes())
		}
		// Appending to a non-empty dst keeps what is there.
		if got := indentJSON([]byte("x"), compact); !bytes.Equal(got, append([]byte("x"), want.Bytes()...)) {
			t.Fatalf("indentJSON after %q:\n%s", "x", got)
		}
		cases++
		sh := shapeOf(v)
		if sh.depth >= 2 {
			nested++
		}
		if sh.empty {
			empty++
		}
		if bytes.Contains(compact, []byte(`\"`)) {
			escapedQuote++
		}
		if bytes.Contains(compact, []byte(`\\`)) {
			escapedBackslash++
		}
	})
	// A generator that stopped drawing these would let the test pass on
	// nothing: each must come up in a good share of the cases.
	for name, n := range map[string]int{"nested containers": nested, "empty containers": empty, "escaped quotes": escapedQuote, "escaped backslashes": escapedBackslash} {
		t.Logf("%d of %d cases had %s", n, cases, name)
		if n < cases/10 {
			t.Errorf("only %d of %d cases had %s", n, cases, name)
		}
	}
}

// TestIndentJSONCases checks the cases the property test is there for, by
// name, and whole statements.
func TestIndentJSONCases(t *testing.T) {
	for _, compact := range []string{
		`{}`, `[]`, `""`, `null`, `0`, `-1.5e-7`, `true`,
		`"a\"b"`, `"\\"`, `"\\\""`, `["\\",""]`, `{"\\":"\"","a\"b":"\\\\"}`,
		`{"a":{},"b":[],"c":[{}],"d":[[],[{}]]}`,
		`{"k:,{[":"v]},\"x\":1"}`, `"\u003c\u0026\u003e\u2028\ufffd"`,
		`[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]`,
	} {
		var want bytes.Buffer
		if err := json.Indent(&want, []byte(compact), "", "  "); err != nil {
			t.Fatalf("%s: %v", compact, err)
		}
		if got := indentJSON(nil, []byte(compact)); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("indentJSON(%s):\n%s\nwant:\n%s", compact, got, want.Bytes())
		}
	}
	for _, s := range []Statement{example(), long(ReceiptsPage - len(example().Received.Receipts))} {
		want, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, err := JSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append(want, '\n')) {
			t.Errorf("JSON of a statement of %d receipts differs from json.MarshalIndent's", len(s.Received.Receipts))
		}
	}
}

// TestIndentJSONAnyBytes: on input that is not json.Marshal's output,
// truncated or garbled, indentJSON still returns without reading out of
// bounds.
func TestIndentJSONAnyBytes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := rapid.SliceOf(rapid.SampledFrom([]byte(`{}[]":,\ a1`))).Draw(t, "in")
		indentJSON(nil, in)
	})
}

// BenchmarkJSON renders a statement that lists a full page of receipts
// (ReceiptsPage, 1,000), as a statement request does.
func BenchmarkJSON(b *testing.B) {
	s := long(ReceiptsPage - len(example().Received.Receipts))
	if n := len(s.Received.Receipts); n != ReceiptsPage {
		b.Fatalf("%d receipts, want %d", n, ReceiptsPage)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := JSON(s); err != nil {
			b.Fatal(err)
		}
	}
}
