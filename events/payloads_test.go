package events

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// TestTypeNames pins the stored type names: renaming a Go type must never
// change them.
func TestTypeNames(t *testing.T) {
	for p, want := range map[Payload]string{
		&PledgeRecorded{}: "pledge_recorded", &PledgeAmended{}: "pledge_amended", &PledgeCancelled{}: "pledge_cancelled",
		&InterestEarned{}: "interest_earned", &RefundPaid{}: "refund_paid", &EventReversed{}: "event_reversed",
		&BalanceCarriedOver{}: "balance_carried_over", &TermClosed{}: "term_closed", &CityRegistered{}: "city_registered",
		&ClusterRegistered{}: "cluster_registered", &CoordinatorAppointed{}: "coordinator_appointed", &MemberJoined{}: "member_joined",
		&TermOpened{}: "term_opened", &ContributionReceived{}: "contribution_received", &AllocationApproved{}: "allocation_approved",
		&DonorRegistered{}: "donor_registered", &DonorAmended{}: "donor_amended",
	} {
		if got := p.EventType(); got != want {
			t.Errorf("%T.EventType() = %q, want %q", p, got, want)
		}
	}
}

// TestPayloadRoundTrip: every payload type encodes canonically and decodes
// back, strictly, to the same value.
func TestPayloadRoundTrip(t *testing.T) {
	usd := money.USDAmount
	for _, p := range []Payload{
		&PledgeRecorded{PledgeID: "P-1", DonorID: "DE", TermID: "T", Amount: money.Amount{Minor: 100, Currency: "EUR"}, USDRate: "1.1",
			USDAmount: usd(110), Earmark: &Earmark{ClusterID: "ESD"}, SignedOn: "2020-01-01", DueOn: "2020-06-30"},
		&PledgeAmended{PledgeID: "P-1", DonorID: "DE", TermID: "T", Amount: money.Amount{Minor: 200, Currency: "EUR"}, USDRate: "1.1",
			USDAmount: usd(220), DueOn: "2020-06-30", Reason: "r", Earmark: "line:L", OutstandingUSDChange: usd(-5)},
		&PledgeCancelled{PledgeID: "P-1", DonorID: "DE", TermID: "T", Reason: "r", WrittenOff: money.Amount{Minor: 7, Currency: "JPY"}, WrittenOffUSD: usd(1)},
		&InterestEarned{InterestID: "I", TermID: "T", Amount: usd(5), EarnedOn: "2020-01-01"},
		&RefundPaid{RefundID: "R", DonorID: "DE", TermID: "T", Amount: usd(5), PaidOn: "2020-01-01", Funding: []Draw{{Earmark: "cluster:ESD", Amount: usd(2)}, {Amount: usd(3)}}},
		&EventReversed{ReversalID: "X", EventID: "e", ReversedFundSeq: 3, ReversedType: TypeInterestEarned, Reason: "r",
			Postings: []Posting{{Account: "trust:cash", TermID: "T", Amount: usd(-5)}, {Account: "trust:unallocated", TermID: "T", Amount: usd(5)}}},
		&BalanceCarriedOver{FromTermID: "T", ToTermID: "U", Earmark: "line:L", ToEarmark: "cluster:C", Amount: usd(9),
			Shares: []Share{{DonorID: "DE", Amount: usd(9)}}},
		&TermClosed{TermID: "T", ClosedOn: "2022-01-01", Disposition: Disposition{Kind: "refund"}, Unallocated: usd(0), CarriedOver: usd(0),
			Refunded: usd(0), AllocationsKept: []KeptAllocation{{AllocationID: "A", LineID: "L", Amount: usd(1)}}},
		&CityRegistered{CityID: "cork", Name: "Cork", Country: "IE"},
		&DonorAmended{DonorID: "DE", Name: ptr("Germany"), City: ptr(""), Reason: "typo"},
		&DonorAmended{DonorID: "DE", Kind: ptr("country"), Country: ptr("DE"), Reason: "r"},
		&ClusterRegistered{ClusterID: "ESD", Name: "ESD"},
		&CoordinatorAppointed{ClusterID: "ESD", CityID: "cork", TermID: "T"},
		&MemberJoined{ClusterID: "ESD", CityID: "cork", TermID: "T"},
		&ContributionReceived{ContributionID: "C", DonorID: "DE", TermID: "T", PledgeID: "P", Amount: usd(1), USDRate: "1", USDAmount: usd(1),
			ReceivedOn: "2020-01-01", Earmark: "line:L", PledgeSettledUSD: func() *money.Amount { a := usd(1); return &a }()},
		&AllocationApproved{AllocationID: "A", LineID: "L", TermID: "T", Amount: usd(3), ProposedBy: "a", ApprovedBy: "b",
			Funding: []Draw{{Earmark: "line:L", Amount: usd(1)}, {Amount: usd(2)}}},
	} {
		e, err := New("2020-01-01", p)
		if err != nil {
			t.Fatalf("New(%T): %v", p, err)
		}
		got, err := e.Payload()
		if err != nil {
			t.Fatalf("decode %s: %v", e.Type, err)
		}
		if diff := cmp.Diff(p, got); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s", e.Type, diff)
		}
	}
}

// TestOldEventsDecode: events written before earmarks, funding and
// registry cities keep decoding, with the new fields empty.
func TestOldEventsDecode(t *testing.T) {
	for _, tc := range []struct {
		typ, data string
		want      Payload
	}{
		{TypeAllocationApproved,
			`{"allocation_id":"A-1","amount":{"amount":"200.00","currency":"USD"},"approved_by":"bob","line_id":"L","proposed_by":"alice","term_id":"T"}`,
			&AllocationApproved{AllocationID: "A-1", LineID: "L", TermID: "T", Amount: money.USDAmount(20000), ProposedBy: "alice", ApprovedBy: "bob"}},
		{TypeContributionReceived,
			`{"amount":{"amount":"1.00","currency":"USD"},"contribution_id":"C","donor_id":"D","received_on":"2020-01-01","term_id":"T","usd_amount":{"amount":"1.00","currency":"USD"},"usd_rate":"1"}`,
			&ContributionReceived{ContributionID: "C", DonorID: "D", TermID: "T", Amount: money.USDAmount(100), USDRate: "1", USDAmount: money.USDAmount(100), ReceivedOn: "2020-01-01"}},
		{TypeFeeCharged,
			`{"amount":{"amount":"0.01","currency":"USD"},"contribution_id":"C","donor_id":"D","fee_rate":"0.01","term_id":"T"}`,
			&FeeCharged{ContributionID: "C", DonorID: "D", TermID: "T", FeeRate: "0.01", Amount: money.USDAmount(1)}},
	} {
		got, err := Event{Type: tc.typ, V: 1, Data: json.RawMessage(tc.data)}.Payload()
		if err != nil {
			t.Fatalf("decode old %s: %v", tc.typ, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("old %s (-want +got):\n%s", tc.typ, diff)
		}
		// Re-encoding writes the same bytes: no new field appears.
		e, err := New("", got)
		if err != nil || string(e.Data) != tc.data {
			t.Errorf("old %s re-encodes as %s, %v", tc.typ, e.Data, err)
		}
	}
}

func TestEarmarkKey(t *testing.T) {
	for _, tc := range []struct {
		e    *Earmark
		want string
	}{{nil, ""}, {&Earmark{}, ""}, {&Earmark{LineID: "L"}, "line:L"}, {&Earmark{ClusterID: "C"}, "cluster:C"}} {
		if got := tc.e.Key(); got != tc.want {
			t.Errorf("%+v.Key() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestDonorAmendedEncoding: a field not amended is left out of the stored
// data; a city removed is stored as "".
func TestDonorAmendedEncoding(t *testing.T) {
	e, err := New("2021-01-01", &DonorAmended{DonorID: "DE", Name: ptr("Germany"), City: ptr(""), Reason: "typo"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(e.Data), `{"city":"","donor_id":"DE","name":"Germany","reason":"typo"}`; got != want {
		t.Errorf("data = %s, want %s", got, want)
	}
}

// TestPayloadDecoderReuse: Payload keeps its decoders for the next event;
// whatever the data before (an unknown field, bad JSON, bytes after the
// value, nothing), each event decodes to what a new decoder gives, the
// same payload or the same error, one after the other and at once.
func TestPayloadDecoderReuse(t *testing.T) {
	good := `{"amount":{"amount":"0.01","currency":"USD"},"contribution_id":"C","donor_id":"D","fee_rate":"0.01","term_id":"T"}`
	datas := []string{
		good,
		`{"amount":{"amount":"0.01","currency":"USD"},"contribution_id":"C","donor_id":"D","fee_rate":"0.01","term_id":"T","extra":1}`,
		good,
		good + ` {"contribution_id":"X"`,
		good,
		good + `}`,
		good,
		good + `{"amount":{"amount":"9.99","currency":"USD"},"contribution_id":"Z","donor_id":"D","fee_rate":"0.01","term_id":"T"}`,
		good,
		`{"amount":{"amount":"0.01","currency":"USD"},"contribution_id":"C2"`,
		good,
		`{"amount":{"amount":"x.01","currency":"USD"},"contribution_id":"C","donor_id":"D","fee_rate":"0.01","term_id":"T"}`,
		good,
		``,
		good,
		`  `,
		good,
		`[1,2]`,
		`{"contribution_id":"C3","donor_id":"D3"}`,
		good,
	}
	check := func(i int, data string) string {
		e := Event{Type: TypeFeeCharged, V: 1, Fund: "mdfm", FundSeq: uint64(i), Data: json.RawMessage(data)}
		got, err := e.Payload()
		want, werr := e.payloadFresh()
		if fmt.Sprint(err) != fmt.Sprint(werr) || !cmp.Equal(got, want) {
			return fmt.Sprintf("data %d %q: Payload() = %+v, %v; a new decoder gives %+v, %v", i, data, got, err, want, werr)
		}
		return ""
	}
	for i, data := range datas {
		if msg := check(i, data); msg != "" {
			t.Error(msg)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(datas))
	for g := range 8 {
		wg.Go(func() {
			for k := range len(datas) {
				i := (k + g) % len(datas)
				if msg := check(i, datas[i]); msg != "" {
					errs <- msg
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
