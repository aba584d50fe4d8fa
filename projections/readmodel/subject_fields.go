package readmodel

import (
	"reflect"
	"strings"
	"sync"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// subjectOf is events.SubjectOf(e) read from p, e's payload as the fold
// decoded it, instead of decoding e's data a second time: the donor_id,
// line_id and term_id fields at the top of the payload (a reversal: the
// fund_seq it reverses). TestSubjectOfPayload holds it to SubjectOf for
// every event type.
func subjectOf(p events.Payload) events.Subject {
	if r, ok := p.(*events.EventReversed); ok {
		return events.Subject{Reverses: r.ReversedFundSeq}
	}
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return events.Subject{}
	}
	v = v.Elem()
	f := subjectFieldsOf(v.Type())
	var s events.Subject
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
