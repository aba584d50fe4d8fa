// Package projections answers the queries and reports of the read model:
// the balance, pledges, trial balance and clusters, the budget, focus,
// attribution and IATI reports and the donor statement, each from one read
// snapshot (a view) of package readmodel's SQLite file. Package projector
// feeds the read model from the log; package audit replays and verifies it.
package projections

import "github.com/unesco-uil/mdfm-ledger/projections/readmodel"

// Store is a read model with its queries and reports: a readmodel.Store,
// whose methods it has (ApplyBatch, Checkpoint, WaitFor, …), and the
// reports of this package. Pass Store.Store to the projector and the audit.
type Store struct {
	*readmodel.Store
	// mode is how the reports read the postings: readAuto but in the
	// tests that compare the running totals with the postings.
	mode readMode
}

// Open opens the read model at path as readmodel.Open does.
func Open(path string) (*Store, error) {
	rm, err := readmodel.Open(path)
	if err != nil {
		return nil, err
	}
	return &Store{Store: rm}, nil
}

// ErrInconsistent is readmodel.ErrInconsistent: a report wraps it when the
// read model contradicts itself.
var ErrInconsistent = readmodel.ErrInconsistent
