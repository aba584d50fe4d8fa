package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

var (
	usd = mustCurrency("USD")
	eur = mustCurrency("EUR")
	jpy = mustCurrency("JPY")
	kwd = mustCurrency("KWD")
)

func mustCurrency(code string) Currency {
	c, err := LookupCurrency(code)
	if err != nil {
		panic(err)
	}
	return c
}

func TestCurrencyDecimals(t *testing.T) {
	for _, tc := range []struct {
		code string
		want int
	}{{"USD", 2}, {"EUR", 2}, {"JPY", 0}, {"KRW", 0}, {"KWD", 3}, {"BHD", 3}} {
		c, err := LookupCurrency(tc.code)
		if err != nil {
			t.Fatalf("LookupCurrency(%q): %v", tc.code, err)
		}
		if c.Code != tc.code || c.Decimals != tc.want {
			t.Errorf("LookupCurrency(%q) = %+v, want %d decimals", tc.code, c, tc.want)
		}
	}
	for _, code := range []string{"", "usd", "XXX", "US", "USDX"} {
		if _, err := LookupCurrency(code); !errors.Is(err, ErrUnknownCurrency) {
			t.Errorf("LookupCurrency(%q) error = %v, want ErrUnknownCurrency", code, err)
		}
	}
	codes := Codes()
	for i := 1; i < len(codes); i++ {
		if codes[i-1] >= codes[i] {
			t.Errorf("Codes() not sorted and distinct at %d: %q, %q", i, codes[i-1], codes[i])
		}
	}
}

func TestParseMinorFormat(t *testing.T) {
	for _, tc := range []struct {
		in    string
		cur   Currency
		minor int64
		out   string // Format of minor: the canonical form of in
	}{
		{"50000.00", usd, 5000000, "50000.00"},
		{"50000", usd, 5000000, "50000.00"},
		{"50000.5", usd, 5000050, "50000.50"},
		{"0.01", usd, 1, "0.01"},
		{"1", usd, 100, "1.00"},
		{"007.50", usd, 750, "7.50"},
		{"10000000000000.00", usd, MaxAmountMinor, "10000000000000.00"},
		{"1250000", jpy, 1250000, "1250000"},
		{"1", jpy, 1, "1"},
		{"1000000000000000", jpy, MaxAmountMinor, "1000000000000000"},
		{"12.345", kwd, 12345, "12.345"},
		{"0.001", kwd, 1, "0.001"},
		{"12.3", kwd, 12300, "12.300"},
		{"12", kwd, 12000, "12.000"},
		{"1000000000000.000", kwd, MaxAmountMinor, "1000000000000.000"},
	} {
		got, err := ParseMinor(tc.in, tc.cur)
		if err != nil || got != tc.minor {
			t.Errorf("ParseMinor(%q, %s) = %d, %v; want %d", tc.in, tc.cur.Code, got, err, tc.minor)
			continue
		}
		if s := Format(got, tc.cur); s != tc.out {
			t.Errorf("Format(%d, %s) = %q, want %q", got, tc.cur.Code, s, tc.out)
		}
		// The canonical form parses back to the same amount.
		if back, err := ParseMinor(tc.out, tc.cur); err != nil || back != got {
			t.Errorf("ParseMinor(Format(%d, %s)) = %d, %v", got, tc.cur.Code, back, err)
		}
	}
}

func TestParseMinorRefusals(t *testing.T) {
	long := strings.Repeat("9", 40)
	for _, tc := range []struct {
		in   string
		cur  Currency
		want error
	}{
		{"", usd, ErrInvalidAmount},
		{"-5.00", usd, ErrNotPositive},
		{"-0.01", usd, ErrNotPositive},
		{"0", usd, ErrNotPositive},
		{"0.00", usd, ErrNotPositive},
		{"000.0", usd, ErrNotPositive},
		{"0", jpy, ErrNotPositive},
		{"0.000", kwd, ErrNotPositive},
		{"+5.00", usd, ErrInvalidAmount},
		{"1e3", usd, ErrInvalidAmount},
		{"1E3", usd, ErrInvalidAmount},
		{"1.5e2", usd, ErrInvalidAmount},
		{" 5.00", usd, ErrInvalidAmount},
		{"5.00 ", usd, ErrInvalidAmount},
		{"5 000.00", usd, ErrInvalidAmount},
		{"5,000.00", usd, ErrInvalidAmount},
		{"5,00", usd, ErrInvalidAmount},
		{".50", usd, ErrInvalidAmount},
		{"5.", usd, ErrInvalidAmount},
		{"5..0", usd, ErrInvalidAmount},
		{"1.2.3", usd, ErrInvalidAmount},
		{"0x10", usd, ErrInvalidAmount},
		{"NaN", usd, ErrInvalidAmount},
		{"١٢", usd, ErrInvalidAmount}, // Arabic-Indic digits
		{"5.001", usd, ErrTooManyDecimals},
		{"5.000", usd, ErrTooManyDecimals},
		{"5.0", jpy, ErrTooManyDecimals},
		{"5.0001", kwd, ErrTooManyDecimals},
		{"10000000000000.01", usd, ErrTooLarge},
		{"1000000000000001", jpy, ErrTooLarge},
		{"1000000000000.001", kwd, ErrTooLarge},
		{"99999999999999999999.99", usd, ErrTooLarge},
		{long, usd, ErrTooLarge},
		{long + ".00", usd, ErrTooLarge},
		{long, jpy, ErrTooLarge},
	} {
		got, err := ParseMinor(tc.in, tc.cur)
		if !errors.Is(err, tc.want) {
			t.Errorf("ParseMinor(%q, %s) = %d, %v; want %v", tc.in, tc.cur.Code, got, err, tc.want)
		}
	}
}

func TestParseMinorRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cur := rapid.SampledFrom([]Currency{usd, jpy, kwd}).Draw(t, "cur")
		minor := rapid.Int64Range(1, MaxAmountMinor).Draw(t, "minor")
		s := Format(minor, cur)
		got, err := ParseMinor(s, cur)
		if err != nil || got != minor {
			t.Fatalf("ParseMinor(Format(%d, %s) = %q) = %d, %v", minor, cur.Code, s, got, err)
		}
	})
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		cur   Currency
		want  string
	}{
		{0, usd, "0.00"},
		{5, usd, "0.05"},
		{-5, usd, "-0.05"},
		{-123456, usd, "-1234.56"},
		{0, jpy, "0"},
		{-7, jpy, "-7"},
		{1, kwd, "0.001"},
		{-1000, kwd, "-1.000"},
		{-9223372036854775808, usd, "-92233720368547758.08"},
	} {
		if got := Format(tc.minor, tc.cur); got != tc.want {
			t.Errorf("Format(%d, %s) = %q, want %q", tc.minor, tc.cur.Code, got, tc.want)
		}
	}
	if got := FormatUSD(5500000); got != "55000.00" {
		t.Errorf("FormatUSD(5500000) = %q", got)
	}
}

func TestParseRate(t *testing.T) {
	for _, s := range []string{"1", "1.1", "0.0091", "1.0832", "0.0000000001", "3300"} {
		d, err := ParseRate(s)
		if err != nil || !d.Equal(decimal.RequireFromString(s)) {
			t.Errorf("ParseRate(%q) = %v, %v", s, d, err)
		}
	}
	for _, s := range []string{"", "0", "0.0", "-1.1", "+1.1", "1e2", ".5", "5.", " 1", "1.00000000001", strings.Repeat("1", 25), "NaN"} {
		if d, err := ParseRate(s); !errors.Is(err, ErrInvalidRate) {
			t.Errorf("ParseRate(%q) = %v, %v; want ErrInvalidRate", s, d, err)
		}
	}
}

// TestToUSD documents the one rounding rule of conversions: half away from
// zero, to the cent.
func TestToUSD(t *testing.T) {
	for _, tc := range []struct {
		name  string
		minor int64
		cur   Currency
		rate  string
		want  int64
	}{
		// 0.005 KWD at 1 is US$0.005, which rounds up to US$0.01 …
		{"half a cent rounds up", 5, kwd, "1", 1},
		// … and −0.005 to −0.01: away from zero, not to even.
		{"minus half a cent rounds down", -5, kwd, "1", -1},
		{"less than half a cent rounds to zero", 4, kwd, "1", 0},
		{"0.015 rounds to 0.02", 15, kwd, "1", 2},
		{"0.025 rounds to 0.03, not to even", 25, kwd, "1", 3},
		{"0.01 EUR at 0.5 is half a cent", 1, eur, "0.5", 1},
		{"EUR 50000.00 at 1.1", 5000000, eur, "1.1", 5500000},
		{"EUR 120000.00 at 1.0832", 12000000, eur, "1.0832", 12998400},
		{"EUR 33333.33 at 1.18305 is 39434.9990565", 3333333, eur, "1.18305", 3943500},
		{"JPY 1000000 at 0.0091", 1000000, jpy, "0.0091", 910000},
		{"JPY 1 at 0.0091 is less than a cent", 1, jpy, "0.0091", 1},
		{"KWD 1.000 at 3.2563", 1000, kwd, "3.2563", 326},
		{"USD at 1", 12345, usd, "1", 12345},
	} {
		got, err := ToUSD(tc.minor, tc.cur, decimal.RequireFromString(tc.rate))
		if err != nil || got != tc.want {
			t.Errorf("%s: ToUSD(%d, %s, %s) = %d, %v; want %d", tc.name, tc.minor, tc.cur.Code, tc.rate, got, err, tc.want)
		}
	}
	if got, err := ToUSD(MaxAmountMinor, eur, decimal.RequireFromString("1.1")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ToUSD(max EUR at 1.1) = %d, %v; want ErrTooLarge", got, err)
	}
	if got, err := ToUSD(MaxAmountMinor, eur, decimal.RequireFromString("1")); err != nil || got != MaxAmountMinor {
		t.Errorf("ToUSD(max EUR at 1) = %d, %v; want the maximum", got, err)
	}
}

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		rate  string
		want  int64
	}{
		{5500000, "0.01", 55000},
		{50, "0.01", 1}, // US$0.005 rounds up to a cent
		{49, "0.01", 0},
		{150, "0.01", 2},
		{250, "0.01", 3}, // half away from zero, not to even
		{12345, "0", 0},
		{12345, "0.2", 2469},
		{100, "0.0125", 1}, // 1.25 cents
		{100000000, "0.0125", 1250000},
	} {
		if got := Percent(tc.minor, decimal.RequireFromString(tc.rate)); got != tc.want {
			t.Errorf("Percent(%d, %s) = %d, want %d", tc.minor, tc.rate, got, tc.want)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},     // ties go to the lower index
		{200, []int64{1, 1, 1}, []int64{67, 67, 66}},     // two cents left over
		{100, []int64{1, 2}, []int64{33, 67}},            // 33.33 and 66.67: the larger remainder wins
		{10, []int64{0, 5, 0, 5}, []int64{0, 5, 0, 5}},   // zero weights get nothing
		{1, []int64{0, 1, 1}, []int64{0, 1, 0}},          // never a cent to a zero weight
		{7, []int64{3}, []int64{7}},                      // one part takes all
		{0, []int64{3, 4}, []int64{0, 0}},                // nothing to split
		{0, []int64{0, 0}, []int64{0, 0}},                // no weights, nothing lost
		{-100, []int64{1, 1, 1}, []int64{-33, -33, -34}}, // floor, then cents to the largest remainders
	} {
		got := Split(tc.total, tc.weights)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Split(%d, %v) (-want +got):\n%s", tc.total, tc.weights, diff)
		}
	}
	for _, tc := range []struct {
		name    string
		total   int64
		weights []int64
	}{
		{"negative weight", 10, []int64{1, -1}},
		{"no weights for money", 10, []int64{0, 0}},
		{"no parts for money", 10, nil},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Split(%d, %v) did not panic", tc.name, tc.total, tc.weights)
				}
			}()
			Split(tc.total, tc.weights)
		}()
	}
}

// TestSplitProperty: the parts sum exactly to the total and each part is
// within one minor unit of its exact share total × w ÷ Σw.
func TestSplitProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		total := rapid.Int64Range(-MaxAmountMinor, MaxAmountMinor).Draw(t, "total")
		weights := rapid.SliceOfN(rapid.Int64Range(0, MaxAmountMinor), 1, 30).Draw(t, "weights")
		var sumW big.Int
		for _, w := range weights {
			sumW.Add(&sumW, big.NewInt(w))
		}
		if sumW.Sign() == 0 {
			weights[0] = 1
			sumW.SetInt64(1)
		}
		parts := Split(total, weights)
		if len(parts) != len(weights) {
			t.Fatalf("Split returned %d parts for %d weights", len(parts), len(weights))
		}
		var sum int64
		for i, p := range parts {
			sum += p
			// |p·Σw − total·w| < Σw, in exact integers.
			var exact, diff big.Int
			exact.Mul(big.NewInt(total), big.NewInt(weights[i]))
			diff.Mul(big.NewInt(p), &sumW)
			diff.Sub(&diff, &exact)
			diff.Abs(&diff)
			if diff.Cmp(&sumW) >= 0 {
				t.Fatalf("part %d = %d is not within 1 of %d×%d/%s", i, p, total, weights[i], sumW.String())
			}
			if weights[i] == 0 && p != 0 {
				t.Fatalf("part %d has weight 0 but gets %d", i, p)
			}
		}
		if sum != total {
			t.Fatalf("parts %v sum to %d, want %d", parts, sum, total)
		}
	})
}

func TestAddChecked(t *testing.T) {
	const max, min = 1<<63 - 1, -1 << 63
	for _, tc := range []struct {
		a, b int64
		want int64
		ok   bool
	}{
		{1, 2, 3, true},
		{max, 0, max, true},
		{max, 1, 0, false},
		{min, -1, 0, false},
		{min, 1, min + 1, true},
		{-5, 5, 0, true},
	} {
		got, ok := AddChecked(tc.a, tc.b)
		if got != tc.want || ok != tc.ok {
			t.Errorf("AddChecked(%d, %d) = %d, %v; want %d, %v", tc.a, tc.b, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAmountJSON(t *testing.T) {
	for _, tc := range []struct {
		a    Amount
		json string
	}{
		{Amount{5000000, "EUR"}, `{"amount":"50000.00","currency":"EUR"}`},
		{USDAmount(55000), `{"amount":"550.00","currency":"USD"}`},
		{Amount{1250000, "JPY"}, `{"amount":"1250000","currency":"JPY"}`},
		{Amount{12345, "KWD"}, `{"amount":"12.345","currency":"KWD"}`},
		{Amount{0, "USD"}, `{"amount":"0.00","currency":"USD"}`},
		{Amount{-150, "USD"}, `{"amount":"-1.50","currency":"USD"}`},
	} {
		b, err := json.Marshal(tc.a)
		if err != nil || string(b) != tc.json {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.a, b, err, tc.json)
			continue
		}
		var got Amount
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("Unmarshal(%s): %v", b, err)
			continue
		}
		if diff := cmp.Diff(tc.a, got); diff != "" {
			t.Errorf("JSON round trip of %v (-want +got):\n%s", tc.a, diff)
		}
	}
	if got := (Amount{5000000, "EUR"}).String(); got != "50000.00 EUR" {
		t.Errorf("String() = %q", got)
	}
	if _, err := json.Marshal(Amount{1, "XXX"}); err == nil {
		t.Error("Marshal of an unknown currency succeeded")
	}
	for _, in := range []string{
		`{"amount":"50000","currency":"USD"}`,      // not the currency's decimals
		`{"amount":"50000.0","currency":"USD"}`,    // not the currency's decimals
		`{"amount":"050000.00","currency":"USD"}`,  // leading zero
		`{"amount":"50000.000","currency":"USD"}`,  // too many decimals
		`{"amount":"-0.00","currency":"USD"}`,      // MarshalJSON writes "0.00"
		`{"amount":"--1.00","currency":"USD"}`,     // two signs
		`{"amount":"+1.00","currency":"USD"}`,      // sign MarshalJSON never writes
		`{"amount":"1e2","currency":"USD"}`,        // exponent
		`{"amount":50000,"currency":"USD"}`,        // a number, not a string
		`{"amount":"1.00","currency":"XXX"}`,       // unknown currency
		`{"amount":"1.00"}`,                        // no currency
		`{"amount":"1.00","currency":"USD","x":1}`, // unknown field
		`"1.00 USD"`,
	} {
		var a Amount
		if err := json.Unmarshal([]byte(in), &a); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", in, a)
		}
	}
}

func TestAmountJSONProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := Amount{
			Minor:    rapid.Int64Range(-MaxAmountMinor, MaxAmountMinor).Draw(t, "minor"),
			Currency: rapid.SampledFrom(Codes()).Draw(t, "currency"),
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", a, err)
		}
		var got Amount
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if got != a {
			t.Fatalf("round trip of %v gave %v", a, got)
		}
	})
}

// TestPlainAmountJSONIsTheDecoders: whatever plainAmountJSON reads (the
// form the log stores, read without a json.Decoder), the decoder reads too,
// to the same two strings; what it does not read goes to the decoder. The
// inputs are that form with strings of bytes that JSON treats apart
// (quotes, escapes, control and non-ASCII bytes), then cut, grown or
// altered at one place.
func TestPlainAmountJSONIsTheDecoders(t *testing.T) {
	piece := rapid.StringOfN(rapid.SampledFrom([]rune{'1', '0', '.', '-', 'U', 'S', 'D', 'e', '"', '\\', 'u', '\n', '\x7f', 'é', ' ', '}', ','}), 0, 8, -1)
	plain := 0
	rapid.Check(t, func(t *rapid.T) {
		b := []byte(`{"amount":"` + piece.Draw(t, "amount") + `","currency":"` + piece.Draw(t, "currency") + `"}`)
		if rapid.Bool().Draw(t, "alter") {
			i := rapid.IntRange(0, len(b)).Draw(t, "at")
			switch rapid.IntRange(0, 2).Draw(t, "how") {
			case 0:
				b = b[:i]
			case 1:
				b = append(b[:i:i], append([]byte{rapid.Byte().Draw(t, "byte")}, b[i:]...)...)
			default:
				if i < len(b) {
					b[i] = rapid.Byte().Draw(t, "byte")
				}
			}
		}
		amount, currency, ok := plainAmountJSON(b)
		if !ok {
			return
		}
		plain++
		var j amountJSON
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil || dec.More() {
			t.Fatalf("plainAmountJSON read %q as (%q, %q); the decoder: %+v, %v", b, amount, currency, j, err)
		}
		if j.Amount != amount || j.Currency != currency {
			t.Fatalf("plainAmountJSON read %q as (%q, %q); the decoder as (%q, %q)", b, amount, currency, j.Amount, j.Currency)
		}
	})
	if plain == 0 {
		t.Error("plainAmountJSON read none of the inputs: the property was not checked")
	}
	for _, in := range []string{
		`{"amount":"1.00","currency":"USD"}`,
		`{"amount":"","currency":""}`,
	} {
		if _, _, ok := plainAmountJSON([]byte(in)); !ok {
			t.Errorf("plainAmountJSON(%s) did not read the form MarshalJSON writes", in)
		}
	}
	for _, in := range []string{
		`{"amount":"1.00","currency":"USD"} `,
		`{ "amount":"1.00","currency":"USD"}`,
		`{"currency":"USD","amount":"1.00"}`,
		`{"amount":"1\u002e00","currency":"USD"}`,
		`{"amount":"1.00","currency":"US\"D"}`,
		`{"amount":"1.00","currency":"USD","x":1}`,
		`{"Amount":"1.00","currency":"USD"}`,
	} {
		if a, c, ok := plainAmountJSON([]byte(in)); ok {
			t.Errorf("plainAmountJSON(%s) = (%q, %q): it is for the decoder", in, a, c)
		}
	}
}

// BenchmarkAmountUnmarshalJSON is an amount as the log stores it, read by
// the fold of every event that carries one.
func BenchmarkAmountUnmarshalJSON(b *testing.B) {
	in := []byte(`{"amount":"50000.00","currency":"EUR"}`)
	b.ReportAllocs()
	for b.Loop() {
		var a Amount
		if err := a.UnmarshalJSON(in); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseMinor checks the decoder of amounts typed by users: it never
// panics, and what it accepts is positive, within the limit and equal to
// the number written.
func FuzzParseMinor(f *testing.F) {
	for _, s := range []string{
		"50000.00", "0.01", "1", "007.50", "0", "-5.00", "1e3", " 5", "5.", ".5",
		"5.001", "10000000000000.00", "10000000000000.01", strings.Repeat("9", 30), "١٢",
	} {
		for c := range uint8(3) {
			f.Add(s, c)
		}
	}
	curs := []Currency{usd, jpy, kwd}
	f.Fuzz(func(t *testing.T, s string, c uint8) {
		cur := curs[int(c)%len(curs)]
		n, err := ParseMinor(s, cur)
		if err != nil {
			if n != 0 {
				t.Fatalf("ParseMinor(%q, %s) = %d with error %v", s, cur.Code, n, err)
			}
			for _, known := range []error{ErrInvalidAmount, ErrTooManyDecimals, ErrNotPositive, ErrTooLarge} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("ParseMinor(%q, %s): unexpected error %v", s, cur.Code, err)
		}
		if n <= 0 || n > MaxAmountMinor {
			t.Fatalf("ParseMinor(%q, %s) = %d, outside (0, %d]", s, cur.Code, n, MaxAmountMinor)
		}
		// The value is the number written: compare as exact decimals.
		want, derr := decimal.NewFromString(s)
		if derr != nil {
			t.Fatalf("ParseMinor accepted %q, which is not a decimal: %v", s, derr)
		}
		if got := decimal.New(n, int32(-cur.Decimals)); !got.Equal(want) {
			t.Fatalf("ParseMinor(%q, %s) = %d minor units (%s), want %s", s, cur.Code, n, got, want)
		}
		if back, err := ParseMinor(Format(n, cur), cur); err != nil || back != n {
			t.Fatalf("ParseMinor(Format(%d)) = %d, %v", n, back, err)
		}
	})
}

// FuzzAmountUnmarshalJSON checks the decoder of amounts in stored events and
// request bodies: what it accepts, MarshalJSON writes back with the same
// amount string.
func FuzzAmountUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		`{"amount":"50000.00","currency":"EUR"}`, `{"amount":"-1.50","currency":"USD"}`,
		`{"amount":"0","currency":"JPY"}`, `{"amount":"-0.00","currency":"USD"}`,
		`{"amount":"12.345","currency":"KWD"}`, `{"amount":"1","currency":"USD"}`, `null`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Amount
		if err := json.Unmarshal(b, &a); err != nil {
			return
		}
		// Decode the input as plain strings, with the same field matching
		// as Amount's decoder, to see what the amount string was.
		var in struct{ Amount, Currency string }
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatalf("Unmarshal(%s) accepted %v, but its fields are not strings: %v", b, a, err)
		}
		if string(bytes.TrimSpace(b)) == "null" {
			return // the standard library does not call UnmarshalJSON for null
		}
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("Unmarshal(%s) accepted %v, which Marshal refuses: %v", b, a, err)
		}
		var back struct{ Amount, Currency string }
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if in != back {
			t.Fatalf("Unmarshal(%s) = %v, written back as %s", b, a, out)
		}
	})
}

func TestGrouped(t *testing.T) {
	for in, want := range map[string]string{
		"0.00": "0.00", "999.99": "999.99", "1000.00": "1,000.00", "75000.00": "75,000.00",
		"1234567.89": "1,234,567.89", "100000": "100,000", "-1234.50": "-1,234.50", "12.345": "12.345",
	} {
		if got := Grouped(in); got != want {
			t.Errorf("Grouped(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMulDivRound(t *testing.T) {
	for _, c := range []struct{ a, b, c, want int64 }{
		{5, 1, 2, 3}, // 2.5 rounds away from zero
		{1, 1, 3, 0}, // 0.33
		{2, 1, 3, 1}, // 0.67
		{7, 3, 3, 7}, // exact
		{0, 9, 4, 0}, // nothing
		{MaxAmountMinor, MaxAmountMinor, MaxAmountMinor, MaxAmountMinor}, // the product overflows int64, the result does not
	} {
		if got := MulDivRound(c.a, c.b, c.c); got != c.want {
			t.Errorf("MulDivRound(%d, %d, %d) = %d, want %d", c.a, c.b, c.c, got, c.want)
		}
	}
}

// formatSprintf is Format as it was written before strconv: the reference.
func formatSprintf(minor int64, cur Currency) string {
	sign := ""
	u := uint64(minor)
	if minor < 0 {
		sign = "-"
		u = uint64(-minor)
	}
	s := fmt.Sprintf("%0*d", cur.Decimals+1, u)
	if cur.Decimals == 0 {
		return sign + s
	}
	return sign + s[:len(s)-cur.Decimals] + "." + s[len(s)-cur.Decimals:]
}

// TestFormatIsSprintf: Format writes what fmt.Sprintf wrote, for every
// int64 and every number of decimals a currency has.
func TestFormatIsSprintf(t *testing.T) {
	for _, minor := range []int64{0, 1, -1, 9, 10, 99, 100, 101, MaxAmountMinor, -MaxAmountMinor, math.MaxInt64, math.MinInt64} {
		for _, c := range []Currency{usd, jpy, kwd} {
			if got, want := Format(minor, c), formatSprintf(minor, c); got != want {
				t.Errorf("Format(%d, %s) = %q, want %q", minor, c.Code, got, want)
			}
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		minor := rapid.Int64().Draw(t, "minor")
		c := rapid.SampledFrom([]Currency{usd, jpy, kwd}).Draw(t, "currency")
		if got, want := Format(minor, c), formatSprintf(minor, c); got != want {
			t.Fatalf("Format(%d, %s) = %q, want %q", minor, c.Code, got, want)
		}
	})
}

// TestCanonicalMinor: what canonicalMinor reads is exactly what Format
// writes for an amount of at most MaxAmountMinor, zero included, and the
// slow path (ParseMinor) reads it the same; every such amount Format
// writes, it reads.
func TestCanonicalMinor(t *testing.T) {
	curs := []Currency{usd, jpy, kwd}
	read := 0
	rapid.Check(t, func(t *rapid.T) {
		c := rapid.SampledFrom(curs).Draw(t, "currency")
		s := rapid.StringOfN(rapid.SampledFrom([]rune("0123456789.-+e ")), 0, 20, -1).Draw(t, "s")
		digits := rapid.StringOfN(rapid.RuneFrom([]rune("0123456789")), 0, 18, -1)
		switch rapid.IntRange(0, 2).Draw(t, "shape") {
		case 1: // what Format writes
			s = Format(rapid.Int64Range(0, MaxAmountMinor+5).Draw(t, "minor"), c)
		case 2: // digits, a dot, digits: leading zeros, the dot anywhere
			s = digits.Draw(t, "whole") + rapid.SampledFrom([]string{".", ""}).Draw(t, "dot") + digits.Draw(t, "frac")
		}
		minor, ok := canonicalMinor(s, c)
		if !ok {
			if n, err := ParseMinor(s, c); err == nil && n <= MaxAmountMinor && Format(n, c) == s {
				t.Fatalf("canonicalMinor(%q, %s) refused what Format writes for %d", s, c.Code, n)
			}
			if s == Format(0, c) {
				t.Fatalf("canonicalMinor(%q, %s) refused zero", s, c.Code)
			}
			return
		}
		read++
		if Format(minor, c) != s || minor > MaxAmountMinor || minor < 0 {
			t.Fatalf("canonicalMinor(%q, %s) = %d, which Format writes %q", s, c.Code, minor, Format(minor, c))
		}
		if n, err := ParseMinor(s, c); minor != 0 && (err != nil || n != minor) {
			t.Fatalf("canonicalMinor(%q, %s) = %d; ParseMinor: %d, %v", s, c.Code, minor, n, err)
		}
	})
	if read == 0 {
		t.Error("canonicalMinor read none of the inputs")
	}
	if _, ok := canonicalMinor(Format(MaxAmountMinor+1, usd), usd); ok {
		t.Error("canonicalMinor read an amount over MaxAmountMinor")
	}
}
