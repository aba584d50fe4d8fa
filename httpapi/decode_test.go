package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
)

func TestDecodeCommand(t *testing.T) {
	for _, c := range []struct {
		name, body, code, field string
	}{
		{"empty", ``, CodeMalformedJSON, ""},
		{"syntax", `{"id":`, CodeMalformedJSON, ""},
		{"trailing data", `{"id":"a"} {}`, CodeMalformedJSON, ""},
		{"trailing garbage", `{"id":"a"}x`, CodeMalformedJSON, ""},
		{"array", `[]`, CodeMalformedJSON, ""},
		{"null", `null`, CodeMalformedJSON, ""},
		{"string", `"x"`, CodeMalformedJSON, ""},
		{"unknown field", `{"id":"a","bogus":1}`, CodeUnknownField, "bogus"},
		{"unknown nested field", `{"amount":{"amount":"1.00","currency":"USD","rate":"1"}}`, CodeUnknownField, "amount.rate"},
		{"other case", `{"ID":"a"}`, CodeUnknownField, "ID"},
		{"meta is not a field", `{"Actor":"ana"}`, CodeUnknownField, "Actor"},
		{"meta by Go name", `{"Meta":{}}`, CodeUnknownField, "Meta"},
		{"duplicate key", `{"id":"a","id":"b"}`, CodeMalformedJSON, "id"},
		{"duplicate nested key", `{"amount":{"amount":"1.00","amount":"2.00"}}`, CodeMalformedJSON, "amount.amount"},
		{"number for money", `{"amount":5}`, CodeMalformedJSON, "amount"},
		{"number for amount", `{"amount":{"amount":5,"currency":"USD"}}`, CodeMalformedJSON, "amount.amount"},
		{"number for id", `{"id":12}`, CodeMalformedJSON, "id"},
		{"array for id", `{"id":["a"]}`, CodeMalformedJSON, "id"},
		{"deep", `{"bank_ref":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, CodeMalformedJSON, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := decodeCommand([]byte(c.body), &domain.RecordContribution{})
			if err == nil {
				t.Fatal("decoded, want an error")
			}
			if err.Code != c.code || (c.field != "" && err.Field != c.field) || err.Status != http.StatusBadRequest {
				t.Errorf("got %d %s field %q (%s), want 400 %s field %q", err.Status, err.Code, err.Field, err.Message, c.code, c.field)
			}
		})
	}

	var got domain.RecordContribution
	body := ` {"id":"r1","donor_id":"d","term_id":"t","amount":{"amount":"50000.00","currency":"EUR"},"usd_rate":"1.1","received_on":"2021-03-01","bank_ref":null} `
	if err := decodeCommand([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := domain.RecordContribution{ID: "r1", DonorID: "d", TermID: "t", Amount: domain.MoneyInput{Amount: "50000.00", Currency: "EUR"}, USDRate: "1.1", ReceivedOn: "2021-03-01"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}

	// The id of an approval comes from the path, never from the body.
	approve := &domain.ApproveAllocation{ID: "from-path"}
	if err := decodeCommand([]byte(`{"id":"other"}`), approve); err == nil || err.Code != CodeUnknownField {
		t.Errorf("approve with an id in the body: %v, want unknown_field", err)
	}
	if err := decodeCommand([]byte(`{"approved_on":"2021-05-02"}`), approve); err != nil || approve.ID != "from-path" || approve.ApprovedOn != "2021-05-02" {
		t.Errorf("approve: %v, %+v", err, approve)
	}
}

// TestCodes checks that the HTTP-level codes are unique, answer an error
// status, and do not shadow a domain code with another status.
func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Codes {
		if seen[c.Code] {
			t.Errorf("code %s listed twice", c.Code)
		}
		seen[c.Code] = true
		if c.Status < 400 {
			t.Errorf("code %s has status %d", c.Code, c.Status)
		}
	}
	for _, d := range domain.Codes {
		if st, ok := codeStatus[d.Code]; ok && st != kindStatus(d.Kind) {
			t.Errorf("code %s is %d here and %d in the domain", d.Code, st, kindStatus(d.Kind))
		}
	}
}

func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{`{}`, `{"id":"a","amount":{"amount":"1.00","currency":"USD"}}`, `{"id":1}`, `[{}]`, `{"a":{"b":[1,{"c":null}]}}`} {
		f.Add([]byte(s))
	}
	known := map[string]bool{CodeMalformedJSON: true, CodeUnknownField: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c domain.RecordExpenditure
		err := decodeCommand(b, &c)
		if err != nil && !known[err.Code] {
			t.Errorf("code %s for %q", err.Code, b)
		}
	})
}
