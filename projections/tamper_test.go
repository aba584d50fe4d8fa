package projections_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// withUSDAmount returns e with the contribution's USD amount changed and
// its data re-encoded canonically; hash and prev_hash are left as they were.
func withUSDAmount(t *testing.T, e events.Event, minor int64) events.Event {
	t.Helper()
	p, err := e.Payload()
	if err != nil {
		t.Fatal(err)
	}
	c := p.(*events.ContributionReceived)
	c.USDAmount = money.USDAmount(minor)
	if e.Data, err = events.CanonicalValue(c); err != nil {
		t.Fatal(err)
	}
	return e
}

// publishRaw appends bytes to the stream as another program could, without
// the writer's expectations.
func publishRaw(t *testing.T, js jetstream.JetStream, subject string, e events.Event) uint64 {
	t.Helper()
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	ack, err := js.Publish(t.Context(), subject, b)
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// appendAfter seals e after last, the fund's last event, and appends it to
// the stream as another program could: a correctly chained event whose
// content the writer would not have made. It returns its stream sequence.
func appendAfter(t *testing.T, ns *server.Server, last events.Event, e *events.Event) uint64 {
	t.Helper()
	if err := e.Seal(last.Hash); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(testnats.Connect(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	return publishRaw(t, js, eventlog.Subject(e.Fund, e.Type), *e)
}

// TestForgedEvents appends forged events after a valid history and checks
// that CatchUp, Run, Rebuild and Verify stop at the forged event, name its
// fund and fund_seq, and commit nothing of the batch that holds it.
func TestForgedEvents(t *testing.T) {
	tests := []struct {
		name    string
		forge   func(t *testing.T, evs []events.Event) events.Event
		fundSeq uint64
		want    error
	}{
		{"amount changed, old hash kept", func(t *testing.T, evs []events.Event) events.Event {
			// A copy of the euro receipt placed as the next event, with a
			// larger amount and the hash it had.
			e := evs[3]
			e.FundSeq, e.PrevHash = 12, evs[10].Hash
			e = withUSDAmount(t, e, 9_999_900)
			return e
		}, 12, events.ErrTampered},
		{"re-hashed, prev_hash of an older event", func(t *testing.T, evs []events.Event) events.Event {
			e := withUSDAmount(t, evs[3], 9_999_900)
			e.ID, e.FundSeq = "01900000-0000-7000-8000-000000000001", 12
			if err := e.Seal(evs[5].Hash); err != nil {
				t.Fatal(err)
			}
			return e
		}, 12, events.ErrBrokenChain},
		{"re-hashed, fund_seq skips one", func(t *testing.T, evs []events.Event) events.Event {
			e := withUSDAmount(t, evs[3], 9_999_900)
			e.ID, e.FundSeq = "01900000-0000-7000-8000-000000000002", 13
			if err := e.Seal(evs[10].Hash); err != nil {
				t.Fatal(err)
			}
			return e
		}, 13, events.ErrBrokenChain},
		{"an event appended twice", func(t *testing.T, evs []events.Event) events.Event {
			return evs[3]
		}, 4, events.ErrBrokenChain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, log := testnats.Log(t)
			w := ledgertest.Writer(t, log, "mdfm")
			ledgertest.Scenario(t, w)
			w.Close()
			live := openStore(t, "live.db")
			if err := projector.CatchUp(t.Context(), log, live.Store); err != nil {
				t.Fatal(err)
			}
			good := readLog(t, log)
			if len(good) != 11 {
				t.Fatalf("scenario wrote %d events, want 11", len(good))
			}
			before, err := live.Digests(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			js, err := jetstream.New(testnats.Connect(t, ns))
			if err != nil {
				t.Fatal(err)
			}
			forged := tt.forge(t, good)
			seq := publishRaw(t, js, eventlog.Subject("mdfm", forged.Type), forged)
			// A valid event of another fund after it must not be reached either.
			other := ledgertest.Writer(t, log, "other")
			ledgertest.OpenTerm(t, other)

			checkStop := func(t *testing.T, err error) {
				t.Helper()
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want an error wrapping %v", err, tt.want)
				}
				var ee *readmodel.EventError
				if !errors.As(err, &ee) || ee.Fund != "mdfm" || ee.FundSeq != tt.fundSeq || ee.StreamSeq != seq {
					t.Errorf("got %#v, want an EventError of fund mdfm fund_seq %d at stream seq %d", ee, tt.fundSeq, seq)
				}
				for _, s := range []string{"fund mdfm", "fund_seq " + strconv.FormatUint(tt.fundSeq, 10)} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
			}

			// The live read model stops and keeps what it had.
			checkStop(t, projector.CatchUp(t.Context(), log, live.Store))
			checkStop(t, projector.Run(t.Context(), log, live.Store))
			after, err := live.Digests(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("live read model changed (-before +after):\n%s", diff)
			}

			// A fresh replay stops too, and what it committed is whole
			// batches of the valid prefix only.
			fresh := openStore(t, "fresh.db")
			checkStop(t, projector.CatchUp(t.Context(), log, fresh.Store))
			cp, err := fresh.Checkpoint(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if cp >= seq {
				t.Errorf("fresh replay checkpoint %d, want below the forged event's %d", cp, seq)
			}
			if rows := count(t, fresh, `SELECT count(*) FROM events WHERE stream_seq > ?`, cp); rows != 0 {
				t.Errorf("%d events above the checkpoint were committed", rows)
			}

			// Rebuild refuses and leaves no file behind.
			path := filepath.Join(t.TempDir(), "rebuilt.db")
			checkStop(t, projector.Rebuild(t.Context(), log, path))
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("rebuild left %s behind: %v", path, err)
			}

			rep, err := audit.Verify(t.Context(), log, live.Store, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			f := rep.Failure
			if rep.OK || f == nil || f.Stage != audit.StageChain || f.Fund != "mdfm" || f.FundSeq != tt.fundSeq || f.EventID != forged.ID {
				t.Errorf("verify: got %+v failure %+v, want not OK at stage chain, fund mdfm fund_seq %d event %s", rep, f, tt.fundSeq, forged.ID)
			}
			if rep.Events != 11 || rep.FundSeq != 11 || rep.ChainHead != good[10].Hash {
				t.Errorf("verify: %d events up to fund_seq %d head %s, want the 11 before the forgery up to %s", rep.Events, rep.FundSeq, rep.ChainHead, good[10].Hash)
			}
			// Checking the chain alone finds the same.
			if chain, err := audit.VerifyChain(t.Context(), log); err != nil || !cmp.Equal(chain, rep) {
				t.Errorf("verify of the chain: %+v, %v; want %+v", chain, err, rep)
			}
		})
	}
}

// TestVerifyChainLong: on a log of many decoding chunks, checked on every
// core, VerifyChain counts every event, keeps each fund's head, and names
// the first event that breaks the chain, as Verify does.
func TestVerifyChainLong(t *testing.T) {
	ns, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.OpenTerm(t, w)
	for b := range 3 {
		batch := &domain.Batch{}
		for i := range domain.MaxBatchCommands {
			batch.Commands = append(batch.Commands, &domain.RecordContribution{ID: "r-" + strconv.Itoa(b) + "-" + strconv.Itoa(i),
				DonorID: "osaka", TermID: ledgertest.Term, Amount: ledgertest.USD("1.00"), ReceivedOn: "2021-01-15"})
		}
		ledgertest.MustSubmit(t, w, "batch-"+strconv.Itoa(b), "olu", batch)
	}
	w.Close()
	good := readLog(t, log)
	rep, err := audit.VerifyChain(t.Context(), log)
	last := good[len(good)-1]
	if err != nil || !rep.OK || rep.Events != uint64(len(good)) || rep.FundSeq != last.FundSeq || rep.ChainHead != last.Hash {
		t.Fatalf("verify of the chain of %d events: %+v, %v", len(good), rep, err)
	}
	js, err := jetstream.New(testnats.Connect(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	publishRaw(t, js, eventlog.Subject("mdfm", good[3].Type), good[3])
	other := ledgertest.Writer(t, log, "other")
	ledgertest.OpenTerm(t, other)
	rep, err = audit.VerifyChain(t.Context(), log)
	if err != nil || rep.OK || rep.Failure == nil || rep.Failure.Stage != audit.StageChain || rep.Failure.FundSeq != 4 ||
		rep.Events != uint64(len(good)) || rep.ChainHead != last.Hash {
		t.Errorf("verify of the chain with an event appended twice: %+v, %v; want a chain failure at fund_seq 4 after %d events", rep, err, len(good))
	}
	if full, err := audit.Verify(t.Context(), log, nil, t.TempDir()); err != nil || !cmp.Equal(full, rep) {
		t.Errorf("Verify says %+v, %v; VerifyChain %+v", full, err, rep)
	}
}

// TestApplyBatchAllOrNothing applies a batch whose last event is forged:
// nothing of it may be committed. A valid batch applied twice changes
// nothing the second time.
func TestApplyBatchAllOrNothing(t *testing.T) {
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w)
	evs := readLog(t, log)

	empty := openStore(t, "empty.db")
	want, err := empty.Digests(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t, "read.db")
	forged := withUSDAmount(t, evs[5], 1)
	forged.StreamSeq = evs[5].StreamSeq
	batch := append(append([]events.Event{}, evs[:5]...), forged)
	err = s.ApplyBatch(t.Context(), batch)
	var ee *readmodel.EventError
	if !errors.Is(err, events.ErrTampered) || !errors.As(err, &ee) || ee.Fund != "mdfm" || ee.FundSeq != 6 {
		t.Fatalf("got %v, want ErrTampered at fund mdfm fund_seq 6", err)
	}
	got, err := s.Digests(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("a failed batch left rows behind (-empty +got):\n%s", diff)
	}

	if err := s.ApplyBatch(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	once, _ := s.Digests(t.Context())
	if err := s.ApplyBatch(t.Context(), evs); err != nil {
		t.Fatalf("the same batch again: %v", err)
	}
	if err := s.ApplyBatch(t.Context(), evs[3:7]); err != nil {
		t.Fatalf("part of it again: %v", err)
	}
	twice, _ := s.Digests(t.Context())
	if diff := cmp.Diff(once, twice); diff != "" {
		t.Errorf("applying a batch again changed the read model (-once +twice):\n%s", diff)
	}
	// Out of order within a batch is refused.
	s2 := openStore(t, "other.db")
	if err := s2.ApplyBatch(t.Context(), []events.Event{evs[1], evs[0]}); err == nil {
		t.Error("a batch out of stream order was applied")
	}
	noSeq := evs[0]
	noSeq.StreamSeq = 0
	if err := s2.ApplyBatch(t.Context(), []events.Event{noSeq}); err == nil {
		t.Error("an event without a stream seq was applied")
	}
}

// count runs a count query on a read-only connection of its own.
func count(t *testing.T, s *projections.Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := openRaw(t, s.Path()).QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUnknownEventTypeStops appends a correctly sealed and linked event of a
// type this read model has no rule for: the projector stops at it, names
// it, and keeps what it had; it never skips an event.
func TestUnknownEventTypeStops(t *testing.T) {
	ns, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.OpenTerm(t, w)
	w.Close()
	good := readLog(t, log)
	last := good[len(good)-1]
	e := events.Event{ID: "01900000-0000-7000-8000-0000000000aa", Fund: "mdfm", FundSeq: last.FundSeq + 1, Type: "grant_awarded", V: 1,
		RecordedAt: "2021-12-31T12:00:00Z", EffectiveOn: "2021-12-31", Actor: "ana", CommandID: "future", CommandHash: strings.Repeat("0", 64),
		Data: []byte(`{"grant_id":"g1"}`)}
	seq := appendAfter(t, ns, last, &e)

	s := openStore(t, "read.db")
	err := projector.CatchUp(t.Context(), log, s.Store)
	var ee *readmodel.EventError
	if !errors.As(err, &ee) || ee.StreamSeq != seq || ee.FundSeq != e.FundSeq || !strings.Contains(err.Error(), "grant_awarded") {
		t.Fatalf("got %v, want an EventError at stream seq %d naming grant_awarded", err, seq)
	}
	if cp, _ := s.Checkpoint(t.Context()); cp >= seq {
		t.Errorf("checkpoint %d: the unknown event was passed over", cp)
	}
	rep, err := audit.Verify(t.Context(), log, s.Store, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Failure == nil || rep.Failure.Stage != audit.StageReplay || rep.Failure.FundSeq != e.FundSeq {
		t.Errorf("verify: %+v failure %+v, want not OK at stage replay, fund_seq %d", rep, rep.Failure, e.FundSeq)
	}
}

// TestUnbalancedEventStops appends a correctly chained event whose postings
// do not balance: the projector (CatchUp, Run, Verify) stops on it with an
// *EventError wrapping ErrInconsistent that names the fund and fund_seq,
// instead of the panic in domain.Postings that crashed ledgerd at every
// start (issue 8).
func TestUnbalancedEventStops(t *testing.T) {
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w)
	ledgertest.MustSubmit(t, w, "propose-2", "olu", &domain.ProposeAllocation{ID: "al-2", LineID: "MDFM-1.1", Amount: ledgertest.USD("300.00"), ProposedOn: "2020-07-03"})
	w.Close()
	forged := ledgertest.AppendUnbalanced(t, log, "mdfm", ledgertest.Term, "MDFM-1.1", "al-2")
	if forged.FundSeq != 13 {
		t.Fatalf("forged fund_seq %d, want 13", forged.FundSeq)
	}
	checkStop := func(t *testing.T, err error) {
		t.Helper()
		var ee *readmodel.EventError
		if !errors.As(err, &ee) || !errors.Is(err, projections.ErrInconsistent) || !errors.Is(err, domain.ErrUnbalanced) ||
			ee.Fund != "mdfm" || ee.FundSeq != 13 || ee.StreamSeq != forged.StreamSeq {
			t.Fatalf("got %v, want an EventError of fund mdfm fund_seq 13 wrapping ErrInconsistent and ErrUnbalanced", err)
		}
	}
	live := openStore(t, "live.db")
	checkStop(t, projector.CatchUp(t.Context(), log, live.Store))
	checkStop(t, projector.Run(t.Context(), log, live.Store))
	if cp, err := live.Checkpoint(t.Context()); err != nil || cp != forged.StreamSeq-1 {
		t.Errorf("checkpoint %d (%v), want %d: everything before the event", cp, err, forged.StreamSeq-1)
	}
	rep, err := audit.Verify(t.Context(), log, live.Store, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Failure; rep.OK || f == nil || f.Fund != "mdfm" || f.FundSeq != 13 {
		t.Errorf("verify: %+v failure %+v, want not OK naming fund mdfm fund_seq 13", rep, f)
	}
}

// TestFeeOnUnknownReceiptStops appends a correctly chained fee_charged
// whose receipt the fund does not hold: the read model keeps each receipt's
// fee on the receipt's row (schema 13), so the projector stops on it with
// an *EventError wrapping ErrInconsistent that names the receipt, rather
// than keep a fee no statement would list.
func TestFeeOnUnknownReceiptStops(t *testing.T) {
	ns, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w)
	w.Close()
	good := readLog(t, log)
	last := good[len(good)-1]
	var fee events.Event
	for _, e := range good {
		if e.Type == events.TypeFeeCharged {
			fee = e
		}
	}
	if fee.ID == "" {
		t.Fatal("the scenario charged no fee")
	}
	p, err := fee.Payload()
	if err != nil {
		t.Fatal(err)
	}
	p.(*events.FeeCharged).ContributionID = "no-such-receipt"
	if fee.Data, err = events.CanonicalValue(p); err != nil {
		t.Fatal(err)
	}
	fee.ID, fee.FundSeq, fee.CommandID = "01900000-0000-7000-8000-0000000000ab", last.FundSeq+1, "forged-fee"
	seq := appendAfter(t, ns, last, &fee)

	s := openStore(t, "read.db")
	err = projector.CatchUp(t.Context(), log, s.Store)
	var ee *readmodel.EventError
	if !errors.As(err, &ee) || !errors.Is(err, projections.ErrInconsistent) || ee.StreamSeq != seq || ee.FundSeq != fee.FundSeq ||
		!strings.Contains(err.Error(), "no-such-receipt") {
		t.Fatalf("got %v, want an EventError at stream seq %d wrapping ErrInconsistent and naming no-such-receipt", err, seq)
	}
	if cp, _ := s.Checkpoint(t.Context()); cp >= seq {
		t.Errorf("checkpoint %d: the fee was passed over", cp)
	}
	if n := count(t, s, `SELECT count(*) FROM fees WHERE contribution_id = 'no-such-receipt'`); n != 0 {
		t.Errorf("%d rows of the fee were kept", n)
	}
}
