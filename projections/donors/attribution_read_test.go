package donors

import (
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
)

// TestAttributionTakesEveryPosting walks every kind of posting the domain
// books on the unallocated account (a sample of every event type that moves
// money, and of its reversal): the attribution takes each. A new event type
// that addPotRow would refuse fails here rather than at run time.
func TestAttributionTakesEveryPosting(t *testing.T) {
	n := 0
	for _, legs := range ledgertest.SampleLegs(t) {
		at := &attribution{parts: map[string]*participant{}}
		pots := potFlows{keys: map[string]bool{}, draws: map[string]int64{}, interest: map[string]int64{}}
		for _, l := range legs {
			if l.Account != domain.AccountTrustUnallocated {
				continue
			}
			n++
			if err := at.addPotRow(pots, l.Earmark, l.DonorID, l.Type, l.Minor > 0, l.Minor); err != nil {
				t.Errorf("a %s posting: %v", l.Type, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no sample posting on the unallocated account")
	}
}
