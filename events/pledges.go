package events

import "github.com/unesco-uil/mdfm-ledger/money"

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

// PledgeCancelled ends a pledge: what it still expected is written off
// (WrittenOff in its currency, WrittenOffUSD in US dollars, what the memo
// accounts post). Receipts already paid against it stay.
type PledgeCancelled struct {
	PledgeID      string       `json:"pledge_id"`
	DonorID       string       `json:"donor_id"`
	TermID        string       `json:"term_id"`
	Reason        string       `json:"reason"`
	Earmark       string       `json:"earmark,omitempty"`
	WrittenOff    money.Amount `json:"written_off"`
	WrittenOffUSD money.Amount `json:"written_off_usd"`
}
