// Package state is the state of one fund as its events fold into it, and
// their postings: what domain.Decide reads to judge a command, built only
// by Apply. Each event type's fold, money effect and postings are in its
// own file, type_<name>.go (see rule). It imports events and money only;
// package domain, which decides commands, imports it and keeps its names
// (domain.State, domain.Apply, domain.Postings, …).
package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// State is what domain.Decide needs to know about one fund: every id in use and the
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
	// position, and for a money event what a reversal of it needs (see
	// EventLog: kept compact, since it grows with the log).
	Events EventLog
	// Undo is nil but in domain.DecideBatch's simulation (Simulation), which shares the maps
	// that grow with the history (see shareLog) with the state it was made
	// from: Apply then records in it how to put back every entry of those
	// maps it adds or changes.
	Undo *UndoLog
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
	// TermNet is DonorNet over the whole term: the same sums, except that a
	// carry-over takes out of it each donor's share of what it carried
	// instead of clearing the pot. Once a close carried a pot out, it is
	// what each donor's money is still in the pot's allocations, so money
	// the pot gets back since (an approval reversed) is shared by it
	// (money.PotWeights). No zero entries and no empty inner maps.
	TermNet map[string]map[string]int64
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

// addNet adds x to donor's net money in pot key: DonorNet and TermNet.
func (t *Term) addNet(key, donor string, x int64) {
	t.DonorNet = addPotNet(t.DonorNet, key, donor, x)
	t.TermNet = addPotNet(t.TermNet, key, donor, x)
}

// addPotNet adds x to nets[key][donor], keeping no zero entries and no
// empty inner maps, and returns nets (made when nil).
func addPotNet(nets map[string]map[string]int64, key, donor string, x int64) map[string]map[string]int64 {
	if nets == nil {
		nets = map[string]map[string]int64{}
	}
	m := nets[key]
	if m == nil {
		m = map[string]int64{}
		nets[key] = m
	}
	if v := m[donor] + x; v == 0 {
		delete(m, donor)
	} else {
		m[donor] = v
	}
	if len(m) == 0 {
		delete(nets, key)
	}
	return nets
}

// Donor is a registered donor: its fields as registered, and its
// amendments (see AsOf for the donor as of a day).
type Donor struct {
	ID, Name, Kind, Country, City string
	Amendments                    []DonorAmendment
}

// Contribution is a receipt with what it produced in US cents. Its id is
// its key in State.Contributions; the rest of it (its pot, rate, date) is
// in its event's payload (State.EventAt): a fund keeps one per receipt.
type Contribution struct {
	DonorID, TermID    string
	USDMinor, FeeMinor int64
	PledgeID           string
	Amount             money.Amount // as received
	EventSeq           uint64       // fund_seq of its event (its fee: see EventLog)
	Reversed           bool
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
	EventSeq         uint64 // fund_seq of its event
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
	EventSeq   uint64 // fund_seq of its event
	Reversed   bool
}

// Refund is money returned to a donor and the pots it came from.
type Refund struct {
	ID, DonorID, TermID string
	USDMinor            int64
	PaidOn              string
	Funding             []events.Draw
	EventSeq            uint64 // fund_seq of its event
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
		Events:        newEventLog(),
	}
}

// Apply folds one event into the state. It only changes state; every rule
// was checked when the event was decided. An event that contradicts the state
// (an unknown id, a fund_seq out of order) is an error: the log is corrupt or
// was written by another program.
func Apply(s *State, e events.Event) error {
	if err := checkNext(s, e); err != nil {
		return err
	}
	p, err := e.Payload()
	if err != nil {
		return err
	}
	return applyNext(s, e, p)
}

// ApplyDecoded is Apply of an event whose payload p was decoded already
// (e.Payload), by a reader that decodes while the state folds.
func ApplyDecoded(s *State, e events.Event, p events.Payload) error {
	if err := checkNext(s, e); err != nil {
		return err
	}
	return applyNext(s, e, p)
}

// checkNext refuses an event that is not the state's next one.
func checkNext(s *State, e events.Event) error {
	if e.Fund != s.Fund || e.FundSeq != s.FundSeq+1 {
		return fmt.Errorf("apply event %s: fund %s fund_seq %d after fund %s fund_seq %d", e.ID, e.Fund, e.FundSeq, s.Fund, s.FundSeq)
	}
	if _, dup := s.SeqOf(e.ID); dup || e.ID == "" {
		return fmt.Errorf("apply event of fund %s fund_seq %d: event id %q is empty or used before", e.Fund, e.FundSeq, e.ID)
	}
	return nil
}

func applyNext(s *State, e events.Event, p events.Payload) error {
	if err := s.apply(p, e); err != nil {
		return fmt.Errorf("apply %s of fund %s fund_seq %d: %w", e.Type, e.Fund, e.FundSeq, err)
	}
	s.FundSeq = e.FundSeq
	return nil
}
