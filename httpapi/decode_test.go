package httpapi

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
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
			if err.Code != c.code || (c.field != "" && err.Field != c.field) || Status(err.Kind) != http.StatusBadRequest {
				t.Errorf("got %d %s field %q (%s), want 400 %s field %q", Status(err.Kind), err.Code, err.Field, err.Message, c.code, c.field)
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

// TestCodes walks the one error set: every code the API answers is defined
// once, in one layer's set, and its kind has an error status.
func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range AllCodes() {
		if seen[c.Code] {
			t.Errorf("code %s is defined twice", c.Code)
		}
		seen[c.Code] = true
		if _, ok := statuses[c.Kind]; !ok {
			t.Errorf("code %s has kind %d, which has no status", c.Code, c.Kind)
		}
	}
	for k := errs.Invalid; k <= errs.Internal; k++ {
		if st := Status(k); st < 400 || statuses[k] == 0 {
			t.Errorf("kind %d has status %d", k, st)
		}
	}
	if len(statuses) != int(errs.Internal) {
		t.Errorf("%d statuses for %d kinds", len(statuses), errs.Internal)
	}
}

func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{`{}`, `{"id":"a","amount":{"amount":"1.00","currency":"USD"}}`, `{"id":1}`, `[{}]`, `{"a":{"b":[1,{"c":null}]}}`} {
		f.Add([]byte(s))
	}
	f.Add([]byte("{\"payee\":\"a\xffb\"}"))
	f.Add([]byte(`{"payee":"\ud83d\ude00","description":"\udc00"}`))
	known := map[string]bool{CodeMalformedJSON: true, CodeUnknownField: true, domain.CodeInvalidText: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c domain.RecordExpenditure
		err := decodeCommand(b, &c)
		if err != nil && !known[err.Code] {
			t.Errorf("code %s for %q", err.Code, b)
		}
		// Nothing is replaced by U+FFFD on the way: a decoded U+FFFD was sent.
		sent := bytes.Contains(b, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(b), []byte(`\ufffd`))
		if err == nil && !sent && strings.ContainsRune(c.Payee+c.Description+c.City+c.Country+c.ID, '\uFFFD') {
			t.Errorf("%q decoded with U+FFFD: %+v", b, c)
		}
	})
}

// timeoutBody fails as a connection whose read deadline passed does.
type timeoutBody struct{}

func (timeoutBody) Read([]byte) (int, error) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	return 0, &net.OpError{Op: "read", Net: "tcp", Source: addr, Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 54321}, Err: os.ErrDeadlineExceeded}
}

// TestReadBodyTimeoutHidesAddresses: the 400 after a body read timed out
// says so without the socket's addresses (issue 8).
func TestReadBodyTimeoutHidesAddresses(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/donors", io.NopCloser(timeoutBody{}))
	_, e := readBody(httptest.NewRecorder(), r, MaxBodyBytes)
	if e == nil || Status(e.Kind) != 400 || e.Code != CodeMalformedJSON {
		t.Fatalf("got %v, want 400 %s", e, CodeMalformedJSON)
	}
	for _, leak := range []string{"127.0.0.1", "10.1.2.3", "8080", "54321", "tcp"} {
		if strings.Contains(e.Message, leak) {
			t.Errorf("message %q shows %q", e.Message, leak)
		}
	}
}

// TestDecodeText refuses, naming the field, strings that encoding/json
// would store as U+FFFD without a word: invalid UTF-8 and half a surrogate
// pair (issue 8). Everything else is decoded as sent.
func TestDecodeText(t *testing.T) {
	for _, c := range []struct{ name, body, field string }{
		{"invalid byte", "{\"bank_ref\":\"a\xffb\"}", "bank_ref"},
		{"cut rune", "{\"bank_ref\":\"a\xc3\"}", "bank_ref"},
		{"encoded surrogate", "{\"bank_ref\":\"\xed\xa0\x80\"}", "bank_ref"},
		{"invalid byte in a nested field", "{\"amount\":{\"amount\":\"1.00\",\"currency\":\"US\xc0\"}}", "amount.currency"},
		{"lone high surrogate", `{"bank_ref":"a\ud800b"}`, "bank_ref"},
		{"high surrogate at the end", `{"bank_ref":"a\uD83D"}`, "bank_ref"},
		{"lone low surrogate", `{"bank_ref":"\udc00"}`, "bank_ref"},
		{"two high surrogates", `{"bank_ref":"\ud83d\ud83d\ude00"}`, "bank_ref"},
		{"high surrogate then another escape", `{"bank_ref":"\ud83d\u0041"}`, "bank_ref"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := decodeCommand([]byte(c.body), &domain.RecordContribution{})
			if err == nil || err.Code != domain.CodeInvalidText || err.Field != c.field || Status(err.Kind) != http.StatusUnprocessableEntity {
				t.Errorf("%q: %+v, want 422 invalid_text on %s", c.body, err, c.field)
			}
		})
	}
	for _, c := range []struct{ body, want string }{
		{`{"bank_ref":"\ud83d\ude00"}`, "😀"},
		{`{"bank_ref":"\\ud800"}`, `\ud800`},
		{`{"bank_ref":"Zürich \u00e9\t\u001b"}`, "Zürich é\t\x1b"}, // the domain judges control characters
		{`{"bank_ref":"\ufffd"}`, "\ufffd"},
	} {
		var got domain.RecordContribution
		if err := decodeCommand([]byte(c.body), &got); err != nil || got.BankRef != c.want {
			t.Errorf("%s: %v, bank_ref %q, want %q", c.body, err, got.BankRef, c.want)
		}
	}
}
