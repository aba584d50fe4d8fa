package historygen

import (
	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
)

// Kind is a kind of command the generators draw.
type Kind int

// The kinds of command, one per command of the domain but Batch.
const (
	KindOpenTerm Kind = iota
	KindRegisterDonor
	KindRecordContribution
	KindAddBudgetLine
	KindProposeAllocation
	KindApproveAllocation
	KindRecordExpenditure
	KindRegisterCluster
	KindRecordPledge
	KindAmendPledge
	KindCancelPledge
	KindRecordInterest
	KindRecordRefund
	KindReverseEvent
	KindCloseTerm
	KindAmendDonor
	KindRegisterCity
	KindAppointCoordinator
	KindJoinCluster
)

// Kinds says which kinds a generator draws and when a close may come.
type Kinds struct {
	// Registry adds the cluster registry's cities, coordinators and
	// members to the kinds drawn.
	Registry bool
	// CloseAfter is the fund_seq a history must pass before a close of T20
	// is drawn as a ready kind, so that the closed term has a story.
	CloseAfter uint64
}

// last is the last kind drawn.
func (k Kinds) last() Kind {
	if k.Registry {
		return KindJoinCluster
	}
	return KindAmendDonor
}

// Draw draws the kind of the next command: mostly one that s is ready for
// (spending once something is approved, approving once something is
// proposed, …), sometimes any kind at all.
func (k Kinds) Draw(t *rapid.T, s *domain.State) Kind {
	if rapid.IntRange(0, 7).Draw(t, "any kind") == 7 {
		return Kind(rapid.IntRange(int(KindOpenTerm), int(k.last())).Draw(t, "kind"))
	}
	return rapid.SampledFrom(k.ready(s)).Draw(t, "kind")
}

// ready lists the kinds s is ready for, some twice to draw them more often.
func (k Kinds) ready(s *domain.State) []Kind {
	var ready []Kind
	for _, a := range s.Allocations {
		if a.Approved {
			ready = append(ready, KindRecordExpenditure, KindRecordExpenditure)
			break
		}
	}
	for _, a := range s.Allocations {
		if !a.Approved {
			ready = append(ready, KindApproveAllocation, KindApproveAllocation)
			break
		}
	}
	if len(s.Lines) > 0 {
		ready = append(ready, KindProposeAllocation, KindProposeAllocation)
	}
	if len(s.Terms) > 0 && len(s.Donors) > 0 {
		ready = append(ready, KindRecordContribution, KindRecordContribution, KindRecordPledge, KindRecordPledge)
	}
	if len(s.Pledges) > 0 {
		ready = append(ready, KindRecordContribution, KindRecordContribution, KindAmendPledge, KindAmendPledge, KindCancelPledge)
	}
	if len(s.Contributions) > 0 {
		ready = append(ready, KindRecordRefund, KindRecordInterest)
	}
	if len(ReversibleEvents(s, false)) > 0 {
		ready = append(ready, KindReverseEvent, KindReverseEvent)
	}
	if len(s.Terms) > 0 {
		ready = append(ready, KindAddBudgetLine)
	}
	// A close ends a term's story: draw it once the term has a history, a
	// next term to carry over to and money to dispose of.
	if t20 := s.Terms["T20"]; len(s.Terms) > 1 && t20 != nil && !t20.Closed && t20.Unallocated > 0 && s.FundSeq > k.CloseAfter {
		ready = append(ready, KindCloseTerm, KindCloseTerm)
	}
	if len(s.Clusters) < 2 {
		ready = append(ready, KindRegisterCluster)
	}
	if k.Registry && len(s.Cities) < 4 {
		ready = append(ready, KindRegisterCity)
	}
	if k.Registry && len(s.Clusters) > 0 && len(s.Cities) > 0 && len(s.Terms) > 0 {
		ready = append(ready, KindAppointCoordinator, KindJoinCluster)
	}
	if len(s.Donors) < 3 {
		ready = append(ready, KindRegisterDonor)
	}
	if len(s.Donors) > 0 {
		ready = append(ready, KindAmendDonor)
	}
	if len(s.Terms) < 2 {
		ready = append(ready, KindOpenTerm)
	}
	return ready
}
