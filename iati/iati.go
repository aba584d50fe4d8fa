// Package iati renders a term of the fund as IATI Standard 2.03 XML: an
// activity file (iati-activities) with one iati-activity per term, and an
// organisation file (iati-organisations) for the reporting organisation.
//
// The package is pure: plain input structs in, XML bytes out, no database, no
// clock. Every input is validated before anything is written, so a render
// either returns bytes that are valid against the 2.03 schemas or an error
// wrapping ErrInvalidInput that names the bad field; it never returns
// invalid XML. The same input always gives the same bytes (elements appear in
// the order given, attributes in a fixed order), so outputs can be golden
// files.
//
// Besides what Activity carries, every activity states fixed facts of the
// fund: reporting-org XM-DAC-41304 (type 40 multilateral) named as UIL on
// behalf of UNESCO; UIL as participating-org with role 2 (accountable) and
// role 4 (implementing); xml:lang en, default-currency USD, hierarchy 1;
// activity-scope 1 (global: the network's cities are in every region);
// default-finance-type 110 (standard grant: contributions are not repaid);
// budgets of type 1 (original) and status 1 (indicative: a term's target is
// not a commitment). Recipient countries and regions are computed from the
// expenditures (see Transaction.RecipientCountry).
//
// What the output does not guarantee: the IATI Standard has rules beyond its
// XSD (codelists, the IATI ruleset). The renderer checks the ones it can
// check locally (codes it writes, dates, percentages summing to 100, budget
// periods of at most a year that do not overlap, recipient country or region
// at activity level only) but it does not check that an organisation
// identifier (Participant.Ref) is registered, or that dates are not in the
// future.
package iati

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/refdata"
)

// Version is the IATI Standard version the package writes and validates against.
const Version = "2.03"

// The reporting organisation: UNESCO's IATI organisation identifier (an OECD
// DAC code, hence the XM-DAC registration agency), its IATI organisation type
// (40 multilateral) and the names written in the files.
const (
	ReportingOrgRef  = "XM-DAC-41304"
	ReportingOrgType = "40"
	ReportingOrgName = "UNESCO Institute for Lifelong Learning (UIL), on behalf of UNESCO"
	// OrganisationName is the name of the organisation of the organisation
	// file when Organisation.Name is empty: the identifier XM-DAC-41304 is
	// UNESCO's, of which UIL is a part.
	OrganisationName = "United Nations Educational, Scientific and Cultural Organization (UNESCO)"
)

// DefaultCurrency is the activity's and the organisation's default-currency:
// the currency of the trust book. Values in it carry no currency attribute.
const DefaultCurrency = "USD"

// Transaction type codes (IATI TransactionType codelist) that a term can
// report. Refunds, interest, fees and allocations are not reported as
// transactions: they are movements inside the trust account or back to a
// donor that the four types do not describe, and a reversed entry is left
// out together with its reversal.
const (
	TypeIncomingFunds      = "1"  // a contribution received
	TypeExpenditure        = "4"  // money spent on the fund's activities
	TypeIncomingCommitment = "11" // a signed pledge (contribution agreement)
	TypeIncomingPledge     = "13" // a pledge announced but not yet signed
)

// Activity status codes (IATI ActivityStatus codelist) a term can have.
const (
	StatusPipeline       = 1 // the term is opened but has not started
	StatusImplementation = 2 // the term is running
	StatusFinalisation   = 3 // the term has ended; its books are not closed
	StatusClosed         = 4 // the term is closed
)

// DefaultSector is the sector written when Activity.Sectors is empty: OECD DAC
// CRS purpose code 11110 "Education policy and administrative management"
// (vocabulary 1), 100 %. The MDFM funds what learning cities do to build and
// run lifelong-learning policy — policy development, peer learning between
// city administrations, capacity building of municipal staff — which is what
// 11110 describes. 11182 (educational research) and 11430 (advanced technical
// and managerial training) each cover only a part of it.
var DefaultSector = Sector{Vocabulary: "1", Code: "11110", Percentage: "100"}

// RegionDevelopingUnspecified is the OECD DAC region code (vocabulary 1) 998,
// "Developing countries, unspecified": the activity's recipient region for
// spending attributed to no country (and for the whole activity when no
// expenditure names a country).
const RegionDevelopingUnspecified = "998"

// Limits on the input. They are far above a real term and keep a bad caller
// from making the renderer build an unbounded document.
const (
	MaxActivities   = 1000    // activities in one file
	MaxTransactions = 100_000 // transactions in one activity
	MaxDonors       = 1000    // donors of one activity
	MaxBudgets      = 100     // budget periods of one activity or organisation
	MaxSectors      = 100     // sectors of one activity
	MaxTextBytes    = 16_384  // one title, description or name
	MaxRefBytes     = 200     // one identifier or reference
)

// ErrInvalidInput is wrapped by every error a render returns because of its
// input (as opposed to a failure of the XML encoder, which does not happen
// with valid input).
var ErrInvalidInput = errors.New("invalid IATI input")

// ErrOverLimit is wrapped, besides ErrInvalidInput, by the errors of input
// over one of the limits above (MaxTransactions…): the data is right, there
// is only too much of it for one file.
var ErrOverLimit = errors.New("IATI input over a limit")

// InputError names the field that made a render fail and why.
type InputError struct {
	Field   string // path of the field: "activities[0].transactions[3].value"
	Message string
	// OverLimit: the input is over a limit (ErrOverLimit).
	OverLimit bool
}

// Error implements error.
func (e *InputError) Error() string { return "iati: " + e.Field + ": " + e.Message }

// Unwrap makes errors.Is(err, ErrInvalidInput) true, and ErrOverLimit for
// input over a limit.
func (e *InputError) Unwrap() []error {
	if e.OverLimit {
		return []error{ErrInvalidInput, ErrOverLimit}
	}
	return []error{ErrInvalidInput}
}

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// overLimit is the error of n items at field where limit may be.
func overLimit(field, what string, n, limit int) error {
	return &InputError{Field: field, Message: fmt.Sprintf("%d %s exceed the limit of %d", n, what, limit), OverLimit: true}
}

// Activity is one term of a fund, as one iati-activity.
//
// Every string is plain text; the renderer escapes it. Dates are YYYY-MM-DD,
// date-times RFC 3339. Amounts are decimal strings in the currency they go
// with, never with an exponent or a sign ("50000.00", "10000000" in JPY).
type Activity struct {
	// FundID and TermID make the iati-identifier (see ActivityIdentifier):
	// "mdfm" and "2020-2021" give "XM-DAC-41304-MDFM-2020-2021". Both are
	// required, letters, digits, '.', '_' and '-' only.
	FundID, TermID string
	// Title and Description are the activity's title and its general
	// description (type 1), in English (the activity's xml:lang). Required.
	Title, Description string
	// StartsOn and EndsOn are the term's first and last day: the planned
	// start (activity-date type 1) and planned end (type 3). The actual start
	// (type 2) is written when the activity is past the pipeline and has a
	// transaction: the date of its earliest transaction, or StartsOn if that
	// is earlier. The actual end (type 4) is EndsOn once the status is
	// finalisation or closed. Actual dates after the file's generation date
	// are not written: IATI does not allow actual dates in the future.
	StartsOn, EndsOn string
	// Status is the activity-status code: StatusPipeline (1),
	// StatusImplementation (2), StatusFinalisation (3) or StatusClosed (4).
	Status int
	// LastUpdated is the recorded time (RFC 3339) of the last event of the
	// term: the activity's last-updated-datetime. Required.
	LastUpdated string
	// Donors are written as participating-org with role 1 (funding), in the
	// order given, before UIL's roles 2 (accountable) and 4 (implementing).
	Donors []Participant
	// Budgets are the activity's budgets (type 1 original, status 1
	// indicative), each a period of at most one year, in order and not
	// overlapping. YearlyBudgets splits a term's target into such periods.
	Budgets []Budget
	// Transactions are written in the order given.
	Transactions []Transaction
	// Sectors classify the activity; empty means DefaultSector. The
	// percentages of each vocabulary must add up to 100.
	Sectors []Sector
}

// Participant is an organisation named in the activity: a donor, or the
// provider or receiver of a transaction.
type Participant struct {
	// Name is the organisation's name, written as its narrative. Required.
	Name string
	// Ref is the organisation's IATI organisation identifier
	// ("XM-DAC-5-7", "GB-COH-123456"); empty when it has none. It may not
	// contain white space or any of / & | ?.
	Ref string
	// Type is an IATI OrganisationType code (see OrgTypeForDonorKind).
	// Required for donors, optional on transactions.
	Type string
}

// Budget is a budget of a period of at most one year, in US dollars.
type Budget struct {
	PeriodStart, PeriodEnd string // first and last day, YYYY-MM-DD
	Value                  string // USD, e.g. "500000.00"; zero is allowed
	ValueDate              string // YYYY-MM-DD; empty means PeriodStart
}

// Transaction is one money movement of the activity.
type Transaction struct {
	// Ref is the ledger's id of the movement (the pledge, contribution or
	// expenditure id). Required and unique within the activity.
	Ref string
	// Type is TypeIncomingCommitment ("11") or TypeIncomingPledge ("13") for
	// a pledge, TypeIncomingFunds ("1") for a contribution received,
	// TypeExpenditure ("4") for an expenditure. Any other code is refused.
	Type string
	// Date is the transaction-date: when the pledge was signed, the money
	// received or spent.
	Date string
	// ValueDate is the date whose exchange rate converts the value (the
	// date of the rate the ledger recorded); empty means Date.
	ValueDate string
	// Currency is the ISO 4217 code of Value; empty means USD. It must be a
	// currency the ledger accepts (money.LookupCurrency).
	Currency string
	// Value is the amount in Currency, a positive decimal string with at most
	// the currency's number of decimals: "50000.00" EUR, "10000000" JPY. It
	// is written with exactly the currency's decimals.
	Value string
	// ValueUSD is the US dollar amount the ledger recorded for the movement.
	// It is required for an expenditure in another currency than USD, where
	// it weighs the activity's recipient countries; elsewhere it is optional
	// and, when given, only checked to be an amount.
	ValueUSD string
	// Description is optional.
	Description string
	// ProviderOrg is the donor for incoming types (required there). It is
	// omitted when empty on an expenditure: the reporting org is assumed.
	ProviderOrg Participant
	// ReceiverOrg is the payee of an expenditure (omitted when empty). On an
	// incoming transaction an empty ReceiverOrg is written as UIL.
	ReceiverOrg Participant
	// RecipientCountry is the ISO 3166-1 alpha-2 code of the country an
	// expenditure benefited; empty when none. Only expenditures may have one.
	// It is not written on the transaction (IATI allows recipient countries
	// either on every transaction or on the activity, not both): the
	// activity's recipient-country percentages are computed from it.
	RecipientCountry string
}

// Sector is a sector of the activity.
type Sector struct {
	Vocabulary string // IATI SectorVocabulary code; "1" is OECD DAC CRS 5-digit purpose codes
	Code       string // a code of the vocabulary: "11110"
	Percentage string // decimal with at most two decimals, 0 to 100
}

// Organisation is the organisation file of the reporting organisation
// (XM-DAC-41304).
type Organisation struct {
	// Name is the organisation's name; empty means OrganisationName.
	Name string
	// LastUpdated (RFC 3339) is the organisation's last-updated-datetime.
	// Required.
	LastUpdated string
	// TotalBudgets are written as total-budget (status 1 indicative), in
	// order, each a period of at most one year; none is allowed.
	TotalBudgets []Budget
}

// ActivityIdentifier returns the iati-identifier of a term of a fund:
// the reporting organisation's identifier, the fund id in upper case and the
// term id, joined by hyphens. The default fund "mdfm" and term "2020-2021"
// give "XM-DAC-41304-MDFM-2020-2021". IATI requires the prefix to be the
// reporting org's identifier and an identifier never to change once
// published: do not rename funds or terms that have been published.
func ActivityIdentifier(fundID, termID string) string {
	return ReportingOrgRef + "-" + strings.ToUpper(fundID) + "-" + termID
}

// OrgTypeForDonorKind maps a donor kind of the ledger to an IATI
// OrganisationType code:
//
//	member_city → "11" Local Government
//	country     → "10" Government
//	company     → "70" Private Sector
//	foundation  → "60" Foundation
//	other       → "90" Other
//
// An unknown kind gives "", which a render refuses as a donor type: a new
// kind must be mapped here before it can be published.
func OrgTypeForDonorKind(kind string) string {
	switch kind {
	case "member_city":
		return "11"
	case "country":
		return "10"
	case "company":
		return "70"
	case "foundation":
		return "60"
	case "other":
		return "90"
	}
	return ""
}

// orgTypes is the IATI OrganisationType codelist of version 2.03.
var orgTypes = map[string]bool{
	"10": true, "11": true, "15": true, "21": true, "22": true, "23": true, "24": true,
	"30": true, "40": true, "60": true, "70": true, "71": true, "72": true, "73": true,
	"80": true, "90": true,
}

// YearlyBudgets splits total (USD) over the calendar-year periods of the term
// from startsOn to endsOn: a term of 2020-07-01 to 2022-06-30 gives three
// periods, 2020-07-01–2020-12-31, 2021 and 2022-01-01–2022-06-30. The split
// weighs each period by its months, a partial month counting by its share of
// days, with largest-remainder rounding to the cent, so a two-year term of
// whole calendar years gives two equal halves and the parts always add up to
// total. valueDate is every budget's value-date; empty means each period's
// start.
func YearlyBudgets(startsOn, endsOn, total, valueDate string) ([]Budget, error) {
	start, err := parseDate("starts_on", startsOn)
	if err != nil {
		return nil, err
	}
	end, err := parseDate("ends_on", endsOn)
	if err != nil {
		return nil, err
	}
	if end.Before(start) {
		return nil, invalid("ends_on", "%s is before starts_on %s", endsOn, startsOn)
	}
	if valueDate != "" {
		if _, err := parseDate("value_date", valueDate); err != nil {
			return nil, err
		}
	}
	minor, err := parseAmount("total", total, money.USD, true)
	if err != nil {
		return nil, err
	}
	type period struct{ from, to time.Time }
	var periods []period
	for from := start; !from.After(end); {
		to := time.Date(from.Year(), 12, 31, 0, 0, 0, 0, time.UTC)
		if to.After(end) {
			to = end
		}
		periods = append(periods, period{from, to})
		from = to.AddDate(0, 0, 1)
	}
	if len(periods) > MaxBudgets {
		return nil, invalid("ends_on", "the term spans more than %d years", MaxBudgets)
	}
	weights := make([]int64, len(periods))
	for i, p := range periods {
		weights[i] = monthWeight(p.from, p.to)
	}
	parts := money.Split(minor, weights)
	out := make([]Budget, len(periods))
	for i, p := range periods {
		out[i] = Budget{
			PeriodStart: p.from.Format(dateLayout),
			PeriodEnd:   p.to.Format(dateLayout),
			Value:       money.Format(parts[i], money.USD),
			ValueDate:   valueDate,
		}
	}
	return out, nil
}

// monthUnit is the weight of a whole month: the least common multiple of 28,
// 29, 30 and 31, so that a day of any month weighs a whole number of units.
const monthUnit = 377_580

// monthWeight weighs the days from..to (inclusive, within one year) in
// months: monthUnit per whole month, days/daysInMonth of it for a partial one.
func monthWeight(from, to time.Time) int64 {
	var w int64
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(to); m = m.AddDate(0, 1, 0) {
		next := m.AddDate(0, 1, 0)
		first, last := m, next.AddDate(0, 0, -1)
		if first.Before(from) {
			first = from
		}
		if last.After(to) {
			last = to
		}
		w += (days(first, last) + 1) * monthUnit / days(m, next)
	}
	return w
}

// days returns the number of days from a to b, both UTC midnights.
func days(a, b time.Time) int64 { return int64(b.Sub(a) / (24 * time.Hour)) }

// RenderActivities renders acts as an iati-activities document of version
// 2.03, generated at generatedAt (RFC 3339). It returns an error wrapping
// ErrInvalidInput, naming the field, when any input is invalid; acts must
// hold between 1 and MaxActivities activities.
func RenderActivities(acts []Activity, generatedAt string) ([]byte, error) {
	gen, err := parseDateTime("generated_at", generatedAt)
	if err != nil {
		return nil, err
	}
	if len(acts) == 0 {
		return nil, invalid("activities", "at least one activity is required")
	}
	if len(acts) > MaxActivities {
		return nil, overLimit("activities", "activities", len(acts), MaxActivities)
	}
	doc := xActivities{Version: Version, GeneratedDatetime: formatDateTime(gen)}
	ids := make(map[string]int, len(acts))
	today := gen.UTC().Format(dateLayout)
	for i, a := range acts {
		x, err := buildActivity(fmt.Sprintf("activities[%d]", i), a, today)
		if err != nil {
			return nil, err
		}
		if j, ok := ids[x.Identifier]; ok {
			return nil, invalid(fmt.Sprintf("activities[%d].term_id", i), "identifier %s repeats activities[%d]", x.Identifier, j)
		}
		ids[x.Identifier] = i
		doc.Activities = append(doc.Activities, x)
	}
	return encode(doc)
}

// RenderOrganisation renders o as an iati-organisations document of version
// 2.03 holding the one organisation XM-DAC-41304, generated at generatedAt
// (RFC 3339). It returns an error wrapping ErrInvalidInput, naming the field,
// when any input is invalid.
func RenderOrganisation(o Organisation, generatedAt string) ([]byte, error) {
	gen, err := parseDateTime("generated_at", generatedAt)
	if err != nil {
		return nil, err
	}
	updated, err := parseDateTime("organisation.last_updated", o.LastUpdated)
	if err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		name = OrganisationName
	}
	if err := checkText("organisation.name", name, true); err != nil {
		return nil, err
	}
	budgets, err := buildBudgets("organisation.total_budgets", o.TotalBudgets)
	if err != nil {
		return nil, err
	}
	org := xOrganisation{
		LastUpdated:     formatDateTime(updated),
		Lang:            "en",
		DefaultCurrency: DefaultCurrency,
		Identifier:      ReportingOrgRef,
		Name:            textOf(name),
		ReportingOrg:    reportingOrg(),
	}
	for _, b := range budgets {
		org.TotalBudgets = append(org.TotalBudgets, xTotalBudget{Status: "1", xBudgetParts: b})
	}
	return encode(xOrganisations{Version: Version, GeneratedDatetime: formatDateTime(gen), Organisations: []xOrganisation{org}})
}

func encode(doc any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode iati xml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode iati xml: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func buildActivity(path string, a Activity, today string) (xActivity, error) {
	updated, err := checkActivity(path, a)
	if err != nil {
		return xActivity{}, err
	}
	x := xActivity{
		LastUpdated:     formatDateTime(updated),
		Lang:            "en",
		DefaultCurrency: DefaultCurrency,
		Hierarchy:       "1",
		Identifier:      ActivityIdentifier(a.FundID, a.TermID),
		ReportingOrg:    reportingOrg(),
		Title:           textOf(a.Title),
		Description:     xDescription{Type: "1", Narratives: []xNarrative{{a.Description}}},
		Status:          xCode{Code: strconv.Itoa(a.Status)},
		Scope:           xCode{Code: "1"}, // global: learning cities of every region
		FinanceType:     xCode{Code: "110"},
	}
	if len(x.Identifier) > MaxRefBytes {
		return x, invalid(path+".term_id", "identifier %s is longer than %d bytes", x.Identifier, MaxRefBytes)
	}
	if x.ParticipatingOrgs, err = participatingOrgs(path, a.Donors); err != nil {
		return x, err
	}
	// Transactions are checked before the dates and the geography, which
	// depend on them.
	var earliest string
	var shares []share
	if x.Transactions, earliest, shares, err = buildTransactions(path, a.Transactions); err != nil {
		return x, err
	}
	x.Dates = activityDates(a, earliest, today)
	if x.RecipientCountries, x.RecipientRegions, err = recipients(path, shares); err != nil {
		return x, err
	}
	sectors := a.Sectors
	if len(sectors) == 0 {
		sectors = []Sector{DefaultSector}
	}
	if x.Sectors, err = buildSectors(path+".sectors", sectors); err != nil {
		return x, err
	}
	budgets, err := buildBudgets(path+".budgets", a.Budgets)
	if err != nil {
		return x, err
	}
	for _, b := range budgets {
		x.Budgets = append(x.Budgets, xBudget{Type: "1", Status: "1", xBudgetParts: b})
	}
	return x, nil
}

// checkActivity checks what an activity says of itself, before its donors
// and transactions, and returns its last-updated time.
func checkActivity(path string, a Activity) (time.Time, error) {
	if err := checkID(path+".fund_id", a.FundID); err != nil {
		return time.Time{}, err
	}
	if err := checkID(path+".term_id", a.TermID); err != nil {
		return time.Time{}, err
	}
	if err := checkText(path+".title", a.Title, true); err != nil {
		return time.Time{}, err
	}
	if err := checkText(path+".description", a.Description, true); err != nil {
		return time.Time{}, err
	}
	start, err := parseDate(path+".starts_on", a.StartsOn)
	if err != nil {
		return time.Time{}, err
	}
	end, err := parseDate(path+".ends_on", a.EndsOn)
	if err != nil {
		return time.Time{}, err
	}
	if end.Before(start) {
		return time.Time{}, invalid(path+".ends_on", "%s is before starts_on %s", a.EndsOn, a.StartsOn)
	}
	if a.Status < StatusPipeline || a.Status > StatusClosed {
		return time.Time{}, invalid(path+".status", "activity status %d is not 1 (pipeline), 2 (implementation), 3 (finalisation) or 4 (closed)", a.Status)
	}
	updated, err := parseDateTime(path+".last_updated", a.LastUpdated)
	if err != nil {
		return time.Time{}, err
	}
	if len(a.Donors) > MaxDonors {
		return time.Time{}, overLimit(path+".donors", "donors", len(a.Donors), MaxDonors)
	}
	if len(a.Transactions) > MaxTransactions {
		return time.Time{}, overLimit(path+".transactions", "transactions", len(a.Transactions), MaxTransactions)
	}
	return updated, nil
}

// participatingOrgs are the donors as funding organisations, then the
// reporting organisation as accountable and implementing.
func participatingOrgs(path string, donors []Participant) ([]xParticipatingOrg, error) {
	var out []xParticipatingOrg
	for i, d := range donors {
		p := fmt.Sprintf("%s.donors[%d]", path, i)
		if err := checkParticipant(p, d, true); err != nil {
			return nil, err
		}
		out = append(out, xParticipatingOrg{Role: "1", Type: d.Type, Ref: d.Ref, Narratives: []xNarrative{{d.Name}}})
	}
	for _, role := range []string{"2", "4"} {
		out = append(out, xParticipatingOrg{Role: role, Type: ReportingOrgType, Ref: ReportingOrgRef, Narratives: []xNarrative{{ReportingOrgName}}})
	}
	return out, nil
}

// buildTransactions checks and builds an activity's transactions, and
// returns the earliest date among them and the USD amount of each
// expenditure by recipient country.
func buildTransactions(path string, txs []Transaction) ([]xTransaction, string, []share, error) {
	var out []xTransaction
	refs := make(map[string]int, len(txs))
	var earliest string
	var shares []share
	for i, t := range txs {
		p := fmt.Sprintf("%s.transactions[%d]", path, i)
		xt, weightUSD, err := buildTransaction(p, t)
		if err != nil {
			return nil, "", nil, err
		}
		if j, ok := refs[t.Ref]; ok {
			return nil, "", nil, invalid(p+".ref", "ref %q repeats transactions[%d]", t.Ref, j)
		}
		refs[t.Ref] = i
		if earliest == "" || t.Date < earliest {
			earliest = t.Date
		}
		if t.Type == TypeExpenditure {
			shares = append(shares, share{country: t.RecipientCountry, weight: weightUSD})
		}
		out = append(out, xt)
	}
	return out, earliest, shares, nil
}

// activityDates are the planned start and end, the actual start once the
// activity is implemented and has a transaction by today, and the actual
// end once it is finalised and its end has passed.
func activityDates(a Activity, earliest, today string) []xActivityDate {
	dates := []xActivityDate{{Type: "1", ISODate: a.StartsOn}}
	if a.Status >= StatusImplementation && earliest != "" {
		actual := max(earliest, a.StartsOn)
		if actual <= today {
			dates = append(dates, xActivityDate{Type: "2", ISODate: actual})
		}
	}
	dates = append(dates, xActivityDate{Type: "3", ISODate: a.EndsOn})
	if a.Status >= StatusFinalisation && a.EndsOn <= today {
		dates = append(dates, xActivityDate{Type: "4", ISODate: a.EndsOn})
	}
	return dates
}

// buildTransaction checks t and returns its element and its weight in US
// cents for the recipient split (zero unless t is an expenditure).
func buildTransaction(p string, t Transaction) (xTransaction, int64, error) {
	if err := checkTransactionRef(p+".ref", t.Ref); err != nil {
		return xTransaction{}, 0, err
	}
	incoming := false
	switch t.Type {
	case TypeIncomingFunds, TypeIncomingCommitment, TypeIncomingPledge:
		incoming = true
	case TypeExpenditure:
	default:
		return xTransaction{}, 0, invalid(p+".type", "transaction type %q is not 1 (incoming funds), 4 (expenditure), 11 (incoming commitment) or 13 (incoming pledge)", t.Type)
	}
	if _, err := parseDate(p+".date", t.Date); err != nil {
		return xTransaction{}, 0, err
	}
	valueDate := t.ValueDate
	if valueDate == "" {
		valueDate = t.Date
	} else if _, err := parseDate(p+".value_date", valueDate); err != nil {
		return xTransaction{}, 0, err
	}
	cur, minor, usdMinor, err := transactionAmounts(p, t)
	if err != nil {
		return xTransaction{}, 0, err
	}
	if err := checkText(p+".description", t.Description, false); err != nil {
		return xTransaction{}, 0, err
	}
	x := xTransaction{
		Ref:   t.Ref,
		Type:  xCode{Code: t.Type},
		Date:  xDate{ISODate: t.Date},
		Value: xValue{ValueDate: valueDate, Amount: money.Format(minor, cur)},
	}
	if cur.Code != DefaultCurrency {
		x.Value.Currency = cur.Code
	}
	if t.Description != "" {
		d := textOf(t.Description)
		x.Description = &d
	}
	if incoming {
		return x, 0, incomingOrgs(p, t, &x)
	}
	return x, usdMinor, expenditureOrgs(p, t, &x)
}

// checkTransactionRef checks a transaction's ref: required, text, at most
// MaxRefBytes.
func checkTransactionRef(field, ref string) error {
	if ref == "" {
		return invalid(field, "ref is required")
	}
	if err := checkText(field, ref, true); err != nil {
		return err
	}
	if len(ref) > MaxRefBytes {
		return invalid(field, "ref is longer than %d bytes", MaxRefBytes)
	}
	return nil
}

// transactionAmounts checks a transaction's currency, value and US dollar
// value, and returns the currency, the value and the US cents (zero for
// an incoming transaction in another currency without value_usd).
func transactionAmounts(p string, t Transaction) (money.Currency, int64, int64, error) {
	code := t.Currency
	if code == "" {
		code = DefaultCurrency
	}
	cur, err := money.LookupCurrency(code)
	if err != nil {
		return cur, 0, 0, invalid(p+".currency", "currency %q is not one the ledger accepts", t.Currency)
	}
	minor, err := parseAmount(p+".value", t.Value, cur, false)
	if err != nil {
		return cur, 0, 0, err
	}
	var usdMinor int64
	switch {
	case t.ValueUSD != "":
		if usdMinor, err = parseAmount(p+".value_usd", t.ValueUSD, money.USD, false); err != nil {
			return cur, 0, 0, err
		}
		if cur.Code == DefaultCurrency && usdMinor != minor {
			return cur, 0, 0, invalid(p+".value_usd", "%s differs from the USD value %s", t.ValueUSD, t.Value)
		}
	case cur.Code == DefaultCurrency:
		usdMinor = minor
	case t.Type == TypeExpenditure:
		return cur, 0, 0, invalid(p+".value_usd", "an expenditure in %s needs the USD amount the ledger recorded", cur.Code)
	}
	return cur, minor, usdMinor, nil
}

// incomingOrgs sets the provider (required) and receiver (the reporting
// organisation unless given) of incoming money; it has no recipient
// country.
func incomingOrgs(p string, t Transaction, x *xTransaction) error {
	if err := checkParticipant(p+".provider_org", t.ProviderOrg, false); err != nil {
		return err
	}
	if t.RecipientCountry != "" {
		return invalid(p+".recipient_country", "only an expenditure has a recipient country")
	}
	x.ProviderOrg = orgOf(t.ProviderOrg)
	if t.ReceiverOrg == (Participant{}) {
		x.ReceiverOrg = &xTransactionOrg{Ref: ReportingOrgRef, Type: ReportingOrgType, Narratives: []xNarrative{{ReportingOrgName}}}
		return nil
	}
	if err := checkParticipant(p+".receiver_org", t.ReceiverOrg, false); err != nil {
		return err
	}
	x.ReceiverOrg = orgOf(t.ReceiverOrg)
	return nil
}

// expenditureOrgs sets the provider and receiver an expenditure names, and
// checks its recipient country.
func expenditureOrgs(p string, t Transaction, x *xTransaction) error {
	if t.ProviderOrg != (Participant{}) {
		if err := checkParticipant(p+".provider_org", t.ProviderOrg, false); err != nil {
			return err
		}
		x.ProviderOrg = orgOf(t.ProviderOrg)
	}
	if t.ReceiverOrg != (Participant{}) {
		if err := checkParticipant(p+".receiver_org", t.ReceiverOrg, false); err != nil {
			return err
		}
		x.ReceiverOrg = orgOf(t.ReceiverOrg)
	}
	if t.RecipientCountry != "" {
		if _, ok := refdata.LookupCountry(t.RecipientCountry); !ok {
			return invalid(p+".recipient_country", "%q is not an ISO 3166-1 alpha-2 code", t.RecipientCountry)
		}
	}
	return nil
}

// share is the USD amount (cents) spent in a country; "" is no country.
type share struct {
	country string
	weight  int64
}

// recipients returns the activity's recipient countries and regions: the
// countries its expenditures name, weighted by their USD amounts, and the
// region 998 for the spending that names none (or for the whole activity
// when nothing names a country). The percentages are hundredths of a per
// cent split with largest-remainder rounding, so they add up to exactly 100;
// ties go to the countries in code order, then the region.
func recipients(path string, shares []share) ([]xRecipientCountry, []xRecipientRegion, error) {
	byCountry := map[string]int64{}
	var unattributed int64
	for _, s := range shares {
		var ok bool
		if s.country == "" {
			unattributed, ok = money.AddChecked(unattributed, s.weight)
		} else {
			byCountry[s.country], ok = money.AddChecked(byCountry[s.country], s.weight)
		}
		if !ok {
			return nil, nil, invalid(path+".transactions", "expenditures add up beyond the largest amount")
		}
	}
	if len(byCountry) == 0 {
		return nil, []xRecipientRegion{{Code: RegionDevelopingUnspecified, Vocabulary: "1", Percentage: "100"}}, nil
	}
	codes := make([]string, 0, len(byCountry))
	for c := range byCountry {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	weights := make([]int64, 0, len(codes)+1)
	for _, c := range codes {
		weights = append(weights, byCountry[c])
	}
	if unattributed > 0 {
		weights = append(weights, unattributed)
	}
	parts := money.Split(10_000, weights)
	countries := make([]xRecipientCountry, len(codes))
	for i, c := range codes {
		countries[i] = xRecipientCountry{Code: c, Percentage: formatHundredths(parts[i])}
	}
	var regions []xRecipientRegion
	if unattributed > 0 {
		regions = []xRecipientRegion{{Code: RegionDevelopingUnspecified, Vocabulary: "1", Percentage: formatHundredths(parts[len(codes)])}}
	}
	return countries, regions, nil
}

// formatHundredths writes hundredths of a per cent without trailing zeros:
// 10000 → "100", 6250 → "62.5", 3333 → "33.33".
func formatHundredths(n int64) string {
	s := money.Format(n, money.Currency{Code: "PCT", Decimals: 2})
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func buildSectors(path string, sectors []Sector) ([]xSector, error) {
	if len(sectors) > MaxSectors {
		return nil, overLimit(path, "sectors", len(sectors), MaxSectors)
	}
	sums := map[string]int64{}
	var vocabularies []string
	out := make([]xSector, len(sectors))
	for i, s := range sectors {
		p := fmt.Sprintf("%s[%d]", path, i)
		if !isDigits(s.Vocabulary) || len(s.Vocabulary) > 2 {
			return nil, invalid(p+".vocabulary", "vocabulary %q is not an IATI SectorVocabulary code", s.Vocabulary)
		}
		if s.Vocabulary == "1" && (len(s.Code) != 5 || !isDigits(s.Code)) {
			return nil, invalid(p+".code", "code %q is not a 5-digit OECD DAC purpose code", s.Code)
		}
		if err := checkRef(p+".code", s.Code, true); err != nil {
			return nil, err
		}
		pct, err := parsePercentage(p+".percentage", s.Percentage)
		if err != nil {
			return nil, err
		}
		if _, seen := sums[s.Vocabulary]; !seen {
			vocabularies = append(vocabularies, s.Vocabulary)
		}
		sums[s.Vocabulary] += pct
		out[i] = xSector{Vocabulary: s.Vocabulary, Code: s.Code, Percentage: formatHundredths(pct)}
	}
	for _, v := range vocabularies {
		if sums[v] != 10_000 {
			return nil, invalid(path, "percentages of vocabulary %s add up to %s, not 100", v, formatHundredths(sums[v]))
		}
	}
	return out, nil
}

// parsePercentage parses a percentage from 0 to 100 with at most two
// decimals into hundredths of a per cent.
func parsePercentage(field, s string) (int64, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 3 || !isDigits(whole) || (hasDot && (frac == "" || len(frac) > 2 || !isDigits(frac))) {
		return 0, invalid(field, "%q is not a percentage with at most two decimals", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	n, _ := strconv.ParseInt(whole+frac, 10, 64)
	if n > 10_000 {
		return 0, invalid(field, "%s is above 100", s)
	}
	return n, nil
}

// buildBudgets checks budgets: each a period of at most one year, in order,
// not overlapping, with a USD value. It returns them with the value written
// with two decimals and the value date filled in.
func buildBudgets(path string, budgets []Budget) ([]xBudgetParts, error) {
	if len(budgets) > MaxBudgets {
		return nil, overLimit(path, "budgets", len(budgets), MaxBudgets)
	}
	out := make([]xBudgetParts, len(budgets))
	var prevEnd time.Time
	for i, b := range budgets {
		p := fmt.Sprintf("%s[%d]", path, i)
		start, err := parseDate(p+".period_start", b.PeriodStart)
		if err != nil {
			return nil, err
		}
		end, err := parseDate(p+".period_end", b.PeriodEnd)
		if err != nil {
			return nil, err
		}
		if end.Before(start) {
			return nil, invalid(p+".period_end", "%s is before period_start %s", b.PeriodEnd, b.PeriodStart)
		}
		if i > 0 && !start.After(prevEnd) {
			return nil, invalid(p+".period_start", "%s is not after the end of the previous period", b.PeriodStart)
		}
		if !end.Before(start.AddDate(1, 0, 0)) {
			return nil, invalid(p+".period_end", "the period %s to %s is longer than one year", b.PeriodStart, b.PeriodEnd)
		}
		prevEnd = end
		valueDate := b.ValueDate
		if valueDate == "" {
			valueDate = b.PeriodStart
		} else if _, err := parseDate(p+".value_date", valueDate); err != nil {
			return nil, err
		}
		minor, err := parseAmount(p+".value", b.Value, money.USD, true)
		if err != nil {
			return nil, err
		}
		out[i] = xBudgetParts{
			PeriodStart: xDate{ISODate: b.PeriodStart},
			PeriodEnd:   xDate{ISODate: b.PeriodEnd},
			Value:       xValue{ValueDate: valueDate, Amount: money.Format(minor, money.USD)},
		}
	}
	return out, nil
}

func checkParticipant(p string, o Participant, typeRequired bool) error {
	if err := checkText(p+".name", o.Name, true); err != nil {
		return err
	}
	if err := checkRef(p+".ref", o.Ref, false); err != nil {
		return err
	}
	if o.Type == "" && !typeRequired {
		return nil
	}
	if !orgTypes[o.Type] {
		return invalid(p+".type", "%q is not an IATI OrganisationType code (see OrgTypeForDonorKind)", o.Type)
	}
	return nil
}

// checkRef checks an organisation identifier or code: no white space, none
// of the characters IATI identifiers must not contain.
func checkRef(field, s string, required bool) error {
	if s == "" {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	if len(s) > MaxRefBytes {
		return invalid(field, "is longer than %d bytes", MaxRefBytes)
	}
	if !utf8.ValidString(s) {
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) || strings.ContainsRune("/&|?", r) {
			return invalid(field, "%q may not contain white space, control characters or any of / & | ?", s)
		}
	}
	return nil
}

// checkID checks a fund or term id, which becomes part of the
// iati-identifier: letters, digits, '.', '_' and '-', starting with a
// letter or digit.
func checkID(field, s string) error {
	if s == "" {
		return invalid(field, "is required")
	}
	if len(s) > MaxRefBytes {
		return invalid(field, "is longer than %d bytes", MaxRefBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '.' && c != '_' && c != '-')) {
			return invalid(field, "%q may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit", s)
		}
	}
	return nil
}

// checkText checks text that becomes a narrative or attribute: valid UTF-8,
// only characters XML 1.0 allows, at most MaxTextBytes, and not blank when
// required. encoding/xml would replace a forbidden character silently; the
// caller should learn that its data holds one instead.
func checkText(field, s string, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return invalid(field, "is required")
	}
	if len(s) > MaxTextBytes {
		return invalid(field, "is longer than %d bytes", MaxTextBytes)
	}
	if !utf8.ValidString(s) {
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return invalid(field, "contains the character %U, which XML does not allow", r)
		}
	}
	return nil
}

// isXMLChar reports whether r is a Char of XML 1.0.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseAmount parses a decimal amount of cur with money.ParseMinor (which
// refuses exponents, signs and too many decimals). Zero is allowed only when
// allowZero.
func parseAmount(field, s string, cur money.Currency, allowZero bool) (int64, error) {
	minor, err := money.ParseMinor(s, cur)
	if errors.Is(err, money.ErrNotPositive) && allowZero && s != "" && s[0] != '-' {
		return 0, nil
	}
	if err != nil {
		return 0, invalid(field, "%q is not an amount in %s: %v", s, cur.Code, err)
	}
	return minor, nil
}

const dateLayout = "2006-01-02"

// parseDate parses YYYY-MM-DD. time.Parse with this layout wants exactly two
// digits for month and day; the year is kept to 1900–9999 so that the text
// is also a valid xsd:date.
func parseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || len(s) != len(dateLayout) || t.Year() < 1900 {
		return time.Time{}, invalid(field, "%q is not a date YYYY-MM-DD", s)
	}
	return t, nil
}

// parseDateTime parses an RFC 3339 date-time with a time zone.
func parseDateTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1900 || t.Year() > 9999 {
		return time.Time{}, invalid(field, "%q is not an RFC 3339 date-time", s)
	}
	return t, nil
}

// formatDateTime writes t in UTC, with fractions of a second only when it
// has some: the same instant always gives the same text.
func formatDateTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func reportingOrg() xReportingOrg {
	return xReportingOrg{Ref: ReportingOrgRef, Type: ReportingOrgType, Narratives: []xNarrative{{ReportingOrgName}}}
}

func textOf(s string) xText { return xText{Narratives: []xNarrative{{s}}} }

func orgOf(o Participant) *xTransactionOrg {
	return &xTransactionOrg{Ref: o.Ref, Type: o.Type, Narratives: []xNarrative{{o.Name}}}
}
