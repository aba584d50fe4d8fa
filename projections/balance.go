package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

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

// Term statuses of a Balance.
const (
	TermOpen   = "open"
	TermClosed = "closed"
)

// Balance is a fund's trust balance in one term and its parts, UIL's revenue
// apart, and progress to the term's target. Amounts are US dollars as
// decimal strings; percentages have two decimals. FundSeq and ChainHead say
// what the answer was computed at: asking again with AtSeq = FundSeq gives
// the same answer.
//
// Every figure counts the events dated on or before AsOf that the ledger
// knew at FundSeq. A reversal is dated on the day of the event it reverses
// and nets it out of every figure: a reversed receipt is not received, its
// reversed fee not charged, a reversed expenditure not spent. The identities
//
//	trust_balance = received + interest + carried_in − carried_out − fees − spent − refunded
//	              = unallocated + allocated_unspent
//	unallocated   = unallocated_unearmarked + Σ unallocated_earmarked
//
// always hold; Store.Balance answers an error rather than a balance that
// breaks them.
type Balance struct {
	Fund      string `json:"fund"`
	Term      string `json:"term"`
	AsOf      string `json:"as_of"`
	FundSeq   uint64 `json:"fund_seq"`
	ChainHead string `json:"chain_head"`
	Currency  string `json:"currency"`
	Target    string `json:"target"`
	// Pledged is the US dollar value of the term's pledges signed on or
	// before AsOf, each at its value as last amended by then (by fund_seq
	// among the amendments dated on or before AsOf; the revaluation that
	// follows a reversal changes no value and does not count), less what the
	// cancellation of a pledge cancelled by then wrote off: a cancelled
	// pledge counts for what it settled before it was cancelled.
	Pledged string `json:"pledged"`
	// PledgeOutstanding is the balance of the memo account of the term's
	// pledges: what they still expect, in US dollars at their own rates.
	PledgeOutstanding string `json:"pledge_outstanding"`
	// Received is cash received from donors (what the receipts produced in
	// US dollars), Interest the interest credited to the term.
	Received string `json:"received"`
	Interest string `json:"interest"`
	// CarriedIn is unallocated money brought from the previous term at its
	// close; CarriedOut what this term's close carried to the next one.
	CarriedIn  string `json:"carried_in"`
	CarriedOut string `json:"carried_out"`
	Fees       string `json:"fees"`
	Spent      string `json:"spent"`
	// Refunded is money returned to donors, including what the term's
	// close refunded.
	Refunded         string `json:"refunded"`
	TrustBalance     string `json:"trust_balance"`
	AllocatedUnspent string `json:"allocated_unspent"`
	Unallocated      string `json:"unallocated"`
	// UnallocatedUnearmarked is the part of Unallocated free for any line of
	// the term; UnallocatedEarmarked the rest, by earmark ("line:MDFM-1.1",
	// "cluster:ESD"), only for that line or the lines of that cluster. Pots
	// that hold nothing are left out; the object is {}, never null, when no
	// pot is earmarked.
	UnallocatedUnearmarked string        `json:"unallocated_unearmarked"`
	UnallocatedEarmarked   EarmarkedPots `json:"unallocated_earmarked"`
	UILRevenue             string        `json:"uil_revenue"`
	ReceivedPctOfTarget    string        `json:"received_pct_of_target"`
	PledgedPctOfTarget     string        `json:"pledged_pct_of_target"`
	// TermStatus is "closed" when the term's close is dated on or before
	// AsOf (and known at FundSeq), with ClosedOn its date; "open" otherwise,
	// ClosedOn then left out.
	TermStatus string `json:"term_status"`
	ClosedOn   string `json:"closed_on,omitempty"`
}

// figures are the parts of a balance in US cents.
type figures struct {
	target, pledged, pledgeOutstanding                   int64
	received, interest, carriedIn, carriedOut            int64
	fees, spent, refunded                                int64
	trustCash, unallocated, allocatedUnspent, uilRevenue int64
	unearmarked                                          int64
	earmarked                                            map[string]int64 // pot key → balance, no zero entries
}

// identity checks the accounting identities of docs/DESIGN.md, with the
// carry-overs of a term's close:
// trust cash = received + interest + carried in − carried out − fees − spent − refunded
// = unallocated + allocated-unspent, and the pots add up to unallocated.
func (f figures) identity() error {
	flows := f.received + f.interest + f.carriedIn - f.carriedOut - f.fees - f.spent - f.refunded
	if f.trustCash != flows || f.trustCash != f.unallocated+f.allocatedUnspent {
		return fmt.Errorf("%w: trust cash %d, received+interest+carried_in-carried_out-fees-spent-refunded %d, unallocated+allocated_unspent %d",
			ErrInconsistent, f.trustCash, flows, f.unallocated+f.allocatedUnspent)
	}
	pots := f.unearmarked
	for _, v := range f.earmarked {
		pots += v
	}
	if pots != f.unallocated {
		return fmt.Errorf("%w: the pots of the unallocated balance sum to %d, unallocated is %d", ErrInconsistent, pots, f.unallocated)
	}
	return nil
}

// ValidDate reports whether s is a date written YYYY-MM-DD.
func ValidDate(s string) bool {
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s
}

// InvalidDate is the invalid_date refusal of a parameter that is not a
// date written YYYY-MM-DD.
func InvalidDate(field, s string) *errs.Error {
	return domain.Codes.New(domain.CodeInvalidDate, field, fmt.Sprintf("%s %q is not a date written YYYY-MM-DD", field, s))
}

// View is one read snapshot of a fund: the fund_seq a query reads up to and
// the chain head there. The reports of this package and of package donors
// read through it; Tx is read-only and the opener rolls it back.
type View struct {
	Tx        *sql.Tx
	Fund      string
	FundSeq   uint64
	ChainHead string
	// Head is the fund's last fund_seq in the read model: when FundSeq is
	// Head a report reads the running totals by date (posting_days and the
	// monthly checkpoints, which only the head has), below it the totals
	// by position too (View.totals).
	Head uint64
	// mode is how a report reads the postings (readAuto but in tests).
	mode readMode
}

// readMode is how a report reads the postings: readAuto, the running totals
// (View.totals); the others, for the tests that compare the ways, force
// one.
type readMode int

const (
	readAuto     readMode = iota
	readPostings          // sum the postings even at the head
	readFromEnd           // at the head, the totals less the days after as_of
)

// setMode makes the view read as mode says.
func (v *View) setMode(mode readMode) {
	v.mode = mode
	if mode == readPostings {
		v.Head = 0
	}
}

// OpenView begins a read-only snapshot and finds the fund's head, or the
// event at atSeq when it is not 0. The caller rolls the transaction back.
func (s *Store) OpenView(ctx context.Context, what, fund string, atSeq uint64) (*View, error) {
	tx, err := s.BeginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	v := &View{Tx: tx, Fund: fund}
	var seq int64
	err = tx.QueryRowContext(ctx, `SELECT fund_seq, chain_head FROM fund_heads WHERE fund = ?`, fund).Scan(&seq, &v.ChainHead)
	if errors.Is(err, sql.ErrNoRows) {
		tx.Rollback()
		return nil, Codes.New(CodeUnknownFund, "fund", fmt.Sprintf("no fund %q has events", fund))
	}
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("%s: read head of fund %s: %w", what, fund, err)
	}
	v.FundSeq = uint64(seq)
	v.Head = v.FundSeq
	v.setMode(s.mode)
	if atSeq > 0 {
		if atSeq > v.FundSeq {
			tx.Rollback()
			return nil, Codes.New(CodeInvalidAtSeq, "at_seq", fmt.Sprintf("at_seq %d is beyond the last event of fund %s known here (fund_seq %d)", atSeq, fund, v.FundSeq))
		}
		v.FundSeq = atSeq
		if err := tx.QueryRowContext(ctx, `SELECT hash FROM events WHERE fund = ? AND fund_seq = ?`, fund, int64(atSeq)).Scan(&v.ChainHead); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("%s: read event %d of fund %s: %w", what, atSeq, fund, err)
		}
	}
	return v, nil
}

// checkTerm answers unknown_term unless the fund has term (opened by the
// view's fund_seq).
func (v *View) checkTerm(ctx context.Context, term string) error {
	var n int64
	if err := v.Tx.QueryRowContext(ctx, `SELECT count(*) FROM terms WHERE fund = ? AND term_id = ? AND fund_seq <= ?`,
		v.Fund, term, int64(v.FundSeq)).Scan(&n); err != nil {
		return fmt.Errorf("read term %s of fund %s: %w", term, v.Fund, err)
	}
	if n == 0 {
		return domain.Codes.New(domain.CodeUnknownTerm, "term", fmt.Sprintf("fund %s has no term %q", v.Fund, term))
	}
	return nil
}

// Balance answers a BalanceQuery from one consistent snapshot of the read
// model. Errors are *errs.Error for a query that cannot be answered
// (unknown fund or term, a bad date, an AtSeq beyond what the read model
// knows), or an infrastructure error. A read model whose postings break the
// accounting identity answers an error wrapping ErrInconsistent, never a
// wrong balance.
func (s *Store) Balance(ctx context.Context, q BalanceQuery) (Balance, error) {
	return s.balance(ctx, q, readAuto)
}

// balance is Balance, read as mode says (readAuto but in the tests that compare
// the running totals with the postings).
func (s *Store) balance(ctx context.Context, q BalanceQuery, mode readMode) (Balance, error) {
	if !ValidDate(q.AsOf) {
		return Balance{}, InvalidDate("as_of", q.AsOf)
	}
	v, err := s.OpenView(ctx, "balance", q.Fund, q.AtSeq)
	if err != nil {
		return Balance{}, err
	}
	defer v.Tx.Rollback()
	v.setMode(mode)
	b := Balance{Fund: q.Fund, AsOf: q.AsOf, Currency: money.USD.Code, FundSeq: v.FundSeq, ChainHead: v.ChainHead}
	atSeq := int64(v.FundSeq)

	f := figures{earmarked: map[string]int64{}}
	b.Term, f.target, err = pickTerm(ctx, v.Tx, q.Fund, q.Term, q.AsOf, atSeq)
	if err != nil {
		return Balance{}, err
	}
	if err := sumPostings(ctx, v, b.Term, q.AsOf, &f); err != nil {
		return Balance{}, fmt.Errorf("balance of fund %s term %s: %w", q.Fund, b.Term, err)
	}
	if f.pledged, err = pledged(ctx, v.Tx, q.Fund, b.Term, q.AsOf, atSeq); err != nil {
		return Balance{}, fmt.Errorf("balance of fund %s term %s: %w", q.Fund, b.Term, err)
	}
	if err := f.identity(); err != nil {
		return Balance{}, fmt.Errorf("balance of fund %s term %s as of %s at fund_seq %d: %w", q.Fund, b.Term, q.AsOf, atSeq, err)
	}
	b.TermStatus = TermOpen
	err = v.Tx.QueryRowContext(ctx, `SELECT closed_on FROM term_closes WHERE fund = ? AND term_id = ? AND fund_seq <= ? AND closed_on <= ?`,
		q.Fund, b.Term, atSeq, q.AsOf).Scan(&b.ClosedOn)
	switch {
	case err == nil:
		b.TermStatus = TermClosed
	case !errors.Is(err, sql.ErrNoRows):
		return Balance{}, fmt.Errorf("balance: read close of term %s: %w", b.Term, err)
	}
	b.Target = money.FormatUSD(f.target)
	b.Pledged = money.FormatUSD(f.pledged)
	b.PledgeOutstanding = money.FormatUSD(f.pledgeOutstanding)
	b.Received = money.FormatUSD(f.received)
	b.Interest = money.FormatUSD(f.interest)
	b.CarriedIn = money.FormatUSD(f.carriedIn)
	b.CarriedOut = money.FormatUSD(f.carriedOut)
	b.Fees = money.FormatUSD(f.fees)
	b.Spent = money.FormatUSD(f.spent)
	b.Refunded = money.FormatUSD(f.refunded)
	b.TrustBalance = money.FormatUSD(f.trustCash)
	b.AllocatedUnspent = money.FormatUSD(f.allocatedUnspent)
	b.Unallocated = money.FormatUSD(f.unallocated)
	b.UnallocatedUnearmarked = money.FormatUSD(f.unearmarked)
	pots := make(map[string]string, len(f.earmarked))
	for k, x := range f.earmarked {
		pots[k] = money.FormatUSD(x)
	}
	b.UnallocatedEarmarked = NewEarmarkedPots(pots)
	b.UILRevenue = money.FormatUSD(f.uilRevenue)
	b.ReceivedPctOfTarget = Percent(f.received, f.target)
	b.PledgedPctOfTarget = Percent(f.pledged, f.target)
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
		return "", 0, domain.Codes.New(domain.CodeUnknownTerm, "term", msg)
	}
	if err != nil {
		return "", 0, fmt.Errorf("balance: read term of fund %s: %w", fund, err)
	}
	return id, target, nil
}

// errOverflow is a sum beyond int64: no valid log reaches it (amounts are
// bounded by money.MaxAmountMinor).
var errOverflow = fmt.Errorf("%w: a sum of postings overflows", ErrInconsistent)

// sumPostings folds the postings of one term up to the end of asOf and up
// to the view's fund_seq into the figures: grouped by account, event type (a
// reversal leg carries the reversed event's type), earmark and sign, then
// added up here, from the running totals (View.totals). SQLite's SUM
// over INTEGER fails on overflow rather than wrapping; the additions here
// check too.
func sumPostings(ctx context.Context, v *View, term, asOf string, f *figures) error {
	var (
		rows *sql.Rows
		err  error
	)
	if totals, more, ok := v.totals("account, event_type, earmark", "term_id = ?2", "?3", 4); ok {
		rows, err = v.Tx.QueryContext(ctx, `WITH t AS (`+totals+`)
			SELECT account, event_type, earmark, 1, SUM(d) FROM t GROUP BY account, event_type, earmark
			UNION ALL
			SELECT account, event_type, earmark, 0, SUM(c) FROM t GROUP BY account, event_type, earmark`,
			append([]any{v.Fund, term, asOf}, more...)...)
	} else {
		rows, err = v.Tx.QueryContext(ctx, `SELECT account, event_type, earmark, amount_minor > 0, SUM(amount_minor)
			FROM postings
			WHERE fund = ? AND term_id = ? AND effective_on <= ? AND fund_seq <= ?
			GROUP BY account, event_type, earmark, amount_minor > 0`,
			v.Fund, term, asOf, int64(v.FundSeq))
	}
	if err != nil {
		return fmt.Errorf("sum postings: %w", err)
	}
	defer rows.Close()
	ok := true
	add := func(to *int64, x int64) {
		var fine bool
		*to, fine = money.AddChecked(*to, x)
		ok = ok && fine
	}
	for rows.Next() {
		var (
			account, typ, earmark string
			debit                 bool
			x                     int64
		)
		if err := rows.Scan(&account, &typ, &earmark, &debit, &x); err != nil {
			return fmt.Errorf("sum postings: %w", err)
		}
		f.addPosting(add, account, typ, earmark, debit, x)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sum postings: %w", err)
	}
	if !ok {
		return errOverflow
	}
	for k, v := range f.earmarked {
		if v == 0 {
			delete(f.earmarked, k)
		}
	}
	return nil
}

// addPosting adds one sum of postings (x, a debit when debit) on account,
// of event type typ and pot earmark, to the figures, with add. It reports
// whether it knows the account and, on trust:cash, the event type; a sum it
// does not know is left out, and the identities then fail at run time.
// TestFiguresTakeEveryPosting walks every kind of posting the domain books,
// so that a new one missed here fails a test first.
func (f *figures) addPosting(add func(to *int64, x int64), account, typ, earmark string, debit bool, x int64) bool {
	switch account {
	case domain.AccountTrustCash:
		add(&f.trustCash, x)
		switch typ {
		case events.TypeContributionReceived:
			add(&f.received, x)
		case events.TypeInterestEarned:
			add(&f.interest, x)
		case events.TypeRefundPaid:
			add(&f.refunded, -x)
		case events.TypeBalanceCarriedOver:
			// Money comes into the term it is carried to and leaves
			// the term it is carried from: the sign tells which.
			if debit {
				add(&f.carriedIn, x)
			} else {
				add(&f.carriedOut, -x)
			}
		case events.TypeFeeCharged, events.TypeExpenditureRecorded:
			// Counted where they land: fees on uil:fee_revenue,
			// spending on trust:spent.
		default:
			return false
		}
	case domain.AccountTrustUnallocated:
		add(&f.unallocated, -x)
		if earmark == "" {
			add(&f.unearmarked, -x)
		} else {
			v := f.earmarked[earmark]
			add(&v, -x)
			f.earmarked[earmark] = v
		}
	case domain.AccountTrustAllocated:
		add(&f.allocatedUnspent, -x)
	case domain.AccountTrustSpent:
		add(&f.spent, x)
		add(&f.allocatedUnspent, -x)
	case domain.AccountUILFeeRevenue:
		// Fees are UIL's revenue credits: the only way trust money
		// reaches UIL.
		add(&f.fees, -x)
		add(&f.uilRevenue, -x)
	case domain.AccountMemoPledges:
		add(&f.pledgeOutstanding, x)
	case domain.AccountUILCash, domain.AccountMemoPledgesContra:
		// The other legs of fees and of pledges: counted on
		// uil:fee_revenue and memo:pledges.
	default:
		return false
	}
	return true
}

// pledged is the Balance.Pledged figure of a term, in US cents.
func pledged(ctx context.Context, tx *sql.Tx, fund, term, asOf string, atSeq int64) (int64, error) {
	var sum int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(
			COALESCE((SELECT c.usd_minor FROM pledge_changes c
				WHERE c.fund = p.fund AND c.pledge_id = p.pledge_id AND c.kind = 'amended' AND c.terms_changed = 1
					AND c.effective_on <= ?3 AND c.fund_seq <= ?4
				ORDER BY c.fund_seq DESC LIMIT 1), p.signed_usd_minor)
			- COALESCE((SELECT SUM(c.written_off_usd_minor) FROM pledge_changes c
				WHERE c.fund = p.fund AND c.pledge_id = p.pledge_id AND c.kind = 'cancelled' AND c.effective_on <= ?3 AND c.fund_seq <= ?4), 0)
		), 0)
		FROM pledges p
		WHERE p.fund = ?1 AND p.term_id = ?2 AND p.signed_on <= ?3 AND p.created_seq <= ?4`,
		fund, term, asOf, atSeq).Scan(&sum)
	if err != nil {
		return 0, fmt.Errorf("sum pledges: %w", err)
	}
	return sum, nil
}

var hundred = decimal.NewFromInt(100)

// Percent is part ÷ whole × 100 with two decimals, rounded half away from
// zero in decimal arithmetic; "0.00" when whole is not positive.
func Percent(part, whole int64) string {
	if whole <= 0 {
		return "0.00"
	}
	return decimal.NewFromInt(part).Mul(hundred).DivRound(decimal.NewFromInt(whole), 2).StringFixed(2)
}

// EarmarkedPots is the earmarked part of an unallocated balance: pot key
// ("line:MDFM-1.1", "cluster:ESD") → US dollars as a decimal string. In
// JSON it is an object with sorted keys, {} when no pot is earmarked. It
// is held in its canonical encoding so that it is a comparable value, and
// Balance with it: two balances can be compared with ==. The zero value
// holds no pot.
type EarmarkedPots struct {
	enc string // canonical JSON of a non-empty map; "" for none
}

// NewEarmarkedPots returns the pots of m; m is not kept.
func NewEarmarkedPots(m map[string]string) EarmarkedPots {
	if len(m) == 0 {
		return EarmarkedPots{}
	}
	// encoding/json sorts map keys and a map of strings always encodes.
	b, _ := json.Marshal(m)
	return EarmarkedPots{enc: string(b)}
}

// Map returns the pots as a new map, empty when there are none.
func (p EarmarkedPots) Map() map[string]string {
	m := map[string]string{}
	if p.enc != "" {
		// enc was written by NewEarmarkedPots.
		_ = json.Unmarshal([]byte(p.enc), &m)
	}
	return m
}

// Equal reports whether p and q hold the same pots (go-cmp uses it).
func (p EarmarkedPots) Equal(q EarmarkedPots) bool { return p.enc == q.enc }

// Len returns the number of earmarked pots.
func (p EarmarkedPots) Len() int { return len(p.Map()) }

// String returns the JSON encoding.
func (p EarmarkedPots) String() string {
	if p.enc == "" {
		return "{}"
	}
	return p.enc
}

// MarshalJSON writes the pots as a JSON object.
func (p EarmarkedPots) MarshalJSON() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalJSON reads a JSON object of strings (null reads as no pot).
func (p *EarmarkedPots) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*p = NewEarmarkedPots(m)
	return nil
}
