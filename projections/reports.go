package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
)

// AsOfRefusal is the refusal of a report asked before its first event.
func AsOfRefusal(what, asOf, first string) *errs.Error {
	return Codes.New(CodeNoDataAsOf, "as_of", fmt.Sprintf("as_of %s is before the first event of %s (effective %s): the ledger has nothing to report then", asOf, what, first))
}

// fundFirstDate returns the earliest effective date of the fund's events up
// to the view's fund_seq.
func (v *View) fundFirstDate(ctx context.Context) (string, error) {
	// In date order through events_effective, to the first event known at
	// the view's fund_seq, rather than min() over all the fund's events.
	var first string
	err := v.Tx.QueryRowContext(ctx, `SELECT effective_on FROM events WHERE fund = ? AND fund_seq <= ? ORDER BY effective_on LIMIT 1`,
		v.Fund, int64(v.FundSeq)).Scan(&first)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read first event of fund %s: %w", v.Fund, err)
	}
	return first, nil
}

// TermSpan is a term as the budget and IATI reports see it: every term of
// the fund, picked by date when none is asked.
type TermSpan struct {
	ID               string
	StartsOn, EndsOn string
	TargetMinor      int64
	// First is the earliest effective date of the term's events known at
	// the view's fund_seq: its opening (dated its first day) or an earlier
	// posting (a pledge signed before the term starts).
	First string
	// ClosedOn is the date of the term's close known at the view's
	// fund_seq, "" while it is open.
	ClosedOn string
}

// TermSpans returns the fund's terms opened by the view's fund_seq, by start
// date. A term's first posting is found in date order through
// postings_balance, not by min() over all of its postings.
func (v *View) TermSpans(ctx context.Context) ([]TermSpan, error) {
	seq := int64(v.FundSeq)
	rows, err := v.Tx.QueryContext(ctx, `SELECT t.term_id, t.starts_on, t.ends_on, t.target_minor,
			min(t.starts_on, COALESCE((SELECT p.effective_on FROM postings p WHERE p.fund = t.fund AND p.term_id = t.term_id AND p.fund_seq <= ?2
				ORDER BY p.effective_on LIMIT 1), t.starts_on)),
			COALESCE((SELECT c.closed_on FROM term_closes c WHERE c.fund = t.fund AND c.term_id = t.term_id AND c.fund_seq <= ?2), '')
		FROM terms t WHERE t.fund = ?1 AND t.fund_seq <= ?2
		ORDER BY t.starts_on, t.term_id`, v.Fund, seq)
	if err != nil {
		return nil, fmt.Errorf("read terms of fund %s: %w", v.Fund, err)
	}
	defer rows.Close()
	var out []TermSpan
	for rows.Next() {
		var t TermSpan
		if err := rows.Scan(&t.ID, &t.StartsOn, &t.EndsOn, &t.TargetMinor, &t.First, &t.ClosedOn); err != nil {
			return nil, fmt.Errorf("read terms of fund %s: %w", v.Fund, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read terms of fund %s: %w", v.Fund, err)
	}
	return out, nil
}

// PickTermSpan returns the asked term, or when none is asked the term
// whose period contains asOf, else the last term started by asOf. It
// answers unknown_term for a term the fund does not have (at the view's
// fund_seq), and no_data_as_of when asOf is before the chosen term's first
// event or no term had started by then.
func (v *View) PickTermSpan(ctx context.Context, term, asOf string) (TermSpan, error) {
	ts, err := v.TermSpans(ctx)
	if err != nil {
		return TermSpan{}, err
	}
	if len(ts) == 0 {
		return TermSpan{}, domain.Codes.New(domain.CodeUnknownTerm, "term", fmt.Sprintf("fund %s has no term yet", v.Fund))
	}
	var pick *TermSpan
	if term != "" {
		for i := range ts {
			if ts[i].ID == term {
				pick = &ts[i]
			}
		}
		if pick == nil {
			return TermSpan{}, domain.Codes.New(domain.CodeUnknownTerm, "term", fmt.Sprintf("fund %s has no term %q", v.Fund, term))
		}
	} else {
		for i := range ts {
			if ts[i].StartsOn <= asOf && asOf <= ts[i].EndsOn {
				pick = &ts[i]
			}
		}
		if pick == nil {
			for i := range ts {
				if ts[i].First <= asOf {
					pick = &ts[i]
				}
			}
		}
		if pick == nil {
			return TermSpan{}, AsOfRefusal("any term of fund "+v.Fund, asOf, ts[0].First)
		}
	}
	if asOf < pick.First {
		return TermSpan{}, AsOfRefusal("term "+pick.ID, asOf, pick.First)
	}
	return *pick, nil
}

// ratePercent is part ÷ whole × 100 with two decimals, rounded half away
// from zero in decimal arithmetic (no float); nil when whole is zero, where
// no rate exists.
func ratePercent(part, whole int64) *string {
	if whole == 0 {
		return nil
	}
	s := decimal.NewFromInt(part).Mul(decimal.NewFromInt(100)).DivRound(decimal.NewFromInt(whole), 2).StringFixed(2)
	return &s
}

// RecordedAt returns the recorded time of the event at fund_seq seq.
func (v *View) RecordedAt(ctx context.Context, seq uint64) (string, error) {
	var at string
	err := v.Tx.QueryRowContext(ctx, `SELECT recorded_at FROM events WHERE fund = ? AND fund_seq = ?`, v.Fund, int64(seq)).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: fund %s has no event at fund_seq %d", ErrInconsistent, v.Fund, seq)
	}
	if err != nil {
		return "", fmt.Errorf("read event %d of fund %s: %w", seq, v.Fund, err)
	}
	return at, nil
}

// TermIDs returns the ids of a fund's terms, by start date. Errors are
// *errs.Error (unknown_fund) or an infrastructure error.
func (s *Store) TermIDs(ctx context.Context, fund string) ([]string, error) {
	v, err := s.OpenView(ctx, "terms", fund, 0)
	if err != nil {
		return nil, err
	}
	defer v.Tx.Rollback()
	ts, err := v.TermSpans(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids, nil
}
