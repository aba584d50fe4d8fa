package donors

import (
	"fmt"
	"math/bits"
	"sort"

	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

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
			return projections.Codes.New(projections.CodeNotAttributable, "as_of", fmt.Sprintf(
				"the term's money cannot be attributed to its donors as of %s: by then donor %q had been refunded %s but had put %s into the term (a refund dated before the receipts it returned)",
				at.asOf, id, money.FormatUSD(p.refunded), money.FormatUSD(max(in, 0))))
		}
	}
	return nil
}

// share shares every pot among its participants (sharePot), in key order,
// then spreads what their money gave the allocations over the allocations
// and their expenditures.
func (at *attribution) share(pots potFlows) error {
	byPot := map[string]map[string]int64{}  // pot → donor → weight
	paidIn := map[string]map[string]int64{} // pot → donor → net money in it
	for id, p := range at.parts {
		for k, w := range p.weight {
			if byPot[k] == nil {
				byPot[k] = map[string]int64{}
			}
			byPot[k][id] = w
		}
		for k, x := range p.net {
			if id == unattributed {
				continue
			}
			if paidIn[k] == nil {
				paidIn[k] = map[string]int64{}
			}
			paidIn[k][id] = x
		}
	}
	keys := make([]string, 0, len(pots.keys))
	for k := range pots.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	outs := map[string]map[string]int64{} // pot → participant → what its draws took
	for _, k := range keys {
		o, err := at.sharePot(k, pots.interest[k], pots.draws[k], money.PotWeights(k, byPot, paidIn))
		if err != nil {
			return err
		}
		outs[k] = o
	}
	return at.spread(outs)
}

// sharePot shares pot k: what each participant still holds of it
// (unallocated), its interest, and what the pot's allocations took of its
// money (returned, by participant). The donors' shares of what the pot
// holds are money.SharePot's, by the weights the domain shares it by
// (money.PotWeights of the donors' weights and net money in the pots).
func (at *attribution) sharePot(k string, interest, drawn int64, weights map[string]int64) (map[string]int64, error) {
	balance := interest - drawn
	for _, p := range at.parts {
		balance += p.net[k]
	}
	// Unattributed holds the pot when there is no donor to share it
	// among, or more was allocated from it than it had by the date
	// (allocations dated before the receipts that paid them).
	holds := len(weights) == 0 || balance < 0
	inflow, err := at.claimInflow(k, interest, holds)
	if err != nil {
		return nil, err
	}
	at.inflow += inflow
	ids := at.potParticipants(k, weights, holds)
	share := map[string]int64{}
	if holds {
		share[unattributed] = balance
	} else {
		for _, sh := range money.SharePot(balance, weights) {
			share[sh.Owner] = sh.Amount
		}
	}
	if inflow < 0 || drawn < 0 {
		return nil, fmt.Errorf("attribution: %w: pot %q has interest %d and draws %d", projections.ErrInconsistent, k, inflow, drawn)
	}
	return at.settlePot(k, ids, weights, share, inflow, drawn)
}

// claimInflow returns what the donors of pot k share like interest: its
// interest, and, when donors hold the pot, money no donor could claim that
// a close carried in (interest of the previous term, say), which it takes
// from unattributed.
func (at *attribution) claimInflow(k string, interest int64, holds bool) (int64, error) {
	inflow := interest
	if u := at.parts[unattributed]; u != nil && !holds && u.net[k] != 0 {
		if u.net[k] < 0 {
			return 0, projections.Codes.New(projections.CodeNotAttributable, "as_of", fmt.Sprintf(
				"the %s cannot be attributed to its donors as of %s: %s no donor could claim left it while donors hold it", potLabel(k), at.asOf, money.FormatUSD(-u.net[k])))
		}
		inflow += u.net[k]
		u.interest -= u.net[k]
	}
	return inflow, nil
}

// potParticipants returns the participants of pot k, in id order: who has
// money in it, who may be given a share, and unattributed when it holds
// the pot.
func (at *attribution) potParticipants(k string, weights map[string]int64, holds bool) []string {
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
	return ids
}

// settlePot gives each participant ids[i] of pot k its share of what the
// pot holds and its part of the inflow, and returns what the pot's
// allocations took of each one's money. A participant's claim on the
// inflow (delta) is its share less the money it put in.
func (at *attribution) settlePot(k string, ids []string, weights, share map[string]int64, inflow, drawn int64) (map[string]int64, error) {
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
	in, ok := splitInflow(delta, inflow, initial)
	if !ok {
		return nil, at.overdrawn(k, ids, delta, psum-inflow)
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
		return nil, fmt.Errorf("attribution: %w: pot %q: its donors' parts of the allocations add up to %d, the allocations to %d", projections.ErrInconsistent, k, osum, drawn)
	}
	return out, nil
}

// overdrawn is the not_attributable error of a pot whose inflow cannot
// cover its donors' claims, short in all: it names the donor that claims
// the most.
func (at *attribution) overdrawn(k string, ids []string, delta []int64, short int64) error {
	worst, most := "", int64(0)
	for i, id := range ids {
		if delta[i] > most && id != unattributed {
			worst, most = id, delta[i]
		}
	}
	return projections.Codes.New(projections.CodeNotAttributable, "as_of", fmt.Sprintf(
		"the %s cannot be attributed to its donors as of %s: by then donor %q had been refunded %s more than its money, interest and share of the pot came to, %s short in all (a refund dated before the receipts it returned, a receipt reversed after it was refunded, or interest reversed after a refund of it)",
		potLabel(k), at.asOf, worst, money.FormatUSD(most), money.FormatUSD(short)))
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

// spreadCell is a participant's money of one kind, earmarked or not.
type spreadCell struct {
	id        string
	earmarked bool
}

// spread spreads what each participant's money gave each pot's allocations
// (outs: pot → participant → amount) over the allocations drawn from the
// pot, then over each allocation's expenditures and its unspent rest.
func (at *attribution) spread(outs map[string]map[string]int64) error {
	parts := map[*standingApproval]map[spreadCell]int64{}
	cells := 0
	for k, o := range outs {
		if err := at.spreadPot(k, o, parts, &cells); err != nil {
			return err
		}
	}
	for _, ap := range at.approvals {
		if err := at.spreadApproval(ap, parts[ap], &cells); err != nil {
			return err
		}
	}
	return nil
}

// spreadPot spreads what each participant's money gave pot k's allocations
// (o) over the standing approvals that drew on the pot, into parts.
func (at *attribution) spreadPot(k string, o map[string]int64, parts map[*standingApproval]map[spreadCell]int64, cells *int) error {
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
	if *cells += len(ids) * len(aps); *cells > MaxAttributionCells {
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
				parts[ap] = map[spreadCell]int64{}
			}
			parts[ap][spreadCell{id, k != ""}] += x[i][j]
		}
	}
	return nil
}

// spreadApproval spreads the participants' parts of one approval over its
// expenditures and its unspent rest.
func (at *attribution) spreadApproval(ap *standingApproval, parts map[spreadCell]int64, cells *int) error {
	var cs []spreadCell
	for c := range parts {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].id != cs[j].id {
			return cs[i].id < cs[j].id
		}
		return cs[i].earmarked && !cs[j].earmarked
	})
	if *cells += len(cs) * (len(ap.exps) + 1); *cells > MaxAttributionCells {
		return fmt.Errorf("attribution: more than %d donor-expenditure cells", MaxAttributionCells)
	}
	rows := make([]int64, len(cs))
	for i, c := range cs {
		rows[i] = parts[c]
	}
	cols := make([]int64, 0, len(ap.exps)+1)
	unspent := ap.amount
	for _, e := range ap.exps {
		cols = append(cols, e.USD)
		unspent -= e.USD
	}
	cols = append(cols, unspent)
	x, err := apportion(rows, cols)
	if err != nil {
		return fmt.Errorf("attribution: allocation %s: %w", ap.allocationID, err)
	}
	kinds, kindOf := spentKinds(ap.exps)
	sums := make([]int64, len(kinds))
	for i, c := range cs {
		p := at.parts[c.id]
		clear(sums)
		for j := range ap.exps {
			sums[kindOf[j]] += x[i][j]
		}
		for k, usd := range sums {
			if usd != 0 {
				key := kinds[k]
				key.earmarked = c.earmarked
				p.spentUSD += usd
				p.spentBy[key] += usd
			}
		}
		p.allocatedUnspent += x[i][len(ap.exps)]
	}
	return nil
}

// spentKinds returns the distinct line and place of exps (kinds, not
// earmarked) and the index in kinds of each expenditure's.
func spentKinds(exps []*projections.Expenditure) (kinds []spentKey, kindOf []int) {
	index := map[spentKey]int{}
	kindOf = make([]int, len(exps))
	for j, e := range exps {
		key := spentKey{line: e.LineID, where: e.Where}
		k, ok := index[key]
		if !ok {
			k = len(kinds)
			index[key] = k
			kinds = append(kinds, key)
		}
		kindOf[j] = k
	}
	return kinds, kindOf
}

// apportion splits a table whose row totals and column totals are given
// (non-negative, with the same sum T) into cells proportional to both: cell
// (i, j) is rows[i]·cols[j]/T rounded down or up, and every row and every
// column adds up exactly to its total; a cell whose proportional value is
// a whole number of cents is that number. It is largest-remainder rounding
// (money.Split) in two dimensions: the cents left after rounding down are
// given one per cell with a remainder, each row's to the columns with the
// most cents left to take, then to the largest remainders, then to the
// first columns. Where that greedy pass leaves a row's cent without a
// column (a cell with no remainder cannot take one), placeCent moves cents
// along an augmenting path; the remainders, divided by the total, are a
// fractional such placement, so a whole one exists (a bipartite flow).
func apportion(rows, cols []int64) ([][]int64, error) {
	x := make([][]int64, len(rows))
	for i := range x {
		x[i] = make([]int64, len(cols))
	}
	total, err := apportionTotal(rows, cols)
	if err != nil || total == 0 {
		return x, err
	}
	rem := make([][]uint64, len(rows))
	up := make([][]bool, len(rows)) // the cell took one of the cents left
	rowLeft := make([]int64, len(rows))
	colLeft := append([]int64(nil), cols...)
	for i, r := range rows {
		rem[i] = make([]uint64, len(cols))
		up[i] = make([]bool, len(cols))
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
	ranks := make([]colRank, 0, len(cols))
	for _, i := range order {
		if rowLeft[i] == 0 {
			continue
		}
		// The row's cents go to its rowLeft[i] first columns in the
		// order of colRank.before, among those with a cent left to take:
		// which ones they are, not their order, matters, so they are
		// selected (topRanks) rather than all the columns sorted (issue
		// 10: sorting them was a fifth of a statement).
		ranks = ranks[:0]
		for j, l := range colLeft {
			if l > 0 && rem[i][j] > 0 {
				ranks = append(ranks, colRank{left: l, rem: rem[i][j], j: j})
			}
		}
		for _, c := range topRanks(ranks, int(min(rowLeft[i], int64(len(ranks))))) {
			x[i][c.j]++
			up[i][c.j] = true
			colLeft[c.j]--
			rowLeft[i]--
		}
	}
	for _, i := range order {
		for rowLeft[i] > 0 {
			if !placeCent(i, x, rem, up, colLeft) {
				return nil, fmt.Errorf("%w: apportion left %d of row %d", projections.ErrInconsistent, rowLeft[i], i)
			}
			rowLeft[i]--
		}
	}
	return x, nil
}

// placeCent gives row from one more cent: to a column with a cent left to
// take, through a cell with a remainder that has not taken its cent (up),
// or, when every such column is full, along the shortest alternating path
// found breadth first: a free cell of this row into a full column, that
// column's cent moved from another row that took one there to a free cell
// of that row, and so on until a column with a cent left. The rows and
// columns on the path keep their totals but the last column, which takes
// the cent. It reports false when no path exists.
func placeCent(from int, x [][]int64, rem [][]uint64, up [][]bool, colLeft []int64) bool {
	colFrom := make([]int, len(colLeft)) // the row a column was reached from, plus one
	rowFrom := make([]int, len(x))       // the column a row was reached from, plus one
	queue := []int{from}
	rowFrom[from] = -1
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for j := range colLeft {
			if rem[u][j] == 0 || up[u][j] || colFrom[j] != 0 {
				continue
			}
			colFrom[j] = u + 1
			if colLeft[j] > 0 {
				colLeft[j]--
				for {
					u := colFrom[j] - 1
					x[u][j]++
					up[u][j] = true
					if u == from {
						return true
					}
					j = rowFrom[u] - 1
					x[u][j]--
					up[u][j] = false
				}
			}
			for v := range x {
				if up[v][j] && rowFrom[v] == 0 {
					rowFrom[v] = j + 1
					queue = append(queue, v)
				}
			}
		}
	}
	return false
}

// apportionTotal checks apportion's totals, non-negative and adding up to
// the same sum, and returns that sum.
func apportionTotal(rows, cols []int64) (int64, error) {
	var total, ctotal int64
	for _, r := range rows {
		if r < 0 {
			return 0, fmt.Errorf("%w: apportion a negative row total %d", projections.ErrInconsistent, r)
		}
		total += r
	}
	for _, c := range cols {
		if c < 0 {
			return 0, fmt.Errorf("%w: apportion a negative column total %d", projections.ErrInconsistent, c)
		}
		ctotal += c
	}
	if total != ctotal {
		return 0, fmt.Errorf("%w: apportion rows of %d into columns of %d", projections.ErrInconsistent, total, ctotal)
	}
	return total, nil
}

// colRank is a column as a row of apportion ranks it: the cents it has
// left to take, its remainder in the row, and its index.
type colRank struct {
	left int64
	rem  uint64
	j    int
}

// before orders the columns a row gives its cents to: the most cents left
// first, then the largest remainder, then the first column. No two columns
// tie (j differs), so the k first are the same set however they are found.
func (a colRank) before(b colRank) bool {
	if a.left != b.left {
		return a.left > b.left
	}
	if a.rem != b.rem {
		return a.rem > b.rem
	}
	return a.j < b.j
}

// topRanks returns the k first columns of rs in the order of before (in no
// particular order), moving them to the front of rs: a quickselect, linear
// on average where sorting rs was n·log n.
func topRanks(rs []colRank, k int) []colRank {
	lo, hi := 0, len(rs)
	for hi-lo > 1 && k > lo && k < hi {
		// The middle element as pivot, swapped to the end, then a
		// Lomuto partition: rs[lo:p] before the pivot, rs[p+1:hi] after.
		mid := lo + (hi-lo)/2
		rs[mid], rs[hi-1] = rs[hi-1], rs[mid]
		pivot, p := rs[hi-1], lo
		for i := lo; i < hi-1; i++ {
			if rs[i].before(pivot) {
				rs[i], rs[p] = rs[p], rs[i]
				p++
			}
		}
		rs[p], rs[hi-1] = rs[hi-1], rs[p]
		switch {
		case p == k || p+1 == k:
			return rs[:k]
		case p > k:
			hi = p
		default:
			lo = p + 1
		}
	}
	return rs[:k]
}
