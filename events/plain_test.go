package events

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/money"
)

// TestPlainPayloadsAreTheDecoders: whatever a payload's plain path reads
// (decodePlain), the strict decoder reads the same, and what it declines it
// leaves unchanged; Payload answers what a fresh decoder answers, value
// and error. The data is a payload as the log stores it (CanonicalValue),
// with strings that are sometimes not plain ASCII, then sometimes spoilt:
// a byte changed, inserted or dropped, a member repeated. A payload as the
// log stores it with plain strings takes the plain path.
func TestPlainPayloadsAreTheDecoders(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := rapid.OneOf(rapid.StringMatching(`[A-Za-z0-9_:.-]{0,12}`), rapid.String())
		amount := func(label string) money.Amount {
			return money.Amount{
				Minor:    rapid.Int64Range(-money.MaxAmountMinor, money.MaxAmountMinor).Draw(t, label+".minor"),
				Currency: rapid.SampledFrom([]string{"USD", "EUR", "JPY", "KWD"}).Draw(t, label+".currency"),
			}
		}
		var p Payload
		if rapid.Bool().Draw(t, "receipt") {
			r := &ContributionReceived{ContributionID: text.Draw(t, "contribution_id"), DonorID: text.Draw(t, "donor_id"),
				TermID: text.Draw(t, "term_id"), PledgeID: text.Draw(t, "pledge_id"), Amount: amount("amount"),
				USDRate: text.Draw(t, "usd_rate"), USDAmount: amount("usd_amount"), ReceivedOn: text.Draw(t, "received_on"),
				BankRef: text.Draw(t, "bank_ref"), Earmark: text.Draw(t, "earmark")}
			if rapid.Bool().Draw(t, "settles a pledge") {
				a := amount("pledge_settled_usd")
				r.PledgeSettledUSD = &a
			}
			p = r
		} else {
			p = &FeeCharged{ContributionID: text.Draw(t, "contribution_id"), DonorID: text.Draw(t, "donor_id"),
				TermID: text.Draw(t, "term_id"), FeeRate: text.Draw(t, "fee_rate"), Amount: amount("amount"), Earmark: text.Draw(t, "earmark")}
		}
		data, err := CanonicalValue(p)
		if err != nil {
			t.Fatal(err)
		}
		stored := data
		switch rapid.IntRange(0, 4).Draw(t, "spoil") {
		case 1:
			i := rapid.IntRange(0, len(data)-1).Draw(t, "at")
			data = bytes.Clone(data)
			data[i] = rapid.SampledFrom([]byte(`"\{}[],: 1nAaé`+"\x01\xff")).Draw(t, "byte")
		case 2:
			i := rapid.IntRange(0, len(data)).Draw(t, "at")
			data = append(bytes.Clone(data[:i]), append([]byte{rapid.SampledFrom([]byte(`"\{}, 1a`)).Draw(t, "byte")}, data[i:]...)...)
		case 3:
			i := rapid.IntRange(0, len(data)-1).Draw(t, "at")
			data = append(bytes.Clone(data[:i]), data[i+1:]...)
		case 4: // the first member again, at the end
			if end := bytes.IndexAny(data, ",}"); end > 0 {
				data = append(bytes.Clone(data[:len(data)-1]), append(append([]byte{','}, data[1:end]...), '}')...)
			}
		}

		typ, v := p.EventType(), byName[p.EventType()].V
		fast, _ := newPayload(typ, v)
		zero, _ := newPayload(typ, v)
		plain := fast.(plainDecoder).decodePlain(data)
		ref, _ := newPayload(typ, v)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		refErr := dec.Decode(ref)
		switch {
		case plain && refErr != nil:
			t.Fatalf("plain path read %s, the decoder refused it: %v", data, refErr)
		case plain && !cmp.Equal(fast, ref):
			t.Fatalf("plain path read %s as %+v, the decoder as %+v", data, fast, ref)
		case !plain && !cmp.Equal(fast, zero):
			t.Fatalf("plain path declined %s but left %+v", data, fast)
		case !plain && bytes.Equal(data, stored) && allPlain(data):
			t.Fatalf("plain path declined %s, as the log stores it with plain strings", data)
		}

		e := Event{Type: typ, V: v, Data: data}
		got, err := e.Payload()
		want, wantErr := e.payloadFresh()
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) || !cmp.Equal(got, want) {
			t.Fatalf("Payload of %s: %+v, %v; a fresh decoder: %+v, %v", data, got, err, want, wantErr)
		}
	})
}

// allPlain reports whether every string of data is plain ASCII without
// escapes (it holds no backslash, control or non-ASCII byte).
func allPlain(data []byte) bool {
	for _, c := range data {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return true
}
