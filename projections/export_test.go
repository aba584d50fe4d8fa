package projections

import "context"

// ExactBalance is Balance summing the postings even at the fund's head:
// what the running totals must equal.
func (s *Store) ExactBalance(ctx context.Context, q BalanceQuery) (Balance, error) {
	return s.balance(ctx, q, true)
}

// ExactTrialBalance is TrialBalance summing the postings even at the fund's
// head.
func (s *Store) ExactTrialBalance(ctx context.Context, fund, asOf string, atSeq uint64) (TrialBalance, error) {
	return s.trialBalance(ctx, fund, asOf, atSeq, true)
}

// ExactBudget is Budget summing the postings even at the fund's head.
func (s *Store) ExactBudget(ctx context.Context, q BudgetQuery) (BudgetReport, error) {
	return s.budget(ctx, q, true)
}
