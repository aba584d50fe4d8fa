package projections

import (
	"testing"

	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
)

// TestFiguresTakeEveryPosting walks every kind of posting the domain books
// (a sample of every event type that moves money, and of its reversal):
// the balance's figures take each, and the legs of one event leave the
// identities of every term they touch holding. A new event type or account
// that sumPostings would leave out fails here rather than at run time.
func TestFiguresTakeEveryPosting(t *testing.T) {
	samples := ledgertest.SampleLegs(t)
	if len(samples) == 0 {
		t.Fatal("no sample postings")
	}
	add := func(to *int64, x int64) { *to += x }
	for _, legs := range samples {
		byTerm := map[string]*figures{}
		for _, l := range legs {
			f := byTerm[l.TermID]
			if f == nil {
				f = &figures{earmarked: map[string]int64{}}
				byTerm[l.TermID] = f
			}
			if !f.addPosting(add, l.Account, l.Type, l.Earmark, l.Minor > 0, l.Minor) {
				t.Errorf("a %s posting on %s is not taken by the balance's figures (addPosting)", l.Type, l.Account)
			}
		}
		for term, f := range byTerm {
			if err := f.identity(); err != nil {
				t.Errorf("the %s postings on term %s: %v", legs[0].Type, term, err)
			}
		}
	}
}
