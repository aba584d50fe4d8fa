package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypePledgeAmended is the stable name of the type (see Type.Name).
const TypePledgeAmended = "pledge_amended"

var _ = register(Type{Seq: 11, Name: TypePledgeAmended, V: 1, New: newOf[PledgeAmended]})

// PledgeAmended replaces a pledge's amount (same currency), rate, US dollar
// value and due date with the values it carries, all of them, changed or
// not. OutstandingUSDChange is the signed change of the pledge's
// outstanding US dollar value: what the memo accounts post.
type PledgeAmended struct {
	PledgeID             string       `json:"pledge_id"`
	DonorID              string       `json:"donor_id"`
	TermID               string       `json:"term_id"`
	Amount               money.Amount `json:"amount"`
	USDRate              string       `json:"usd_rate"`
	USDAmount            money.Amount `json:"usd_amount"`
	DueOn                string       `json:"due_on"`
	Reason               string       `json:"reason"`
	Earmark              string       `json:"earmark,omitempty"` // the pledge's pot key, for the memo postings
	OutstandingUSDChange money.Amount `json:"outstanding_usd_change"`
}

func (PledgeAmended) EventType() string { return TypePledgeAmended }
