package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for allocation_approved events (see rule).
var _ = addRule(events.TypeAllocationApproved, typed[*events.AllocationApproved]{
	apply:    applyApproval,
	postings: postApproval,
	effect:   moveApproval,
	reversed: reversedApproval,
})

func applyApproval(s *State, p *events.AllocationApproved, rec *EventRecord, e events.Event) error {
	a, ok := s.Allocations[p.AllocationID]
	if !ok {
		return fmt.Errorf("unknown allocation %s", p.AllocationID)
	}
	a.Approved, a.ApprovedBy, a.ApprovedOn = true, p.ApprovedBy, e.EffectiveOn
	a.Funding = append([]events.Draw(nil), funding(p)...)
	a.ApprovalEventID = e.ID
	rec.TermID = a.TermID
	return nil
}

func moveApproval(s *State, p *events.AllocationApproved, sign int64) {
	a := s.Allocations[p.AllocationID]
	l, t := s.Lines[a.LineID], s.Terms[a.TermID]
	x := sign * a.AmountMinor
	l.ProposedMinor -= x
	l.ApprovedMinor += x
	for _, d := range funding(p) {
		t.addPot(d.Earmark, -sign*d.Amount.Minor)
	}
	t.AllocatedUnspent += x
}

// reversedApproval makes the allocation proposed again.
func reversedApproval(s *State, p *events.AllocationApproved) {
	a := s.Allocations[p.AllocationID]
	a.Approved, a.ApprovedBy, a.ApprovedOn, a.Funding, a.ApprovalEventID = false, "", "", nil, ""
}

// funding returns the pots an approval drew on; an approval written before
// earmarks existed drew its whole amount from the unearmarked pot.
func funding(p *events.AllocationApproved) []events.Draw {
	if len(p.Funding) == 0 {
		return []events.Draw{{Amount: p.Amount}}
	}
	return p.Funding
}

func postApproval(p *events.AllocationApproved, add func(Posting)) {
	for _, d := range funding(p) {
		add(Posting{Account: AccountTrustUnallocated, TermID: p.TermID, Earmark: d.Earmark, Minor: d.Amount.Minor})
	}
	add(Posting{Account: AccountTrustAllocated, TermID: p.TermID, LineID: p.LineID, Minor: -p.Amount.Minor})
}
