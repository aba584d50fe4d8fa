package projections

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// Pledge statuses, as of a date: recorded, amended at least once, or
// cancelled.
const (
	PledgeRecorded  = "recorded"
	PledgeAmended   = "amended"
	PledgeCancelled = "cancelled"
)

// PledgeRow is one pledge as it stood at the end of a day. Amounts in the
// pledge's currency are in Amount's currency; the _usd ones are US dollars.
type PledgeRow struct {
	PledgeID string `json:"pledge_id"`
	DonorID  string `json:"donor_id"`
	TermID   string `json:"term_id"`
	// Amount, USDRate, USDValue and DueOn are as last amended by the day
	// (by fund_seq among the amendments dated on or before it; Status is
	// amended once one is).
	Amount   money.Amount `json:"amount"`
	USDRate  string       `json:"usd_rate"`
	USDValue money.Amount `json:"usd_value"`
	Earmark  string       `json:"earmark,omitempty"` // "line:<id>", "cluster:<id>", or empty
	SignedOn string       `json:"signed_on"`
	DueOn    string       `json:"due_on"`
	Status   string       `json:"status"` // PledgeRecorded, PledgeAmended or PledgeCancelled
	// CancelledOn is set when Status is cancelled.
	CancelledOn string `json:"cancelled_on,omitempty"`
	// Paid and PaidUSD are what the receipts paying the pledge, received on
	// or before the day and not reversed, brought in: in the pledge's
	// currency and in US dollars at the receipts' own rates.
	Paid    money.Amount `json:"paid"`
	PaidUSD money.Amount `json:"paid_usd"`
	// WrittenOff and WrittenOffUSD are what a cancellation dated on or
	// before the day wrote off.
	WrittenOff    money.Amount `json:"written_off"`
	WrittenOffUSD money.Amount `json:"written_off_usd"`
	// Outstanding is what the pledge still expects in its currency (zero
	// once cancelled); OutstandingUSD the balance of its memo account, its
	// US dollar value in proportion.
	Outstanding    money.Amount `json:"outstanding"`
	OutstandingUSD money.Amount `json:"outstanding_usd"`
	// Overdue is set when DueOn is before the day and the pledge still
	// expects money.
	Overdue bool `json:"overdue"`
}

// Pledges returns the pledges of a fund's term signed on or before asOf
// (YYYY-MM-DD), as they stood at the end of that day, by term, signing date
// and id. An empty term returns the pledges of every term. It reads
// everything the read model has: a receipt reversed later is left out of
// what was paid on any day, since its reversal is dated on its day. Errors
// are *errs.Error (invalid_date, unknown_fund, unknown_term) or an
// infrastructure error.
func (s *Store) Pledges(ctx context.Context, fund, term, asOf string) ([]PledgeRow, error) {
	if !ValidDate(asOf) {
		return nil, InvalidDate("as_of", asOf)
	}
	v, err := s.OpenView(ctx, "pledges", fund, 0)
	if err != nil {
		return nil, err
	}
	defer v.Tx.Rollback()
	if term != "" {
		if err := v.checkTerm(ctx, term); err != nil {
			return nil, err
		}
	}
	rows, err := v.Tx.QueryContext(ctx, `SELECT pledge_id, donor_id, term_id, currency, signed_amount_minor, signed_usd_rate, signed_usd_minor,
			earmark, signed_on, due_on
		FROM pledges WHERE fund = ?1 AND (?2 = '' OR term_id = ?2) AND signed_on <= ?3
		ORDER BY term_id, signed_on, pledge_id`, fund, term, asOf)
	if err != nil {
		return nil, fmt.Errorf("pledges: %w", err)
	}
	var out []PledgeRow
	for rows.Next() {
		var (
			r           PledgeRow
			cur         string
			amount, usd int64
		)
		if err := rows.Scan(&r.PledgeID, &r.DonorID, &r.TermID, &cur, &amount, &r.USDRate, &usd, &r.Earmark, &r.SignedOn, &r.DueOn); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pledges: %w", err)
		}
		r.Amount, r.USDValue = money.Amount{Minor: amount, Currency: cur}, money.USDAmount(usd)
		r.Status = PledgeRecorded
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pledges: %w", err)
	}
	for i := range out {
		if err := pledgeAsOf(ctx, v, &out[i], asOf); err != nil {
			return nil, fmt.Errorf("pledges: pledge %s: %w", out[i].PledgeID, err)
		}
	}
	return out, nil
}

// pledgeFiguresQuery adds up a pledge's standing receipts and its memo
// postings (?1 fund, ?2 pledge, ?3 as_of, ?4 the memo account) by the
// pledge's partial indexes, which it names: without statistics SQLite
// read every memo posting of the fund by postings_account instead, once
// for each pledge listed (issue 10: the list cost its pledges times the
// fund's memo postings).
const pledgeFiguresQuery = `SELECT
	COALESCE((SELECT SUM(amount_minor) FROM contributions INDEXED BY contributions_pledge
		WHERE fund = ?1 AND pledge_id = ?2 AND pledge_id != '' AND received_on <= ?3 AND reversed_by = ''), 0),
	COALESCE((SELECT SUM(usd_minor) FROM contributions INDEXED BY contributions_pledge
		WHERE fund = ?1 AND pledge_id = ?2 AND pledge_id != '' AND received_on <= ?3 AND reversed_by = ''), 0),
	COALESCE((SELECT SUM(amount_minor) FROM postings INDEXED BY postings_pledge
		WHERE fund = ?1 AND pledge_id = ?2 AND pledge_id != '' AND effective_on <= ?3 AND account = ?4), 0)`

// pledgeAsOf folds a pledge's amendments, cancellation, receipts and memo
// postings dated on or before asOf into r, which holds the pledge as signed.
func pledgeAsOf(ctx context.Context, v *View, r *PledgeRow, asOf string) error {
	cur := r.Amount.Currency
	r.Paid, r.WrittenOff, r.Outstanding = money.Amount{Currency: cur}, money.Amount{Currency: cur}, money.Amount{Currency: cur}
	r.PaidUSD, r.WrittenOffUSD, r.OutstandingUSD = money.USDAmount(0), money.USDAmount(0), money.USDAmount(0)
	// A revaluation after a reversal (terms_changed 0) changes nothing here:
	// the memo postings below carry what it did.
	rows, err := v.Tx.QueryContext(ctx, `SELECT kind, effective_on, amount_minor, usd_rate, usd_minor, due_on, written_off_minor, written_off_usd_minor
		FROM pledge_changes WHERE fund = ? AND pledge_id = ? AND effective_on <= ? AND (kind = 'cancelled' OR terms_changed = 1)
		ORDER BY fund_seq`, v.Fund, r.PledgeID, asOf)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			kind, on, rate, due string
			amount, usd, wo, wu int64
		)
		if err := rows.Scan(&kind, &on, &amount, &rate, &usd, &due, &wo, &wu); err != nil {
			rows.Close()
			return err
		}
		switch kind {
		case "amended":
			r.Amount.Minor, r.USDRate, r.USDValue.Minor, r.DueOn = amount, rate, usd, due
			if r.Status != PledgeCancelled {
				r.Status = PledgeAmended
			}
		case "cancelled":
			r.Status, r.CancelledOn = PledgeCancelled, on
			r.WrittenOff.Minor += wo
			r.WrittenOffUSD.Minor += wu
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	err = v.Tx.QueryRowContext(ctx, pledgeFiguresQuery, v.Fund, r.PledgeID, asOf, domain.AccountMemoPledges).Scan(&r.Paid.Minor, &r.PaidUSD.Minor, &r.OutstandingUSD.Minor)
	if err != nil {
		return err
	}
	if r.Status != PledgeCancelled {
		r.Outstanding.Minor = r.Amount.Minor - r.Paid.Minor
	}
	r.Overdue = r.DueOn < asOf && r.Outstanding.Minor > 0
	return nil
}

// TrialBalanceRow is one account of the trial balance: an account of the
// trust, uil or memo book in one term, for one budget line, donor and
// earmark where the account is kept per line, donor or pot. Debit and
// Credit are the totals of its debit and credit postings, Balance their
// difference: positive for a debit balance, negative for a credit one.
type TrialBalanceRow struct {
	Account string `json:"account"`
	Term    string `json:"term"`
	Line    string `json:"line,omitempty"`
	Donor   string `json:"donor,omitempty"`
	Earmark string `json:"earmark,omitempty"`
	Debit   string `json:"debit"`
	Credit  string `json:"credit"`
	Balance string `json:"balance"`
}

// TrialBalance is every account of a fund with its postings dated on or
// before AsOf that the ledger knew at FundSeq, in US dollars, ordered by
// account, term, line, donor and earmark. TotalDebit equals TotalCredit, and
// the balances sum to zero: every event's postings do.
type TrialBalance struct {
	Fund        string            `json:"fund"`
	AsOf        string            `json:"as_of"`
	FundSeq     uint64            `json:"fund_seq"`
	ChainHead   string            `json:"chain_head"`
	Currency    string            `json:"currency"`
	Accounts    []TrialBalanceRow `json:"accounts"`
	TotalDebit  string            `json:"total_debit"`
	TotalCredit string            `json:"total_credit"`
}

// TrialBalance draws the trial balance of a fund at the end of asOf
// (YYYY-MM-DD), from what the ledger knew at fund_seq atSeq (0: everything
// the read model has). Errors are *errs.Error (invalid_date, unknown_fund,
// invalid_at_seq), an error wrapping ErrInconsistent when the postings do
// not balance, or an infrastructure error.
func (s *Store) TrialBalance(ctx context.Context, fund, asOf string, atSeq uint64) (TrialBalance, error) {
	return s.trialBalance(ctx, fund, asOf, atSeq, readAuto)
}

// trialBalance is TrialBalance, read as mode says (readAuto but in the tests that compare
// the running totals with the postings).
func (s *Store) trialBalance(ctx context.Context, fund, asOf string, atSeq uint64, mode readMode) (TrialBalance, error) {
	if !ValidDate(asOf) {
		return TrialBalance{}, InvalidDate("as_of", asOf)
	}
	v, err := s.OpenView(ctx, "trial balance", fund, atSeq)
	if err != nil {
		return TrialBalance{}, err
	}
	defer v.Tx.Rollback()
	v.setMode(mode)
	tb := TrialBalance{Fund: fund, AsOf: asOf, FundSeq: v.FundSeq, ChainHead: v.ChainHead, Currency: money.USD.Code, Accounts: []TrialBalanceRow{}}
	rows, err := v.trialRows(ctx, asOf)
	if err != nil {
		return TrialBalance{}, fmt.Errorf("trial balance: %w", err)
	}
	defer rows.Close()
	var debit, credit int64
	ok := true
	for rows.Next() {
		var (
			r      TrialBalanceRow
			dr, cr int64
		)
		if err := rows.Scan(&r.Account, &r.Term, &r.Line, &r.Donor, &r.Earmark, &dr, &cr); err != nil {
			return TrialBalance{}, fmt.Errorf("trial balance: %w", err)
		}
		var f1, f2 bool
		debit, f1 = money.AddChecked(debit, dr)
		credit, f2 = money.AddChecked(credit, cr)
		ok = ok && f1 && f2
		r.Debit, r.Credit, r.Balance = money.FormatUSD(dr), money.FormatUSD(cr), money.FormatUSD(dr-cr)
		tb.Accounts = append(tb.Accounts, r)
	}
	if err := rows.Err(); err != nil {
		return TrialBalance{}, fmt.Errorf("trial balance: %w", err)
	}
	if !ok {
		return TrialBalance{}, fmt.Errorf("trial balance of fund %s: %w", fund, errOverflow)
	}
	if debit != credit {
		return TrialBalance{}, fmt.Errorf("trial balance of fund %s as of %s at fund_seq %d: %w: debits %d, credits %d",
			fund, asOf, v.FundSeq, ErrInconsistent, debit, credit)
	}
	tb.TotalDebit, tb.TotalCredit = money.FormatUSD(debit), money.FormatUSD(credit)
	return tb, nil
}

// trialRows sums the trial balance's accounts from the running totals
// (View.totals; a key with no leg by asOf has no row, as in the postings),
// or the postings in the tests' oracle.
func (v *View) trialRows(ctx context.Context, asOf string) (*sql.Rows, error) {
	if totals, more, ok := v.totals("account, term_id, line_id, donor_id, earmark", "1", "?2", 3); ok {
		return v.Tx.QueryContext(ctx, `SELECT account, term_id, line_id, donor_id, earmark, SUM(d), -SUM(c)
			FROM (`+totals+`)
			GROUP BY account, term_id, line_id, donor_id, earmark HAVING SUM(n) > 0
			ORDER BY account, term_id, line_id, donor_id, earmark`, append([]any{v.Fund, asOf}, more...)...)
	}
	return v.Tx.QueryContext(ctx, `SELECT account, term_id, line_id, donor_id, earmark,
			COALESCE(SUM(CASE WHEN amount_minor > 0 THEN amount_minor END), 0),
			COALESCE(SUM(CASE WHEN amount_minor < 0 THEN -amount_minor END), 0)
		FROM postings WHERE fund = ? AND effective_on <= ? AND fund_seq <= ?
		GROUP BY account, term_id, line_id, donor_id, earmark
		ORDER BY account, term_id, line_id, donor_id, earmark`, v.Fund, asOf, int64(v.FundSeq))
}

// Participant is a city taking part in a cluster in a term.
type Participant struct {
	CityID  string `json:"city_id"`
	Name    string `json:"name"`
	Country string `json:"country"`
	TermID  string `json:"term_id"`
}

// ClusterRow is a thematic cluster with its technical partner (empty when
// it has none) and the cities that coordinate it and are its members.
// Coordinators are members too. Both lists are in term order, then in the
// order the cities came; they are empty, never nil, when there are none.
type ClusterRow struct {
	ClusterID        string        `json:"cluster_id"`
	Name             string        `json:"name"`
	TechnicalPartner string        `json:"technical_partner,omitempty"`
	Coordinators     []Participant `json:"coordinators"`
	Members          []Participant `json:"members"`
}

// Clusters lists a fund's clusters by id, with their coordinators and
// members in term; an empty term lists every term's. Errors are
// *errs.Error (unknown_fund, unknown_term) or an infrastructure error.
func (s *Store) Clusters(ctx context.Context, fund, term string) ([]ClusterRow, error) {
	v, err := s.OpenView(ctx, "clusters", fund, 0)
	if err != nil {
		return nil, err
	}
	defer v.Tx.Rollback()
	if term != "" {
		if err := v.checkTerm(ctx, term); err != nil {
			return nil, err
		}
	}
	rows, err := v.Tx.QueryContext(ctx, `SELECT cluster_id, name, technical_partner FROM clusters WHERE fund = ? ORDER BY cluster_id`, fund)
	if err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	out := []ClusterRow{}
	index := map[string]int{}
	for rows.Next() {
		c := ClusterRow{Coordinators: []Participant{}, Members: []Participant{}}
		if err := rows.Scan(&c.ClusterID, &c.Name, &c.TechnicalPartner); err != nil {
			rows.Close()
			return nil, fmt.Errorf("clusters: %w", err)
		}
		index[c.ClusterID] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	for _, t := range []struct {
		table string
		list  func(*ClusterRow) *[]Participant
	}{
		{"coordinators", func(c *ClusterRow) *[]Participant { return &c.Coordinators }},
		{"members", func(c *ClusterRow) *[]Participant { return &c.Members }},
	} {
		// The table name is one of two constants above.
		rows, err := v.Tx.QueryContext(ctx, `SELECT p.cluster_id, p.city_id, COALESCE(c.name, ''), COALESCE(c.country, ''), p.term_id
			FROM `+t.table+` p LEFT JOIN cities c ON c.fund = p.fund AND c.city_id = p.city_id
			WHERE p.fund = ?1 AND (?2 = '' OR p.term_id = ?2)
			ORDER BY p.cluster_id, p.term_id, p.fund_seq`, fund, term)
		if err != nil {
			return nil, fmt.Errorf("clusters: %s: %w", t.table, err)
		}
		for rows.Next() {
			var (
				cluster string
				p       Participant
			)
			if err := rows.Scan(&cluster, &p.CityID, &p.Name, &p.Country, &p.TermID); err != nil {
				rows.Close()
				return nil, fmt.Errorf("clusters: %s: %w", t.table, err)
			}
			i, ok := index[cluster]
			if !ok {
				rows.Close()
				return nil, fmt.Errorf("clusters: %w: %s of unknown cluster %s", ErrInconsistent, t.table, cluster)
			}
			l := t.list(&out[i])
			*l = append(*l, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("clusters: %s: %w", t.table, err)
		}
	}
	return out, nil
}
