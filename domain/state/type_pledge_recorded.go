package state

import "github.com/unesco-uil/mdfm-ledger/events"

// The domain's rule for pledge_recorded events (see rule).
var _ = addRule(events.TypePledgeRecorded, typed[*events.PledgeRecorded]{
	apply:    applyPledgeRecorded,
	postings: postPledgeRecorded,
})

func applyPledgeRecorded(s *State, p *events.PledgeRecorded, _ *EventRecord, _ events.Event) error {
	s.Pledges[p.PledgeID] = &Pledge{ID: p.PledgeID, DonorID: p.DonorID, TermID: p.TermID, Amount: p.Amount,
		USDRate: p.USDRate, USDMinor: p.USDAmount.Minor, Earmark: p.Earmark.Key(), SignedOn: p.SignedOn, DueOn: p.DueOn,
		OutstandingUSD: p.USDAmount.Minor}
	return nil
}

func postPledgeRecorded(p *events.PledgeRecorded, add func(Posting)) {
	memo(add, p.TermID, p.DonorID, p.PledgeID, p.Earmark.Key(), p.USDAmount.Minor)
}
