package state

import (
	"fmt"
	"sort"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// PotKeys returns the keys of the term's pots that hold money, earmarked
// pots in key order and the unearmarked pot ("") last.
func (t *Term) PotKeys() []string {
	keys := make([]string, 0, len(t.Earmarked)+1)
	for k, v := range t.Earmarked {
		if v != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if t.Unearmarked != 0 {
		keys = append(keys, "")
	}
	return keys
}

// PotShares splits the balance of one pot of the term among the donors
// whose money it is: pro rata to their net money put into the pot
// (DonorNet, a negative net counting as zero), by money.SharePot with the
// largest remainder, donors in id order; the shares sum exactly to the
// pot's balance. The weights are money.PotWeights of DonorNet and TermNet.
//
// A pot whose donors' nets are all zero or negative is split pro rata to
// the donors' net money in the pot over the whole term (TermNet) when a
// close carried the pot out and an allocation approval reversed since gave
// it money back; else (the unearmarked pot when it holds only interest, or
// once the donors were refunded all their share) pro rata to the donors'
// net money put into all the pots of the term. If no donor has put net
// money into the term, PotShares returns nil: that money is no donor's to
// claim.
func (t *Term) PotShares(key string) []events.Share {
	bal := t.Pot(key)
	if bal <= 0 {
		return nil
	}
	var out []events.Share
	for _, sh := range money.SharePot(bal, money.PotWeights(key, t.DonorNet, t.TermNet)) {
		if sh.Amount != 0 {
			out = append(out, events.Share{DonorID: sh.Owner, Amount: money.USDAmount(sh.Amount)})
		}
	}
	return out
}

// ShareOf returns donor's share of one pot (see PotShares).
func (t *Term) ShareOf(key, donor string) int64 {
	for _, sh := range t.PotShares(key) {
		if sh.DonorID == donor {
			return sh.Amount.Minor
		}
	}
	return 0
}

// Attributable returns a donor's unspent attributable balance in a term, in
// US cents: the most a refund to it may be today (rule 4; AttributableOn
// bounds it on the refund's paid_on). It is the sum of the
// donor's shares (see Term.PotShares) of every pot of the term's
// unallocated balance: the earmarked pots its earmarked receipts went into,
// and the unearmarked pot, pro rata to the donors' net unearmarked money
// (receipts less fees and refunds, plus carry-overs). Money already
// allocated to a line is not attributable: it is committed. Interest is in
// the unearmarked pot and so shared pro rata.
func Attributable(s *State, termID, donorID string) int64 {
	t := s.Terms[termID]
	if t == nil {
		return 0
	}
	var sum int64
	for _, k := range t.PotKeys() {
		sum += t.ShareOf(k, donorID)
	}
	return sum
}

// AttributableOn is Attributable as of the end of day on: the shares of the
// term's pots as they stood then, by the events the state knows that are
// dated on or before it (a reversal is dated on the day of what it
// reverses, so the two count or not together). A refund must not exceed
// it on its paid_on, or a statement as of that day would show the donor
// refunded money it had not yet paid in (issue 8).
// The error is for a state that contradicts itself.
func AttributableOn(s *State, termID, donorID, on string) (int64, error) {
	if s.Terms[termID] == nil {
		return 0, nil
	}
	past := s.cloneBalances()
	t := past.Terms[termID]
	l := &s.Events
	for i := range l.Entries {
		e, seq := &l.Entries[i], uint64(i+1)
		// Only a carry-over is looked at whatever its term: its TermID is
		// empty, and it is never reversed.
		if l.Labels[e.EffectiveOn] <= on || (l.Labels[e.TermID] != termID && l.Labels[e.Type] != events.TypeBalanceCarriedOver) || l.ReversedBy[seq] != "" {
			continue
		}
		p, err := s.payloadAt(seq)
		if err != nil {
			return 0, err
		}
		switch p := p.(type) {
		case nil:
		case *events.BalanceCarriedOver:
			// Money a close brought in from the previous term.
			if p.ToTermID == termID {
				t.addPot(p.ToEarmark, -p.Amount.Minor)
				for _, sh := range p.Shares {
					t.addNet(p.ToEarmark, sh.DonorID, -sh.Amount.Minor)
				}
			}
		default:
			if err := past.moneyEffect(p, -1); err != nil {
				return 0, fmt.Errorf("undo fund_seq %d: %w", seq, err)
			}
		}
	}
	return Attributable(past, termID, donorID), nil
}
