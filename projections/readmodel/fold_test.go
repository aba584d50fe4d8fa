package readmodel

import (
	"testing"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// TestReadFoldsComplete walks events.Types: every type folds into the read
// model with a fold for its payload, exactly the types a reversal undoes
// have an unfold, and no fold is left for a type that is not registered.
func TestReadFoldsComplete(t *testing.T) {
	for _, ty := range events.Types() {
		f, ok := readFolds[ty.Name]
		if !ok {
			t.Errorf("event type %s has no read-model fold (apply.go)", ty.Name)
			continue
		}
		if !f.payload(ty.New()) {
			t.Errorf("event type %s: the fold is not for %T", ty.Name, ty.New())
		}
		if ty.Reversed() != (f.unfold != nil) {
			t.Errorf("event type %s: reversed %v, but an unfold: %v", ty.Name, ty.Reversed(), f.unfold != nil)
		}
	}
	for name := range readFolds {
		if _, ok := events.LookupType(name); !ok {
			t.Errorf("fold for %s, which is not in events.Types", name)
		}
	}
}
