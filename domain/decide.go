package domain

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/refdata"
)

// Limits on free text, so that one event stays small.
const (
	MaxIDLen   = 64
	MaxTextLen = 500
)

// MaxFeeRate is the highest fee rate a term may fix: the agent's fee on a
// trust fund is a small fraction, and a typo such as "1" (100 %) must not pass.
var MaxFeeRate = decimal.RequireFromString("0.2")

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)

// Decide judges a command against the state and returns the events it
// causes, unsealed, in the order they must be appended. A refusal is an
// *errs.Error and no event. Decide does not change the state: the caller applies
// the events.
func Decide(s *State, c Command) ([]events.Event, error) {
	m := c.meta()
	if m.Actor == "" || !IsDate(m.Today) {
		return nil, fmt.Errorf("decide %T: command without actor or date", c)
	}
	evs, err := c.decide(s)
	if err != nil {
		return nil, err
	}
	return evs, nil
}

// build turns payloads into unsealed events dated on.
func build(on string, ps ...events.Payload) ([]events.Event, error) {
	out := make([]events.Event, 0, len(ps))
	for _, p := range ps {
		e, err := events.New(on, p)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// maxFeeRatePlaces bounds the decimals of a fee rate.
const maxFeeRatePlaces = 6

// isFeeRate reports whether s is a fee rate a term may fix: a plain decimal
// fraction from 0 to MaxFeeRate with at most maxFeeRatePlaces decimals. The
// string is stored in term_opened and copied into every fee_charged as it is,
// so forms that decimal.NewFromString also accepts ("1e-2", ".01", "+0.01",
// "-0") are refused: every recorded rate reads the same way.
func isFeeRate(s string) bool {
	whole, frac, hasDot := strings.Cut(s, ".")
	if len(s) > money.MaxRateLen || whole == "" || (hasDot && frac == "") || !isDigits(whole) || !isDigits(frac) || len(frac) > maxFeeRatePlaces {
		return false
	}
	return !decimal.RequireFromString(s).GreaterThan(MaxFeeRate)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkAllocatable applies rule 2 (an allocation cannot exceed the received,
// unallocated balance of its term, and money earmarked elsewhere is not
// available to the line) and keeps a line within its budget, counting what
// is already pending on the line.
func checkAllocatable(s *State, t *Term, l *Line, amount, pending int64) error {
	if amount > t.Unallocated {
		return refuse(CodeInsufficientUnallocated, "amount", "allocating %s exceeds the unallocated balance of term %s (%s)",
			money.FormatUSD(amount), t.ID, money.FormatUSD(t.Unallocated))
	}
	if avail := availableTo(t, l); amount > avail {
		return refuse(CodeFundsEarmarkedElsewhere, "amount", "allocating %s to line %s exceeds what is available to it (%s): %s of the unallocated %s is earmarked by donors for other lines or clusters",
			money.FormatUSD(amount), l.ID, money.FormatUSD(avail), money.FormatUSD(t.Unallocated-avail), money.FormatUSD(t.Unallocated))
	}
	if room := l.BudgetMinor - l.ApprovedMinor - pending; amount > room {
		return refuse(CodeExceedsBudgetLine, "amount", "allocating %s exceeds what budget line %s has left (%s of %s)",
			money.FormatUSD(amount), l.ID, money.FormatUSD(room), money.FormatUSD(l.BudgetMinor))
	}
	return nil
}

func term(s *State, field, id string) (*Term, error) {
	if id == "" {
		return nil, refuse(CodeMissingField, field, "%s is required", field)
	}
	t, ok := s.Terms[id]
	if !ok {
		return nil, refuse(CodeUnknownTerm, field, "no term %s is open", id)
	}
	return t, nil
}

func donor(s *State, field, id string) (*Donor, error) {
	if id == "" {
		return nil, refuse(CodeMissingField, field, "%s is required", field)
	}
	d, ok := s.Donors[id]
	if !ok {
		return nil, refuse(CodeUnknownDonor, field, "no donor %s is registered", id)
	}
	return d, nil
}

// checkMovementID applies rule 9: it refuses the id of a new pledge,
// receipt or expenditure when any of the three already has it. IATI
// publishes them as the transactions of one activity, with the id as ref,
// and a ref that repeats makes the activity file fail (found by
// TestHostileHistories: a pledge given a receipt's id broke
// GET /v1/iati/activities.xml).
func checkMovementID(s *State, id string) error {
	if _, ok := s.Pledges[id]; ok {
		return refuse(CodeDuplicateID, "id", "%s is already a pledge's id; pledges, receipts and expenditures share ids", id)
	}
	if _, ok := s.Contributions[id]; ok {
		return refuse(CodeDuplicateID, "id", "%s is already a receipt's id; pledges, receipts and expenditures share ids", id)
	}
	if _, ok := s.Expenditures[id]; ok {
		return refuse(CodeDuplicateID, "id", "%s is already an expenditure's id; pledges, receipts and expenditures share ids", id)
	}
	return nil
}

func checkID(field, id string) error {
	if id == "" {
		return refuse(CodeMissingField, field, "%s is required", field)
	}
	if len(id) > MaxIDLen || !idPattern.MatchString(id) {
		return refuse(CodeInvalidID, field, "%s %q must be 1 to %d letters, digits, '.', '_', ':' or '-'", field, trunc(id), MaxIDLen)
	}
	return nil
}

// checkText checks one line of text: a name, a title, a payee, a bank
// reference, a city (see checkTextOf).
func checkText(field, s string, required bool) error {
	return checkTextOf(field, s, required, false)
}

// checkMultiline checks text that may span lines: a description, a note, a
// reason (see checkTextOf).
func checkMultiline(field, s string, required bool) error {
	return checkTextOf(field, s, required, true)
}

func checkCountry(field, code string, required bool) error {
	if code == "" {
		if required {
			return refuse(CodeMissingField, field, "%s is required (ISO 3166 alpha-2)", field)
		}
		return nil
	}
	if _, ok := refdata.LookupCountry(code); !ok {
		return refuse(CodeUnknownCountry, field, "%q is not an ISO 3166 alpha-2 country code", trunc(code))
	}
	return nil
}

// IsDate reports whether s is a date written YYYY-MM-DD. The read model
// checks each event's effective_on with it too: a log forged and re-sealed
// can carry anything there.
func IsDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func checkDate(field, s string) error {
	if s == "" {
		return refuse(CodeMissingField, field, "%s is required (YYYY-MM-DD)", field)
	}
	if !IsDate(s) {
		return refuse(CodeInvalidDate, field, "%s %q is not a date (YYYY-MM-DD)", field, trunc(s))
	}
	return inWindow(field, s)
}

// checkPastDate checks a date that something happened: it cannot be later
// than the server's today.
func checkPastDate(field, s, today string) error {
	if err := checkDate(field, s); err != nil {
		return err
	}
	if s > today {
		return refuse(CodeDateInFuture, field, "%s %s is after today (%s)", field, s, today)
	}
	return nil
}

func optionalDate(field, s, today string) (string, error) {
	if s == "" {
		return today, nil
	}
	return s, checkPastDate(field, s, today)
}

// checkOpenOn applies rule 6: a closed term takes no new entry dated on or
// before its end. Reversals by an approver are the exception; reverseEvent
// checks them itself.
func checkOpenOn(field string, t *Term, on string) error {
	if t.Closed && on <= t.EndsOn {
		return refuse(CodeTermClosed, field, "term %s was closed on %s: it takes no new entry dated %s, inside it", t.ID, t.ClosedOn, on)
	}
	return nil
}

// checkNotClosed refuses an entry that would add to or take from a closed
// term's unallocated balance, which its close disposed of, whatever its date.
func checkNotClosed(field string, t *Term) error {
	if t.Closed {
		return refuse(CodeTermClosed, field, "term %s was closed on %s: its unallocated balance was disposed of", t.ID, t.ClosedOn)
	}
	return nil
}

func checkInTerm(field, on string, t *Term) error {
	if on < t.StartsOn || on > t.EndsOn {
		return refuse(CodeDateOutsideTerm, field, "%s %s is outside term %s (%s to %s)", field, on, t.ID, t.StartsOn, t.EndsOn)
	}
	return nil
}

// parseMoney parses an amount in its own currency.
func parseMoney(field string, in MoneyInput) (money.Amount, error) {
	if in.Amount == "" {
		return money.Amount{}, refuse(CodeMissingField, field, "%s.amount is required", field)
	}
	if in.Currency == "" {
		return money.Amount{}, refuse(CodeMissingField, field, "%s.currency is required", field)
	}
	cur, err := money.LookupCurrency(in.Currency)
	if err != nil {
		return money.Amount{}, refuse(CodeUnknownCurrency, field, "currency %q is not one the ledger accepts (%v)", trunc(in.Currency), money.Codes())
	}
	minor, err := money.ParseMinor(in.Amount, cur)
	switch err {
	case nil:
		return money.Amount{Minor: minor, Currency: cur.Code}, nil
	case money.ErrNotPositive:
		return money.Amount{}, refuse(CodeAmountNotPositive, field, "%s must be greater than zero, got %q", field, trunc(in.Amount))
	case money.ErrTooManyDecimals:
		return money.Amount{}, refuse(CodeTooManyDecimals, field, "%s %q has more than the %d decimals of %s", field, trunc(in.Amount), cur.Decimals, cur.Code)
	case money.ErrTooLarge:
		return money.Amount{}, refuse(CodeAmountTooLarge, field, "%s %q is above the ledger's limit", field, trunc(in.Amount))
	default:
		return money.Amount{}, refuse(CodeInvalidAmount, field, "%s %q is not a decimal string such as \"1250.00\"", field, trunc(in.Amount))
	}
}

// parseUSD parses an amount that must be in US dollars: targets, budget
// lines and allocations live in the trust book's currency.
func parseUSD(field string, in MoneyInput) (int64, error) {
	a, err := parseMoney(field, in)
	if err != nil {
		return 0, err
	}
	if a.Currency != "USD" {
		return 0, refuse(CodeUSDRequired, field, "%s must be in USD, the currency of the trust book", field)
	}
	return a.Minor, nil
}

// parseForeign parses an amount in any accepted currency with its rate and
// returns it, its value in US cents and the rate as recorded ("1" for USD).
func parseForeign(field string, in MoneyInput, rate string) (money.Amount, int64, string, error) {
	a, err := parseMoney(field, in)
	if err != nil {
		return money.Amount{}, 0, "", err
	}
	if a.Currency == "USD" {
		if rate != "" && rate != "1" {
			return money.Amount{}, 0, "", refuse(CodeInvalidRate, "usd_rate", "usd_rate of a USD amount is 1, got %q", trunc(rate))
		}
		return a, a.Minor, "1", nil
	}
	if rate == "" {
		return money.Amount{}, 0, "", refuse(CodeMissingRate, "usd_rate", "usd_rate (US dollars per one %s) is required for an amount in %s", a.Currency, a.Currency)
	}
	r, err := money.ParseRate(rate)
	if err != nil {
		return money.Amount{}, 0, "", refuse(CodeInvalidRate, "usd_rate", "usd_rate %q must be a positive decimal with at most %d decimals", trunc(rate), money.MaxRatePlaces)
	}
	cur, _ := money.LookupCurrency(a.Currency)
	usd, err := money.ToUSD(a.Minor, cur, r)
	if err != nil {
		return money.Amount{}, 0, "", refuse(CodeAmountTooLarge, field, "%s at %s is above the ledger's limit", a, rate)
	}
	if usd <= 0 {
		return money.Amount{}, 0, "", refuse(CodeAmountNotPositive, field, "%s at %s is less than one cent", a, rate)
	}
	return a, usd, rate, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// trunc keeps echoed input short in messages.
func trunc(s string) string {
	if len(s) <= 40 {
		return s
	}
	// Cut at a rune's start, so that the message stays valid UTF-8.
	i := 40
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
