package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// rule is what the state does with one event type: how an event of it
// folds into the state, its postings, and for a money event what it moves
// and how a reversal marks it. Each is declared in the type's own file,
// type_<name>.go; every entry of events.Types has one (TestRulesComplete);
// see docs/DESIGN.md, "How to add an event type and a command".
type rule struct {
	// payload reports whether p is the payload of the rule's type.
	payload func(p events.Payload) bool
	// apply folds the event into the state; it only changes state (every
	// rule was checked when the event was decided). rec is what the state
	// will keep of the event; a money event sets its TermID.
	apply func(s *State, p events.Payload, rec *EventRecord, e events.Event) error
	// postings adds the event's legs; nil for an event that moves no money.
	postings func(p events.Payload, add func(Posting))
	// effect moves the balances of a money event, sign +1 when it is
	// applied and −1 when it is reversed: the one place that says what a
	// money event does to the state, so that a reversal undoes it exactly.
	// nil for events that no reversal undoes.
	effect func(s *State, p events.Payload, sign int64)
	// reversed marks what the event recorded as reversed; nil for events a
	// reversal may not name.
	reversed func(s *State, p events.Payload)
}

// typed is a rule written for one payload type P; rule() erases P. The
// payload a rule receives was made by events.Types for the rule's name, so
// the conversions cannot fail (TestRulesComplete checks the pairing).
type typed[P events.Payload] struct {
	apply    func(s *State, p P, rec *EventRecord, e events.Event) error
	postings func(p P, add func(Posting))
	effect   func(s *State, p P, sign int64)
	reversed func(s *State, p P)
}

func (t typed[P]) rule() rule {
	r := rule{
		payload: func(p events.Payload) bool { _, ok := p.(P); return ok },
		apply: func(s *State, p events.Payload, rec *EventRecord, e events.Event) error {
			return t.apply(s, p.(P), rec, e)
		},
	}
	if t.postings != nil {
		r.postings = func(p events.Payload, add func(Posting)) { t.postings(p.(P), add) }
	}
	if t.effect != nil {
		r.effect = func(s *State, p events.Payload, sign int64) { t.effect(s, p.(P), sign) }
	}
	if t.reversed != nil {
		r.reversed = func(s *State, p events.Payload) { t.reversed(s, p.(P)) }
	}
	return r
}

// rules holds a rule per event type name. Each type's file,
// type_<name>.go, adds its rule with addRule, in a package variable's
// initialiser, so that every rule is in place before the state is built.
var rules = map[string]rule{}

// addRule registers the rule of event type name, written for its payload
// type P. A name given twice is a programming error.
func addRule[P events.Payload](name string, t typed[P]) rule {
	if _, ok := rules[name]; ok {
		panic("domain: two rules for event type " + name)
	}
	rules[name] = t.rule()
	return rules[name]
}

// ruleOf returns the rule of a payload's type.
func ruleOf(p events.Payload) (rule, error) {
	r, ok := rules[p.EventType()]
	if !ok {
		return rule{}, fmt.Errorf("no domain rule for event type %s (%T)", p.EventType(), p)
	}
	return r, nil
}

// apply folds one decoded event into the state: its type's rule, then, for
// a money event, its money kept for a reversal and the money moved. (Its
// postings are not needed here: a reversal computes them from the payload.)
func (s *State) apply(p events.Payload, e events.Event) error {
	r, err := ruleOf(p)
	if err != nil {
		return err
	}
	rec := &EventRecord{Type: e.Type, FundSeq: e.FundSeq, EffectiveOn: e.EffectiveOn}
	if err := r.apply(s, p, rec, e); err != nil {
		return err
	}
	if r.effect != nil {
		rec.Payload = p
		r.effect(s, p, 1)
	}
	return s.addEvent(e.ID, rec, rec.Payload)
}

// moneyEffect moves the balances of one money event (see rule.effect).
func (s *State) moneyEffect(p events.Payload, sign int64) error {
	r, err := ruleOf(p)
	if err != nil {
		return err
	}
	if r.effect == nil {
		return fmt.Errorf("no money rule for %T", p)
	}
	r.effect(s, p, sign)
	return nil
}
