package domain_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/domain/state"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/historygen"
)

// TestSnapshotEqualsFullFold: a state encoded after some events of a
// generated history, decoded, and folded on with the rest equals the state
// of folding every event, exactly (nil and empty maps and slices, pointers
// to empty strings and all), even when the snapshot was itself made from a
// decoded one. The writer starts from such snapshots (ledger/snapshot.go).
func TestSnapshotEqualsFullFold(t *testing.T) {
	seen := map[string]int{}
	property := func(t *rapid.T) {
		full := domain.NewState("mdfm")
		var log []events.Event
		n := rapid.IntRange(minCommands, maxCommands).Draw(t, "commands")
		for range n {
			evs, err := domain.Decide(full, genCommand(t, full))
			if err == nil {
				log = append(log, applyDrawnIDs(t, full, evs)...)
			}
		}
		first := rapid.IntRange(0, len(log)).Draw(t, "first snapshot")
		second := rapid.IntRange(first, len(log)).Draw(t, "second snapshot")
		s := domain.NewState("mdfm")
		for i, e := range log {
			if i == first || i == second {
				s = roundTrip(t, s)
			}
			if err := domain.Apply(s, e); err != nil {
				t.Fatalf("apply %s fund_seq %d after a snapshot: %v", e.Type, e.FundSeq, err)
			}
			seen[e.Type]++
		}
		if second == len(log) {
			s = roundTrip(t, s)
		}
		if diff := cmp.Diff(full, s); diff != "" {
			t.Fatalf("snapshots after %d and %d of %d events, then the rest, differ from the full fold (-full +snapshot):\n%s", first, second, len(log), diff)
		}
		checkEventLog(t, s, log)
	}
	notDrawn := map[string]bool{events.TypeCityRegistered: true, events.TypeCoordinatorAppointed: true, events.TypeMemberJoined: true}
	var want []string
	for _, ty := range events.Types() {
		if !notDrawn[ty.Name] {
			want = append(want, ty.Name)
		}
	}
	if missing := historygen.UntilCovered(func() { rapid.Check(t, property) }, seen, want); missing != nil {
		t.Error(historygen.Missing("event type", missing))
	}
}

// checkEventLog requires the state to know every event of log as the log
// has it: id, type, position, date, and for a money event or a carry-over
// the payload itself, which the state keeps encoded (state.EventLog).
func checkEventLog(t *rapid.T, s *domain.State, log []events.Event) {
	for _, e := range log {
		rec, ok, err := s.Event(e.ID)
		if err != nil || !ok {
			t.Fatalf("event %s: %v, %v", e.ID, ok, err)
		}
		if rec.ID != e.ID || rec.Type != e.Type || rec.FundSeq != e.FundSeq || rec.EffectiveOn != e.EffectiveOn || s.IDAt(e.FundSeq) != e.ID {
			t.Fatalf("event %s: the state keeps %+v", e.ID, rec)
		}
		ty, _ := events.LookupType(e.Type)
		if !ty.Reversible && e.Type != events.TypeFeeCharged && e.Type != events.TypeBalanceCarriedOver {
			if rec.Payload != nil {
				t.Fatalf("event %s (%s): a payload was kept", e.ID, e.Type)
			}
			continue
		}
		p, err := e.Payload()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(p, rec.Payload); diff != "" {
			t.Fatalf("event %s (%s): the payload kept differs from the log's (-log +kept):\n%s", e.ID, e.Type, diff)
		}
	}
}

// applyDrawnIDs applies evs with ids of each kind the state keeps apart
// (state.EventLog): UUIDs above every one before, as the writer makes them;
// UUIDs in no order, as another writer's clock may give; and other strings.
func applyDrawnIDs(t *rapid.T, s *domain.State, evs []events.Event) []events.Event {
	out := make([]events.Event, 0, len(evs))
	for _, e := range evs {
		e.Fund, e.FundSeq = s.Fund, s.FundSeq+1
		var u uuid.UUID
		switch rapid.IntRange(0, 2).Draw(t, "id kind") {
		case 0:
			binary.BigEndian.PutUint64(u[:], e.FundSeq)
			e.ID = u.String()
		case 1:
			sum := sha256.Sum256(fmt.Appendf(nil, "%d-%d", e.FundSeq, rapid.Uint64().Draw(t, "id seed")))
			e.ID = uuid.UUID(sum[:16]).String()
		default:
			e.ID = fmt.Sprintf("ev-%d", e.FundSeq)
		}
		if err := domain.Apply(s, e); err != nil {
			t.Fatalf("apply %s: %v", e.Type, err)
		}
		again := e
		again.FundSeq++
		if err := domain.Apply(s.Clone(), again); err == nil || !strings.Contains(err.Error(), "used before") {
			t.Fatalf("event id %s given twice: %v", e.ID, err)
		}
		out = append(out, e)
	}
	return out
}

func roundTrip(t *rapid.T, s *domain.State) *domain.State {
	b, err := state.Encode(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := state.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestDecodeStateRefusesDamage: a state whose bytes are cut short, or run
// on, is refused; changed bytes never make the decoder panic (the
// snapshot file's checksum catches them first).
func TestDecodeStateRefusesDamage(t *testing.T) {
	s := domain.NewState("mdfm")
	applyAll(t, s, mustDecide(t, s, &domain.OpenTerm{Meta: alice, ID: "T20", StartsOn: "2020-01-01", EndsOn: "2021-12-31",
		Target: domain.MoneyInput{Amount: "1000.00", Currency: "USD"}, FeeRate: "0.01"}))
	b, err := state.Encode(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		if _, err := state.Decode(b[:i]); err == nil {
			t.Fatalf("the first %d of %d bytes decoded", i, len(b))
		}
		bad := append([]byte(nil), b...)
		bad[i] ^= 0xff
		state.Decode(bad) // must not panic
	}
	if _, err := state.Decode(append(b, 0)); err == nil {
		t.Error("a byte too many decoded")
	}
}
