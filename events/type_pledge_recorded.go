package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypePledgeRecorded is the stable name of the type (see Type.Name).
const TypePledgeRecorded = "pledge_recorded"

var _ = register(Type{Seq: 10, Name: TypePledgeRecorded, V: 1, New: newOf[PledgeRecorded]})

// Earmark restricts a donor's money to one budget line or to the lines of
// one cluster. Exactly one of its fields is set.
type Earmark struct {
	ClusterID string `json:"cluster_id,omitempty"`
	LineID    string `json:"line_id,omitempty"`
}

// Key returns the earmark's pot key: "line:<id>", "cluster:<id>", or "" for
// no earmark (a nil *Earmark).
func (e *Earmark) Key() string {
	switch {
	case e == nil:
		return ""
	case e.LineID != "":
		return "line:" + e.LineID
	case e.ClusterID != "":
		return "cluster:" + e.ClusterID
	}
	return ""
}

// PledgeRecorded is a signed agreement: a donor promises Amount (in any
// accepted currency; USDAmount at the indicative USDRate of the signing
// month) to a term, due by DueOn. A pledge is a promise, not cash: it posts
// only to the memo accounts, never to the trust book.
type PledgeRecorded struct {
	PledgeID  string       `json:"pledge_id"`
	DonorID   string       `json:"donor_id"`
	TermID    string       `json:"term_id"`
	Amount    money.Amount `json:"amount"`
	USDRate   string       `json:"usd_rate"`
	USDAmount money.Amount `json:"usd_amount"`
	Earmark   *Earmark     `json:"earmark,omitempty"`
	SignedOn  string       `json:"signed_on"`
	DueOn     string       `json:"due_on"`
}

func (PledgeRecorded) EventType() string { return TypePledgeRecorded }
