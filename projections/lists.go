package projections

import (
	"context"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/money"
)

// DonorRow is a registered donor.
type DonorRow struct {
	DonorID string `json:"donor_id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Country string `json:"country"`
	City    string `json:"city,omitempty"`
}

// Donors lists a fund's donors by id. Errors are *errs.Error (unknown_fund)
// or an infrastructure error.
func (s *Store) Donors(ctx context.Context, fund string) ([]DonorRow, error) {
	v, err := s.OpenView(ctx, "donors", fund, 0)
	if err != nil {
		return nil, err
	}
	defer v.Tx.Rollback()
	rows, err := v.Tx.QueryContext(ctx, `SELECT donor_id, name, kind, country, city FROM donors WHERE fund = ? ORDER BY donor_id`, fund)
	if err != nil {
		return nil, fmt.Errorf("donors: %w", err)
	}
	defer rows.Close()
	out := []DonorRow{}
	for rows.Next() {
		var d DonorRow
		if err := rows.Scan(&d.DonorID, &d.Name, &d.Kind, &d.Country, &d.City); err != nil {
			return nil, fmt.Errorf("donors: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("donors: %w", err)
	}
	return out, nil
}

// AllocationRow is an allocation of a budget line, proposed or approved.
type AllocationRow struct {
	AllocationID string `json:"allocation_id"`
	LineID       string `json:"line_id"`
	TermID       string `json:"term_id"`
	Amount       string `json:"amount"` // US dollars
	Note         string `json:"note"`
	Status       string `json:"status"` // proposed or approved
	ProposedBy   string `json:"proposed_by"`
	ProposedOn   string `json:"proposed_on"`
	ProposedSeq  uint64 `json:"proposed_seq"`
	ApprovedBy   string `json:"approved_by,omitempty"`
	ApprovedOn   string `json:"approved_on,omitempty"`
}

// MaxAllocationRows bounds one answer of Allocations.
const MaxAllocationRows = 10_000

// Allocations lists a fund's allocations of a status ("proposed",
// "approved", or "" for both), in the order they were proposed, at most
// MaxAllocationRows. Errors are *errs.Error (unknown_fund) or an
// infrastructure error.
func (s *Store) Allocations(ctx context.Context, fund, status string) ([]AllocationRow, error) {
	v, err := s.OpenView(ctx, "allocations", fund, 0)
	if err != nil {
		return nil, err
	}
	defer v.Tx.Rollback()
	rows, err := v.Tx.QueryContext(ctx, `SELECT allocation_id, line_id, term_id, amount_minor, note, status, proposed_by, proposed_on, proposed_seq, approved_by, approved_on
		FROM allocations WHERE fund = ? AND (? = '' OR status = ?) ORDER BY proposed_seq LIMIT ?`, fund, status, status, MaxAllocationRows)
	if err != nil {
		return nil, fmt.Errorf("allocations: %w", err)
	}
	defer rows.Close()
	out := []AllocationRow{}
	for rows.Next() {
		var (
			a     AllocationRow
			minor int64
		)
		if err := rows.Scan(&a.AllocationID, &a.LineID, &a.TermID, &minor, &a.Note, &a.Status, &a.ProposedBy, &a.ProposedOn, &a.ProposedSeq, &a.ApprovedBy, &a.ApprovedOn); err != nil {
			return nil, fmt.Errorf("allocations: %w", err)
		}
		a.Amount = money.FormatUSD(minor)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("allocations: %w", err)
	}
	return out, nil
}
