package state

import "github.com/unesco-uil/mdfm-ledger/events"

// The domain's rule for term_opened events (see rule).
var _ = addRule(events.TypeTermOpened, typed[*events.TermOpened]{
	apply: applyTermOpened,
})

func applyTermOpened(s *State, p *events.TermOpened, _ *EventRecord, _ events.Event) error {
	s.Terms[p.TermID] = &Term{ID: p.TermID, StartsOn: p.StartsOn, EndsOn: p.EndsOn, TargetMinor: p.Target.Minor, FeeRate: p.FeeRate,
		Earmarked: map[string]int64{}, DonorNet: map[string]map[string]int64{}, TermNet: map[string]map[string]int64{}}
	return nil
}
