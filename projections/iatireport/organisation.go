package iatireport

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/iati"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// Organisation builds the organisation file of the reporting organisation
// for a fund: its total budget per calendar year, the targets of the terms
// started by q.AsOf split by iati.YearlyBudgets and added up by year (terms
// do not overlap, so a year's parts never do). Errors are those of
// Activities; q.Term must be empty.
func Organisation(ctx context.Context, s *projections.Store, q Query) (OrganisationReport, error) {
	if !projections.ValidDate(q.AsOf) {
		return OrganisationReport{}, projections.InvalidDate("as_of", q.AsOf)
	}
	if q.Term != "" {
		return OrganisationReport{}, fmt.Errorf("iati organisation: the organisation file has no term (got %q)", q.Term)
	}
	v, err := s.OpenView(ctx, "iati organisation", q.Fund, q.AtSeq)
	if err != nil {
		return OrganisationReport{}, err
	}
	defer v.Tx.Rollback()
	all, err := v.TermSpans(ctx)
	if err != nil {
		return OrganisationReport{}, err
	}
	if len(all) == 0 {
		return OrganisationReport{}, domain.Codes.New(domain.CodeUnknownTerm, "term", fmt.Sprintf("fund %s has no term yet", q.Fund))
	}
	stamp, err := readStamp(ctx, v, q)
	if err != nil {
		return OrganisationReport{}, err
	}
	budgets, err := totalBudgets(all, q.AsOf)
	if err != nil {
		return OrganisationReport{}, fmt.Errorf("iati organisation: %w", err)
	}
	if len(budgets) == 0 {
		return OrganisationReport{}, projections.AsOfRefusal("any term of fund "+q.Fund, q.AsOf, all[0].First)
	}
	return OrganisationReport{Stamp: stamp, Organisation: iati.Organisation{LastUpdated: stamp.GeneratedAt, TotalBudgets: budgets}}, nil
}

// totalBudgets adds up by calendar year the yearly budgets of the terms
// started by asOf, by period start; none when no term had started.
func totalBudgets(terms []projections.TermSpan, asOf string) ([]iati.Budget, error) {
	type year struct {
		start, end string
		minor      int64
	}
	var years []*year
	byYear := map[string]*year{}
	for _, t := range terms {
		if t.First > asOf {
			continue
		}
		bs, err := iati.YearlyBudgets(t.StartsOn, t.EndsOn, money.FormatUSD(t.TargetMinor), "")
		if err != nil {
			return nil, fmt.Errorf("budgets of term %s: %w", t.ID, err)
		}
		for _, b := range bs {
			minor, err := money.ParseMinor(b.Value, money.USD)
			if errors.Is(err, money.ErrNotPositive) {
				minor, err = 0, nil // a year of a zero target
			}
			if err != nil {
				return nil, fmt.Errorf("budget %s of term %s: %w", b.Value, t.ID, err)
			}
			y := byYear[b.PeriodStart[:4]]
			if y == nil {
				y = &year{start: b.PeriodStart, end: b.PeriodEnd}
				byYear[b.PeriodStart[:4]] = y
				years = append(years, y)
			}
			y.start, y.end = min(y.start, b.PeriodStart), max(y.end, b.PeriodEnd)
			var ok bool
			if y.minor, ok = money.AddChecked(y.minor, minor); !ok {
				return nil, errOverflow
			}
		}
	}
	sort.Slice(years, func(i, j int) bool { return years[i].start < years[j].start })
	var out []iati.Budget
	for _, y := range years {
		out = append(out, iati.Budget{PeriodStart: y.start, PeriodEnd: y.end, Value: money.FormatUSD(y.minor)})
	}
	return out, nil
}
