package ledgertest

import (
	"reflect"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// Leg is one posting as the read model stores it: Type is its event_type
// column, the event's type or, for a reversal's leg, the reversed event's.
type Leg struct {
	Type string
	domain.Posting
}

// SampleLegs returns, per event, the legs of a sample payload of every event
// type that moves money, and the legs of its reversal where one undoes it:
// every kind of posting a report that switches on account and event type
// must take. The samples are filled by reflection (every string its field's
// name, every number 1, every money amount 1 cent, one element in every
// slice, every pointer set), so a new event type is sampled without a line
// here. event_reversed has no sample of its own: its legs are those of the
// event it reverses, negated, booked under that event's type.
func SampleLegs(t testing.TB) [][]Leg {
	t.Helper()
	var out [][]Leg
	for _, ty := range events.Types() {
		if ty.Name == events.TypeEventReversed {
			continue
		}
		p := ty.New()
		fill(reflect.ValueOf(p).Elem(), "")
		ps, err := domain.PayloadPostings(events.Event{Type: ty.Name}, p)
		if err != nil {
			t.Fatalf("postings of a sample %s: %v", ty.Name, err)
		}
		if len(ps) == 0 {
			if ty.Reversed() {
				t.Fatalf("a sample %s moves no money: fill does not reach its amounts", ty.Name)
			}
			continue
		}
		var legs, reversal []Leg
		for _, x := range ps {
			legs = append(legs, Leg{ty.Name, x})
			x.Minor = -x.Minor
			reversal = append(reversal, Leg{ty.Name, x})
		}
		out = append(out, legs)
		if ty.Reversed() {
			out = append(out, reversal)
		}
	}
	return out
}

// fill sets every field of v (see SampleLegs); name is v's field name.
func fill(v reflect.Value, name string) {
	if v.Type() == reflect.TypeFor[money.Amount]() {
		v.Set(reflect.ValueOf(money.USDAmount(1)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(name)
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint64:
		v.SetUint(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), name)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), name)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), v.Type().Field(i).Name)
		}
	}
}
