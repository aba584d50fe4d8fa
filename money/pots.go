package money

import "sort"

// Share is one owner's part of a pot, in minor units.
type Share struct {
	Owner  string
	Amount int64
}

// PotWeights returns what the balance of pot is shared by (weights and
// paidIn map pot → owner → amount; an amount of zero or less counts as
// none), the first of these that is not empty:
//  1. each owner's weight in the pot;
//  2. each owner's paidIn in the pot: money the pot got back after its
//     weights were spent (a close carried it out, then an allocation
//     approval was reversed) is the money of those who paid for it;
//  3. each owner's weights summed over all the pots.
//
// It is empty when no owner has a positive amount in any of them: that
// money is no owner's to claim. The domain weighs by the donors' net money
// put into each pot since a close last carried it out (domain.Term.DonorNet)
// and paidIn is that net over the whole term (domain.Term.TermNet); so do
// the reports.
func PotWeights(pot string, weights, paidIn map[string]map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for _, m := range []map[string]int64{weights[pot], paidIn[pot]} {
		for owner, w := range m {
			if w > 0 {
				out[owner] = w
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	for _, m := range weights {
		for owner, w := range m {
			if w > 0 {
				out[owner] += w
			}
		}
	}
	return out
}

// SharePot splits balance among the owners with a positive weight, pro rata
// by Split (largest remainder), owners in key order: the shares sum exactly
// to balance. It returns one share per such owner, zero shares included,
// and nil when there is none. Sharing a pot by PotWeights is the one rule
// for who owns a pot's money: refunds and closes in the domain, the
// attribution and the statements in the reports.
func SharePot(balance int64, weights map[string]int64) []Share {
	owners := make([]string, 0, len(weights))
	for owner, w := range weights {
		if w > 0 {
			owners = append(owners, owner)
		}
	}
	if len(owners) == 0 {
		return nil
	}
	sort.Strings(owners)
	ws := make([]int64, len(owners))
	for i, owner := range owners {
		ws[i] = weights[owner]
	}
	out := make([]Share, len(owners))
	for i, x := range Split(balance, ws) {
		out[i] = Share{Owner: owners[i], Amount: x}
	}
	return out
}
