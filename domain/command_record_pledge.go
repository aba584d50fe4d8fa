package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

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

func (c *RecordPledge) decide(s *State) ([]events.Event, error) { return recordPledge(s, c) }

func recordPledge(s *State, c *RecordPledge) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if err := checkMovementID(s, c.ID); err != nil {
		return nil, err
	}
	d, err := donor(s, "donor_id", c.DonorID)
	if err != nil {
		return nil, err
	}
	t, err := term(s, "term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	amount, usd, rate, err := parseForeign("amount", c.Amount, c.USDRate)
	if err != nil {
		return nil, err
	}
	em, err := earmark(s, c.Earmark, t)
	if err != nil {
		return nil, err
	}
	if err := checkPastDate("signed_on", c.SignedOn, c.Today); err != nil {
		return nil, err
	}
	if err := checkNotEarly("signed_on", c.SignedOn, t, EarlySigningYears); err != nil {
		return nil, err
	}
	if err := checkDate("due_on", c.DueOn); err != nil {
		return nil, err
	}
	if c.DueOn < c.SignedOn {
		return nil, refuse(CodeInvalidDate, "due_on", "due_on %s is before the pledge was signed (%s)", c.DueOn, c.SignedOn)
	}
	if err := checkNotClosed("term_id", t); err != nil {
		return nil, err
	}
	return build(c.SignedOn, &events.PledgeRecorded{PledgeID: c.ID, DonorID: d.ID, TermID: t.ID, Amount: amount, USDRate: rate,
		USDAmount: money.USDAmount(usd), Earmark: em, SignedOn: c.SignedOn, DueOn: c.DueOn})
}

// earmark checks an earmark of term t: exactly one of a line of t or a
// registered cluster.
func earmark(s *State, in *EarmarkInput, t *Term) (*events.Earmark, error) {
	if in == nil {
		return nil, nil
	}
	if (in.LineID == "") == (in.ClusterID == "") {
		return nil, refuse(CodeInvalidEarmark, "earmark", "an earmark names either a line_id or a cluster_id, one of them")
	}
	if in.LineID != "" {
		l, ok := s.Lines[in.LineID]
		if !ok {
			return nil, refuse(CodeUnknownLine, "earmark.line_id", "no budget line %s", trunc(in.LineID))
		}
		if l.TermID != t.ID {
			return nil, refuse(CodeEarmarkOutsideTerm, "earmark.line_id", "line %s is a line of term %s, not of %s", l.ID, l.TermID, t.ID)
		}
		return &events.Earmark{LineID: l.ID}, nil
	}
	if _, ok := s.Clusters[in.ClusterID]; !ok {
		return nil, refuse(CodeUnknownCluster, "earmark.cluster_id", "no cluster %s is registered", trunc(in.ClusterID))
	}
	return &events.Earmark{ClusterID: in.ClusterID}, nil
}
