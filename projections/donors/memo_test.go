package donors

import "testing"

// TestMemoWakesWaitersAfterAPanic: a statement waiting for another's
// computation of the same attribution is woken when that computation
// panics (net/http recovers the request), and the next statement
// computes it rather than waiting for good.
func TestMemoWakesWaitersAfterAPanic(t *testing.T) {
	m := NewMemo(2)
	k := memoKey{fund: "mdfm", term: "2020-2021", asOf: "2021-12-31", fundSeq: 7}
	if at, wait := m.getOrStart(k); at != nil || wait != nil {
		t.Fatalf("first statement: %v, %v; want to compute it", at, wait)
	}
	_, wait := m.getOrStart(k)
	if wait == nil {
		t.Fatal("second statement: want to wait for the first's computation")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the computation's panic was swallowed")
			}
		}()
		m.compute(k, func() (*attribution, error) { panic("boom") })
	}()
	select {
	case <-wait:
	default:
		t.Fatal("the waiting statement was not woken")
	}
	if at, wait := m.getOrStart(k); at != nil || wait != nil {
		t.Fatalf("after the panic: %v, %v; want the next statement to compute it", at, wait)
	}
	if st := m.Stats(); st.Misses != 2 || st.Hits != 0 {
		t.Errorf("stats %+v, want 2 misses", st)
	}
}
