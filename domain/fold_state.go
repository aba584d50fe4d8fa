package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The folds of each event type into the state (rule.apply), and for money
// events what they move (rule.effect) and how a reversal marks them
// (rule.reversed). Their postings are in postings.go. Each is named in the
// rules table (fold.go).

func applyTermOpened(s *State, p *events.TermOpened, _ *EventRecord, _ events.Event) error {
	s.Terms[p.TermID] = &Term{ID: p.TermID, StartsOn: p.StartsOn, EndsOn: p.EndsOn, TargetMinor: p.Target.Minor, FeeRate: p.FeeRate,
		Earmarked: map[string]int64{}, DonorNet: map[string]map[string]int64{}}
	return nil
}

func applyDonorRegistered(s *State, p *events.DonorRegistered, _ *EventRecord, _ events.Event) error {
	s.Donors[p.DonorID] = &Donor{ID: p.DonorID, Name: p.Name, Kind: p.Kind, Country: p.Country, City: p.City}
	return nil
}

func applyDonorAmended(s *State, p *events.DonorAmended, _ *EventRecord, e events.Event) error {
	d, ok := s.Donors[p.DonorID]
	if !ok {
		return fmt.Errorf("unknown donor %s", p.DonorID)
	}
	d.addAmendment(DonorAmendment{On: e.EffectiveOn, Name: p.Name, Kind: p.Kind, Country: p.Country, City: p.City})
	return nil
}

func applyContribution(s *State, p *events.ContributionReceived, rec *EventRecord, e events.Event) error {
	if s.Terms[p.TermID] == nil {
		return fmt.Errorf("unknown term %s", p.TermID)
	}
	if p.PledgeID != "" && s.Pledges[p.PledgeID] == nil {
		return fmt.Errorf("unknown pledge %s", p.PledgeID)
	}
	keep(s, s.Contributions, p.ContributionID)
	s.Contributions[p.ContributionID] = &Contribution{ID: p.ContributionID, DonorID: p.DonorID, TermID: p.TermID,
		USDMinor: p.USDAmount.Minor, PledgeID: p.PledgeID, Earmark: p.Earmark, Amount: p.Amount, EventID: e.ID}
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

func applyFee(s *State, p *events.FeeCharged, rec *EventRecord, e events.Event) error {
	c, ok := s.Contributions[p.ContributionID]
	if !ok || s.Terms[p.TermID] == nil {
		return fmt.Errorf("fee on unknown contribution %s or term %s", p.ContributionID, p.TermID)
	}
	keep(s, s.Contributions, p.ContributionID)
	keep(s, s.Events, c.EventID)
	c.FeeEventID = e.ID
	if r := s.Events[c.EventID]; r != nil {
		r.FeeEventID = e.ID
	}
	rec.TermID = p.TermID
	return nil
}

func moveFee(s *State, p *events.FeeCharged, sign int64) {
	keep(s, s.Contributions, p.ContributionID)
	t, c := s.Terms[p.TermID], s.Contributions[p.ContributionID]
	x := sign * p.Amount.Minor
	c.FeeMinor += x
	t.Fees += x
	t.UILRevenue += x
	t.addPot(p.Earmark, -x)
	t.addNet(p.Earmark, p.DonorID, -x)
}

func applyBudgetLine(s *State, p *events.BudgetLineAdded, _ *EventRecord, _ events.Event) error {
	s.Lines[p.LineID] = &Line{ID: p.LineID, TermID: p.TermID, ClusterID: p.ClusterID, BudgetMinor: p.Amount.Minor}
	return nil
}

func applyProposal(s *State, p *events.AllocationProposed, _ *EventRecord, e events.Event) error {
	l, ok := s.Lines[p.LineID]
	if !ok {
		return fmt.Errorf("unknown line %s", p.LineID)
	}
	s.Allocations[p.AllocationID] = &Allocation{ID: p.AllocationID, LineID: p.LineID, TermID: p.TermID, AmountMinor: p.Amount.Minor, ProposedBy: p.ProposedBy, ProposedOn: e.EffectiveOn}
	l.ProposedMinor += p.Amount.Minor
	return nil
}

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

func applyExpenditure(s *State, p *events.ExpenditureRecorded, rec *EventRecord, e events.Event) error {
	a, ok := s.Allocations[p.AllocationID]
	if !ok {
		return fmt.Errorf("unknown allocation %s", p.AllocationID)
	}
	keep(s, s.Expenditures, p.ExpenditureID)
	s.Expenditures[p.ExpenditureID] = &Expenditure{ID: p.ExpenditureID, AllocationID: p.AllocationID, USDMinor: p.USDAmount.Minor, EventID: e.ID}
	rec.TermID = a.TermID
	return nil
}

func moveExpenditure(s *State, p *events.ExpenditureRecorded, sign int64) {
	a := s.Allocations[p.AllocationID]
	t := s.Terms[a.TermID]
	x := sign * p.USDAmount.Minor
	a.SpentMinor += x
	t.Spent += x
	t.AllocatedUnspent -= x
}

func reversedExpenditure(s *State, p *events.ExpenditureRecorded) {
	keep(s, s.Expenditures, p.ExpenditureID)
	s.Expenditures[p.ExpenditureID].Reversed = true
}

func applyInterest(s *State, p *events.InterestEarned, rec *EventRecord, e events.Event) error {
	if s.Terms[p.TermID] == nil {
		return fmt.Errorf("unknown term %s", p.TermID)
	}
	keep(s, s.Interest, p.InterestID)
	s.Interest[p.InterestID] = &Interest{ID: p.InterestID, TermID: p.TermID, USDMinor: p.Amount.Minor, EarnedOn: p.EarnedOn, EventID: e.ID}
	rec.TermID = p.TermID
	return nil
}

func moveInterest(s *State, p *events.InterestEarned, sign int64) {
	t := s.Terms[p.TermID]
	x := sign * p.Amount.Minor
	t.Interest += x
	t.addPot("", x)
}

func reversedInterest(s *State, p *events.InterestEarned) {
	keep(s, s.Interest, p.InterestID)
	s.Interest[p.InterestID].Reversed = true
}

func applyRefund(s *State, p *events.RefundPaid, rec *EventRecord, e events.Event) error {
	if s.Terms[p.TermID] == nil {
		return fmt.Errorf("unknown term %s", p.TermID)
	}
	keep(s, s.Refunds, p.RefundID)
	s.Refunds[p.RefundID] = &Refund{ID: p.RefundID, DonorID: p.DonorID, TermID: p.TermID, USDMinor: p.Amount.Minor,
		PaidOn: p.PaidOn, Funding: append([]events.Draw(nil), p.Funding...), EventID: e.ID}
	rec.TermID = p.TermID
	return nil
}

func moveRefund(s *State, p *events.RefundPaid, sign int64) {
	t := s.Terms[p.TermID]
	t.Refunded += sign * p.Amount.Minor
	for _, d := range p.Funding {
		t.addPot(d.Earmark, -sign*d.Amount.Minor)
		t.addNet(d.Earmark, p.DonorID, -sign*d.Amount.Minor)
	}
}

func reversedRefund(s *State, p *events.RefundPaid) {
	keep(s, s.Refunds, p.RefundID)
	s.Refunds[p.RefundID].Reversed = true
}

func applyPledgeRecorded(s *State, p *events.PledgeRecorded, _ *EventRecord, _ events.Event) error {
	s.Pledges[p.PledgeID] = &Pledge{ID: p.PledgeID, DonorID: p.DonorID, TermID: p.TermID, Amount: p.Amount,
		USDRate: p.USDRate, USDMinor: p.USDAmount.Minor, Earmark: p.Earmark.Key(), SignedOn: p.SignedOn, DueOn: p.DueOn,
		OutstandingUSD: p.USDAmount.Minor}
	return nil
}

func applyPledgeAmended(s *State, p *events.PledgeAmended, _ *EventRecord, _ events.Event) error {
	pl, ok := s.Pledges[p.PledgeID]
	if !ok {
		return fmt.Errorf("unknown pledge %s", p.PledgeID)
	}
	pl.Amount, pl.USDRate, pl.USDMinor, pl.DueOn = p.Amount, p.USDRate, p.USDAmount.Minor, p.DueOn
	pl.OutstandingUSD += p.OutstandingUSDChange.Minor
	return nil
}

func applyPledgeCancelled(s *State, p *events.PledgeCancelled, _ *EventRecord, e events.Event) error {
	pl, ok := s.Pledges[p.PledgeID]
	if !ok {
		return fmt.Errorf("unknown pledge %s", p.PledgeID)
	}
	pl.Cancelled, pl.CancelledOn = true, e.EffectiveOn
	pl.OutstandingUSD -= p.WrittenOffUSD.Minor
	return nil
}

// applyReversal undoes the reversed event's money effect and marks it and
// what it recorded as reversed.
func applyReversal(s *State, p *events.EventReversed, rec *EventRecord, _ events.Event) error {
	orig, ok := s.Events[p.EventID]
	if !ok || orig.Payload == nil || orig.ReversedBy != "" {
		return fmt.Errorf("reversal %s of event %s: unknown, not a money event, or reversed before", p.ReversalID, p.EventID)
	}
	if err := s.moneyEffect(orig.Payload, -1); err != nil {
		return err
	}
	keep(s, s.Events, p.EventID)
	orig.ReversedBy = p.ReversalID
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

func applyCarryOver(s *State, p *events.BalanceCarriedOver, rec *EventRecord, _ events.Event) error {
	from, to := s.Terms[p.FromTermID], s.Terms[p.ToTermID]
	if from == nil || to == nil {
		return fmt.Errorf("carry-over between unknown terms %s and %s", p.FromTermID, p.ToTermID)
	}
	x := p.Amount.Minor
	from.addPot(p.Earmark, -x)
	from.CarriedOut += x
	// The whole pot moves: the old term's weights of it are spent.
	delete(from.DonorNet, p.Earmark)
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

func applyTermClosed(s *State, p *events.TermClosed, _ *EventRecord, _ events.Event) error {
	t, ok := s.Terms[p.TermID]
	if !ok {
		return fmt.Errorf("unknown term %s", p.TermID)
	}
	t.Closed, t.ClosedOn = true, p.ClosedOn
	t.DispositionKind, t.CarriedTo = p.Disposition.Kind, p.Disposition.ToTermID
	t.KeptAtClose = append([]events.KeptAllocation(nil), p.AllocationsKept...)
	t.DisposedAtClose = p.Unallocated.Minor
	return nil
}

func applyCity(s *State, p *events.CityRegistered, _ *EventRecord, _ events.Event) error {
	s.Cities[p.CityID] = &City{ID: p.CityID, Name: p.Name, Country: p.Country}
	return nil
}

func applyCluster(s *State, p *events.ClusterRegistered, _ *EventRecord, _ events.Event) error {
	s.Clusters[p.ClusterID] = &Cluster{ID: p.ClusterID, Name: p.Name, TechnicalPartner: p.TechnicalPartner,
		Coordinators: map[string][]string{}, Members: map[string][]string{}}
	return nil
}

func applyCoordinator(s *State, p *events.CoordinatorAppointed, _ *EventRecord, _ events.Event) error {
	cl, ok := s.Clusters[p.ClusterID]
	if !ok {
		return fmt.Errorf("unknown cluster %s", p.ClusterID)
	}
	cl.Coordinators[p.TermID] = append(cl.Coordinators[p.TermID], p.CityID)
	if !contains(cl.Members[p.TermID], p.CityID) {
		cl.Members[p.TermID] = append(cl.Members[p.TermID], p.CityID)
	}
	return nil
}

func applyMember(s *State, p *events.MemberJoined, _ *EventRecord, _ events.Event) error {
	cl, ok := s.Clusters[p.ClusterID]
	if !ok {
		return fmt.Errorf("unknown cluster %s", p.ClusterID)
	}
	cl.Members[p.TermID] = append(cl.Members[p.TermID], p.CityID)
	return nil
}
