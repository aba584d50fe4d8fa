package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for event_reversed events (see rule).
var _ = addRule(events.TypeEventReversed, typed[*events.EventReversed]{
	apply:    applyReversal,
	postings: postReversal,
})

// applyReversal undoes the reversed event's money effect and marks it and
// what it recorded as reversed.
func applyReversal(s *State, p *events.EventReversed, rec *EventRecord, _ events.Event) error {
	orig, ok, err := s.Event(p.EventID)
	if err != nil {
		return err
	}
	if !ok || orig.Payload == nil || orig.ReversedBy != "" {
		return fmt.Errorf("reversal %s of event %s: unknown, not a money event, or reversed before", p.ReversalID, p.EventID)
	}
	if err := s.moneyEffect(orig.Payload, -1); err != nil {
		return err
	}
	s.setReversed(orig.FundSeq, p.ReversalID)
	if r := rules[orig.Type]; r.reversed != nil {
		r.reversed(s, orig.Payload)
	}
	keep(s, s.Reversals, p.ReversalID)
	r := s.Reversals[p.ReversalID]
	if r == nil {
		r = &Reversal{ID: p.ReversalID, Reason: p.Reason}
		s.Reversals[p.ReversalID] = r
	}
	r.EventIDs = append(r.EventIDs, p.EventID)
	rec.TermID = orig.TermID
	return nil
}

func postReversal(p *events.EventReversed, add func(Posting)) {
	for _, x := range p.Postings {
		add(Posting{Account: x.Account, TermID: x.TermID, LineID: x.LineID, DonorID: x.DonorID,
			Earmark: x.Earmark, PledgeID: x.PledgeID, Minor: x.Amount.Minor})
	}
}
