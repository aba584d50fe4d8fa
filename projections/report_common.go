package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/refdata"
)

// The classification the reports use for the cities their spending reached.
const (
	// IncomeGroupFY is the World Bank fiscal year of the income groups.
	IncomeGroupFY = "FY2026"
	// ClassificationSource names where the regions and income groups come
	// from (refdata/countries.csv, see refdata/ATTRIBUTION.md).
	ClassificationSource = "UNESCO regions (UNESCO Member States and Associate Members); World Bank CLASS income groups FY2026 (set 1 July 2025 from 2024 GNI per capita, Atlas method), embedded in refdata/countries.csv"
	// NotClassified names the group of spending whose country is not
	// recorded, not known, or has no UNESCO region or income group.
	NotClassified = "Not classified"
	// RegionAfrica is UNESCO's Africa region; IncomeLow the World Bank's
	// low-income group.
	RegionAfrica = "Africa"
	IncomeLow    = "Low income"
)

// DateAxisEffective is the date axis every report draws on: as_of is an
// effective date (value, payment or spending date), and at_seq, when given,
// leaves out what the ledger was told after that fund_seq.
const DateAxisEffective = "effective_date"

// incomeOrder orders the World Bank income groups from low to high.
var incomeOrder = map[string]int{"Low income": 0, "Lower middle income": 1, "Upper middle income": 2, "High income": 3}

// NotReversed is an SQL condition: the row's event (fund_seq column col of
// table alias t) has no reversal known at fund_seq ?atSeq and dated on or
// before ?asOf. A reversal is dated on the day of the event it reverses, so
// the date condition only matters for a read model written otherwise.
func NotReversed(t, col, atSeq, asOf string) string {
	return `NOT EXISTS (SELECT 1 FROM reversals r WHERE r.fund = ` + t + `.fund AND r.reversed_fund_seq = ` + t + `.` + col +
		` AND r.fund_seq <= ` + atSeq + ` AND r.effective_on <= ` + asOf + `)`
}

// NotReversedRow is NotReversed for a row of a table with a reversed_by
// column (contributions, fees, expenditures, interest, refunds). The fold
// sets reversed_by at the head once the row's event is reversed, so a row
// whose reversed_by is empty has no reversal known at any view, and only
// the others are looked up in reversals: a look-up a row was a third of a
// warm statement at 1,000,000 events (issue 10).
func NotReversedRow(t, col, atSeq, asOf string) string {
	return `(` + t + `.reversed_by = '' OR ` + NotReversed(t, col, atSeq, asOf) + `)`
}

// ReportTerm is a term as a report describes it at a view.
type ReportTerm struct {
	ID, StartsOn, EndsOn  string
	TargetMinor           int64
	ClosedOn              string // empty while open as of the report's date
	Disposition, ToTermID string
	FirstOn               string // the earliest date of any entry of the term
	OpenedSeq             int64
}

// LoadTerm reads a term at the view: its period, whether it is closed by
// asOf, and the date of its first entry. The term must exist (pickTerm).
func LoadTerm(ctx context.Context, v *View, term, asOf string) (ReportTerm, error) {
	t := ReportTerm{ID: term}
	atSeq := int64(v.FundSeq)
	err := v.Tx.QueryRowContext(ctx, `SELECT starts_on, ends_on, target_minor, fund_seq FROM terms WHERE fund = ? AND term_id = ? AND fund_seq <= ?`,
		v.Fund, term, atSeq).Scan(&t.StartsOn, &t.EndsOn, &t.TargetMinor, &t.OpenedSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return t, domain.Codes.New(domain.CodeUnknownTerm, "term", fmt.Sprintf("fund %s has no term %q", v.Fund, term))
	}
	if err != nil {
		return t, fmt.Errorf("read term %s: %w", term, err)
	}
	err = v.Tx.QueryRowContext(ctx, `SELECT closed_on, disposition, to_term_id FROM term_closes
		WHERE fund = ? AND term_id = ? AND fund_seq <= ? AND closed_on <= ?`, v.Fund, term, atSeq, asOf).Scan(&t.ClosedOn, &t.Disposition, &t.ToTermID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("read close of term %s: %w", term, err)
	}
	// The term_opened event is dated on the term's start; a carry-over
	// into it may be dated earlier (the previous term's close).
	var first sql.NullString
	if err := v.Tx.QueryRowContext(ctx, `SELECT MIN(effective_on) FROM postings WHERE fund = ? AND term_id = ? AND fund_seq <= ?`,
		v.Fund, term, atSeq).Scan(&first); err != nil {
		return t, fmt.Errorf("read first entry of term %s: %w", term, err)
	}
	t.FirstOn = t.StartsOn
	if first.Valid && first.String < t.FirstOn {
		t.FirstOn = first.String
	}
	return t, nil
}

// CheckAsOf refuses an as_of before the term's first entry.
func (t ReportTerm) CheckAsOf(asOf string) error {
	if asOf < t.FirstOn {
		return Codes.New(CodeNoDataAsOf, "as_of", fmt.Sprintf("as_of %s is before the first entry of term %s (%s): the ledger has nothing to report for that date", asOf, t.ID, t.FirstOn))
	}
	return nil
}

// Place is where a payment went: its country (ISO 3166 alpha-2, empty when
// not recorded) and the city as printed.
type Place struct {
	Country, City string
}

// Classify returns the UNESCO region and World Bank income group of a
// country, NotClassified for either when unknown.
func Classify(country string) (region, income string) {
	c, ok := refdata.LookupCountry(country)
	if !ok || country == "" {
		return NotClassified, NotClassified
	}
	region, income = c.UNESCORegion, c.IncomeGroup
	if region == "" {
		region = NotClassified
	}
	if income == "" {
		income = NotClassified
	}
	return region, income
}

// Label prints a place for a list of the cities reached: "Nairobi (KE)", or
// the country's name when no city is recorded ("Germany (DE)"); empty when
// neither is known.
func (p Place) Label() string {
	switch {
	case p.City != "" && p.Country != "":
		return p.City + " (" + p.Country + ")"
	case p.City != "":
		return p.City
	case p.Country != "":
		if c, ok := refdata.LookupCountry(p.Country); ok {
			return c.Name + " (" + p.Country + ")"
		}
		return p.Country
	}
	return ""
}

// GroupLess orders region or income group names for reading: income groups
// from low to high, regions by name, NotClassified last.
func GroupLess(a, b string) bool {
	if (a == NotClassified) != (b == NotClassified) {
		return b == NotClassified
	}
	ia, okA := incomeOrder[a]
	ib, okB := incomeOrder[b]
	if okA && okB {
		return ia < ib
	}
	return a < b
}
