package events

import "encoding/json"

// Subject is what an event concerns, for indexes that find a donor's or a
// budget line's events (the transparency log's leaves, the read model's
// event list): the donor_id, line_id and term_id at the top of its
// payload, empty for those it does not name. Shares of a carry-over, a
// pledge's earmark and a close's kept allocations are not counted: an
// expenditure or a carry-over is the donors' only pro rata, so it concerns
// no one donor.
//
// A reversal concerns what the event it reverses concerns: Reverses is that
// event's fund_seq (0 for any other type), and the caller, which keeps the
// subjects of earlier events, takes them from there.
type Subject struct {
	DonorID, LineID, TermID string
	Reverses                uint64
}

// SubjectOf reads e's subject from its payload. A payload without the
// fields names none.
func SubjectOf(e Event) Subject {
	var p struct {
		DonorID         string `json:"donor_id"`
		LineID          string `json:"line_id"`
		TermID          string `json:"term_id"`
		ReversedFundSeq uint64 `json:"reversed_fund_seq"`
	}
	json.Unmarshal(e.Data, &p) // a payload without the fields names nothing
	if e.Type == TypeEventReversed {
		return Subject{Reverses: p.ReversedFundSeq}
	}
	return Subject{DonorID: p.DonorID, LineID: p.LineID, TermID: p.TermID}
}
