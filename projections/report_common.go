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

// notReversed is an SQL condition: the row's event (fund_seq column col of
// table alias t) has no reversal known at fund_seq ?atSeq and dated on or
// before ?asOf. A reversal is dated on the day of the event it reverses, so
// the date condition only matters for a read model written otherwise.
func notReversed(t, col, atSeq, asOf string) string {
	return `NOT EXISTS (SELECT 1 FROM reversals r WHERE r.fund = ` + t + `.fund AND r.reversed_fund_seq = ` + t + `.` + col +
		` AND r.fund_seq <= ` + atSeq + ` AND r.effective_on <= ` + asOf + `)`
}

// reportTerm is a term as a report describes it at a view.
type reportTerm struct {
	id, startsOn, endsOn  string
	targetMinor           int64
	closedOn              string // empty while open as of the report's date
	disposition, toTermID string
	firstOn               string // the earliest date of any entry of the term
	openedSeq             int64
}

// loadTerm reads a term at the view: its period, whether it is closed by
// asOf, and the date of its first entry. The term must exist (pickTerm).
func loadTerm(ctx context.Context, v *view, term, asOf string) (reportTerm, error) {
	t := reportTerm{id: term}
	atSeq := int64(v.fundSeq)
	err := v.tx.QueryRowContext(ctx, `SELECT starts_on, ends_on, target_minor, fund_seq FROM terms WHERE fund = ? AND term_id = ? AND fund_seq <= ?`,
		v.fund, term, atSeq).Scan(&t.startsOn, &t.endsOn, &t.targetMinor, &t.openedSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return t, domain.Codes.New(domain.CodeUnknownTerm, "term", fmt.Sprintf("fund %s has no term %q", v.fund, term))
	}
	if err != nil {
		return t, fmt.Errorf("read term %s: %w", term, err)
	}
	err = v.tx.QueryRowContext(ctx, `SELECT closed_on, disposition, to_term_id FROM term_closes
		WHERE fund = ? AND term_id = ? AND fund_seq <= ? AND closed_on <= ?`, v.fund, term, atSeq, asOf).Scan(&t.closedOn, &t.disposition, &t.toTermID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("read close of term %s: %w", term, err)
	}
	// The term_opened event is dated on the term's start; a carry-over
	// into it may be dated earlier (the previous term's close).
	var first sql.NullString
	if err := v.tx.QueryRowContext(ctx, `SELECT MIN(effective_on) FROM postings WHERE fund = ? AND term_id = ? AND fund_seq <= ?`,
		v.fund, term, atSeq).Scan(&first); err != nil {
		return t, fmt.Errorf("read first entry of term %s: %w", term, err)
	}
	t.firstOn = t.startsOn
	if first.Valid && first.String < t.firstOn {
		t.firstOn = first.String
	}
	return t, nil
}

// checkAsOf refuses an as_of before the term's first entry.
func (t reportTerm) checkAsOf(asOf string) error {
	if asOf < t.firstOn {
		return Codes.New(CodeNoDataAsOf, "as_of", fmt.Sprintf("as_of %s is before the first entry of term %s (%s): the ledger has nothing to report for that date", asOf, t.id, t.firstOn))
	}
	return nil
}

// spendPlace is where a payment went: its country (ISO 3166 alpha-2, empty when
// not recorded) and the city as printed.
type spendPlace struct {
	country, city string
}

// classify returns the UNESCO region and World Bank income group of a
// country, NotClassified for either when unknown.
func classify(country string) (region, income string) {
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

// label prints a place for a list of the cities reached: "Nairobi (KE)", or
// the country's name when no city is recorded ("Germany (DE)"); empty when
// neither is known.
func (p spendPlace) label() string {
	switch {
	case p.city != "" && p.country != "":
		return p.city + " (" + p.country + ")"
	case p.city != "":
		return p.city
	case p.country != "":
		if c, ok := refdata.LookupCountry(p.country); ok {
			return c.Name + " (" + p.country + ")"
		}
		return p.country
	}
	return ""
}

// groupLess orders region or income group names for reading: income groups
// from low to high, regions by name, NotClassified last.
func groupLess(a, b string) bool {
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
