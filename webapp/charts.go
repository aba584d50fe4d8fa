package webapp

import (
	"math"

	"github.com/unesco-uil/mdfm-ledger/projections"
)

// Charts are drawn by the server as SVG: no script, and the numbers beside
// the bars are the report's own strings.

// chartWidth is the width of a bar's drawing area in SVG units: each row is
// its label as HTML text beside an SVG of its bars stretched to the width
// left, so that labels stay readable on a phone.
const chartWidth = 1000.0

// barChart is a budget against actual chart: a row for each line or
// cluster with its budget, allocated and spent as bars on one scale.
type barChart struct {
	Title string
	Rows  []barRow
}

type barRow struct {
	Label, Title                string
	Budget, Allocated, Spent    string // the report's amounts
	BudgetW, AllocatedW, SpentW float64
}

// budgetChart draws rows of (label, title, figures) on one scale: the
// largest budget fills the width.
func budgetChart(title string, labels, titles []string, figs []projections.BudgetFigures) barChart {
	c := barChart{Title: title}
	max := 0.0
	for _, f := range figs {
		for _, v := range []string{f.Budget, f.Allocated, f.Spent} {
			if x := toFloat(v); x > max {
				max = x
			}
		}
	}
	scale := 0.0
	if max > 0 {
		scale = chartWidth / max
	}
	for i, f := range figs {
		c.Rows = append(c.Rows, barRow{
			Label: labels[i], Title: titles[i], Budget: f.Budget, Allocated: f.Allocated, Spent: f.Spent,
			BudgetW: round1(toFloat(f.Budget) * scale), AllocatedW: round1(toFloat(f.Allocated) * scale), SpentW: round1(toFloat(f.Spent) * scale),
		})
	}
	return c
}

// progress is the trust balance's progress to the term's target: received
// and pledged as shares of the target, drawn on a 0–100 scale.
type progress struct {
	ReceivedW, PledgedW float64
	Received, Pledged   string // percentages as the balance gives them
}

func newProgress(b projections.Balance) progress {
	clamp := func(s string) float64 {
		x := toFloat(s)
		if x < 0 {
			return 0
		}
		if x > 100 {
			return 100
		}
		return round1(x * 10)
	}
	return progress{ReceivedW: clamp(b.ReceivedPctOfTarget), PledgedW: clamp(b.PledgedPctOfTarget), Received: b.ReceivedPctOfTarget, Pledged: b.PledgedPctOfTarget}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
