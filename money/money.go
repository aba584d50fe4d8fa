// Package money holds amounts as integer minor units of an ISO 4217 currency,
// parses and formats them as decimal strings, converts them to US dollars at a
// recorded rate and splits them with largest-remainder rounding.
//
// No float ever holds money here. Decimal arithmetic (shopspring/decimal) is
// used only for rates and for the one rounding step of a conversion.
package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// MaxAmountMinor bounds every amount the ledger accepts, in minor units. It is
// far above any plausible contribution (10^15 minor units is ten trillion
// dollars) and far below the int64 limit, so that sums of many amounts cannot
// overflow.
const MaxAmountMinor int64 = 1_000_000_000_000_000

// MaxRateLen bounds the length of a rate string, and MaxRatePlaces its decimals.
const (
	MaxRateLen    = 24
	MaxRatePlaces = 10
)

// Currency is an ISO 4217 currency the ledger accepts.
type Currency struct {
	Code     string
	Decimals int // number of minor-unit digits: USD 2, JPY 0
}

// currencies lists the accepted currencies with their ISO 4217 minor units.
var currencies = map[string]Currency{
	"USD": {"USD", 2}, "EUR": {"EUR", 2}, "GBP": {"GBP", 2}, "CHF": {"CHF", 2},
	"JPY": {"JPY", 0}, "KRW": {"KRW", 0}, "CNY": {"CNY", 2}, "CAD": {"CAD", 2},
	"AUD": {"AUD", 2}, "SEK": {"SEK", 2}, "NOK": {"NOK", 2}, "DKK": {"DKK", 2},
	"INR": {"INR", 2}, "BRL": {"BRL", 2}, "ZAR": {"ZAR", 2}, "MXN": {"MXN", 2},
	"NGN": {"NGN", 2}, "KES": {"KES", 2}, "EGP": {"EGP", 2}, "MAD": {"MAD", 2},
	"SGD": {"SGD", 2}, "THB": {"THB", 2}, "COP": {"COP", 2}, "TRY": {"TRY", 2},
	"KWD": {"KWD", 3}, "BHD": {"BHD", 3}, "OMR": {"OMR", 3}, "JOD": {"JOD", 3},
}

// USD is the currency of the trust book.
var USD = currencies["USD"]

// Errors returned by the parsers. Callers map them to stable error codes.
var (
	ErrUnknownCurrency = errors.New("unknown currency")
	ErrInvalidAmount   = errors.New("invalid amount")
	ErrTooManyDecimals = errors.New("too many decimals for the currency")
	ErrNotPositive     = errors.New("amount must be greater than zero")
	ErrTooLarge        = errors.New("amount too large")
	ErrInvalidRate     = errors.New("invalid rate")
)

// LookupCurrency returns the currency with the given ISO 4217 code.
func LookupCurrency(code string) (Currency, error) {
	c, ok := currencies[code]
	if !ok {
		return Currency{}, fmt.Errorf("%w %q", ErrUnknownCurrency, code)
	}
	return c, nil
}

// Codes returns the accepted currency codes, sorted.
func Codes() []string {
	out := make([]string, 0, len(currencies))
	for c := range currencies {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// ParseMinor parses a decimal string such as "50000.00" or "12" into minor
// units of cur. It refuses signs, exponents, spaces, more decimals than the
// currency has, zero and amounts above MaxAmountMinor.
func ParseMinor(s string, cur Currency) (int64, error) {
	if s == "" {
		return 0, ErrInvalidAmount
	}
	if s[0] == '-' {
		return 0, ErrNotPositive
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") || !digits(whole) || !digits(frac) {
		return 0, ErrInvalidAmount
	}
	if len(frac) > cur.Decimals {
		return 0, ErrTooManyDecimals
	}
	// A well-formed number too long for int64 is too large, not malformed:
	// the caller must be able to answer amount_too_large. The checks above
	// are linear, and what reaches big.Int below is at most maxMinorDigits
	// digits long.
	if whole = strings.TrimLeft(whole, "0"); whole == "" {
		whole = "0"
	}
	if len(whole)+cur.Decimals > maxMinorDigits {
		return 0, ErrTooLarge
	}
	frac += strings.Repeat("0", cur.Decimals-len(frac))
	n, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok {
		return 0, ErrInvalidAmount
	}
	if n.Sign() == 0 {
		return 0, ErrNotPositive
	}
	if !n.IsInt64() || n.Int64() > MaxAmountMinor {
		return 0, ErrTooLarge
	}
	return n.Int64(), nil
}

// maxMinorDigits is the number of digits of MaxAmountMinor: a number of
// minor units with more digits exceeds it.
const maxMinorDigits = 16

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Format writes minor units of cur as a decimal string with exactly the
// currency's number of decimals: Format(5000000, EUR) == "50000.00".
// Negative amounts keep their sign.
func Format(minor int64, cur Currency) string {
	sign := ""
	u := uint64(minor)
	if minor < 0 {
		sign = "-"
		u = uint64(-minor)
	}
	// At least Decimals+1 digits, zero-padded: "0.05", "12.00", "7" (JPY).
	// Built with strconv: 41–44 ns and one allocation, where fmt.Sprintf
	// and the concatenations took 94–127 ns and three.
	var d, p [24]byte
	digits := p[:0]
	for range cur.Decimals + 1 - len(strconv.AppendUint(d[:0], u, 10)) {
		digits = append(digits, '0')
	}
	digits = strconv.AppendUint(digits, u, 10)
	whole := len(digits) - cur.Decimals
	var buf [48]byte
	out := append(append(buf[:0], sign...), digits[:whole]...)
	if cur.Decimals > 0 {
		out = append(append(out, '.'), digits[whole:]...)
	}
	return string(out)
}

// FormatUSD is Format in US dollars.
func FormatUSD(minor int64) string { return Format(minor, USD) }

// ParseRate parses a positive decimal rate ("1.0832"). It refuses exponents,
// signs and more than MaxRatePlaces decimals, and returns the rate in its
// canonical form (no trailing zeros are removed: the string is kept as given,
// since it is what the officer recorded).
func ParseRate(s string) (decimal.Decimal, error) {
	if s == "" || len(s) > MaxRateLen {
		return decimal.Decimal{}, ErrInvalidRate
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") || !digits(whole) || !digits(frac) || len(frac) > MaxRatePlaces {
		return decimal.Decimal{}, ErrInvalidRate
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !d.IsPositive() {
		return decimal.Decimal{}, ErrInvalidRate
	}
	return d, nil
}

// ToUSD converts minor units of cur at rate (US dollars per one unit of cur)
// into US cents, rounding half away from zero to the cent. This is the one
// rounding rule of every currency conversion in the ledger; the result is
// recorded in the event and never recomputed on replay.
func ToUSD(minor int64, cur Currency, rate decimal.Decimal) (int64, error) {
	amount := decimal.New(minor, int32(-cur.Decimals))
	usd := amount.Mul(rate).Round(int32(USD.Decimals))
	cents := usd.Shift(int32(USD.Decimals))
	if !cents.IsInteger() || cents.GreaterThan(decimal.NewFromInt(MaxAmountMinor)) {
		return 0, ErrTooLarge
	}
	return cents.IntPart(), nil
}

// Percent returns minor × rate, rounded half away from zero to minor
// units: the fee on a receipt. rate is a fraction ("0.01" is one per cent).
func Percent(minor int64, rate decimal.Decimal) int64 {
	return decimal.NewFromInt(minor).Mul(rate).Round(0).IntPart()
}

// Split divides total into parts proportional to weights with the
// largest-remainder method: every part is the floor of its exact share, and
// the cents left over go one each to the largest remainders (ties to the
// lower index). The parts always sum exactly to total. Weights must be
// non-negative; if they sum to zero every part is zero and Split panics when
// total is not zero, since money would be lost.
func Split(total int64, weights []int64) []int64 {
	parts := make([]int64, len(weights))
	var sum big.Int
	for _, w := range weights {
		if w < 0 {
			panic("money.Split: negative weight")
		}
		sum.Add(&sum, big.NewInt(w))
	}
	if sum.Sign() == 0 {
		if total != 0 {
			panic("money.Split: no weights for a non-zero total")
		}
		return parts
	}
	type rem struct {
		i int
		r *big.Int
	}
	rems := make([]rem, len(weights))
	var allotted int64
	bt := big.NewInt(total)
	for i, w := range weights {
		var q, r big.Int
		q.Mul(bt, big.NewInt(w))
		q.QuoRem(&q, &sum, &r) // truncates toward zero
		if r.Sign() < 0 {      // floor for negative totals
			q.Sub(&q, big.NewInt(1))
			r.Add(&r, &sum)
		}
		parts[i] = q.Int64()
		allotted += parts[i]
		rems[i] = rem{i, &r}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r.Cmp(rems[b].r) > 0 })
	for k := int64(0); k < total-allotted; k++ {
		parts[rems[k].i]++
	}
	return parts
}

// MulDivRound returns a × b ÷ c rounded half away from zero, for
// non-negative a, b and positive c, without overflow of the product: a share
// of a pot (b of c) applied to an amount.
func MulDivRound(a, b, c int64) int64 {
	var n, q, r big.Int
	n.Mul(big.NewInt(a), big.NewInt(b))
	q.QuoRem(&n, big.NewInt(c), &r)
	if r.Lsh(&r, 1).CmpAbs(big.NewInt(c)) >= 0 {
		q.Add(&q, big.NewInt(1))
	}
	return q.Int64()
}

// Grouped writes a decimal string with thousands separators, for reading:
// "1234567.50" → "1,234,567.50", "-1234" → "-1,234".
func Grouped(s string) string {
	whole, frac, hasDot := strings.Cut(s, ".")
	sign := ""
	if strings.HasPrefix(whole, "-") {
		sign, whole = "-", whole[1:]
	}
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := sign + b.String()
	if hasDot {
		out += "." + frac
	}
	return out
}

// AddChecked adds two amounts and reports overflow instead of wrapping.
func AddChecked(a, b int64) (int64, bool) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, false
	}
	return a + b, true
}

// Amount is money in one currency. In JSON it is
// {"amount": "50000.00", "currency": "EUR"}: a decimal string with exactly the
// currency's decimals, never a number.
type Amount struct {
	Minor    int64
	Currency string
}

// USDAmount returns minor US cents as an Amount.
func USDAmount(minor int64) Amount { return Amount{Minor: minor, Currency: "USD"} }

// String formats the amount as "50000.00 EUR".
func (a Amount) String() string {
	c, err := LookupCurrency(a.Currency)
	if err != nil {
		return fmt.Sprintf("%d minor %s", a.Minor, a.Currency)
	}
	return Format(a.Minor, c) + " " + a.Currency
}

type amountJSON struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// MarshalJSON writes the amount as a decimal string with its currency.
func (a Amount) MarshalJSON() ([]byte, error) {
	c, err := LookupCurrency(a.Currency)
	if err != nil {
		return nil, err
	}
	return json.Marshal(amountJSON{Format(a.Minor, c), a.Currency})
}

// plainAmountJSON reads b when it is exactly what MarshalJSON writes and
// the log stores, {"amount":"…","currency":"…"} with no space and strings
// of plain ASCII without escapes, and returns the two strings as the
// decoder would; ok is false for anything else, which the decoder reads.
// A json.Decoder made for every amount was a quarter of what ledgerd
// allocated folding the log at start-up, and the collection of it most of
// the start-up's time (issue 10, docs/performance.md).
func plainAmountJSON(b []byte) (amount, currency string, ok bool) {
	rest, ok := bytes.CutPrefix(b, []byte(`{"amount":"`))
	if !ok {
		return "", "", false
	}
	n := plainStringLen(rest)
	if n < 0 {
		return "", "", false
	}
	amount, rest = string(rest[:n]), rest[n:]
	if rest, ok = bytes.CutPrefix(rest, []byte(`","currency":"`)); !ok {
		return "", "", false
	}
	if n = plainStringLen(rest); n < 0 || string(rest[n:]) != `"}` {
		return "", "", false
	}
	return amount, string(rest[:n]), true
}

// plainStringLen is the length of the JSON string body at the start of b,
// up to its closing quote, or -1 when it holds an escape, a control
// character or a non-ASCII byte before it (or has no closing quote).
func plainStringLen(b []byte) int {
	for i, c := range b {
		switch {
		case c == '"':
			return i
		case c == '\\' || c < 0x20 || c >= 0x80:
			return -1
		}
	}
	return -1
}

// canonicalMinor returns the minor units s stands for when s is exactly
// what Format writes for them (zero included) and they are at most
// MaxAmountMinor; ok is false for anything else, which ParseMinor and
// Format then tell apart. It reads the amounts of every stored event
// without the big.Int and the two Formats of that check.
func canonicalMinor(s string, cur Currency) (minor int64, ok bool) {
	whole, frac := s, ""
	if cur.Decimals > 0 {
		dot := len(s) - cur.Decimals - 1
		if dot < 1 || s[dot] != '.' {
			return 0, false
		}
		whole, frac = s[:dot], s[dot+1:]
	}
	if whole == "" || (whole[0] == '0' && len(whole) > 1) || len(whole)+len(frac) > maxMinorDigits {
		return 0, false
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			minor = minor*10 + int64(c-'0')
		}
	}
	return minor, minor <= MaxAmountMinor
}

// UnmarshalJSON reads an amount written by MarshalJSON. It accepts zero and
// refuses anything MarshalJSON would not have written.
func (a *Amount) UnmarshalJSON(b []byte) error {
	var j amountJSON
	var ok bool
	if j.Amount, j.Currency, ok = plainAmountJSON(b); !ok {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			return err
		}
	}
	c, err := LookupCurrency(j.Currency)
	if err != nil {
		return err
	}
	s, neg := strings.CutPrefix(j.Amount, "-")
	minor, ok := canonicalMinor(s, c)
	if !ok { // not in the form Format writes, or too large: say which
		if s != Format(0, c) {
			minor, err = ParseMinor(s, c)
			if err != nil {
				return fmt.Errorf("amount %q: %w", j.Amount, err)
			}
		}
		if Format(minor, c) != s {
			return fmt.Errorf("amount %q: not in canonical form %q", j.Amount, Format(minor, c))
		}
	}
	if neg {
		if minor == 0 {
			// MarshalJSON writes zero as "0.00", never "-0.00".
			return fmt.Errorf("amount %q: not in canonical form %q", j.Amount, s)
		}
		minor = -minor
	}
	*a = Amount{Minor: minor, Currency: c.Code}
	return nil
}
