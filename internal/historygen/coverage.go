package historygen

import "fmt"

// CoverageRounds bounds the rounds of histories a property test draws
// before it judges whether its generator reached everything it must.
const CoverageRounds = 12

// UntilCovered runs check (one rapid.Check of a property) until every name
// of want has a count in seen, at most CoverageRounds times, and returns
// those still missing. A property says little about event types that no
// history reached; a rare type may take more than one round to come up,
// and judging after one round fails by chance. Twelve rounds turn a type
// that one round misses one time in eight into one missed one time in
// 7·10¹⁰, so what is still missing says the generator cannot reach it.
func UntilCovered(check func(), seen map[string]int, want []string) []string {
	var missing []string
	for round := 0; round < CoverageRounds; round++ {
		check()
		missing = missing[:0]
		for _, name := range want {
			if seen[name] == 0 {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return nil
		}
	}
	return missing
}

// Missing describes what UntilCovered left missing, for a test's error.
func Missing(what string, missing []string) string {
	return fmt.Sprintf("after %d rounds of histories, no %s: %v", CoverageRounds, what, missing)
}
