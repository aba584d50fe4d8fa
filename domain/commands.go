package domain

// Meta is what every command carries besides its body: who asks and the
// server's date, so that Decide needs no clock.
type Meta struct {
	Actor string `json:"-"`
	Today string `json:"-"` // YYYY-MM-DD, UTC
}

// Command is a request to change the fund. Its exported fields are the JSON
// body of its endpoint; every value is a string so that Decide, not the JSON
// decoder, judges amounts, rates and dates and answers with a stable code.
type Command interface {
	meta() *Meta
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
}

func (c *Meta) meta() *Meta { return c }

// MetaOf returns the actor and date of a command.
func MetaOf(c Command) Meta { return *c.meta() }
