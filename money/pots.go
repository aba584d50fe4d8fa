package money

import "sort"

// Share is one owner's part of a pot, in minor units.
type Share struct {
	Owner  string
	Amount int64
}

// PotWeights returns what the balance of pot is shared by: each owner's
// weight in the pot (weights maps pot → owner → weight; a weight of zero or
// less counts as none), or, when no owner has a positive weight in it,
// each owner's positive weights summed over all the pots. It is empty when
// no owner has a positive weight anywhere: that money is no owner's to
// claim. The domain weighs by the donors' net money put into each pot
// (domain.Term.DonorNet), and so do the reports.
func PotWeights(pot string, weights map[string]map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for owner, w := range weights[pot] {
		if w > 0 {
			out[owner] = w
		}
	}
	if len(out) > 0 {
		return out
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
