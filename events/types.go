package events

import (
	"cmp"
	"fmt"
	"slices"
)

// Type is one stored event type. Each is declared once, in its own file
// type_<name>.go, which registers it (register); every other layer (the
// domain's fold and postings, the read model's fold, the test generators)
// registers its part of the type in a file of the same name and has a test
// that walks Types, so a type missing there fails a test instead of reaching
// a default branch at run time. See docs/DESIGN.md, "How to add an event
// type and a command".
type Type struct {
	// Seq is the type's place in Types: the order the types came into the
	// project. A new type takes the next number (TestTypesComplete checks
	// that they run from 1 without a gap).
	Seq int
	// Name is the stable name written into every stored event and its
	// subject. It must never change; the Go type may be renamed freely.
	Name string
	// V is the payload schema version written now. Older versions are
	// upcast on read (newPayload); stored events are never rewritten.
	V int
	// Reversible: a reversal may name an event of this type (rule 5).
	Reversible bool
	// ReversedWith names the type whose reversal also reverses this one
	// (a fee goes with its receipt); "" for none.
	ReversedWith string
	// New returns an empty payload of the type, to decode into.
	New func() Payload
}

// Reversed reports whether an event of the type is ever undone by an
// event_reversed: on its own or with the event it belongs to.
func (t Type) Reversed() bool { return t.Reversible || t.ReversedWith != "" }

// types is every registered type, in Seq order; byName indexes it.
var (
	types  []Type
	byName = map[string]Type{}
)

// register adds a type to Types; each type_<name>.go calls it once, in a
// package variable's initialiser, so that the types are all registered
// before any other package uses this one. A name registered twice is a
// programming error.
func register(t Type) Type {
	if _, ok := byName[t.Name]; ok {
		panic("events: type " + t.Name + " is registered twice")
	}
	byName[t.Name] = t
	i, _ := slices.BinarySearchFunc(types, t.Seq, func(x Type, seq int) int { return cmp.Compare(x.Seq, seq) })
	types = slices.Insert(types, i, t)
	return t
}

// newOf returns a new, empty *P as a Payload.
func newOf[P any, PP interface {
	*P
	Payload
}]() Payload {
	return PP(new(P))
}

// Types returns every event type, in Seq order. Tests of the other layers
// walk it to check that their tables have an entry for each.
func Types() []Type { return slices.Clone(types) }

// LookupType returns the type of a stored name.
func LookupType(name string) (Type, bool) {
	t, ok := byName[name]
	return t, ok
}

// Reversible reports whether a reversal may name an event of type name
// (rule 5). A fee is reversed with its receipt only; pledge events are
// corrected by amending or cancelling the pledge, a donor's registration
// and its amendments by another amendment; closes, carry-overs and
// reversals are final.
func Reversible(name string) bool { return byName[name].Reversible }

// newPayload returns an empty payload of a stored type name and version.
// Older versions are upcast here, on read; stored events are never rewritten.
func newPayload(typ string, v int) (Payload, error) {
	t, ok := byName[typ]
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", typ)
	}
	if v != t.V {
		return nil, fmt.Errorf("event type %s: unknown version %d", typ, v)
	}
	return t.New(), nil
}
