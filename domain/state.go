package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// State is what Decide needs to know about one fund: every id in use and the
// balances the rules test. It is built only by Apply.
type State struct {
	Fund          string
	FundSeq       uint64
	Terms         map[string]*Term
	Donors        map[string]*Donor
	Contributions map[string]*Contribution
	Lines         map[string]*Line
	Allocations   map[string]*Allocation
	Expenditures  map[string]*Expenditure
}

// Term is an opened term with its running totals, all in US cents.
type Term struct {
	ID, StartsOn, EndsOn string
	TargetMinor          int64
	FeeRate              string
	Totals
}

// Totals are a term's trust and UIL figures in US cents. The accounting
// identity holds after every event:
// Cash() == Received + Interest − Fees − Spent − Refunded == Unallocated + AllocatedUnspent.
type Totals struct {
	Received, Interest, Fees, Spent, Refunded int64
	Unallocated, AllocatedUnspent             int64
	UILRevenue                                int64
}

// Cash is the money the term holds in trust.
func (t Totals) Cash() int64 { return t.Received + t.Interest - t.Fees - t.Spent - t.Refunded }

// Donor is a registered donor.
type Donor struct{ ID, Name, Kind, Country, City string }

// Contribution is a receipt with what it produced in US cents.
type Contribution struct {
	ID, DonorID, TermID string
	USDMinor, FeeMinor  int64
}

// Line is a budget line with what has been allocated to it.
type Line struct {
	ID, TermID, ClusterID string
	BudgetMinor           int64
	ApprovedMinor         int64 // sum of approved allocations
	ProposedMinor         int64 // sum of allocations proposed, not yet approved
}

// Allocation is a proposed or approved allocation to a line.
type Allocation struct {
	ID, LineID, TermID     string
	AmountMinor            int64
	ProposedBy, ProposedOn string
	Approved               bool
	ApprovedBy, ApprovedOn string
	SpentMinor             int64
}

// Expenditure is money spent against an allocation.
type Expenditure struct {
	ID, AllocationID string
	USDMinor         int64
}

// NewState returns the state of a fund with no events.
func NewState(fund string) *State {
	return &State{
		Fund:          fund,
		Terms:         map[string]*Term{},
		Donors:        map[string]*Donor{},
		Contributions: map[string]*Contribution{},
		Lines:         map[string]*Line{},
		Allocations:   map[string]*Allocation{},
		Expenditures:  map[string]*Expenditure{},
	}
}

// Apply folds one event into the state. It only changes state; every rule
// was checked when the event was decided. An event that contradicts the state
// (an unknown id, a fund_seq out of order) is an error: the log is corrupt or
// was written by another program.
func Apply(s *State, e events.Event) error {
	if e.Fund != s.Fund || e.FundSeq != s.FundSeq+1 {
		return fmt.Errorf("apply event %s: fund %s fund_seq %d after fund %s fund_seq %d", e.ID, e.Fund, e.FundSeq, s.Fund, s.FundSeq)
	}
	p, err := e.Payload()
	if err != nil {
		return err
	}
	if err := s.apply(p, e.EffectiveOn); err != nil {
		return fmt.Errorf("apply %s of fund %s fund_seq %d: %w", e.Type, e.Fund, e.FundSeq, err)
	}
	s.FundSeq = e.FundSeq
	return nil
}

func (s *State) apply(p events.Payload, on string) error {
	switch p := p.(type) {
	case *events.TermOpened:
		s.Terms[p.TermID] = &Term{ID: p.TermID, StartsOn: p.StartsOn, EndsOn: p.EndsOn, TargetMinor: p.Target.Minor, FeeRate: p.FeeRate}
	case *events.DonorRegistered:
		s.Donors[p.DonorID] = &Donor{p.DonorID, p.Name, p.Kind, p.Country, p.City}
	case *events.ContributionReceived:
		t, ok := s.Terms[p.TermID]
		if !ok {
			return fmt.Errorf("unknown term %s", p.TermID)
		}
		s.Contributions[p.ContributionID] = &Contribution{ID: p.ContributionID, DonorID: p.DonorID, TermID: p.TermID, USDMinor: p.USDAmount.Minor}
		t.Received += p.USDAmount.Minor
		t.Unallocated += p.USDAmount.Minor
	case *events.FeeCharged:
		t, ok := s.Terms[p.TermID]
		c, ok2 := s.Contributions[p.ContributionID]
		if !ok || !ok2 {
			return fmt.Errorf("fee on unknown contribution %s or term %s", p.ContributionID, p.TermID)
		}
		c.FeeMinor += p.Amount.Minor
		t.Fees += p.Amount.Minor
		t.Unallocated -= p.Amount.Minor
		t.UILRevenue += p.Amount.Minor
	case *events.BudgetLineAdded:
		s.Lines[p.LineID] = &Line{ID: p.LineID, TermID: p.TermID, ClusterID: p.ClusterID, BudgetMinor: p.Amount.Minor}
	case *events.AllocationProposed:
		l, ok := s.Lines[p.LineID]
		if !ok {
			return fmt.Errorf("unknown line %s", p.LineID)
		}
		s.Allocations[p.AllocationID] = &Allocation{ID: p.AllocationID, LineID: p.LineID, TermID: p.TermID, AmountMinor: p.Amount.Minor, ProposedBy: p.ProposedBy, ProposedOn: on}
		l.ProposedMinor += p.Amount.Minor
	case *events.AllocationApproved:
		a, ok := s.Allocations[p.AllocationID]
		if !ok {
			return fmt.Errorf("unknown allocation %s", p.AllocationID)
		}
		l, t := s.Lines[a.LineID], s.Terms[a.TermID]
		a.Approved, a.ApprovedBy, a.ApprovedOn = true, p.ApprovedBy, on
		l.ProposedMinor -= a.AmountMinor
		l.ApprovedMinor += a.AmountMinor
		t.Unallocated -= a.AmountMinor
		t.AllocatedUnspent += a.AmountMinor
	case *events.ExpenditureRecorded:
		a, ok := s.Allocations[p.AllocationID]
		if !ok {
			return fmt.Errorf("unknown allocation %s", p.AllocationID)
		}
		t := s.Terms[a.TermID]
		s.Expenditures[p.ExpenditureID] = &Expenditure{ID: p.ExpenditureID, AllocationID: p.AllocationID, USDMinor: p.USDAmount.Minor}
		a.SpentMinor += p.USDAmount.Minor
		t.Spent += p.USDAmount.Minor
		t.AllocatedUnspent -= p.USDAmount.Minor
	default:
		return fmt.Errorf("no apply rule for %T", p)
	}
	return nil
}
