package domain

import "github.com/unesco-uil/mdfm-ledger/events"

// Meta is what every command carries besides its body: who asks and the
// server's date, so that Decide needs no clock.
type Meta struct {
	Actor string `json:"-"`
	Today string `json:"-"` // YYYY-MM-DD, UTC
	// Role is the actor's role as the HTTP edge knows it ("officer",
	// "approver", "admin", …). Decide uses it for one rule only: a closed
	// term takes reversals from an approver (or admin) alone (rule 6). Every
	// other role check is the edge's.
	Role string `json:"-"`
}

// Roles that Decide knows of (see Meta.Role).
const (
	RoleApprover = "approver"
	RoleAdmin    = "admin"
)

// Command is a request to change the fund. Its exported fields are the JSON
// body of its endpoint; every value is a string so that Decide, not the JSON
// decoder, judges amounts, rates and dates and answers with a stable code.
// Every command is listed in Commands (a test walks the source for types
// with a decide method) and has a write route in httpapi (a test there
// walks Commands).
type Command interface {
	meta() *Meta
	// decide judges the command against s (see Decide).
	decide(s *State) ([]events.Event, error)
}

// SetMeta sets the actor and date of a command.
func SetMeta(c Command, m Meta) { *c.meta() = m }

// MoneyInput is money as the API receives it: {"amount": "50000.00", "currency": "EUR"}.
type MoneyInput struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// OpenTerm opens a two-year term of the fund.
type OpenTerm struct {
	Meta
	ID       string     `json:"id"`
	StartsOn string     `json:"starts_on"`
	EndsOn   string     `json:"ends_on"`
	Target   MoneyInput `json:"target"`
	FeeRate  string     `json:"fee_rate"`
}

// RegisterDonor registers a donor.
type RegisterDonor struct {
	Meta
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Country string `json:"country"`
	City    string `json:"city"`
}

// AmendDonor mends a donor's registration forward. A field left out (or
// null) keeps its value; City "" removes the city. At least one field must
// be given and differ from the donor as of AmendedOn; Reason is required.
// Fields are pointers so that "not given" and "" differ.
type AmendDonor struct {
	Meta
	ID        string  `json:"-"` // the donor, from the path
	Name      *string `json:"name"`
	Kind      *string `json:"kind"`
	Country   *string `json:"country"`
	City      *string `json:"city"`
	Reason    string  `json:"reason"`
	AmendedOn string  `json:"amended_on"` // optional, default today
}

// RecordContribution records cash received from a donor for a term.
type RecordContribution struct {
	Meta
	ID         string     `json:"id"`
	DonorID    string     `json:"donor_id"`
	TermID     string     `json:"term_id"`
	PledgeID   string     `json:"pledge_id"`
	Amount     MoneyInput `json:"amount"`
	USDRate    string     `json:"usd_rate"`
	ReceivedOn string     `json:"received_on"`
	BankRef    string     `json:"bank_ref"`
}

// AddBudgetLine adds a line to a term's budget.
type AddBudgetLine struct {
	Meta
	ID        string     `json:"id"`
	TermID    string     `json:"term_id"`
	Title     string     `json:"title"`
	Amount    MoneyInput `json:"amount"`
	ClusterID string     `json:"cluster_id"`
}

// ProposeAllocation proposes to allocate unallocated money to a budget line.
type ProposeAllocation struct {
	Meta
	ID         string     `json:"id"`
	LineID     string     `json:"line_id"`
	Amount     MoneyInput `json:"amount"`
	Note       string     `json:"note"`
	ProposedOn string     `json:"proposed_on"` // optional, default today
}

// ApproveAllocation approves a proposed allocation; the approver must not be
// the user who proposed it.
type ApproveAllocation struct {
	Meta
	ID         string `json:"-"`           // from the path
	ApprovedOn string `json:"approved_on"` // optional, default today
}

// RecordExpenditure records money spent against an approved allocation.
type RecordExpenditure struct {
	Meta
	ID           string     `json:"id"`
	AllocationID string     `json:"allocation_id"`
	Amount       MoneyInput `json:"amount"`
	USDRate      string     `json:"usd_rate"`
	SpentOn      string     `json:"spent_on"`
	Payee        string     `json:"payee"`
	Description  string     `json:"description"`
	Country      string     `json:"country"`
	City         string     `json:"city"`
	// CityID optionally names a city of the registry; Country (and City,
	// when empty) are then taken from it, or must match it.
	CityID string `json:"city_id"`
}

// EarmarkInput restricts a pledge to one budget line or one cluster:
// {"line_id": "ESD-2.1"} or {"cluster_id": "ESD"}, exactly one of them.
type EarmarkInput struct {
	ClusterID string `json:"cluster_id"`
	LineID    string `json:"line_id"`
}

// RecordPledge records a signed agreement of a donor to pay a term.
type RecordPledge struct {
	Meta
	ID       string        `json:"id"`
	DonorID  string        `json:"donor_id"`
	TermID   string        `json:"term_id"`
	Amount   MoneyInput    `json:"amount"`
	USDRate  string        `json:"usd_rate"` // indicative rate of the signing month; required unless USD
	Earmark  *EarmarkInput `json:"earmark"`  // optional
	SignedOn string        `json:"signed_on"`
	DueOn    string        `json:"due_on"`
}

// AmendPledge changes a pledge's amount (in its currency, with a new rate
// unless USD) and/or its due date. Fields left empty keep their value;
// Reason is required.
type AmendPledge struct {
	Meta
	ID        string     `json:"-"` // the pledge, from the path
	Amount    MoneyInput `json:"amount"`
	USDRate   string     `json:"usd_rate"`
	DueOn     string     `json:"due_on"`
	Reason    string     `json:"reason"`
	AmendedOn string     `json:"amended_on"` // optional, default today
}

// CancelPledge cancels what a pledge still expects.
type CancelPledge struct {
	Meta
	ID          string `json:"-"` // the pledge, from the path
	Reason      string `json:"reason"`
	CancelledOn string `json:"cancelled_on"` // optional, default today
}

// RecordInterest records interest earned on a term's trust balance.
type RecordInterest struct {
	Meta
	ID       string     `json:"id"`
	TermID   string     `json:"term_id"`
	Amount   MoneyInput `json:"amount"` // USD
	EarnedOn string     `json:"earned_on"`
}

// RecordRefund records money of a term returned to a donor.
type RecordRefund struct {
	Meta
	ID      string     `json:"id"`
	DonorID string     `json:"donor_id"`
	TermID  string     `json:"term_id"`
	Amount  MoneyInput `json:"amount"` // USD
	PaidOn  string     `json:"paid_on"`
	Reason  string     `json:"reason"` // optional
}

// ReverseEvent corrects an earlier money event by reversing it.
type ReverseEvent struct {
	Meta
	ID      string `json:"id"`
	EventID string `json:"event_id"`
	Reason  string `json:"reason"`
}

// DispositionInput says what closing a term does with its unallocated
// balance: {"kind": "carry_over", "to_term_id": "2022-2023"} or {"kind": "refund"}.
type DispositionInput struct {
	Kind     string `json:"kind"`
	ToTermID string `json:"to_term_id"`
}

// Dispositions of a closing term's unallocated balance.
const (
	DispositionCarryOver = "carry_over"
	DispositionRefund    = "refund"
)

// CloseTerm closes a term and disposes of its unallocated balance.
type CloseTerm struct {
	Meta
	ID          string           `json:"-"` // the term, from the path
	ClosedOn    string           `json:"closed_on"`
	Disposition DispositionInput `json:"disposition"`
}

// RegisterCity adds a city of the network to the registry.
type RegisterCity struct {
	Meta
	ID      string `json:"id"`
	Name    string `json:"name"`
	Country string `json:"country"`
}

// RegisterCluster adds a thematic cluster to the registry.
type RegisterCluster struct {
	Meta
	ID               string `json:"id"`
	Name             string `json:"name"`
	TechnicalPartner string `json:"technical_partner"` // optional
}

// AppointCoordinator makes a city a coordinator of a cluster for a term.
type AppointCoordinator struct {
	Meta
	ClusterID string `json:"-"` // from the path
	CityID    string `json:"city_id"`
	TermID    string `json:"term_id"`
}

// JoinCluster makes a city a member of a cluster for a term.
type JoinCluster struct {
	Meta
	ClusterID string `json:"-"` // from the path
	CityID    string `json:"city_id"`
	TermID    string `json:"term_id"`
}

// Batch is several commands decided as one: all are accepted, each against
// the state the ones before it leave, or none is (see DecideBatch). The
// batch's Meta is given to every command of it.
type Batch struct {
	Meta
	Commands []Command `json:"-"`
}

func (c *Meta) meta() *Meta { return c }

// MetaOf returns the actor and date of a command.
func MetaOf(c Command) Meta { return *c.meta() }

// Commands returns an empty value of every command but Batch, which holds
// the others: the list the HTTP edge's routes are checked against.
func Commands() []Command {
	return []Command{
		&OpenTerm{}, &RegisterDonor{}, &AmendDonor{}, &RecordContribution{}, &AddBudgetLine{},
		&ProposeAllocation{}, &ApproveAllocation{}, &RecordExpenditure{}, &RecordPledge{}, &AmendPledge{},
		&CancelPledge{}, &RecordInterest{}, &RecordRefund{}, &ReverseEvent{}, &CloseTerm{},
		&RegisterCity{}, &RegisterCluster{}, &AppointCoordinator{}, &JoinCluster{},
	}
}

// Each command names the method of State that decides it.

func (c *OpenTerm) decide(s *State) ([]events.Event, error)           { return s.openTerm(c) }
func (c *RegisterDonor) decide(s *State) ([]events.Event, error)      { return s.registerDonor(c) }
func (c *AmendDonor) decide(s *State) ([]events.Event, error)         { return s.amendDonor(c) }
func (c *RecordContribution) decide(s *State) ([]events.Event, error) { return s.recordContribution(c) }
func (c *AddBudgetLine) decide(s *State) ([]events.Event, error)      { return s.addBudgetLine(c) }
func (c *ProposeAllocation) decide(s *State) ([]events.Event, error)  { return s.proposeAllocation(c) }
func (c *ApproveAllocation) decide(s *State) ([]events.Event, error)  { return s.approveAllocation(c) }
func (c *RecordExpenditure) decide(s *State) ([]events.Event, error)  { return s.recordExpenditure(c) }
func (c *RecordPledge) decide(s *State) ([]events.Event, error)       { return s.recordPledge(c) }
func (c *AmendPledge) decide(s *State) ([]events.Event, error)        { return s.amendPledge(c) }
func (c *CancelPledge) decide(s *State) ([]events.Event, error)       { return s.cancelPledge(c) }
func (c *RecordInterest) decide(s *State) ([]events.Event, error)     { return s.recordInterest(c) }
func (c *RecordRefund) decide(s *State) ([]events.Event, error)       { return s.recordRefund(c) }
func (c *ReverseEvent) decide(s *State) ([]events.Event, error)       { return s.reverseEvent(c) }
func (c *CloseTerm) decide(s *State) ([]events.Event, error)          { return s.closeTerm(c) }
func (c *RegisterCity) decide(s *State) ([]events.Event, error)       { return s.registerCity(c) }
func (c *RegisterCluster) decide(s *State) ([]events.Event, error)    { return s.registerCluster(c) }
func (c *AppointCoordinator) decide(s *State) ([]events.Event, error) { return s.appointCoordinator(c) }
func (c *JoinCluster) decide(s *State) ([]events.Event, error)        { return s.joinCluster(c) }
func (c *Batch) decide(s *State) ([]events.Event, error)              { return s.decideBatchCommand(c) }
