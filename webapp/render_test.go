package webapp

import "testing"

func TestFormatAmount(t *testing.T) {
	for _, c := range []struct{ amount, cur, want string }{
		{"0.00", "USD", "0.00 USD"},
		{"999.99", "USD", "999.99 USD"},
		{"1000.00", "USD", "1,000.00 USD"},
		{"1234567.80", "USD", "1,234,567.80 USD"},
		{"-5000.00", "USD", "-5,000.00 USD"},
		{"20000000", "JPY", "20,000,000 JPY"},
		{"100000", "", "100,000"},
		{"", "USD", ""},
	} {
		if got := formatAmount(c.amount, c.cur); got != c.want {
			t.Errorf("formatAmount(%q, %q) = %q, want %q", c.amount, c.cur, got, c.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/app/dashboard":         "/app/dashboard",
		"/app/events?type=x":     "/app/events?type=x",
		"//evil.example/app/":    "",
		"https://evil.example/x": "",
		"/v1/events":             "",
		"":                       "",
		"/\\evil.example/app/x":  "",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
