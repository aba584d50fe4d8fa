package events

import (
	"fmt"
	"slices"
)

// Type is one stored event type, declared once in Types: every other layer
// (the domain's fold and postings, the read model's fold, the test
// generators) keys its table by Name and has a test that walks Types, so a
// type missing there fails a test instead of reaching a default branch at
// run time. See docs/DESIGN.md, "How to add an event type and a command".
type Type struct {
	// Name is the stable name written into every stored event and its
	// subject. It must never change; the Go type may be renamed freely.
	Name string
	// V is the payload schema version written now. Older versions are
	// upcast on read (newPayload); stored events are never rewritten.
	V int
	// Reversible: a reversal may name an event of this type (rule 5).
	Reversible bool
	// ReversedWith names the type whose reversal also reverses this one
	// (a fee goes with its receipt); "" for none.
	ReversedWith string
	// New returns an empty payload of the type, to decode into.
	New func() Payload
}

// Reversed reports whether an event of the type is ever undone by an
// event_reversed: on its own or with the event it belongs to.
func (t Type) Reversed() bool { return t.Reversible || t.ReversedWith != "" }

// types is every event type, in the order they came into the project.
var types = []Type{
	{Name: TypeTermOpened, V: 1, New: newOf[TermOpened]},
	{Name: TypeDonorRegistered, V: 1, New: newOf[DonorRegistered]},
	{Name: TypeDonorAmended, V: 1, New: newOf[DonorAmended]},
	{Name: TypeContributionReceived, V: 1, Reversible: true, New: newOf[ContributionReceived]},
	{Name: TypeFeeCharged, V: 1, ReversedWith: TypeContributionReceived, New: newOf[FeeCharged]},
	{Name: TypeBudgetLineAdded, V: 1, New: newOf[BudgetLineAdded]},
	{Name: TypeAllocationProposed, V: 1, New: newOf[AllocationProposed]},
	{Name: TypeAllocationApproved, V: 1, Reversible: true, New: newOf[AllocationApproved]},
	{Name: TypeExpenditureRecorded, V: 1, Reversible: true, New: newOf[ExpenditureRecorded]},
	{Name: TypePledgeRecorded, V: 1, New: newOf[PledgeRecorded]},
	{Name: TypePledgeAmended, V: 1, New: newOf[PledgeAmended]},
	{Name: TypePledgeCancelled, V: 1, New: newOf[PledgeCancelled]},
	{Name: TypeInterestEarned, V: 1, Reversible: true, New: newOf[InterestEarned]},
	{Name: TypeRefundPaid, V: 1, Reversible: true, New: newOf[RefundPaid]},
	{Name: TypeEventReversed, V: 1, New: newOf[EventReversed]},
	{Name: TypeBalanceCarriedOver, V: 1, New: newOf[BalanceCarriedOver]},
	{Name: TypeTermClosed, V: 1, New: newOf[TermClosed]},
	{Name: TypeCityRegistered, V: 1, New: newOf[CityRegistered]},
	{Name: TypeClusterRegistered, V: 1, New: newOf[ClusterRegistered]},
	{Name: TypeCoordinatorAppointed, V: 1, New: newOf[CoordinatorAppointed]},
	{Name: TypeMemberJoined, V: 1, New: newOf[MemberJoined]},
}

// byName indexes types.
var byName = func() map[string]Type {
	m := make(map[string]Type, len(types))
	for _, t := range types {
		m[t.Name] = t
	}
	return m
}()

// newOf returns a new, empty *P as a Payload.
func newOf[P any, PP interface {
	*P
	Payload
}]() Payload {
	return PP(new(P))
}

// Types returns every event type. Tests of the other layers walk it to
// check that their tables have an entry for each.
func Types() []Type { return slices.Clone(types) }

// LookupType returns the type of a stored name.
func LookupType(name string) (Type, bool) {
	t, ok := byName[name]
	return t, ok
}

// Reversible reports whether a reversal may name an event of type name
// (rule 5). A fee is reversed with its receipt only; pledge events are
// corrected by amending or cancelling the pledge, a donor's registration
// and its amendments by another amendment; closes, carry-overs and
// reversals are final.
func Reversible(name string) bool { return byName[name].Reversible }

// newPayload returns an empty payload of a stored type name and version.
// Older versions are upcast here, on read; stored events are never rewritten.
func newPayload(typ string, v int) (Payload, error) {
	t, ok := byName[typ]
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", typ)
	}
	if v != t.V {
		return nil, fmt.Errorf("event type %s: unknown version %d", typ, v)
	}
	return t.New(), nil
}
