package events_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// TestSubjectOfPayload holds SubjectOfPayload, which reads an event's
// subject from its decoded payload, to SubjectOf, which decodes its data:
// for every event type, with every string field of the payload (embedded
// structs' too) set to a value of its own, and with none set.
func TestSubjectOfPayload(t *testing.T) {
	for _, ty := range events.Types() {
		for _, filled := range []bool{false, true} {
			p := ty.New()
			fill(reflect.ValueOf(p).Elem(), filled, 0)
			data, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			want := events.SubjectOf(events.Event{Type: ty.Name, V: 1, Data: data})
			if got := events.SubjectOfPayload(p); got != want {
				t.Errorf("%s (fields set: %v): SubjectOfPayload %+v, SubjectOf %+v", ty.Name, filled, got, want)
			}
		}
	}
}

// fill sets every amount to one dollar, so that the payload encodes, and,
// if strs, every string field to its name, through structs, pointers to
// structs and slices of them (one element).
func fill(v reflect.Value, strs bool, depth int) {
	if depth > 5 || !v.CanSet() {
		return
	}
	if v.Type() == reflect.TypeFor[money.Amount]() {
		v.Set(reflect.ValueOf(money.USDAmount(100)))
		return
	}
	switch v.Kind() {
	case reflect.Uint64:
		if strs {
			v.SetUint(7)
		}
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Struct {
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem(), strs, depth+1)
		}
	case reflect.Slice:
		if k := v.Type().Elem().Kind(); k == reflect.Struct || k == reflect.String {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			fill(v.Index(0), strs, depth+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			if f.Kind() == reflect.String {
				if strs && f.CanSet() {
					f.SetString("v-" + v.Type().Field(i).Name)
				}
				continue
			}
			fill(f, strs, depth+1)
		}
	case reflect.String:
		if strs {
			v.SetString("s")
		}
	}
}
