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

// DonorKinds are the kinds of donor the strategy names.
var DonorKinds = []string{"member_city", "country", "company", "foundation", "other"}

// Decide judges a command against the state and returns the events it
// causes, unsealed, in the order they must be appended. A refusal is an
// *errs.Error and no event. Decide does not change the state: the caller applies
// the events.
func Decide(s *State, c Command) ([]events.Event, error) {
	m := c.meta()
	if m.Actor == "" || !isDate(m.Today) {
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

func (s *State) openTerm(c *OpenTerm) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Terms[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "term %s is already open", c.ID)
	}
	if err := checkDate("starts_on", c.StartsOn); err != nil {
		return nil, err
	}
	if err := checkDate("ends_on", c.EndsOn); err != nil {
		return nil, err
	}
	if c.EndsOn <= c.StartsOn {
		return nil, refuse(CodeInvalidTermPeriod, "ends_on", "a term ends after it starts (%s to %s)", c.StartsOn, c.EndsOn)
	}
	if last := addYears(c.StartsOn, MaxTermYears); c.EndsOn > last {
		return nil, refuse(CodeInvalidTermPeriod, "ends_on", "a term lasts at most %d years: from %s it ends by %s, not %s", MaxTermYears, c.StartsOn, last, c.EndsOn)
	}
	target, err := parseUSD("target", c.Target)
	if err != nil {
		return nil, err
	}
	if c.FeeRate == "" {
		return nil, refuse(CodeMissingField, "fee_rate", "fee_rate is required (\"0.01\" is 1 %%; \"0\" for none)")
	}
	if !isFeeRate(c.FeeRate) {
		return nil, refuse(CodeInvalidFeeRate, "fee_rate", "fee_rate %q must be a fraction from 0 to %s with at most 6 decimals", c.FeeRate, MaxFeeRate)
	}
	for _, t := range s.Terms {
		if c.StartsOn <= t.EndsOn && t.StartsOn <= c.EndsOn {
			return nil, refuse(CodeTermOverlaps, "starts_on", "term %s overlaps term %s (%s to %s)", c.ID, t.ID, t.StartsOn, t.EndsOn)
		}
	}
	return build(c.StartsOn, &events.TermOpened{TermID: c.ID, StartsOn: c.StartsOn, EndsOn: c.EndsOn, Target: money.USDAmount(target), FeeRate: c.FeeRate})
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

func (s *State) registerDonor(c *RegisterDonor) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Donors[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "donor %s is already registered", c.ID)
	}
	if err := checkText("name", c.Name, true); err != nil {
		return nil, err
	}
	if c.Kind == "" {
		return nil, refuse(CodeMissingField, "kind", "kind is required: one of %v", DonorKinds)
	}
	if !contains(DonorKinds, c.Kind) {
		return nil, refuse(CodeInvalidDonorKind, "kind", "kind %q is not one of %v", c.Kind, DonorKinds)
	}
	if err := checkCountry("country", c.Country, true); err != nil {
		return nil, err
	}
	if err := checkText("city", c.City, false); err != nil {
		return nil, err
	}
	return build(c.Today, &events.DonorRegistered{DonorID: c.ID, Name: c.Name, Kind: c.Kind, Country: c.Country, City: c.City})
}

func (s *State) recordContribution(c *RecordContribution) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if err := s.checkMovementID(c.ID); err != nil {
		return nil, err
	}
	d, err := s.donor("donor_id", c.DonorID)
	if err != nil {
		return nil, err
	}
	t, err := s.term("term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	var pl *Pledge
	if c.PledgeID != "" {
		if pl = s.Pledges[c.PledgeID]; pl == nil {
			return nil, refuse(CodeUnknownPledge, "pledge_id", "no pledge %s is recorded", trunc(c.PledgeID))
		}
	}
	amount, usd, rate, err := parseForeign("amount", c.Amount, c.USDRate)
	if err != nil {
		return nil, err
	}
	received := &events.ContributionReceived{
		ContributionID: c.ID, DonorID: d.ID, TermID: t.ID, PledgeID: c.PledgeID, Amount: amount,
		USDRate: rate, USDAmount: money.USDAmount(usd), ReceivedOn: c.ReceivedOn, BankRef: c.BankRef,
	}
	if pl != nil {
		settled, err := checkPays(pl, d, t, amount)
		if err != nil {
			return nil, err
		}
		received.Earmark = pl.Earmark
		received.PledgeSettledUSD = &settled
	}
	if err := checkPastDate("received_on", c.ReceivedOn, c.Today); err != nil {
		return nil, err
	}
	if c.ReceivedOn > t.EndsOn {
		return nil, refuse(CodeDateOutsideTerm, "received_on", "received_on %s is after term %s ends (%s)", c.ReceivedOn, t.ID, t.EndsOn)
	}
	if err := checkNotEarly("received_on", c.ReceivedOn, t, EarlyReceiptYears); err != nil {
		return nil, err
	}
	if err := checkOpenOn("received_on", t, c.ReceivedOn); err != nil {
		return nil, err
	}
	if err := checkText("bank_ref", c.BankRef, false); err != nil {
		return nil, err
	}
	ps := []events.Payload{received}
	// Rule 1: the fee is charged at the term's rate, in the same append,
	// out of the pot the receipt went into.
	feeRate := decimal.RequireFromString(t.FeeRate)
	if fee := money.Percent(usd, feeRate); fee > 0 {
		ps = append(ps, &events.FeeCharged{ContributionID: c.ID, DonorID: d.ID, TermID: t.ID, FeeRate: t.FeeRate,
			Amount: money.USDAmount(fee), Earmark: received.Earmark})
	}
	return build(c.ReceivedOn, ps...)
}

func (s *State) addBudgetLine(c *AddBudgetLine) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Lines[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "budget line %s already exists", c.ID)
	}
	t, err := s.term("term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	if err := checkText("title", c.Title, true); err != nil {
		return nil, err
	}
	amount, err := parseUSD("amount", c.Amount)
	if err != nil {
		return nil, err
	}
	if c.ClusterID != "" {
		if err := checkID("cluster_id", c.ClusterID); err != nil {
			return nil, err
		}
		if s.Clusters[c.ClusterID] == nil {
			return nil, refuse(CodeUnknownCluster, "cluster_id", "no cluster %s is registered: register it before its lines", c.ClusterID)
		}
	}
	if t.Closed {
		return nil, refuse(CodeTermClosed, "term_id", "term %s was closed on %s: its budget is final", t.ID, t.ClosedOn)
	}
	// A line is part of the term's budget from the term's first day.
	return build(t.StartsOn, &events.BudgetLineAdded{LineID: c.ID, TermID: t.ID, Title: c.Title, Amount: money.USDAmount(amount), ClusterID: c.ClusterID})
}

func (s *State) proposeAllocation(c *ProposeAllocation) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Allocations[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "allocation %s already exists", c.ID)
	}
	l, ok := s.Lines[c.LineID]
	if c.LineID == "" {
		return nil, refuse(CodeMissingField, "line_id", "line_id is required")
	}
	if !ok {
		return nil, refuse(CodeUnknownLine, "line_id", "no budget line %s", c.LineID)
	}
	t := s.Terms[l.TermID]
	amount, err := parseUSD("amount", c.Amount)
	if err != nil {
		return nil, err
	}
	if err := checkMultiline("note", c.Note, false); err != nil {
		return nil, err
	}
	on, err := optionalDate("proposed_on", c.ProposedOn, c.Today)
	if err != nil {
		return nil, err
	}
	if err := checkInTerm("proposed_on", on, t); err != nil {
		return nil, err
	}
	if err := checkOpenOn("proposed_on", t, on); err != nil {
		return nil, err
	}
	if err := s.checkAllocatable(t, l, amount, l.ProposedMinor); err != nil {
		return nil, err
	}
	return build(on, &events.AllocationProposed{AllocationID: c.ID, LineID: l.ID, TermID: t.ID, Amount: money.USDAmount(amount), Note: c.Note, ProposedBy: c.Actor})
}

// checkAllocatable applies rule 2 (an allocation cannot exceed the received,
// unallocated balance of its term, and money earmarked elsewhere is not
// available to the line) and keeps a line within its budget, counting what
// is already pending on the line.
func (s *State) checkAllocatable(t *Term, l *Line, amount, pending int64) error {
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

func (s *State) approveAllocation(c *ApproveAllocation) ([]events.Event, error) {
	a, ok := s.Allocations[c.ID]
	if !ok {
		return nil, refuse(CodeUnknownAllocation, "id", "no allocation %s", c.ID)
	}
	if a.Approved {
		return nil, refuse(CodeAllocationAlreadyApproved, "id", "allocation %s was approved by %s", a.ID, a.ApprovedBy)
	}
	// Rule 3: maker-checker compares users, not roles.
	if a.ProposedBy == c.Actor {
		return nil, refuse(CodeSameUserApproval, "", "allocation %s was proposed by %s, who cannot approve it too", a.ID, a.ProposedBy)
	}
	l, t := s.Lines[a.LineID], s.Terms[a.TermID]
	on, err := optionalDate("approved_on", c.ApprovedOn, c.Today)
	if err != nil {
		return nil, err
	}
	if on < a.ProposedOn {
		return nil, refuse(CodeInvalidDate, "approved_on", "approved_on %s is before the proposal (%s)", on, a.ProposedOn)
	}
	if err := checkInTerm("approved_on", on, t); err != nil {
		return nil, err
	}
	if err := checkOpenOn("approved_on", t, on); err != nil {
		return nil, err
	}
	if err := s.checkAllocatable(t, l, a.AmountMinor, l.ProposedMinor-a.AmountMinor); err != nil {
		return nil, err
	}
	return build(on, &events.AllocationApproved{AllocationID: a.ID, LineID: l.ID, TermID: t.ID, Amount: money.USDAmount(a.AmountMinor),
		ProposedBy: a.ProposedBy, ApprovedBy: c.Actor, Funding: drawFor(t, l, a.AmountMinor)})
}

func (s *State) recordExpenditure(c *RecordExpenditure) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if err := s.checkMovementID(c.ID); err != nil {
		return nil, err
	}
	if c.AllocationID == "" {
		return nil, refuse(CodeMissingField, "allocation_id", "allocation_id is required")
	}
	a, ok := s.Allocations[c.AllocationID]
	if !ok {
		return nil, refuse(CodeUnknownAllocation, "allocation_id", "no allocation %s", c.AllocationID)
	}
	amount, usd, rate, err := parseForeign("amount", c.Amount, c.USDRate)
	if err != nil {
		return nil, err
	}
	if err := checkPastDate("spent_on", c.SpentOn, c.Today); err != nil {
		return nil, err
	}
	if err := checkText("payee", c.Payee, true); err != nil {
		return nil, err
	}
	if err := checkMultiline("description", c.Description, false); err != nil {
		return nil, err
	}
	if err := checkCountry("country", c.Country, false); err != nil {
		return nil, err
	}
	if err := checkText("city", c.City, false); err != nil {
		return nil, err
	}
	country, city := c.Country, c.City
	if c.CityID != "" {
		ct, ok := s.Cities[c.CityID]
		if !ok {
			return nil, refuse(CodeUnknownCity, "city_id", "no city %s is registered", trunc(c.CityID))
		}
		if country == "" {
			country = ct.Country
		} else if country != ct.Country {
			return nil, refuse(CodeCityCountryMismatch, "country", "city %s is in %s, not %s", ct.ID, ct.Country, country)
		}
		if city == "" {
			city = ct.Name
		}
	}
	t := s.Terms[a.TermID]
	if t.Closed {
		// Rule 6: nothing new dated inside a closed term; what its kept
		// allocations still pay is dated after its end.
		if err := checkOpenOn("spent_on", t, c.SpentOn); err != nil {
			return nil, err
		}
	} else if err := checkInTerm("spent_on", c.SpentOn, t); err != nil {
		return nil, err
	}
	// Rule 3: only approved allocations are spent against, never beyond them.
	if !a.Approved {
		return nil, refuse(CodeAllocationNotApproved, "allocation_id", "allocation %s is proposed but not approved", a.ID)
	}
	if c.SpentOn < a.ApprovedOn {
		return nil, refuse(CodeDateBeforeApproval, "spent_on", "spent_on %s is before allocation %s was approved (%s)", c.SpentOn, a.ID, a.ApprovedOn)
	}
	if left := a.AmountMinor - a.SpentMinor; usd > left {
		return nil, refuse(CodeInsufficientAllocationBalance, "amount", "spending %s exceeds what allocation %s has left (%s)",
			money.FormatUSD(usd), a.ID, money.FormatUSD(left))
	}
	return build(c.SpentOn, &events.ExpenditureRecorded{
		ExpenditureID: c.ID, AllocationID: a.ID, LineID: a.LineID, TermID: a.TermID, Amount: amount,
		USDRate: rate, USDAmount: money.USDAmount(usd), SpentOn: c.SpentOn, Payee: c.Payee,
		Description: c.Description, Country: country, City: city, CityID: c.CityID,
	})
}

func (s *State) term(field, id string) (*Term, error) {
	if id == "" {
		return nil, refuse(CodeMissingField, field, "%s is required", field)
	}
	t, ok := s.Terms[id]
	if !ok {
		return nil, refuse(CodeUnknownTerm, field, "no term %s is open", id)
	}
	return t, nil
}

func (s *State) donor(field, id string) (*Donor, error) {
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
func (s *State) checkMovementID(id string) error {
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

func isDate(s string) bool {
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
	if !isDate(s) {
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
