package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for balance_carried_over events (see rule).
var _ = addRule(events.TypeBalanceCarriedOver, typed[*events.BalanceCarriedOver]{
	apply:    applyCarryOver,
	postings: postCarryOver,
})

func applyCarryOver(s *State, p *events.BalanceCarriedOver, rec *EventRecord, _ events.Event) error {
	from, to := s.Terms[p.FromTermID], s.Terms[p.ToTermID]
	if from == nil || to == nil {
		return fmt.Errorf("carry-over between unknown terms %s and %s", p.FromTermID, p.ToTermID)
	}
	x := p.Amount.Minor
	from.addPot(p.Earmark, -x)
	from.CarriedOut += x
	// The whole pot moves: the old term's weights of it are spent, and
	// what the donors' money is still in its allocations is what they put
	// in less their shares carried out.
	delete(from.DonorNet, p.Earmark)
	for _, sh := range p.Shares {
		from.TermNet = addPotNet(from.TermNet, p.Earmark, sh.DonorID, -sh.Amount.Minor)
	}
	to.addPot(p.ToEarmark, x)
	to.CarriedIn += x
	for _, sh := range p.Shares {
		to.addNet(p.ToEarmark, sh.DonorID, sh.Amount.Minor)
	}
	// Kept so that the next term's pots can be looked at as of a day
	// before the close (AttributableOn).
	rec.Payload = p
	return nil
}

func postCarryOver(p *events.BalanceCarriedOver, add func(Posting)) {
	shares := p.Shares
	if len(shares) == 0 {
		// Money no donor can be credited with moves all the same.
		shares = []events.Share{{Amount: p.Amount}}
	}
	for _, sh := range shares {
		x := sh.Amount.Minor
		add(Posting{Account: AccountTrustUnallocated, TermID: p.FromTermID, DonorID: sh.DonorID, Earmark: p.Earmark, Minor: x})
		add(Posting{Account: AccountTrustCash, TermID: p.FromTermID, DonorID: sh.DonorID, Minor: -x})
		add(Posting{Account: AccountTrustCash, TermID: p.ToTermID, DonorID: sh.DonorID, Minor: x})
		add(Posting{Account: AccountTrustUnallocated, TermID: p.ToTermID, DonorID: sh.DonorID, Earmark: p.ToEarmark, Minor: -x})
	}
}
