package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeContributionReceived is the stable name of the type (see Type.Name).
const TypeContributionReceived = "contribution_received"

var _ = register(Type{Seq: 4, Name: TypeContributionReceived, V: 1, Reversible: true, New: newOf[ContributionReceived]})

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

func (ContributionReceived) EventType() string { return TypeContributionReceived }
