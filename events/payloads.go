package events

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/money"
)

// Stable event type names. They are written into every stored event and must
// never change; a Go type may be renamed freely. Each is declared in Types.
const (
	TypeTermOpened           = "term_opened"
	TypeDonorRegistered      = "donor_registered"
	TypeDonorAmended         = "donor_amended"
	TypeContributionReceived = "contribution_received"
	TypeFeeCharged           = "fee_charged"
	TypeBudgetLineAdded      = "budget_line_added"
	TypeAllocationProposed   = "allocation_proposed"
	TypeAllocationApproved   = "allocation_approved"
	TypeExpenditureRecorded  = "expenditure_recorded"

	TypePledgeRecorded       = "pledge_recorded"
	TypePledgeAmended        = "pledge_amended"
	TypePledgeCancelled      = "pledge_cancelled"
	TypeInterestEarned       = "interest_earned"
	TypeRefundPaid           = "refund_paid"
	TypeEventReversed        = "event_reversed"
	TypeBalanceCarriedOver   = "balance_carried_over"
	TypeTermClosed           = "term_closed"
	TypeCityRegistered       = "city_registered"
	TypeClusterRegistered    = "cluster_registered"
	TypeCoordinatorAppointed = "coordinator_appointed"
	TypeMemberJoined         = "member_joined"
)

// Payload is the data of one event type.
type Payload interface {
	// EventType returns the stable type name stored in the envelope.
	EventType() string
}

// TermOpened opens a two-year term with its target and the fee rate that
// every receipt of the term is charged at.
type TermOpened struct {
	TermID   string       `json:"term_id"`
	StartsOn string       `json:"starts_on"`
	EndsOn   string       `json:"ends_on"`
	Target   money.Amount `json:"target"`   // USD
	FeeRate  string       `json:"fee_rate"` // fraction, "0.01" is 1 %
}

// DonorRegistered registers a member city, country, company or foundation.
type DonorRegistered struct {
	DonorID string `json:"donor_id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Country string `json:"country"`
	City    string `json:"city,omitempty"`
}

// DonorAmended mends a donor's registration forward: from EffectiveOn (its
// envelope's date) the donor's name, kind, country and city are those of
// the registration as changed by the amendments dated on or before that
// day, taken in date order, then in the fund's order. Only the fields given
// change (nil: unchanged); City "" removes the city. It moves no money and
// cannot be reversed: a second amendment mends the first.
type DonorAmended struct {
	DonorID string  `json:"donor_id"`
	Name    *string `json:"name,omitempty"`
	Kind    *string `json:"kind,omitempty"`
	Country *string `json:"country,omitempty"`
	City    *string `json:"city,omitempty"`
	Reason  string  `json:"reason"`
}

// ContributionReceived is cash received into the trust. Amount is in the
// currency received; USDAmount is what it produced at USDRate, and is what
// the trust book counts. Replay never recomputes it.
type ContributionReceived struct {
	ContributionID string       `json:"contribution_id"`
	DonorID        string       `json:"donor_id"`
	TermID         string       `json:"term_id"`
	PledgeID       string       `json:"pledge_id,omitempty"`
	Amount         money.Amount `json:"amount"`
	USDRate        string       `json:"usd_rate"` // USD per one unit of Amount's currency
	USDAmount      money.Amount `json:"usd_amount"`
	ReceivedOn     string       `json:"received_on"`
	BankRef        string       `json:"bank_ref,omitempty"`
	// Earmark is the pot the receipt goes into: the earmark key of the
	// pledge it pays ("line:<id>" or "cluster:<id>"), empty for money free
	// to allocate to any line of the term.
	Earmark string `json:"earmark,omitempty"`
	// PledgeSettledUSD is by how much the receipt lowers the pledge's
	// outstanding US dollar value (the memo postings); set when PledgeID is.
	PledgeSettledUSD *money.Amount `json:"pledge_settled_usd,omitempty"`
}

// FeeCharged moves the administrative agent's fee on a receipt from the trust
// book to UIL's own revenue. It is the only way money leaves the trust for UIL.
type FeeCharged struct {
	ContributionID string       `json:"contribution_id"`
	DonorID        string       `json:"donor_id"`
	TermID         string       `json:"term_id"`
	FeeRate        string       `json:"fee_rate"`
	Amount         money.Amount `json:"amount"` // USD
	// Earmark is the receipt's pot, which the fee comes out of.
	Earmark string `json:"earmark,omitempty"`
}

// BudgetLineAdded adds a line to a term's budget.
type BudgetLineAdded struct {
	LineID    string       `json:"line_id"`
	TermID    string       `json:"term_id"`
	Title     string       `json:"title"`
	Amount    money.Amount `json:"amount"` // USD
	ClusterID string       `json:"cluster_id,omitempty"`
}

// AllocationProposed is the maker's half of an allocation. It moves no money.
type AllocationProposed struct {
	AllocationID string       `json:"allocation_id"`
	LineID       string       `json:"line_id"`
	TermID       string       `json:"term_id"`
	Amount       money.Amount `json:"amount"` // USD
	Note         string       `json:"note,omitempty"`
	ProposedBy   string       `json:"proposed_by"`
}

// AllocationApproved is the checker's half: it moves the amount from the
// term's unallocated balance to the budget line. Funding says which pots the
// amount was drawn from; events written before earmarks existed have none,
// and their amount came from the unearmarked pot.
type AllocationApproved struct {
	AllocationID string       `json:"allocation_id"`
	LineID       string       `json:"line_id"`
	TermID       string       `json:"term_id"`
	Amount       money.Amount `json:"amount"` // USD
	ProposedBy   string       `json:"proposed_by"`
	ApprovedBy   string       `json:"approved_by"`
	Funding      []Draw       `json:"funding,omitempty"`
}

// Draw is an amount in US dollars taken from (or returned to) one pot of a
// term's unallocated balance: Earmark is "line:<id>", "cluster:<id>" or empty
// for the unearmarked pot.
type Draw struct {
	Earmark string       `json:"earmark,omitempty"`
	Amount  money.Amount `json:"amount"` // USD
}

// ExpenditureRecorded is money spent against an approved allocation. Amount is
// in the currency paid; USDAmount is what the trust book counts.
type ExpenditureRecorded struct {
	ExpenditureID string       `json:"expenditure_id"`
	AllocationID  string       `json:"allocation_id"`
	LineID        string       `json:"line_id"`
	TermID        string       `json:"term_id"`
	Amount        money.Amount `json:"amount"`
	USDRate       string       `json:"usd_rate"`
	USDAmount     money.Amount `json:"usd_amount"`
	SpentOn       string       `json:"spent_on"`
	Payee         string       `json:"payee"`
	Description   string       `json:"description,omitempty"`
	Country       string       `json:"country,omitempty"`
	City          string       `json:"city,omitempty"`
	CityID        string       `json:"city_id,omitempty"` // a city of the registry
}

func (TermOpened) EventType() string           { return TypeTermOpened }
func (DonorRegistered) EventType() string      { return TypeDonorRegistered }
func (DonorAmended) EventType() string         { return TypeDonorAmended }
func (ContributionReceived) EventType() string { return TypeContributionReceived }
func (FeeCharged) EventType() string           { return TypeFeeCharged }
func (BudgetLineAdded) EventType() string      { return TypeBudgetLineAdded }
func (AllocationProposed) EventType() string   { return TypeAllocationProposed }
func (AllocationApproved) EventType() string   { return TypeAllocationApproved }
func (ExpenditureRecorded) EventType() string  { return TypeExpenditureRecorded }
func (PledgeRecorded) EventType() string       { return TypePledgeRecorded }
func (PledgeAmended) EventType() string        { return TypePledgeAmended }
func (PledgeCancelled) EventType() string      { return TypePledgeCancelled }
func (InterestEarned) EventType() string       { return TypeInterestEarned }
func (RefundPaid) EventType() string           { return TypeRefundPaid }
func (EventReversed) EventType() string        { return TypeEventReversed }
func (BalanceCarriedOver) EventType() string   { return TypeBalanceCarriedOver }
func (TermClosed) EventType() string           { return TypeTermClosed }
func (CityRegistered) EventType() string       { return TypeCityRegistered }
func (ClusterRegistered) EventType() string    { return TypeClusterRegistered }
func (CoordinatorAppointed) EventType() string { return TypeCoordinatorAppointed }
func (MemberJoined) EventType() string         { return TypeMemberJoined }

// New returns an unsealed event carrying p: type, version, effective date and
// canonical data are set; identity, position and hashes are the writer's.
func New(effectiveOn string, p Payload) (Event, error) {
	data, err := CanonicalValue(p)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s payload: %w", p.EventType(), err)
	}
	t, ok := byName[p.EventType()]
	if !ok {
		return Event{}, fmt.Errorf("new event: %T has type %q, which is not in Types", p, p.EventType())
	}
	return Event{Type: t.Name, V: t.V, EffectiveOn: effectiveOn, Data: data}, nil
}

// Payload decodes the event's data into its payload type (a pointer to one
// of the structs above). Unknown fields are an error: a stored event means
// exactly what its schema says.
func (e Event) Payload() (Payload, error) {
	p, err := newPayload(e.Type, e.V)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(e.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("decode %s data of fund %s fund_seq %d: %w", e.Type, e.Fund, e.FundSeq, err)
	}
	return p, nil
}
