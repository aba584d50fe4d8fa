package ledgertest

import (
	"testing"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// AppendUnbalanced appends to the stream, as another program could, the
// approval of allocationID (a proposal of 300.00 on line of term that must
// be the fund's last event) funded by 100.00 only: a correctly chained and
// hashed event whose postings do not balance, as a faulty older version or
// a forger could have written. It returns the stored event.
func AppendUnbalanced(t testing.TB, log *eventlog.Log, fund, term, line, allocationID string) events.Event {
	t.Helper()
	last, found, err := log.LastEvent(t.Context(), fund)
	if err != nil || !found {
		t.Fatalf("last event of fund %s: %v (found %v)", fund, err, found)
	}
	e, err := events.New(last.EffectiveOn, &events.AllocationApproved{AllocationID: allocationID, LineID: line, TermID: term,
		Amount: money.USDAmount(30000), ProposedBy: last.Actor, ApprovedBy: "forger",
		Funding: []events.Draw{{Amount: money.USDAmount(10000)}}})
	if err != nil {
		t.Fatal(err)
	}
	e.ID = "01900000-0000-7000-8000-0000000000ba"
	e.Fund, e.FundSeq = fund, last.FundSeq+1
	e.RecordedAt, e.Actor = last.RecordedAt, "forger"
	e.CommandID, e.CommandHash = "forged-approval", last.CommandHash
	if err := e.Seal(last.Hash); err != nil {
		t.Fatal(err)
	}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// A raw publish, without the expectation Append sends: the point is to
	// store what the ledger's writer never would. It is the one use of
	// JetStreamForTests outside tests (eventlog's TestJetStreamForTestsOnly).
	ack, err := log.JetStreamForTests().Publish(t.Context(), eventlog.Subject(fund, e.Type), b)
	if err != nil {
		t.Fatal(err)
	}
	e.StreamSeq = ack.Sequence
	return e
}
