package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// The domain's rule for contribution_received events (see rule).
var _ = addRule(events.TypeContributionReceived, typed[*events.ContributionReceived]{
	apply:    applyContribution,
	postings: postContribution,
	effect:   moveContribution,
	reversed: reversedContribution,
})

func applyContribution(s *State, p *events.ContributionReceived, rec *EventRecord, e events.Event) error {
	if s.Terms[p.TermID] == nil {
		return fmt.Errorf("unknown term %s", p.TermID)
	}
	if p.PledgeID != "" && s.Pledges[p.PledgeID] == nil {
		return fmt.Errorf("unknown pledge %s", p.PledgeID)
	}
	keep(s, s.Contributions, p.ContributionID)
	amount := money.Amount{Minor: p.Amount.Minor, Currency: intern(p.Amount.Currency)}
	s.Contributions[p.ContributionID] = &Contribution{DonorID: intern(p.DonorID), TermID: intern(p.TermID),
		USDMinor: p.USDAmount.Minor, PledgeID: intern(p.PledgeID), Amount: amount, EventSeq: e.FundSeq}
	rec.TermID = p.TermID
	return nil
}

func moveContribution(s *State, p *events.ContributionReceived, sign int64) {
	t := s.Terms[p.TermID]
	x := sign * p.USDAmount.Minor
	t.Received += x
	t.addPot(p.Earmark, x)
	t.addNet(p.Earmark, p.DonorID, x)
	if p.PledgeID != "" {
		pl := s.Pledges[p.PledgeID]
		pl.PaidMinor += sign * p.Amount.Minor
		pl.PaidUSDMinor += x
		if p.PledgeSettledUSD != nil {
			pl.OutstandingUSD -= sign * p.PledgeSettledUSD.Minor
		}
	}
}

func reversedContribution(s *State, p *events.ContributionReceived) {
	keep(s, s.Contributions, p.ContributionID)
	s.Contributions[p.ContributionID].Reversed = true
}

func postContribution(p *events.ContributionReceived, add func(Posting)) {
	x := p.USDAmount.Minor
	add(Posting{Account: AccountTrustCash, TermID: p.TermID, DonorID: p.DonorID, Minor: x})
	add(Posting{Account: AccountTrustUnallocated, TermID: p.TermID, DonorID: p.DonorID, Earmark: p.Earmark, Minor: -x})
	if p.PledgeID != "" && p.PledgeSettledUSD != nil {
		memo(add, p.TermID, p.DonorID, p.PledgeID, p.Earmark, -p.PledgeSettledUSD.Minor)
	}
}
