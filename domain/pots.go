package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// Pot keys of earmarked money.
func lineKey(id string) string    { return "line:" + id }
func clusterKey(id string) string { return "cluster:" + id }

// potsFor returns the pots an allocation to line l may draw on, in the
// order it draws on them: money earmarked to the line, then to its cluster,
// then unearmarked money.
func potsFor(l *Line) []string {
	keys := []string{lineKey(l.ID)}
	if l.ClusterID != "" {
		keys = append(keys, clusterKey(l.ClusterID))
	}
	return append(keys, "")
}

// availableTo returns the unallocated money of term t that line l may be
// allocated (rule 2).
func availableTo(t *Term, l *Line) int64 {
	var sum int64
	for _, k := range potsFor(l) {
		sum += t.Pot(k)
	}
	return sum
}

// drawFor returns the pots an allocation of amount to line l is drawn from,
// in the order of potsFor. The caller has checked that they hold enough.
func drawFor(t *Term, l *Line, amount int64) []events.Draw {
	var out []events.Draw
	for _, k := range potsFor(l) {
		if amount == 0 {
			break
		}
		if x := min(amount, t.Pot(k)); x > 0 {
			out = append(out, events.Draw{Earmark: k, Amount: money.USDAmount(x)})
			amount -= x
		}
	}
	return out
}

// refundDraws returns the pots a refund of amount to donor is drawn from:
// its shares of the earmarked pots first (in key order, since earmarked
// money is the fund's least free), then of the unearmarked pot. ok is false
// when its shares do not reach amount.
func refundDraws(t *Term, donor string, amount int64) (draws []events.Draw, ok bool) {
	for _, k := range t.PotKeys() {
		if amount == 0 {
			break
		}
		if x := min(amount, t.ShareOf(k, donor)); x > 0 {
			draws = append(draws, events.Draw{Earmark: k, Amount: money.USDAmount(x)})
			amount -= x
		}
	}
	return draws, amount == 0
}
