package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// The domain's rule for pledge_recorded events (see rule).
var _ = addRule(events.TypePledgeRecorded, typed[*events.PledgeRecorded]{
	apply:    applyPledgeRecorded,
	postings: postPledgeRecorded,
})

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

func (c *RecordPledge) decide(s *State) ([]events.Event, error) { return s.recordPledge(c) }

func (s *State) recordPledge(c *RecordPledge) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if err := s.checkMovementID(c.ID); err != nil {
		return nil, err
	}
	d, err := s.donor("donor_id", c.DonorID)
	if err != nil {
		return nil, err
	}
	t, err := s.term("term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	amount, usd, rate, err := parseForeign("amount", c.Amount, c.USDRate)
	if err != nil {
		return nil, err
	}
	em, err := s.earmark(c.Earmark, t)
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
func (s *State) earmark(in *EarmarkInput, t *Term) (*events.Earmark, error) {
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

func applyPledgeRecorded(s *State, p *events.PledgeRecorded, _ *EventRecord, _ events.Event) error {
	s.Pledges[p.PledgeID] = &Pledge{ID: p.PledgeID, DonorID: p.DonorID, TermID: p.TermID, Amount: p.Amount,
		USDRate: p.USDRate, USDMinor: p.USDAmount.Minor, Earmark: p.Earmark.Key(), SignedOn: p.SignedOn, DueOn: p.DueOn,
		OutstandingUSD: p.USDAmount.Minor}
	return nil
}

func postPledgeRecorded(p *events.PledgeRecorded, add func(Posting)) {
	memo(add, p.TermID, p.DonorID, p.PledgeID, p.Earmark.Key(), p.USDAmount.Minor)
}
