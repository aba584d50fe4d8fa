package readmodel

import (
	"os"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
)

// TestMain folds the tests' read models with a position checkpoint every 4
// events (seqtotals): their histories are far shorter than the default, and
// the checkpoints must be written, compared and migrated too.
func TestMain(m *testing.M) {
	seqtotals.SetEvery(4)
	os.Exit(m.Run())
}
