package projections

import "context"

// ExactBalance is Balance summing the postings even at the fund's head:
// what the running totals must equal.
func (s *Store) ExactBalance(ctx context.Context, q BalanceQuery) (Balance, error) {
	return s.balance(ctx, q, readPostings)
}

// ExactTrialBalance is TrialBalance summing the postings even at the fund's
// head.
func (s *Store) ExactTrialBalance(ctx context.Context, fund, asOf string, atSeq uint64) (TrialBalance, error) {
	return s.trialBalance(ctx, fund, asOf, atSeq, readPostings)
}

// ExactBudget is Budget summing the postings even at the fund's head.
func (s *Store) ExactBudget(ctx context.Context, q BudgetQuery) (BudgetReport, error) {
	return s.budget(ctx, q, readPostings)
}

// TotalsSides are the ways of reading the running totals at a fund's head
// that the tests compare with the postings: from the monthly checkpoints
// (what the reports do) and back from the totals over every day.
var TotalsSides = map[string]readMode{"checkpoints": readAuto, "from the end": readFromEnd}

// BalanceRead is Balance read the way side (one of TotalsSides) says.
func (s *Store) BalanceRead(ctx context.Context, q BalanceQuery, side string) (Balance, error) {
	return s.balance(ctx, q, TotalsSides[side])
}

// TrialBalanceRead is TrialBalance read the way side says.
func (s *Store) TrialBalanceRead(ctx context.Context, fund, asOf string, atSeq uint64, side string) (TrialBalance, error) {
	return s.trialBalance(ctx, fund, asOf, atSeq, TotalsSides[side])
}

// BudgetRead is Budget read the way side says.
func (s *Store) BudgetRead(ctx context.Context, q BudgetQuery, side string) (BudgetReport, error) {
	return s.budget(ctx, q, TotalsSides[side])
}

// Exact returns s reading the postings in every report even at the fund's
// head (the statement's included): what the running totals must equal.
func (s *Store) Exact() *Store { return &Store{Store: s.Store, mode: readPostings} }
