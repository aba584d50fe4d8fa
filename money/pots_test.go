package money

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPotWeights walks the three cases of the rule: a pot's own positive
// weights, else its owners' positive money paid in, else every owner's
// positive weights in all the pots.
func TestPotWeights(t *testing.T) {
	weights := map[string]map[string]int64{
		"":             {"a": 300, "b": -50, "c": 0},
		"line:L1":      {"b": 200, "c": -10},
		"cluster:C":    {"a": -5, "b": 0},
		"cluster:none": {},
	}
	paidIn := map[string]map[string]int64{
		"":          {"a": 900, "b": 70},
		"line:L1":   {"c": 40},
		"cluster:C": {"a": 10, "c": -3},
		"line:L2":   {"b": 0},
	}
	for _, tc := range []struct {
		pot  string
		want map[string]int64
	}{
		// The pot's own weights, whatever was paid in.
		{"", map[string]int64{"a": 300}},
		{"line:L1", map[string]int64{"b": 200}},
		// No positive weight in the pot: who paid into it.
		{"cluster:C", map[string]int64{"a": 10}},
		// Neither: every owner's positive weights.
		{"cluster:none", map[string]int64{"a": 300, "b": 200}},
		{"line:L2", map[string]int64{"a": 300, "b": 200}},
		{"line:unknown", map[string]int64{"a": 300, "b": 200}},
	} {
		if got := PotWeights(tc.pot, weights, paidIn); !cmp.Equal(got, tc.want) {
			t.Errorf("PotWeights(%q) = %v, want %v", tc.pot, got, tc.want)
		}
	}
	if got := PotWeights("", map[string]map[string]int64{"": {"a": -1}}, map[string]map[string]int64{"": {"a": -2}}); len(got) != 0 {
		t.Errorf("PotWeights with no positive weight = %v, want none", got)
	}
	if got := PotWeights("", nil, nil); len(got) != 0 {
		t.Errorf("PotWeights of nothing = %v, want none", got)
	}
}

// TestSharePot checks the split: owners in key order, largest remainder,
// the shares summing to the balance, owners without a positive weight left
// out, nil for no owner.
func TestSharePot(t *testing.T) {
	got := SharePot(100, map[string]int64{"c": 1, "a": 1, "b": 1, "z": 0, "y": -3})
	want := []Share{{"a", 34}, {"b", 33}, {"c", 33}}
	if !cmp.Equal(got, want) {
		t.Errorf("SharePot = %v, want %v", got, want)
	}
	if got := SharePot(0, map[string]int64{"a": 2, "b": 1}); !cmp.Equal(got, []Share{{"a", 0}, {"b", 0}}) {
		t.Errorf("SharePot of nothing = %v, want zero shares", got)
	}
	if got := SharePot(100, map[string]int64{"a": 0}); got != nil {
		t.Errorf("SharePot without weights = %v, want nil", got)
	}
}
