package events

import (
	"encoding/json"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/money"
)

func benchEvent() Event {
	return Event{
		ID: "01930000-0000-7000-8000-000000000001", Fund: "mdfm", FundSeq: 12345, Type: "contribution_received", V: 1,
		RecordedAt: "2021-12-31T12:00:00Z", EffectiveOn: "2021-01-15", Actor: "olu",
		CommandID: "c-12345", CommandHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Data: json.RawMessage(`{"amount":{"amount":"100.00","currency":"USD"},"donor_id":"osaka","id":"r-1","received_on":"2021-01-15","term_id":"2020-2021","usd_minor":"10000"}`),
	}
}

// BenchmarkSeal is the canonical encoding and hash of one event.
func BenchmarkSeal(b *testing.B) {
	e := benchEvent()
	for b.Loop() {
		if err := e.Seal(ZeroHash); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode is reading one stored event back: parse, re-encode and
// check the hash.
func BenchmarkDecode(b *testing.B) {
	e := benchEvent()
	if err := e.Seal(ZeroHash); err != nil {
		b.Fatal(err)
	}
	raw, err := e.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanonical is the canonical form of a command body (the command
// hash).
func BenchmarkCanonical(b *testing.B) {
	body := []byte(`{"term_id": "2020-2021", "id": "r-1", "donor_id": "osaka", "amount": {"currency": "USD", "amount": "100.00"}, "received_on": "2021-01-15"}`)
	for b.Loop() {
		if _, err := Canonical(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPayloadReceipt decodes a receipt's payload as the log stores it
// (the plain path, TestPlainPayloadsAreTheDecoders); ...Decoder is the
// json.Decoder it replaces.
func BenchmarkPayloadReceipt(b *testing.B) {
	e := receiptEventForBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Payload(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPayloadReceiptDecoder(b *testing.B) {
	e := receiptEventForBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.payloadFresh(); err != nil {
			b.Fatal(err)
		}
	}
}

func receiptEventForBench(b *testing.B) Event {
	settled := money.USDAmount(1_234_56)
	e, err := New("2021-01-15", &ContributionReceived{ContributionID: "r-000123", DonorID: "osaka", TermID: "2020-2021", PledgeID: "pl-osaka",
		Amount: money.Amount{Minor: 1_234_56, Currency: "USD"}, USDRate: "1", USDAmount: money.USDAmount(1_234_56), ReceivedOn: "2021-01-15",
		BankRef: "HH-1", PledgeSettledUSD: &settled})
	if err != nil {
		b.Fatal(err)
	}
	return e
}
