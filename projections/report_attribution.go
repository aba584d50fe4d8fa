package projections

import (
	"context"
	"fmt"
	"math/bits"
	"sort"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// MaxAttributionCells bounds the work of one attribution: donors times the
// allocations and expenditures they are spread over. A term beyond it is
// refused with an error rather than computed without bound.
const MaxAttributionCells = 5_000_000

// AttributionQuery asks who paid for what in one term of a fund: the
// fields mean what they mean in BalanceQuery.
type AttributionQuery struct {
	Fund  string
	Term  string
	AsOf  string
	AtSeq uint64
}

// Attribution is a term's money attributed to its donors at the end of
// AsOf, from what the ledger knew at FundSeq: every donor with money in the
// term, and what no donor can be credited with. Adding up the donors and
// Unattributed gives the term's balance figure for figure (received plus
// carried in, fees, interest, spent, refunded, carried out, allocated
// unspent, unallocated). Unattributed is zero but in two cases: no donor
// has net money in the term (interest alone), or allocations dated before
// the receipts that paid for them overdraw a pot as of AsOf.
//
// The rules (the donor statement prints them):
//   - receipts, fees, refunds and carry-overs are the donor's own;
//   - each pot of the unallocated balance (the unearmarked pool, and each
//     earmark to a line or a cluster) is shared among the donors whose
//     money it holds pro rata to their net money put into it (receipts
//     less fees, less refunds drawn from it, plus what a close carried in
//     and less what it carried out), with the largest remainder, exactly
//     as the domain shares it for refunds and closes (domain.Term.PotShares);
//     a pot none of them has net money in is shared pro rata to their net
//     money in all the pots of the term;
//   - interest (credited to the pool) is shared pro rata like the pool;
//   - what a donor put into a pot, plus its interest, less its share of
//     what the pot still holds, is what the allocations drawn from that pot
//     took of its money: spread over those allocations pro rata to what
//     each drew, and over each allocation's expenditures and unspent rest
//     pro rata to their amounts, every split rounded so that each donor's
//     parts and each allocation's and expenditure's parts add up to the
//     cent (apportion).
type Attribution struct {
	Fund         string             `json:"fund"`
	Term         string             `json:"term"`
	AsOf         string             `json:"as_of"`
	FundSeq      uint64             `json:"fund_seq"`
	ChainHead    string             `json:"chain_head"`
	Donors       []DonorAttribution `json:"donors"`
	Unattributed AttributionFigures `json:"unattributed"`
}

// DonorAttribution is one donor's part of a term.
type DonorAttribution struct {
	DonorID string `json:"donor_id"`
	AttributionFigures
}

// AttributionFigures are US dollars as decimal strings. Received counts
// what a close carried in from the previous term.
type AttributionFigures struct {
	Received         string `json:"received"`
	Fees             string `json:"fees"`
	Interest         string `json:"interest"`
	Spent            string `json:"spent"`
	Refunded         string `json:"refunded"`
	CarriedOut       string `json:"carried_out"`
	AllocatedUnspent string `json:"allocated_unspent"`
	Unallocated      string `json:"unallocated"`
}

// Attribution attributes a term's money to its donors from one snapshot of
// the read model. Errors are *errs.Error (invalid_date, unknown_fund,
// unknown_term, invalid_at_seq, no_data_as_of, not_attributable), an error
// wrapping ErrInconsistent when the read model contradicts itself, or an
// infrastructure error.
func (s *Store) Attribution(ctx context.Context, q AttributionQuery) (Attribution, error) {
	if !ValidDate(q.AsOf) {
		return Attribution{}, invalidDate("as_of", q.AsOf)
	}
	v, err := s.openView(ctx, "attribution", q.Fund, q.AtSeq)
	if err != nil {
		return Attribution{}, err
	}
	defer v.tx.Rollback()
	span, err := v.pickTermSpan(ctx, q.Term, q.AsOf)
	if err != nil {
		return Attribution{}, err
	}
	term := span.id
	t, err := loadTerm(ctx, v, term, q.AsOf)
	if err != nil {
		return Attribution{}, err
	}
	if err := t.checkAsOf(q.AsOf); err != nil {
		return Attribution{}, err
	}
	at, err := attribute(ctx, v, term, q.AsOf)
	if err != nil {
		return Attribution{}, err
	}
	out := Attribution{Fund: q.Fund, Term: term, AsOf: q.AsOf, FundSeq: v.fundSeq, ChainHead: v.chainHead, Donors: []DonorAttribution{}}
	for _, id := range at.ids() {
		p := at.parts[id]
		if id == "" {
			out.Unattributed = p.figures()
			continue
		}
		out.Donors = append(out.Donors, DonorAttribution{DonorID: id, AttributionFigures: p.figures()})
	}
	if _, ok := at.parts[""]; !ok {
		out.Unattributed = (&participant{}).figures()
	}
	return out, nil
}

// unattributed is the participant id of money no donor can be credited
// with.
const unattributed = ""

// participant is a donor (or unattributed) in one term's attribution, all
// in US cents.
type participant struct {
	id string
	// net is, per pot ("" the pool, else "line:<id>" or "cluster:<id>"),
	// the money the participant put into the pot: receipts less fees, less
	// refunds drawn from it, plus carried in, less carried out.
	net                      map[string]int64
	received, fees, refunded int64 // received counts receipts only
	carriedIn, carriedOut    int64
	carriedOutOf             map[string]int64 // by pot
	// weight is, per pot, the net money put in since a close last carried
	// the pot out, when positive: what the pot's shares are weighed by.
	weight                                  map[string]int64
	interest, unallocated, allocatedUnspent int64
	spent                                   []spentPart
}

func (p *participant) spentTotal() int64 {
	var sum int64
	for _, x := range p.spent {
		sum += x.usd
	}
	return sum
}

func (p *participant) figures() AttributionFigures {
	return AttributionFigures{
		Received: money.FormatUSD(p.received + p.carriedIn), Fees: money.FormatUSD(p.fees), Interest: money.FormatUSD(p.interest),
		Spent: money.FormatUSD(p.spentTotal()), Refunded: money.FormatUSD(p.refunded), CarriedOut: money.FormatUSD(p.carriedOut),
		AllocatedUnspent: money.FormatUSD(p.allocatedUnspent), Unallocated: money.FormatUSD(p.unallocated),
	}
}

// spentPart is a participant's part of one expenditure, from earmarked pots
// or from the pool.
type spentPart struct {
	exp       *spendRow
	earmarked bool
	usd       int64
}

// spendRow is an expenditure of the term standing at the view.
type spendRow struct {
	id, allocationID, lineID string
	usd                      int64
	where                    spendPlace
}

// standingApproval is an allocation's approval standing at the view: the line, the
// pots it drew on and the expenditures against it.
type standingApproval struct {
	seq          int64
	allocationID string
	lineID       string
	amount       int64
	draws        map[string]int64 // pot → amount
	exps         []*spendRow
}

// attribution is the result of attribute.
type attribution struct {
	parts     map[string]*participant
	exps      []*spendRow
	approvals []*standingApproval
	// inflow is what the pots' donors shared as interest: the term's
	// interest, and money no donor could claim that a close carried in.
	inflow int64
	asOf   string
}

// ids returns the participants' ids, sorted (unattributed first).
func (a *attribution) ids() []string {
	ids := make([]string, 0, len(a.parts))
	for id := range a.parts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (a *attribution) part(id string) *participant {
	p, ok := a.parts[id]
	if !ok {
		p = &participant{id: id, net: map[string]int64{}, carriedOutOf: map[string]int64{}, weight: map[string]int64{}}
		a.parts[id] = p
	}
	return p
}

// attribute attributes term's money at the view as of asOf (see
// Attribution for the rules).
func attribute(ctx context.Context, v *view, term, asOf string) (*attribution, error) {
	at := &attribution{parts: map[string]*participant{}, asOf: asOf}
	atSeq := int64(v.fundSeq)
	draws := map[string]int64{}    // pot → allocated from it, by the standing approvals
	interest := map[string]int64{} // pot → interest credited to it
	pots := map[string]bool{}

	// The unallocated account, by pot, donor, type and sign: everything
	// that moved money in or out of the pots. A reversal's legs carry the
	// reversed event's type and net it out.
	rows, err := v.tx.QueryContext(ctx, `SELECT earmark, donor_id, event_type, amount_minor > 0, SUM(amount_minor)
		FROM postings WHERE fund = ? AND term_id = ? AND account = ? AND effective_on <= ? AND fund_seq <= ?
		GROUP BY earmark, donor_id, event_type, amount_minor > 0`, v.fund, term, domain.AccountTrustUnallocated, asOf, atSeq)
	if err != nil {
		return nil, fmt.Errorf("attribution: read pots: %w", err)
	}
	for rows.Next() {
		var (
			pot, donor, typ string
			debit           bool
			x               int64
		)
		if err := rows.Scan(&pot, &donor, &typ, &debit, &x); err != nil {
			rows.Close()
			return nil, fmt.Errorf("attribution: read pots: %w", err)
		}
		pots[pot] = true
		if donor == "" && typ != events.TypeBalanceCarriedOver {
			switch typ {
			case events.TypeAllocationApproved:
				draws[pot] += x
			case events.TypeInterestEarned:
				interest[pot] -= x
			default:
				rows.Close()
				return nil, fmt.Errorf("attribution: %w: a %s posting on %s without a donor", ErrInconsistent, typ, domain.AccountTrustUnallocated)
			}
			continue
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
			rows.Close()
			return nil, fmt.Errorf("attribution: %w: a %s posting on %s of donor %s", ErrInconsistent, typ, domain.AccountTrustUnallocated, donor)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attribution: read pots: %w", err)
	}

	if err := at.checkRefundsPaidIn(); err != nil {
		return nil, err
	}
	if err := at.loadApprovals(ctx, v, term, asOf); err != nil {
		return nil, err
	}
	standing := map[string]int64{}
	for _, ap := range at.approvals {
		for k, x := range ap.draws {
			standing[k] += x
		}
	}
	for k := range pots {
		if standing[k] != draws[k] {
			return nil, fmt.Errorf("attribution: %w: pot %q: the standing approvals drew %d, the postings %d", ErrInconsistent, k, standing[k], draws[k])
		}
	}
	for k := range standing {
		if !pots[k] && standing[k] != 0 {
			return nil, fmt.Errorf("attribution: %w: pot %q: the standing approvals drew %d without postings", ErrInconsistent, k, standing[k])
		}
	}

	// The weights of the pots' shares, as domain.Term.DonorNet keeps them:
	// each donor's net money put into a pot since the close last carried
	// the pot out (the carried-out pot's weights are spent; a reversal
	// booked after the close weighs anew).
	rows, err = v.tx.QueryContext(ctx, `SELECT p.earmark, p.donor_id, SUM(p.amount_minor) FROM postings p
		WHERE p.fund = ?1 AND p.term_id = ?2 AND p.account = ?3 AND p.effective_on <= ?4 AND p.fund_seq <= ?5 AND p.donor_id != ''
			AND p.fund_seq > COALESCE((SELECT MAX(c.fund_seq) FROM postings c WHERE c.fund = ?1 AND c.term_id = ?2 AND c.account = ?3
				AND c.earmark = p.earmark AND c.event_type = ?6 AND c.amount_minor > 0 AND c.effective_on <= ?4 AND c.fund_seq <= ?5), 0)
		GROUP BY p.earmark, p.donor_id`, v.fund, term, domain.AccountTrustUnallocated, asOf, atSeq, events.TypeBalanceCarriedOver)
	if err != nil {
		return nil, fmt.Errorf("attribution: read weights: %w", err)
	}
	for rows.Next() {
		var (
			pot, donor string
			x          int64
		)
		if err := rows.Scan(&pot, &donor, &x); err != nil {
			rows.Close()
			return nil, fmt.Errorf("attribution: read weights: %w", err)
		}
		if x < 0 {
			at.part(donor).weight[pot] = -x
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attribution: read weights: %w", err)
	}
	// A pot no donor has net money in is shared by their net money in all
	// the pots (domain.Term.PotShares).
	fallback := map[string]int64{}
	for id, p := range at.parts {
		for _, x := range p.weight {
			fallback[id] += x
		}
	}
	keys := make([]string, 0, len(pots))
	for k := range pots {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	outs := map[string]map[string]int64{} // pot → participant → what its draws took
	for _, k := range keys {
		o, err := at.sharePot(k, interest[k], draws[k], fallback)
		if err != nil {
			return nil, err
		}
		outs[k] = o
	}
	if err := at.spread(outs); err != nil {
		return nil, err
	}
	return at, nil
}

// checkRefundsPaidIn refuses a date at which a donor had been refunded
// while it had put no money into the term (receipts less fees, plus what a
// close carried in): a refund dated before the receipts it returned, which
// the domain refuses since issue 8 but an older log may hold. The pots'
// shares would otherwise pay for it with the interest of other donors'
// money, and the statement show it refunded and credited with interest.
func (at *attribution) checkRefundsPaidIn() error {
	for _, id := range at.ids() {
		p := at.parts[id]
		if id == unattributed || p.refunded <= 0 {
			continue
		}
		if in := p.received - p.fees + p.carriedIn; in <= 0 {
			return Codes.New(CodeNotAttributable, "as_of", fmt.Sprintf(
				"the term's money cannot be attributed to its donors as of %s: by then donor %q had been refunded %s but had put %s into the term (a refund dated before the receipts it returned)",
				at.asOf, id, money.FormatUSD(p.refunded), money.FormatUSD(max(in, 0))))
		}
	}
	return nil
}

// sharePot shares pot k: what each participant still holds of it
// (unallocated), its interest, and what the pot's allocations took of its
// money (returned, by participant).
func (at *attribution) sharePot(k string, interest, drawn int64, fallback map[string]int64) (map[string]int64, error) {
	weights := map[string]int64{}
	var wsum, balance int64
	for id, p := range at.parts {
		balance += p.net[k]
		if x := p.weight[k]; x > 0 {
			weights[id] = x
			wsum += x
		}
	}
	balance += interest - drawn
	if wsum == 0 {
		for id, x := range fallback {
			weights[id] = x
			wsum += x
		}
	}
	// Money a pot gets back after a close carried it out (an approval
	// reversed since) has no weights in the domain, which lets no donor
	// claim it: here it is still the money of those who put it in.
	for _, all := range []bool{false, true} {
		if wsum != 0 {
			break
		}
		for id, p := range at.parts {
			for pot, x := range p.net {
				if id != unattributed && x > 0 && (all || pot == k) {
					weights[id] += x
					wsum += x
				}
			}
		}
	}
	// The participants of the pot, in id order: who has money in it, who
	// may be given a share, and unattributed when it holds the pot (no
	// donor to share it among, or more allocated from it than it had by
	// the date: allocations dated before the receipts that paid them).
	holds := wsum == 0 || balance < 0
	// Money no donor could claim that a close carried in (interest of
	// the previous term, say) is shared like interest when donors hold
	// the pot.
	inflow := interest
	if u := at.parts[unattributed]; u != nil && !holds && u.net[k] != 0 {
		if u.net[k] < 0 {
			return nil, Codes.New(CodeNotAttributable, "as_of", fmt.Sprintf(
				"the %s cannot be attributed to its donors as of %s: %s no donor could claim left it while donors hold it", potLabel(k), at.asOf, money.FormatUSD(-u.net[k])))
		}
		inflow += u.net[k]
		u.interest -= u.net[k]
	}
	at.inflow += inflow
	var ids []string
	for id, p := range at.parts {
		if id == unattributed && !holds {
			continue
		}
		if p.net[k] != 0 || weights[id] > 0 || (id == unattributed && holds) {
			ids = append(ids, id)
		}
	}
	if holds && at.parts[unattributed] == nil {
		at.part(unattributed)
		ids = append(ids, unattributed)
	}
	sort.Strings(ids)
	share := map[string]int64{}
	if holds {
		share[unattributed] = balance
	} else {
		// As domain.Term.PotShares: donors with a positive weight, in id
		// order, largest remainder.
		var donors []string
		var ws []int64
		for _, id := range ids {
			if w := weights[id]; w > 0 {
				donors = append(donors, id)
				ws = append(ws, w)
			}
		}
		for i, x := range money.Split(balance, ws) {
			share[donors[i]] = x
		}
	}
	delta := make([]int64, len(ids))
	initial := make([]int64, len(ids))
	var isum, psum int64
	for i, id := range ids {
		delta[i] = share[id] - at.parts[id].net[k]
		initial[i] = weights[id]
		isum += initial[i]
		if delta[i] > 0 {
			psum += delta[i]
		}
	}
	if isum == 0 {
		for i := range ids {
			initial[i] = max(delta[i], 0)
		}
		isum = psum
	}
	if isum == 0 && len(ids) > 0 {
		initial[0] = 1
	}
	if inflow < 0 || drawn < 0 {
		return nil, fmt.Errorf("attribution: %w: pot %q has interest %d and draws %d", ErrInconsistent, k, inflow, drawn)
	}
	in, ok := splitInflow(delta, inflow, initial)
	if !ok {
		worst, most := "", int64(0)
		for i, id := range ids {
			if delta[i] > most && id != unattributed {
				worst, most = id, delta[i]
			}
		}
		return nil, Codes.New(CodeNotAttributable, "as_of", fmt.Sprintf(
			"the %s cannot be attributed to its donors as of %s: by then donor %q had been refunded %s more than its money, interest and share of the pot came to, %s short in all (a refund dated before the receipts it returned, a receipt reversed after it was refunded, or interest reversed after a refund of it)",
			potLabel(k), at.asOf, worst, money.FormatUSD(most), money.FormatUSD(psum-inflow)))
	}
	out := map[string]int64{}
	var osum int64
	for i, id := range ids {
		p := at.parts[id]
		p.unallocated += share[id]
		p.interest += in[i]
		if o := in[i] - delta[i]; o != 0 {
			out[id] = o
			osum += o
		}
	}
	if osum != drawn {
		return nil, fmt.Errorf("attribution: %w: pot %q: its donors' parts of the allocations add up to %d, the allocations to %d", ErrInconsistent, k, osum, drawn)
	}
	return out, nil
}

// potLabel names a pot in messages.
func potLabel(k string) string {
	if k == "" {
		return "unearmarked pool"
	}
	return "pot earmarked " + k
}

// splitInflow splits total among participants whose net claim on it is
// delta[i] (what they hold less what they put in): starting from
// money.Split(total, weights), it moves cents to a participant whose part
// is below its claim from the one with the most to spare, so that every
// part is at least max(delta[i], 0) and what the participant's allocations
// took, part − delta, is never negative. ok is false when no such split
// exists. weights must not all be zero unless total is.
func splitInflow(delta []int64, total int64, weights []int64) (parts []int64, ok bool) {
	parts = money.Split(total, weights)
	for i := range delta {
		for parts[i] < delta[i] {
			best, spare := -1, int64(0)
			for j := range delta {
				if s := min(parts[j], parts[j]-delta[j]); j != i && s > spare {
					best, spare = j, s
				}
			}
			if best < 0 {
				return nil, false
			}
			m := min(delta[i]-parts[i], spare)
			parts[i] += m
			parts[best] -= m
		}
	}
	return parts, true
}

// loadApprovals reads the term's allocation approvals standing at the view
// (not reversed by it), what each drew from which pot, and the
// expenditures standing against each.
func (at *attribution) loadApprovals(ctx context.Context, v *view, term, asOf string) error {
	atSeq := int64(v.fundSeq)
	rows, err := v.tx.QueryContext(ctx, `SELECT p.fund_seq, p.account, p.line_id, p.earmark, p.amount_minor
		FROM postings p
		WHERE p.fund = ?1 AND p.term_id = ?2 AND p.event_type = ?3 AND p.reversal_of = '' AND p.fund_seq <= ?4 AND p.effective_on <= ?5
			AND `+notReversed("p", "fund_seq", "?4", "?5")+`
		ORDER BY p.fund_seq, p.leg`, v.fund, term, events.TypeAllocationApproved, atSeq, asOf)
	if err != nil {
		return fmt.Errorf("attribution: read approvals: %w", err)
	}
	bySeq := map[int64]*standingApproval{}
	for rows.Next() {
		var (
			seq, x                 int64
			account, line, earmark string
		)
		if err := rows.Scan(&seq, &account, &line, &earmark, &x); err != nil {
			rows.Close()
			return fmt.Errorf("attribution: read approvals: %w", err)
		}
		ap := bySeq[seq]
		if ap == nil {
			ap = &standingApproval{seq: seq, draws: map[string]int64{}}
			bySeq[seq] = ap
			at.approvals = append(at.approvals, ap)
		}
		switch account {
		case domain.AccountTrustUnallocated:
			ap.draws[earmark] += x
		case domain.AccountTrustAllocated:
			ap.lineID, ap.amount = line, -x
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("attribution: read approvals: %w", err)
	}

	// Which allocation each standing approval approved: the one whose
	// last approval it is, else (an approval the view still has but the
	// ledger reversed later, the allocation approved again since) an
	// allocation of its line and amount not matched yet, oldest first.
	type alloc struct {
		id, line    string
		amount, seq int64
		approvedSeq int64
	}
	var allocs []alloc
	rows, err = v.tx.QueryContext(ctx, `SELECT allocation_id, line_id, amount_minor, proposed_seq, approved_seq FROM allocations
		WHERE fund = ? AND term_id = ? AND proposed_seq <= ? ORDER BY proposed_seq`, v.fund, term, atSeq)
	if err != nil {
		return fmt.Errorf("attribution: read allocations: %w", err)
	}
	for rows.Next() {
		var a alloc
		if err := rows.Scan(&a.id, &a.line, &a.amount, &a.seq, &a.approvedSeq); err != nil {
			rows.Close()
			return fmt.Errorf("attribution: read allocations: %w", err)
		}
		allocs = append(allocs, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("attribution: read allocations: %w", err)
	}
	byAlloc := map[string]*standingApproval{}
	for _, a := range allocs {
		if ap := bySeq[a.approvedSeq]; ap != nil {
			ap.allocationID = a.id
			byAlloc[a.id] = ap
		}
	}
	for _, ap := range at.approvals {
		if ap.allocationID != "" {
			continue
		}
		for _, a := range allocs {
			if byAlloc[a.id] == nil && a.line == ap.lineID && a.amount == ap.amount && a.seq < ap.seq {
				ap.allocationID = a.id
				byAlloc[a.id] = ap
				break
			}
		}
		if ap.allocationID == "" {
			return fmt.Errorf("attribution: %w: no allocation of line %s for the approval at fund_seq %d", ErrInconsistent, ap.lineID, ap.seq)
		}
	}

	if at.exps, err = standingSpending(ctx, v, term, asOf); err != nil {
		return fmt.Errorf("attribution: %w", err)
	}
	for _, e := range at.exps {
		ap := byAlloc[e.allocationID]
		if ap == nil {
			return fmt.Errorf("attribution: %w: expenditure %s of allocation %s, which has no standing approval", ErrInconsistent, e.id, e.allocationID)
		}
		ap.exps = append(ap.exps, e)
	}
	for _, ap := range at.approvals {
		var spent, drawn int64
		for _, e := range ap.exps {
			spent += e.usd
		}
		for _, x := range ap.draws {
			drawn += x
		}
		if drawn != ap.amount || spent > ap.amount {
			return fmt.Errorf("attribution: %w: allocation %s of %d drew %d and spent %d", ErrInconsistent, ap.allocationID, ap.amount, drawn, spent)
		}
	}
	return nil
}

// standingSpending reads the term's expenditures by asOf that the view has
// not reversed, in the fund's order, with the place each reached.
func standingSpending(ctx context.Context, v *view, term, asOf string) ([]*spendRow, error) {
	rows, err := v.tx.QueryContext(ctx, `SELECT e.expenditure_id, e.allocation_id, e.line_id, e.usd_minor, e.country, e.city,
			COALESCE(c.name, ''), COALESCE(c.country, '')
		FROM expenditures e LEFT JOIN cities c ON c.fund = e.fund AND c.city_id = e.city_id
		WHERE e.fund = ?1 AND e.term_id = ?2 AND e.fund_seq <= ?3 AND e.spent_on <= ?4 AND `+notReversed("e", "fund_seq", "?3", "?4")+`
		ORDER BY e.fund_seq`, v.fund, term, int64(v.fundSeq), asOf)
	if err != nil {
		return nil, fmt.Errorf("read expenditures: %w", err)
	}
	defer rows.Close()
	var out []*spendRow
	for rows.Next() {
		var (
			e                         spendRow
			country, city, cName, cCC string
		)
		if err := rows.Scan(&e.id, &e.allocationID, &e.lineID, &e.usd, &country, &city, &cName, &cCC); err != nil {
			return nil, fmt.Errorf("read expenditures: %w", err)
		}
		e.where = placeOf(country, city, cName, cCC)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read expenditures: %w", err)
	}
	return out, nil
}

// placeOf is where an expenditure went: its own country and city, or the
// registered city's.
func placeOf(country, city, registeredName, registeredCountry string) spendPlace {
	p := spendPlace{country: strings.TrimSpace(country), city: strings.TrimSpace(city)}
	if p.country == "" {
		p.country = registeredCountry
	}
	if p.city == "" {
		p.city = registeredName
	}
	return p
}

// spread spreads what each participant's money gave each pot's allocations
// (outs: pot → participant → amount) over the allocations drawn from the
// pot, then over each allocation's expenditures and its unspent rest.
func (at *attribution) spread(outs map[string]map[string]int64) error {
	type cell struct {
		id        string
		earmarked bool
	}
	parts := map[*standingApproval]map[cell]int64{}
	cells := 0
	for k, o := range outs {
		var ids []string
		for id := range o {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var aps []*standingApproval
		for _, ap := range at.approvals {
			if ap.draws[k] != 0 {
				aps = append(aps, ap)
			}
		}
		if cells += len(ids) * len(aps); cells > MaxAttributionCells {
			return fmt.Errorf("attribution: more than %d donor-allocation cells", MaxAttributionCells)
		}
		rows := make([]int64, len(ids))
		for i, id := range ids {
			rows[i] = o[id]
		}
		cols := make([]int64, len(aps))
		for j, ap := range aps {
			cols[j] = ap.draws[k]
		}
		x, err := apportion(rows, cols)
		if err != nil {
			return fmt.Errorf("attribution: pot %q: %w", k, err)
		}
		for i, id := range ids {
			for j, ap := range aps {
				if x[i][j] == 0 {
					continue
				}
				if parts[ap] == nil {
					parts[ap] = map[cell]int64{}
				}
				parts[ap][cell{id, k != ""}] += x[i][j]
			}
		}
	}
	for _, ap := range at.approvals {
		var cs []cell
		for c := range parts[ap] {
			cs = append(cs, c)
		}
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].id != cs[j].id {
				return cs[i].id < cs[j].id
			}
			return cs[i].earmarked && !cs[j].earmarked
		})
		if cells += len(cs) * (len(ap.exps) + 1); cells > MaxAttributionCells {
			return fmt.Errorf("attribution: more than %d donor-expenditure cells", MaxAttributionCells)
		}
		rows := make([]int64, len(cs))
		for i, c := range cs {
			rows[i] = parts[ap][c]
		}
		cols := make([]int64, 0, len(ap.exps)+1)
		unspent := ap.amount
		for _, e := range ap.exps {
			cols = append(cols, e.usd)
			unspent -= e.usd
		}
		cols = append(cols, unspent)
		x, err := apportion(rows, cols)
		if err != nil {
			return fmt.Errorf("attribution: allocation %s: %w", ap.allocationID, err)
		}
		for i, c := range cs {
			p := at.parts[c.id]
			for j, e := range ap.exps {
				if x[i][j] != 0 {
					p.spent = append(p.spent, spentPart{exp: e, earmarked: c.earmarked, usd: x[i][j]})
				}
			}
			p.allocatedUnspent += x[i][len(ap.exps)]
		}
	}
	return nil
}

// apportion splits a table whose row totals and column totals are given
// (non-negative, with the same sum T) into cells proportional to both: cell
// (i, j) is rows[i]·cols[j]/T rounded down or up, and every row and every
// column adds up exactly to its total. It is largest-remainder rounding
// (money.Split) in two dimensions: the cents left after rounding down are
// given one per cell, each row's to the columns with the most cents left
// to give (Gale–Ryser: a row can always be served so that the others still
// can), then to the largest remainders.
func apportion(rows, cols []int64) ([][]int64, error) {
	x := make([][]int64, len(rows))
	for i := range x {
		x[i] = make([]int64, len(cols))
	}
	var total, ctotal int64
	for _, r := range rows {
		if r < 0 {
			return nil, fmt.Errorf("%w: apportion a negative row total %d", ErrInconsistent, r)
		}
		total += r
	}
	for _, c := range cols {
		if c < 0 {
			return nil, fmt.Errorf("%w: apportion a negative column total %d", ErrInconsistent, c)
		}
		ctotal += c
	}
	if total != ctotal {
		return nil, fmt.Errorf("%w: apportion rows of %d into columns of %d", ErrInconsistent, total, ctotal)
	}
	if total == 0 {
		return x, nil
	}
	rem := make([][]uint64, len(rows))
	rowLeft := make([]int64, len(rows))
	colLeft := append([]int64(nil), cols...)
	for i, r := range rows {
		rem[i] = make([]uint64, len(cols))
		rowLeft[i] = r
		for j, c := range cols {
			// r·c/T ≤ c, so the quotient fits: hi < T.
			hi, lo := bits.Mul64(uint64(r), uint64(c))
			q, rm := bits.Div64(hi, lo, uint64(total))
			x[i][j], rem[i][j] = int64(q), rm
			rowLeft[i] -= int64(q)
			colLeft[j] -= int64(q)
		}
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rowLeft[order[a]] > rowLeft[order[b]] })
	js := make([]int, len(cols))
	for _, i := range order {
		if rowLeft[i] == 0 {
			continue
		}
		for j := range js {
			js[j] = j
		}
		sort.SliceStable(js, func(a, b int) bool {
			ja, jb := js[a], js[b]
			if colLeft[ja] != colLeft[jb] {
				return colLeft[ja] > colLeft[jb]
			}
			return rem[i][ja] > rem[i][jb]
		})
		for _, j := range js[:min(int(rowLeft[i]), len(js))] {
			if colLeft[j] == 0 {
				break
			}
			x[i][j]++
			colLeft[j]--
			rowLeft[i]--
		}
		if rowLeft[i] != 0 {
			return nil, fmt.Errorf("%w: apportion left %d of row %d", ErrInconsistent, rowLeft[i], i)
		}
	}
	return x, nil
}
