package strictjson

import "testing"

type inner struct {
	Amount string `json:"amount"`
}

type body struct {
	ID    string  `json:"id"`
	Inner inner   `json:"inner"`
	List  []inner `json:"list"`
	Meta  string  `json:"-"`
}

// TestDecodeFaults: each kind of body refused has its fault and the field at
// fault; httpapi's tests hold the codes and statuses they are answered with.
func TestDecodeFaults(t *testing.T) {
	for _, c := range []struct {
		name, body string
		fault      Fault
		field      string
	}{
		{"empty", ``, Malformed, ""},
		{"not an object", `[]`, Malformed, ""},
		{"trailing data", `{"id":"a"}{}`, Malformed, ""},
		{"wrong type", `{"id":1}`, Malformed, "id"},
		{"twice", `{"inner":{"amount":"1","amount":"2"}}`, Malformed, "inner.amount"},
		{"other case", `{"ID":"a"}`, UnknownField, "ID"},
		{"unknown in a list", `{"list":[{"amount":"1"},{"rate":"1"}]}`, UnknownField, "list[1].rate"},
		{"tagged -", `{"Meta":"x"}`, UnknownField, "Meta"},
		{"invalid UTF-8", "{\"id\":\"a\xffb\"}", NotText, "id"},
		{"half a pair", `{"inner":{"amount":"\udc00"}}`, NotText, "inner.amount"},
	} {
		var v body
		err := Decode([]byte(c.body), &v)
		if err == nil || err.Fault != c.fault || err.Field != c.field || err.Message == "" {
			t.Errorf("%s: %+v, want fault %d on %q", c.name, err, c.fault, c.field)
		}
	}
	var v body
	if err := Decode([]byte(` {"id":"a","inner":{"amount":"1.00"},"list":[{"amount":"😀"}]} `), &v); err != nil || v.ID != "a" || v.List[0].Amount != "😀" {
		t.Errorf("a good body: %v, %+v", err, v)
	}
}
