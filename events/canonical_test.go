package events

import (
	"bytes"
	"encoding/json"
	"testing"

	"pgregory.net/rapid"
)

// referenceCanonical is the plain definition of an envelope's canonical
// bytes: marshal, then re-encode with sorted keys (Canonical). The hand
// written Event.canonical must give exactly these bytes.
func referenceCanonical(e Event, withHash bool) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if !withHash {
		delete(m, "hash")
	}
	return CanonicalValue(m)
}

// jsonValue draws a JSON value of limited depth, with the strings that need
// escaping (quotes, controls, HTML characters, U+2028, invalid UTF-8).
func jsonValue(t *rapid.T, depth int) any {
	kind := rapid.IntRange(0, 5).Draw(t, "kind")
	if depth > 2 {
		kind = rapid.IntRange(0, 2).Draw(t, "leaf kind")
	}
	switch kind {
	case 0:
		return awkwardString(t)
	case 1:
		return json.Number(rapid.SampledFrom([]string{"0", "1", "-7", "12345678901234567890", "1.50", "2e3"}).Draw(t, "number"))
	case 2:
		return rapid.SampledFrom([]any{true, false, nil}).Draw(t, "literal")
	case 3:
		n := rapid.IntRange(0, 3).Draw(t, "len")
		a := make([]any, n)
		for i := range a {
			a[i] = jsonValue(t, depth+1)
		}
		return a
	default:
		n := rapid.IntRange(0, 4).Draw(t, "keys")
		m := map[string]any{}
		for range n {
			m[awkwardString(t)] = jsonValue(t, depth+1)
		}
		return m
	}
}

func awkwardString(t *rapid.T) string {
	return rapid.OneOf(
		rapid.String(),
		rapid.SampledFrom([]string{"", "a\"b", "back\\slash", "<b>&amp;</b>", "line\u2028sep", "tab\tnew\nline", "\x00\x1f", "Medellín", "\xff\xfeinvalid", "日本"}),
	).Draw(t, "string")
}

func TestCanonicalEnvelopeMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		raw, err := json.Marshal(jsonValue(t, 0))
		if err != nil {
			t.Fatal(err)
		}
		if rapid.Bool().Draw(t, "spaced data") {
			var buf bytes.Buffer
			json.Indent(&buf, raw, " ", "  ")
			raw = buf.Bytes()
		}
		e := Event{
			ID: awkwardString(t), Fund: awkwardString(t), FundSeq: rapid.Uint64().Draw(t, "fund_seq"),
			Type: awkwardString(t), V: rapid.IntRange(-3, 1000).Draw(t, "v"), RecordedAt: awkwardString(t),
			EffectiveOn: awkwardString(t), Actor: awkwardString(t), CommandID: awkwardString(t),
			CommandHash: awkwardString(t), PrevHash: awkwardString(t), Hash: awkwardString(t), Data: raw,
		}
		if rapid.IntRange(0, 9).Draw(t, "no data") == 0 {
			e.Data = nil
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
		}
	})
}
