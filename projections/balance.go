package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// Codes of QueryError: a complete set.
const (
	CodeUnknownFund  = "unknown_fund"
	CodeUnknownTerm  = "unknown_term"
	CodeInvalidDate  = "invalid_date"
	CodeInvalidAtSeq = "invalid_at_seq"
)

// QueryError is a query the read model cannot answer as asked. Code is one
// of the Code constants; Field names the parameter at fault; NotFound is set
// for the unknown_* codes (HTTP 404), the rest are invalid input (422).
type QueryError struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Field    string `json:"field,omitempty"`
	NotFound bool   `json:"-"`
}

func (e *QueryError) Error() string { return e.Code + ": " + e.Message }

// BalanceQuery asks for a fund's balance in one term.
type BalanceQuery struct {
	Fund string
	// Term is the term id; empty picks the term whose period contains AsOf,
	// else the term that starts last.
	Term string
	// AsOf is a date, YYYY-MM-DD: the balance at the end of that day, by
	// effective date. Required; the caller fills in today.
	AsOf string
	// AtSeq limits the query to what the ledger knew at that fund_seq:
	// events appended later, even back-dated ones, are left out. 0 means
	// everything the read model has.
	AtSeq uint64
}

// Balance is a fund's trust balance in one term and its parts, UIL's revenue
// apart, and progress to the term's target. Amounts are US dollars as
// decimal strings; percentages have two decimals. FundSeq and ChainHead say
// what the answer was computed at: asking again with AtSeq = FundSeq gives
// the same answer.
type Balance struct {
	Fund                string `json:"fund"`
	Term                string `json:"term"`
	AsOf                string `json:"as_of"`
	FundSeq             uint64 `json:"fund_seq"`
	ChainHead           string `json:"chain_head"`
	Currency            string `json:"currency"`
	Target              string `json:"target"`
	Pledged             string `json:"pledged"`
	Received            string `json:"received"`
	Interest            string `json:"interest"`
	Fees                string `json:"fees"`
	Spent               string `json:"spent"`
	Refunded            string `json:"refunded"`
	TrustBalance        string `json:"trust_balance"`
	AllocatedUnspent    string `json:"allocated_unspent"`
	Unallocated         string `json:"unallocated"`
	UILRevenue          string `json:"uil_revenue"`
	ReceivedPctOfTarget string `json:"received_pct_of_target"`
	PledgedPctOfTarget  string `json:"pledged_pct_of_target"`
}

// figures are the parts of a balance in US cents.
type figures struct {
	target, pledged, received, interest, fees, spent, refunded int64
	trustCash, unallocated, allocatedUnspent, uilRevenue       int64
}

// identity checks the accounting identity of DESIGN.md:
// trust cash = received + interest − fees − spent − refunded = unallocated + allocated-unspent.
func (f figures) identity() error {
	flows := f.received + f.interest - f.fees - f.spent - f.refunded
	if f.trustCash != flows || f.trustCash != f.unallocated+f.allocatedUnspent {
		return fmt.Errorf("%w: trust cash %d, received+interest-fees-spent-refunded %d, unallocated+allocated_unspent %d",
			ErrInconsistent, f.trustCash, flows, f.unallocated+f.allocatedUnspent)
	}
	return nil
}

// ValidDate reports whether s is a date written YYYY-MM-DD.
func ValidDate(s string) bool {
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s
}

// Balance answers a BalanceQuery from one consistent snapshot of the read
// model. Errors are *QueryError for a query that cannot be answered
// (unknown fund or term, a bad date, an AtSeq beyond what the read model
// knows), or an infrastructure error. A read model whose postings break the
// accounting identity answers an error wrapping ErrInconsistent, never a
// wrong balance.
func (s *Store) Balance(ctx context.Context, q BalanceQuery) (Balance, error) {
	if !ValidDate(q.AsOf) {
		return Balance{}, &QueryError{Code: CodeInvalidDate, Field: "as_of", Message: fmt.Sprintf("as_of %q is not a date written YYYY-MM-DD", q.AsOf)}
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Balance{}, fmt.Errorf("balance: %w", err)
	}
	defer tx.Rollback()

	b := Balance{Fund: q.Fund, AsOf: q.AsOf, Currency: money.USD.Code}
	var seq int64
	err = tx.QueryRowContext(ctx, `SELECT fund_seq, chain_head FROM fund_heads WHERE fund = ?`, q.Fund).Scan(&seq, &b.ChainHead)
	if errors.Is(err, sql.ErrNoRows) {
		return Balance{}, &QueryError{Code: CodeUnknownFund, Field: "fund", NotFound: true, Message: fmt.Sprintf("no fund %q has events", q.Fund)}
	}
	if err != nil {
		return Balance{}, fmt.Errorf("balance: read head of fund %s: %w", q.Fund, err)
	}
	b.FundSeq = uint64(seq)
	if q.AtSeq > 0 {
		if q.AtSeq > b.FundSeq {
			return Balance{}, &QueryError{Code: CodeInvalidAtSeq, Field: "at_seq",
				Message: fmt.Sprintf("at_seq %d is beyond the last event of fund %s known here (fund_seq %d)", q.AtSeq, q.Fund, b.FundSeq)}
		}
		b.FundSeq = q.AtSeq
		if err := tx.QueryRowContext(ctx, `SELECT hash FROM events WHERE fund = ? AND fund_seq = ?`, q.Fund, int64(q.AtSeq)).Scan(&b.ChainHead); err != nil {
			return Balance{}, fmt.Errorf("balance: read event %d of fund %s: %w", q.AtSeq, q.Fund, err)
		}
	}
	atSeq := int64(b.FundSeq)

	var f figures
	b.Term, f.target, err = pickTerm(ctx, tx, q.Fund, q.Term, q.AsOf, atSeq)
	if err != nil {
		return Balance{}, err
	}
	if err := sumPostings(ctx, tx, q.Fund, b.Term, q.AsOf, atSeq, &f); err != nil {
		return Balance{}, fmt.Errorf("balance of fund %s term %s: %w", q.Fund, b.Term, err)
	}
	if err := f.identity(); err != nil {
		return Balance{}, fmt.Errorf("balance of fund %s term %s as of %s at fund_seq %d: %w", q.Fund, b.Term, q.AsOf, atSeq, err)
	}
	b.Target = money.FormatUSD(f.target)
	b.Pledged = money.FormatUSD(f.pledged)
	b.Received = money.FormatUSD(f.received)
	b.Interest = money.FormatUSD(f.interest)
	b.Fees = money.FormatUSD(f.fees)
	b.Spent = money.FormatUSD(f.spent)
	b.Refunded = money.FormatUSD(f.refunded)
	b.TrustBalance = money.FormatUSD(f.trustCash)
	b.AllocatedUnspent = money.FormatUSD(f.allocatedUnspent)
	b.Unallocated = money.FormatUSD(f.unallocated)
	b.UILRevenue = money.FormatUSD(f.uilRevenue)
	b.ReceivedPctOfTarget = percent(f.received, f.target)
	b.PledgedPctOfTarget = percent(f.pledged, f.target)
	return b, nil
}

// pickTerm returns the asked term, or when none is asked the term whose
// period contains asOf, else the term that starts last; only terms opened by
// fund_seq atSeq count.
func pickTerm(ctx context.Context, tx *sql.Tx, fund, term, asOf string, atSeq int64) (string, int64, error) {
	var (
		id     string
		target int64
		err    error
	)
	if term != "" {
		id = term
		err = tx.QueryRowContext(ctx, `SELECT target_minor FROM terms WHERE fund = ? AND term_id = ? AND fund_seq <= ?`,
			fund, term, atSeq).Scan(&target)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT term_id, target_minor FROM terms
			WHERE fund = ?1 AND fund_seq <= ?2 AND starts_on <= ?3 AND ends_on >= ?3
			ORDER BY starts_on DESC, term_id DESC LIMIT 1`, fund, atSeq, asOf).Scan(&id, &target)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.QueryRowContext(ctx, `SELECT term_id, target_minor FROM terms WHERE fund = ? AND fund_seq <= ?
				ORDER BY starts_on DESC, term_id DESC LIMIT 1`, fund, atSeq).Scan(&id, &target)
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		msg := fmt.Sprintf("fund %s has no term %q", fund, term)
		if term == "" {
			msg = fmt.Sprintf("fund %s has no term yet", fund)
		}
		return "", 0, &QueryError{Code: CodeUnknownTerm, Field: "term", NotFound: true, Message: msg}
	}
	if err != nil {
		return "", 0, fmt.Errorf("balance: read term of fund %s: %w", fund, err)
	}
	return id, target, nil
}

// sumPostings folds the postings of one term up to the end of asOf and up
// to fund_seq atSeq into the figures. SQLite's SUM over INTEGER fails on
// overflow rather than wrapping.
func sumPostings(ctx context.Context, tx *sql.Tx, fund, term, asOf string, atSeq int64, f *figures) error {
	var cash, unallocated, allocated, spent, fee, received int64
	err := tx.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN account = ?1 THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN account = ?2 THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN account = ?3 THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN account = ?4 THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN account = ?5 THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN account = ?1 AND event_type = ?6 THEN amount_minor END), 0)
		FROM postings
		WHERE fund = ?7 AND term_id = ?8 AND effective_on <= ?9 AND fund_seq <= ?10`,
		domain.AccountTrustCash, domain.AccountTrustUnallocated, domain.AccountTrustAllocated,
		domain.AccountTrustSpent, domain.AccountUILFeeRevenue, events.TypeContributionReceived,
		fund, term, asOf, atSeq,
	).Scan(&cash, &unallocated, &allocated, &spent, &fee, &received)
	if err != nil {
		return fmt.Errorf("sum postings: %w", err)
	}
	f.trustCash = cash
	f.received = received
	// Interest and refunds will be the trust:cash postings of their own
	// event types, and pledges a memo account, once those events exist;
	// until then they are zero and the identity below holds without them.
	f.interest, f.refunded, f.pledged = 0, 0, 0
	// Fees are UIL's revenue credits: the only way trust money reaches UIL.
	f.fees = -fee
	f.uilRevenue = -fee
	f.spent = spent
	f.unallocated = -unallocated
	f.allocatedUnspent = -allocated - spent
	return nil
}

var hundred = decimal.NewFromInt(100)

// percent is part ÷ whole × 100 with two decimals, rounded half away from
// zero in decimal arithmetic; "0.00" when whole is not positive.
func percent(part, whole int64) string {
	if whole <= 0 {
		return "0.00"
	}
	return decimal.NewFromInt(part).Mul(hundred).DivRound(decimal.NewFromInt(whole), 2).StringFixed(2)
}
