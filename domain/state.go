package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
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
	Pledges       map[string]*Pledge
	Interest      map[string]*Interest
	Refunds       map[string]*Refund
	Reversals     map[string]*Reversal
	Cities        map[string]*City
	Clusters      map[string]*Cluster
	// Events knows every event of the fund by its envelope id: its type and
	// position, and for a money event what a reversal of it needs.
	Events map[string]*EventRecord
}

// Term is an opened term with its running totals, all in US cents.
//
// Its unallocated balance is split into pots: Unearmarked, free for any
// line of the term, and Earmarked, keyed by target ("line:<id>" or
// "cluster:<id>"), which only that line or the lines of that cluster may
// draw on. Unallocated == Unearmarked + Σ Earmarked after every event.
type Term struct {
	ID, StartsOn, EndsOn string
	TargetMinor          int64
	FeeRate              string
	Totals
	Unearmarked int64
	Earmarked   map[string]int64 // pot key → balance; no zero entries
	// DonorNet is, per pot key ("" for the unearmarked pot) and donor, the
	// donor's net money put into the pot: receipts less their fees, plus
	// what a carry-over brought in, less refunds drawn from the pot. It
	// weighs the donors' shares of the pot (see Attributable). No zero
	// entries and no empty inner maps.
	DonorNet map[string]map[string]int64
	// Closed is set by term_closed. DispositionKind and CarriedTo say what
	// the close did with the unallocated balance, DisposedAtClose how much
	// it was, and KeptAtClose which allocations kept what unspent money.
	Closed          bool
	ClosedOn        string
	DispositionKind string
	CarriedTo       string
	DisposedAtClose int64
	KeptAtClose     []events.KeptAllocation
}

// Totals are a term's trust and UIL figures in US cents. The accounting
// identity holds after every event:
// Cash() == Received + Interest − Fees − Spent − Refunded + CarriedIn − CarriedOut
// == Unallocated + AllocatedUnspent.
type Totals struct {
	Received, Interest, Fees, Spent, Refunded int64
	Unallocated, AllocatedUnspent             int64
	UILRevenue                                int64
	// CarriedIn is unallocated money brought from the previous term at its
	// close; CarriedOut is what this term's close carried to the next.
	CarriedIn, CarriedOut int64
}

// Cash is the money the term holds in trust.
func (t Totals) Cash() int64 {
	return t.Received + t.Interest - t.Fees - t.Spent - t.Refunded + t.CarriedIn - t.CarriedOut
}

// Pot returns the balance of one pot of the term's unallocated money: key
// "" is the unearmarked pot.
func (t *Term) Pot(key string) int64 {
	if key == "" {
		return t.Unearmarked
	}
	return t.Earmarked[key]
}

func (t *Term) addPot(key string, x int64) {
	if key == "" {
		t.Unearmarked += x
	} else if v := t.Earmarked[key] + x; v == 0 {
		delete(t.Earmarked, key)
	} else {
		t.Earmarked[key] = v
	}
	t.Unallocated += x
}

func (t *Term) addNet(key, donor string, x int64) {
	m := t.DonorNet[key]
	if m == nil {
		m = map[string]int64{}
		t.DonorNet[key] = m
	}
	if v := m[donor] + x; v == 0 {
		delete(m, donor)
	} else {
		m[donor] = v
	}
	if len(m) == 0 {
		delete(t.DonorNet, key)
	}
}

// Donor is a registered donor: its fields as registered, and its
// amendments (see AsOf for the donor as of a day).
type Donor struct {
	ID, Name, Kind, Country, City string
	Amendments                    []DonorAmendment
}

// Contribution is a receipt with what it produced in US cents.
type Contribution struct {
	ID, DonorID, TermID string
	USDMinor, FeeMinor  int64
	PledgeID            string
	Earmark             string       // the pot it went into
	Amount              money.Amount // as received
	EventID, FeeEventID string
	Reversed            bool
}

// Line is a budget line with what has been allocated to it.
type Line struct {
	ID, TermID, ClusterID string
	BudgetMinor           int64
	ApprovedMinor         int64 // sum of approved allocations
	ProposedMinor         int64 // sum of allocations proposed, not yet approved
}

// Allocation is a proposed or approved allocation to a line. Reversing its
// approval makes it proposed again: Approved false, ApprovedBy, ApprovedOn
// and Funding empty.
type Allocation struct {
	ID, LineID, TermID     string
	AmountMinor            int64
	ProposedBy, ProposedOn string
	Approved               bool
	ApprovedBy, ApprovedOn string
	SpentMinor             int64
	Funding                []events.Draw // the pots the approval drew on
	ApprovalEventID        string
}

// Expenditure is money spent against an allocation.
type Expenditure struct {
	ID, AllocationID string
	USDMinor         int64
	EventID          string
	Reversed         bool
}

// Pledge is a donor's signed promise to a term, and what has been paid
// against it. Amount and PaidMinor are in the pledge's currency.
// OutstandingUSD is the US dollar value still expected, the balance of the
// pledge's memo account: it falls with every receipt in proportion to what
// the receipt pays of the pledge, and is zero once the pledge is paid or
// cancelled.
type Pledge struct {
	ID, DonorID, TermID string
	Amount              money.Amount
	USDRate             string
	USDMinor            int64
	Earmark             string // pot key, "" for none
	SignedOn, DueOn     string
	PaidMinor           int64 // in Amount's currency
	PaidUSDMinor        int64 // what the receipts produced in US cents
	OutstandingUSD      int64
	Cancelled           bool
	CancelledOn         string
}

// Interest is interest earned on a term's trust balance.
type Interest struct {
	ID, TermID string
	USDMinor   int64
	EarnedOn   string
	EventID    string
	Reversed   bool
}

// Refund is money returned to a donor and the pots it came from.
type Refund struct {
	ID, DonorID, TermID string
	USDMinor            int64
	PaidOn              string
	Funding             []events.Draw
	EventID             string
	Reversed            bool
}

// Reversal is one correction and the events it reversed (a receipt's
// reversal also reverses its fee).
type Reversal struct {
	ID       string
	EventIDs []string
	Reason   string
}

// City is a city of the network.
type City struct{ ID, Name, Country string }

// Cluster is a thematic cluster with its coordinators and members per term
// (term id → city ids in the order they came). Coordinators are members too.
type Cluster struct {
	ID, Name, TechnicalPartner string
	Coordinators               map[string][]string
	Members                    map[string][]string
}

// EventRecord is what the state keeps of one event. For a money event
// (receipt, fee, approval, expenditure, interest, refund) it keeps the
// payload and postings a reversal needs, and ReversedBy once reversed; for
// a carry-over, only its payload (it is never reversed).
type EventRecord struct {
	Type        string
	FundSeq     uint64
	EffectiveOn string
	TermID      string
	Payload     events.Payload
	Postings    []Posting
	ReversedBy  string // reversal id
	FeeEventID  string // of a receipt: its fee_charged event
}

// reversible reports whether an event of type typ may be named by a
// reversal. A fee is reversed with its receipt only; pledge events are
// corrected by amending or cancelling the pledge, a donor's registration
// and its amendments by another amendment; closes, carry-overs and
// reversals are final.
func reversible(typ string) bool {
	switch typ {
	case events.TypeContributionReceived, events.TypeAllocationApproved, events.TypeExpenditureRecorded,
		events.TypeInterestEarned, events.TypeRefundPaid:
		return true
	}
	return false
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
		Pledges:       map[string]*Pledge{},
		Interest:      map[string]*Interest{},
		Refunds:       map[string]*Refund{},
		Reversals:     map[string]*Reversal{},
		Cities:        map[string]*City{},
		Clusters:      map[string]*Cluster{},
		Events:        map[string]*EventRecord{},
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
	if _, dup := s.Events[e.ID]; dup || e.ID == "" {
		return fmt.Errorf("apply event of fund %s fund_seq %d: event id %q is empty or used before", e.Fund, e.FundSeq, e.ID)
	}
	p, err := e.Payload()
	if err != nil {
		return err
	}
	if err := s.apply(p, e); err != nil {
		return fmt.Errorf("apply %s of fund %s fund_seq %d: %w", e.Type, e.Fund, e.FundSeq, err)
	}
	s.FundSeq = e.FundSeq
	return nil
}

func (s *State) apply(p events.Payload, e events.Event) error {
	on := e.EffectiveOn
	rec := &EventRecord{Type: e.Type, FundSeq: e.FundSeq, EffectiveOn: on}
	switch p := p.(type) {
	case *events.TermOpened:
		s.Terms[p.TermID] = &Term{ID: p.TermID, StartsOn: p.StartsOn, EndsOn: p.EndsOn, TargetMinor: p.Target.Minor, FeeRate: p.FeeRate,
			Earmarked: map[string]int64{}, DonorNet: map[string]map[string]int64{}}
	case *events.DonorRegistered:
		s.Donors[p.DonorID] = &Donor{ID: p.DonorID, Name: p.Name, Kind: p.Kind, Country: p.Country, City: p.City}
	case *events.DonorAmended:
		d, ok := s.Donors[p.DonorID]
		if !ok {
			return fmt.Errorf("unknown donor %s", p.DonorID)
		}
		d.addAmendment(DonorAmendment{On: on, Name: p.Name, Kind: p.Kind, Country: p.Country, City: p.City})
	case *events.ContributionReceived:
		if s.Terms[p.TermID] == nil {
			return fmt.Errorf("unknown term %s", p.TermID)
		}
		if p.PledgeID != "" && s.Pledges[p.PledgeID] == nil {
			return fmt.Errorf("unknown pledge %s", p.PledgeID)
		}
		s.Contributions[p.ContributionID] = &Contribution{ID: p.ContributionID, DonorID: p.DonorID, TermID: p.TermID,
			USDMinor: p.USDAmount.Minor, PledgeID: p.PledgeID, Earmark: p.Earmark, Amount: p.Amount, EventID: e.ID}
		rec.TermID = p.TermID
	case *events.FeeCharged:
		c, ok := s.Contributions[p.ContributionID]
		if !ok || s.Terms[p.TermID] == nil {
			return fmt.Errorf("fee on unknown contribution %s or term %s", p.ContributionID, p.TermID)
		}
		c.FeeEventID = e.ID
		if r := s.Events[c.EventID]; r != nil {
			r.FeeEventID = e.ID
		}
		rec.TermID = p.TermID
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
		a.Approved, a.ApprovedBy, a.ApprovedOn = true, p.ApprovedBy, on
		a.Funding = append([]events.Draw(nil), funding(p)...)
		a.ApprovalEventID = e.ID
		rec.TermID = a.TermID
	case *events.ExpenditureRecorded:
		a, ok := s.Allocations[p.AllocationID]
		if !ok {
			return fmt.Errorf("unknown allocation %s", p.AllocationID)
		}
		s.Expenditures[p.ExpenditureID] = &Expenditure{ID: p.ExpenditureID, AllocationID: p.AllocationID, USDMinor: p.USDAmount.Minor, EventID: e.ID}
		rec.TermID = a.TermID
	case *events.InterestEarned:
		if s.Terms[p.TermID] == nil {
			return fmt.Errorf("unknown term %s", p.TermID)
		}
		s.Interest[p.InterestID] = &Interest{ID: p.InterestID, TermID: p.TermID, USDMinor: p.Amount.Minor, EarnedOn: p.EarnedOn, EventID: e.ID}
		rec.TermID = p.TermID
	case *events.RefundPaid:
		if s.Terms[p.TermID] == nil {
			return fmt.Errorf("unknown term %s", p.TermID)
		}
		s.Refunds[p.RefundID] = &Refund{ID: p.RefundID, DonorID: p.DonorID, TermID: p.TermID, USDMinor: p.Amount.Minor,
			PaidOn: p.PaidOn, Funding: append([]events.Draw(nil), p.Funding...), EventID: e.ID}
		rec.TermID = p.TermID
	case *events.PledgeRecorded:
		s.Pledges[p.PledgeID] = &Pledge{ID: p.PledgeID, DonorID: p.DonorID, TermID: p.TermID, Amount: p.Amount,
			USDRate: p.USDRate, USDMinor: p.USDAmount.Minor, Earmark: p.Earmark.Key(), SignedOn: p.SignedOn, DueOn: p.DueOn,
			OutstandingUSD: p.USDAmount.Minor}
	case *events.PledgeAmended:
		pl, ok := s.Pledges[p.PledgeID]
		if !ok {
			return fmt.Errorf("unknown pledge %s", p.PledgeID)
		}
		pl.Amount, pl.USDRate, pl.USDMinor, pl.DueOn = p.Amount, p.USDRate, p.USDAmount.Minor, p.DueOn
		pl.OutstandingUSD += p.OutstandingUSDChange.Minor
	case *events.PledgeCancelled:
		pl, ok := s.Pledges[p.PledgeID]
		if !ok {
			return fmt.Errorf("unknown pledge %s", p.PledgeID)
		}
		pl.Cancelled, pl.CancelledOn = true, on
		pl.OutstandingUSD -= p.WrittenOffUSD.Minor
	case *events.EventReversed:
		return s.applyReversal(p, rec, e)
	case *events.BalanceCarriedOver:
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
		// Kept so that the next term's pots can be looked at as of a
		// day before the close (AttributableOn).
		rec.Payload = p
	case *events.TermClosed:
		t, ok := s.Terms[p.TermID]
		if !ok {
			return fmt.Errorf("unknown term %s", p.TermID)
		}
		t.Closed, t.ClosedOn = true, p.ClosedOn
		t.DispositionKind, t.CarriedTo = p.Disposition.Kind, p.Disposition.ToTermID
		t.KeptAtClose = append([]events.KeptAllocation(nil), p.AllocationsKept...)
		t.DisposedAtClose = p.Unallocated.Minor
	case *events.CityRegistered:
		s.Cities[p.CityID] = &City{ID: p.CityID, Name: p.Name, Country: p.Country}
	case *events.ClusterRegistered:
		s.Clusters[p.ClusterID] = &Cluster{ID: p.ClusterID, Name: p.Name, TechnicalPartner: p.TechnicalPartner,
			Coordinators: map[string][]string{}, Members: map[string][]string{}}
	case *events.CoordinatorAppointed:
		cl, ok := s.Clusters[p.ClusterID]
		if !ok {
			return fmt.Errorf("unknown cluster %s", p.ClusterID)
		}
		cl.Coordinators[p.TermID] = append(cl.Coordinators[p.TermID], p.CityID)
		if !contains(cl.Members[p.TermID], p.CityID) {
			cl.Members[p.TermID] = append(cl.Members[p.TermID], p.CityID)
		}
	case *events.MemberJoined:
		cl, ok := s.Clusters[p.ClusterID]
		if !ok {
			return fmt.Errorf("unknown cluster %s", p.ClusterID)
		}
		cl.Members[p.TermID] = append(cl.Members[p.TermID], p.CityID)
	default:
		return fmt.Errorf("no apply rule for %T", p)
	}
	if rec.TermID != "" {
		// A money event: keep what a reversal needs, then move the money.
		ps, err := postingsOf(p)
		if err != nil {
			return err
		}
		rec.Payload, rec.Postings = p, ps
		if err := s.moneyEffect(p, 1); err != nil {
			return err
		}
	}
	s.Events[e.ID] = rec
	return nil
}

// funding returns the pots an approval drew on; an approval written before
// earmarks existed drew its whole amount from the unearmarked pot.
func funding(p *events.AllocationApproved) []events.Draw {
	if len(p.Funding) == 0 {
		return []events.Draw{{Amount: p.Amount}}
	}
	return p.Funding
}

// moneyEffect moves the balances of one money event, sign +1 when it is
// applied and −1 when it is reversed: the one place that says what a money
// event does to the state, so that a reversal undoes it exactly.
func (s *State) moneyEffect(p events.Payload, sign int64) error {
	switch p := p.(type) {
	case *events.ContributionReceived:
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
	case *events.FeeCharged:
		t, c := s.Terms[p.TermID], s.Contributions[p.ContributionID]
		x := sign * p.Amount.Minor
		c.FeeMinor += x
		t.Fees += x
		t.UILRevenue += x
		t.addPot(p.Earmark, -x)
		t.addNet(p.Earmark, p.DonorID, -x)
	case *events.AllocationApproved:
		a := s.Allocations[p.AllocationID]
		l, t := s.Lines[a.LineID], s.Terms[a.TermID]
		x := sign * a.AmountMinor
		l.ProposedMinor -= x
		l.ApprovedMinor += x
		for _, d := range funding(p) {
			t.addPot(d.Earmark, -sign*d.Amount.Minor)
		}
		t.AllocatedUnspent += x
	case *events.ExpenditureRecorded:
		a := s.Allocations[p.AllocationID]
		t := s.Terms[a.TermID]
		x := sign * p.USDAmount.Minor
		a.SpentMinor += x
		t.Spent += x
		t.AllocatedUnspent -= x
	case *events.InterestEarned:
		t := s.Terms[p.TermID]
		x := sign * p.Amount.Minor
		t.Interest += x
		t.addPot("", x)
	case *events.RefundPaid:
		t := s.Terms[p.TermID]
		t.Refunded += sign * p.Amount.Minor
		for _, d := range p.Funding {
			t.addPot(d.Earmark, -sign*d.Amount.Minor)
			t.addNet(d.Earmark, p.DonorID, -sign*d.Amount.Minor)
		}
	default:
		return fmt.Errorf("no money rule for %T", p)
	}
	return nil
}

// applyReversal undoes the reversed event's money effect and marks it and
// what it recorded as reversed.
func (s *State) applyReversal(p *events.EventReversed, rec *EventRecord, e events.Event) error {
	orig, ok := s.Events[p.EventID]
	if !ok || orig.Payload == nil || orig.ReversedBy != "" {
		return fmt.Errorf("reversal %s of event %s: unknown, not a money event, or reversed before", p.ReversalID, p.EventID)
	}
	if err := s.moneyEffect(orig.Payload, -1); err != nil {
		return err
	}
	orig.ReversedBy = p.ReversalID
	switch op := orig.Payload.(type) {
	case *events.ContributionReceived:
		s.Contributions[op.ContributionID].Reversed = true
	case *events.AllocationApproved:
		a := s.Allocations[op.AllocationID]
		a.Approved, a.ApprovedBy, a.ApprovedOn, a.Funding, a.ApprovalEventID = false, "", "", nil, ""
	case *events.ExpenditureRecorded:
		s.Expenditures[op.ExpenditureID].Reversed = true
	case *events.InterestEarned:
		s.Interest[op.InterestID].Reversed = true
	case *events.RefundPaid:
		s.Refunds[op.RefundID].Reversed = true
	}
	r := s.Reversals[p.ReversalID]
	if r == nil {
		r = &Reversal{ID: p.ReversalID, Reason: p.Reason}
		s.Reversals[p.ReversalID] = r
	}
	r.EventIDs = append(r.EventIDs, p.EventID)
	rec.TermID = orig.TermID
	s.Events[e.ID] = rec
	return nil
}
