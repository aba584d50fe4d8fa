package donors

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// potFlows is what attributeTerm reads of the pots apart from the
// participants' money: which pots the term has, and, by pot, what the
// standing approvals drew and the interest credited.
type potFlows struct {
	keys     map[string]bool
	draws    map[string]int64
	interest map[string]int64
	// carriedOut: a carry-over took money out of the term's pots (a
	// debit), so that the weights start after it (readWeights).
	carriedOut bool
}

// attributeTerm attributes term's money at the view as of asOf (see
// Attribution for the rules): it reads the pots, the approvals and the
// weights, then shares the pots (attribution_share.go).
func attributeTerm(ctx context.Context, v *projections.View, term, asOf string) (*attribution, error) {
	at := &attribution{parts: map[string]*participant{}, asOf: asOf}
	pots, err := at.readPots(ctx, v, term, asOf)
	if err != nil {
		return nil, err
	}
	if err := at.checkRefundsPaidIn(); err != nil {
		return nil, err
	}
	if err := at.loadApprovals(ctx, v, term, asOf); err != nil {
		return nil, err
	}
	if err := at.checkDraws(pots); err != nil {
		return nil, err
	}
	if err := at.readWeights(ctx, v, term, asOf, pots.carriedOut); err != nil {
		return nil, err
	}
	if err := at.share(pots); err != nil {
		return nil, err
	}
	// What is left is the participants' figures: the expenditures and
	// approvals are not kept with a memoized attribution (Memo).
	at.exps, at.approvals = nil, nil
	return at, nil
}

// readPots reads the unallocated account, by pot, donor, type and sign:
// everything that moved money in or out of the pots. A reversal's legs
// carry the reversed event's type and net it out.
func (at *attribution) readPots(ctx context.Context, v *projections.View, term, asOf string) (potFlows, error) {
	pots := potFlows{keys: map[string]bool{}, draws: map[string]int64{}, interest: map[string]int64{}}
	rows, err := potRows(ctx, v, term, asOf)
	if err != nil {
		return pots, fmt.Errorf("attribution: read pots: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			pot, donor, typ string
			debit           bool
			x               int64
		)
		if err := rows.Scan(&pot, &donor, &typ, &debit, &x); err != nil {
			return pots, fmt.Errorf("attribution: read pots: %w", err)
		}
		pots.keys[pot] = true
		pots.carriedOut = pots.carriedOut || (debit && typ == events.TypeBalanceCarriedOver)
		if err := at.addPotRow(pots, pot, donor, typ, debit, x); err != nil {
			return pots, err
		}
	}
	if err := rows.Err(); err != nil {
		return pots, fmt.Errorf("attribution: read pots: %w", err)
	}
	return pots, nil
}

// potRows sums the term's postings on the unallocated account by earmark,
// donor, event type and sign, from the running totals (View.Totals: at the
// fund's head by date, below it by position too): a key with legs by asOf
// gives its credits, even when they are zero, and its debits when there
// are any, as summing its postings by sign would, which is what the tests'
// oracle does.
func potRows(ctx context.Context, v *projections.View, term, asOf string) (*sql.Rows, error) {
	totals, more, ok := v.Totals("earmark, donor_id, event_type", "term_id = ?2 AND account = ?4", "?3", 5)
	if !ok {
		return v.Tx.QueryContext(ctx, `SELECT earmark, donor_id, event_type, amount_minor > 0, SUM(amount_minor)
			FROM postings WHERE fund = ? AND term_id = ? AND account = ? AND effective_on <= ? AND fund_seq <= ?
			GROUP BY earmark, donor_id, event_type, amount_minor > 0`, v.Fund, term, domain.AccountTrustUnallocated, asOf, int64(v.FundSeq))
	}
	return v.Tx.QueryContext(ctx, `WITH t AS (`+totals+`),
			k AS (SELECT earmark, donor_id, event_type, SUM(d) AS d, SUM(c) AS c FROM t GROUP BY earmark, donor_id, event_type HAVING SUM(n) > 0)
		SELECT earmark, donor_id, event_type, 1, d FROM k WHERE d != 0
		UNION ALL
		SELECT earmark, donor_id, event_type, 0, c FROM k`, append([]any{v.Fund, term, asOf, domain.AccountTrustUnallocated}, more...)...)
}

// addPotRow adds one sum of postings on the unallocated account (x, a
// debit when positive) to the pot's flows or to the donor's money.
func (at *attribution) addPotRow(pots potFlows, pot, donor, typ string, debit bool, x int64) error {
	if donor == "" && typ != events.TypeBalanceCarriedOver {
		switch typ {
		case events.TypeAllocationApproved:
			pots.draws[pot] += x
		case events.TypeInterestEarned:
			pots.interest[pot] -= x
		default:
			return fmt.Errorf("attribution: %w: a %s posting on %s without a donor", projections.ErrInconsistent, typ, domain.AccountTrustUnallocated)
		}
		return nil
	}
	// A carry-over without a donor moves money no donor can be
	// credited with: it is unattributed's own.
	p := at.part(donor)
	p.net[pot] -= x
	switch typ {
	case events.TypeContributionReceived:
		p.received -= x
	case events.TypeFeeCharged:
		p.fees += x
	case events.TypeRefundPaid:
		p.refunded += x
	case events.TypeBalanceCarriedOver:
		// Out of the term it is carried from (a debit of its
		// unallocated money), into the one it is carried to.
		if debit {
			p.carriedOut += x
			p.carriedOutOf[pot] += x
		} else {
			p.carriedIn -= x
		}
	default:
		return fmt.Errorf("attribution: %w: a %s posting on %s of donor %s", projections.ErrInconsistent, typ, domain.AccountTrustUnallocated, donor)
	}
	return nil
}

// checkDraws checks that the standing approvals drew from each pot what
// its postings say they drew.
func (at *attribution) checkDraws(pots potFlows) error {
	standing := map[string]int64{}
	for _, ap := range at.approvals {
		for k, x := range ap.draws {
			standing[k] += x
		}
	}
	for k := range pots.keys {
		if standing[k] != pots.draws[k] {
			return fmt.Errorf("attribution: %w: pot %q: the standing approvals drew %d, the postings %d", projections.ErrInconsistent, k, standing[k], pots.draws[k])
		}
	}
	for k := range standing {
		if !pots.keys[k] && standing[k] != 0 {
			return fmt.Errorf("attribution: %w: pot %q: the standing approvals drew %d without postings", projections.ErrInconsistent, k, standing[k])
		}
	}
	return nil
}

// readWeights reads the weights of the pots' shares, as
// domain.Term.DonorNet keeps them: each donor's net money put into a pot
// since the close last carried the pot out (the carried-out pot's weights
// are spent; a reversal booked after the close weighs anew). carriedOut
// says whether the pots read a carry-over's debit by the view and asOf.
func (at *attribution) readWeights(ctx context.Context, v *projections.View, term, asOf string, carriedOut bool) error {
	if !carriedOut && v.Head != 0 {
		// Without a close that carried a pot out, a donor's weight in
		// a pot is its net money in it, which readPots summed: the
		// postings the query below would add up are the same. (A view
		// without a head, the tests' oracle, adds them up.) At an at_seq
		// this query was four fifths of a statement's first request at
		// 1,000,000 events.
		for id, p := range at.parts {
			for pot, x := range p.net {
				if id != unattributed && x > 0 {
					p.weight[pot] = x
				}
			}
		}
		return nil
	}
	// The last close of each pot is found once (cut), not once a posting:
	// a subquery per row made a statement cost the square of the term's
	// postings (issue 10: minutes at 100,000 events).
	rows, err := v.Tx.QueryContext(ctx, `WITH cut AS (SELECT earmark, MAX(fund_seq) AS seq FROM postings
			WHERE fund = ?1 AND term_id = ?2 AND account = ?3 AND event_type = ?6 AND amount_minor > 0 AND effective_on <= ?4 AND fund_seq <= ?5
			GROUP BY earmark)
		SELECT p.earmark, p.donor_id, SUM(p.amount_minor) FROM postings p LEFT JOIN cut ON cut.earmark = p.earmark
		WHERE p.fund = ?1 AND p.term_id = ?2 AND p.account = ?3 AND p.effective_on <= ?4 AND p.fund_seq <= ?5 AND p.donor_id != ''
			AND p.fund_seq > COALESCE(cut.seq, 0)
		GROUP BY p.earmark, p.donor_id`, v.Fund, term, domain.AccountTrustUnallocated, asOf, int64(v.FundSeq), events.TypeBalanceCarriedOver)
	if err != nil {
		return fmt.Errorf("attribution: read weights: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			pot, donor string
			x          int64
		)
		if err := rows.Scan(&pot, &donor, &x); err != nil {
			return fmt.Errorf("attribution: read weights: %w", err)
		}
		if x < 0 {
			at.part(donor).weight[pot] = -x
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("attribution: read weights: %w", err)
	}
	return nil
}

// loadApprovals reads the term's allocation approvals standing at the view
// (not reversed by it), what each drew from which pot, and the
// expenditures standing against each.
func (at *attribution) loadApprovals(ctx context.Context, v *projections.View, term, asOf string) error {
	byAlloc, err := at.readApprovals(ctx, v, term, asOf)
	if err != nil {
		return err
	}
	if at.exps, err = projections.StandingSpending(ctx, v, term, asOf); err != nil {
		return fmt.Errorf("attribution: %w", err)
	}
	return at.attachSpending(byAlloc)
}

// readApprovals reads the standing approvals into at.approvals, in the
// fund's order, and returns them by the allocation each approved (the
// approvals table: an allocation's row names only the approval standing at
// the head, not one a later reversal took back).
func (at *attribution) readApprovals(ctx context.Context, v *projections.View, term, asOf string) (map[string]*standingApproval, error) {
	// The approvals are found by their events (events_type), then their
	// legs by fund_seq, not among all the term's postings (the "+" keeps
	// SQLite from doing that): the legs of an approval event are those of
	// its type that reverse nothing.
	rows, err := v.Tx.QueryContext(ctx, `SELECT p.fund_seq, a.allocation_id, p.account, p.line_id, p.earmark, p.amount_minor
		FROM postings p JOIN approvals a ON a.fund = p.fund AND a.fund_seq = p.fund_seq
		WHERE p.fund = ?1 AND p.fund_seq IN (SELECT fund_seq FROM events WHERE fund = ?1 AND type = ?3 AND fund_seq <= ?4)
			AND +p.term_id = ?2 AND +p.effective_on <= ?5 AND `+projections.NotReversed("p", "fund_seq", "?4", "?5")+`
		ORDER BY p.fund_seq, p.leg`, v.Fund, term, events.TypeAllocationApproved, int64(v.FundSeq), asOf)
	if err != nil {
		return nil, fmt.Errorf("attribution: read approvals: %w", err)
	}
	defer rows.Close()
	byAlloc := map[string]*standingApproval{}
	for rows.Next() {
		var (
			seq, x                             int64
			allocation, account, line, earmark string
		)
		if err := rows.Scan(&seq, &allocation, &account, &line, &earmark, &x); err != nil {
			return nil, fmt.Errorf("attribution: read approvals: %w", err)
		}
		ap := byAlloc[allocation]
		if ap != nil && ap.seq != seq {
			return nil, fmt.Errorf("attribution: %w: allocation %s has two standing approvals, at fund_seq %d and %d", projections.ErrInconsistent, allocation, ap.seq, seq)
		}
		if ap == nil {
			ap = &standingApproval{seq: seq, allocationID: allocation, draws: map[string]int64{}}
			byAlloc[allocation] = ap
			at.approvals = append(at.approvals, ap)
		}
		switch account {
		case domain.AccountTrustUnallocated:
			ap.draws[earmark] += x
		case domain.AccountTrustAllocated:
			ap.lineID, ap.amount = line, -x
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attribution: read approvals: %w", err)
	}
	return byAlloc, nil
}

// attachSpending puts each standing expenditure under the approval of its
// allocation and checks that each approval drew its amount and spent no
// more.
func (at *attribution) attachSpending(byAlloc map[string]*standingApproval) error {
	for _, e := range at.exps {
		ap := byAlloc[e.AllocationID]
		if ap == nil {
			return fmt.Errorf("attribution: %w: the expenditure at fund_seq %d, of allocation %s, which has no standing approval", projections.ErrInconsistent, e.Seq, e.AllocationID)
		}
		ap.exps = append(ap.exps, e)
	}
	for _, ap := range at.approvals {
		var spent, drawn int64
		for _, e := range ap.exps {
			spent += e.USD
		}
		for _, x := range ap.draws {
			drawn += x
		}
		if drawn != ap.amount || spent > ap.amount {
			return fmt.Errorf("attribution: %w: allocation %s of %d drew %d and spent %d", projections.ErrInconsistent, ap.allocationID, ap.amount, drawn, spent)
		}
	}
	return nil
}
