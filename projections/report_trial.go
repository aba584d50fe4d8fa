package projections

import (
	"context"
	"fmt"
)

// TrialBalanceReport is the trial balance as GET
// /v1/reports/trial-balance answers it: TrialBalance (stamped with the
// fund_seq and chain head it was drawn at), the at_seq asked (omitted when
// none was) and the date axis of as_of.
type TrialBalanceReport struct {
	TrialBalance
	AtSeq    uint64 `json:"at_seq,omitempty"`
	DateAxis string `json:"date_axis"`
}

// TrialBalanceReport draws the trial balance of a fund at the end of asOf
// from what the ledger knew at fund_seq atSeq (0: everything the read model
// has), like TrialBalance, and refuses with no_data_as_of an asOf before the
// effective date of the fund's first event: an empty trial balance would
// look like books that balance. The check and the balance read the same
// fund_seq, so a back-dated event appended meanwhile cannot split them.
// Errors are those of TrialBalance and no_data_as_of.
func (s *Store) TrialBalanceReport(ctx context.Context, fund, asOf string, atSeq uint64) (TrialBalanceReport, error) {
	if !ValidDate(asOf) {
		return TrialBalanceReport{}, InvalidDate("as_of", asOf)
	}
	v, err := s.OpenView(ctx, "trial balance", fund, atSeq)
	if err != nil {
		return TrialBalanceReport{}, err
	}
	first, err := v.fundFirstDate(ctx)
	seq := v.FundSeq
	v.Tx.Rollback()
	if err != nil {
		return TrialBalanceReport{}, fmt.Errorf("trial balance: %w", err)
	}
	if asOf < first {
		return TrialBalanceReport{}, AsOfRefusal("fund "+fund, asOf, first)
	}
	tb, err := s.TrialBalance(ctx, fund, asOf, seq)
	if err != nil {
		return TrialBalanceReport{}, err
	}
	return TrialBalanceReport{TrialBalance: tb, AtSeq: atSeq, DateAxis: DateAxisEffective}, nil
}
