package events

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/money"
)

// Stable event type names. They are written into every stored event and must
// never change; a Go type may be renamed freely.
const (
	TypeTermOpened           = "term_opened"
	TypeDonorRegistered      = "donor_registered"
	TypeContributionReceived = "contribution_received"
	TypeFeeCharged           = "fee_charged"
	TypeBudgetLineAdded      = "budget_line_added"
	TypeAllocationProposed   = "allocation_proposed"
	TypeAllocationApproved   = "allocation_approved"
	TypeExpenditureRecorded  = "expenditure_recorded"
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
}

// FeeCharged moves the administrative agent's fee on a receipt from the trust
// book to UIL's own revenue. It is the only way money leaves the trust for UIL.
type FeeCharged struct {
	ContributionID string       `json:"contribution_id"`
	DonorID        string       `json:"donor_id"`
	TermID         string       `json:"term_id"`
	FeeRate        string       `json:"fee_rate"`
	Amount         money.Amount `json:"amount"` // USD
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
// term's unallocated balance to the budget line.
type AllocationApproved struct {
	AllocationID string       `json:"allocation_id"`
	LineID       string       `json:"line_id"`
	TermID       string       `json:"term_id"`
	Amount       money.Amount `json:"amount"` // USD
	ProposedBy   string       `json:"proposed_by"`
	ApprovedBy   string       `json:"approved_by"`
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
}

func (TermOpened) EventType() string           { return TypeTermOpened }
func (DonorRegistered) EventType() string      { return TypeDonorRegistered }
func (ContributionReceived) EventType() string { return TypeContributionReceived }
func (FeeCharged) EventType() string           { return TypeFeeCharged }
func (BudgetLineAdded) EventType() string      { return TypeBudgetLineAdded }
func (AllocationProposed) EventType() string   { return TypeAllocationProposed }
func (AllocationApproved) EventType() string   { return TypeAllocationApproved }
func (ExpenditureRecorded) EventType() string  { return TypeExpenditureRecorded }

// newPayload returns an empty payload of a stored type name and version.
// Older versions are upcast here, on read; stored events are never rewritten.
func newPayload(typ string, v int) (Payload, error) {
	if v != 1 {
		return nil, fmt.Errorf("event type %s: unknown version %d", typ, v)
	}
	switch typ {
	case TypeTermOpened:
		return &TermOpened{}, nil
	case TypeDonorRegistered:
		return &DonorRegistered{}, nil
	case TypeContributionReceived:
		return &ContributionReceived{}, nil
	case TypeFeeCharged:
		return &FeeCharged{}, nil
	case TypeBudgetLineAdded:
		return &BudgetLineAdded{}, nil
	case TypeAllocationProposed:
		return &AllocationProposed{}, nil
	case TypeAllocationApproved:
		return &AllocationApproved{}, nil
	case TypeExpenditureRecorded:
		return &ExpenditureRecorded{}, nil
	}
	return nil, fmt.Errorf("unknown event type %q", typ)
}

// New returns an unsealed event carrying p: type, version, effective date and
// canonical data are set; identity, position and hashes are the writer's.
func New(effectiveOn string, p Payload) (Event, error) {
	data, err := CanonicalValue(p)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s payload: %w", p.EventType(), err)
	}
	return Event{Type: p.EventType(), V: 1, EffectiveOn: effectiveOn, Data: data}, nil
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
