package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

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

// SubjectOfPayload is SubjectOf(e) read from p, e's payload already
// decoded, for a reader that holds it (the read model's fold), instead of
// decoding e's data a second time: the payload's fields named donor_id,
// line_id and term_id in JSON (a reversal: the fund_seq it reverses).
// TestSubjectOfPayload holds it to SubjectOf for every event type.
func SubjectOfPayload(p Payload) Subject {
	if r, ok := p.(*EventReversed); ok {
		return Subject{Reverses: r.ReversedFundSeq}
	}
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return Subject{}
	}
	v = v.Elem()
	f := subjectFieldsOf(v.Type())
	var s Subject
	if f.donor >= 0 {
		s.DonorID = v.Field(f.donor).String()
	}
	if f.line >= 0 {
		s.LineID = v.Field(f.line).String()
	}
	if f.term >= 0 {
		s.TermID = v.Field(f.term).String()
	}
	return s
}

// subjectFields are the indexes of a payload struct's string fields named
// donor_id, line_id and term_id in JSON, -1 where it has none.
type subjectFields struct{ donor, line, term int }

var subjectFieldCache sync.Map // reflect.Type → subjectFields

func subjectFieldsOf(t reflect.Type) subjectFields {
	if f, ok := subjectFieldCache.Load(t); ok {
		return f.(subjectFields)
	}
	f := subjectFields{-1, -1, -1}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Anonymous || sf.Type.Kind() != reflect.String {
			continue
		}
		switch name, _, _ := strings.Cut(sf.Tag.Get("json"), ","); name {
		case "donor_id":
			f.donor = i
		case "line_id":
			f.line = i
		case "term_id":
			f.term = i
		}
	}
	subjectFieldCache.Store(t, f)
	return f
}
