package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/webapp"
)

// webClient is a browser without a browser: a cookie jar and the headers a
// same-origin form post carries.
type webClient struct {
	t   *testing.T
	d   *daemon
	c   *http.Client
	jar *cookiejar.Jar
}

func newWebClient(t *testing.T, d *daemon) *webClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: httpClient.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &webClient{t: t, d: d, c: c, jar: jar}
}

func (w *webClient) post(path string, form url.Values) *http.Response {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.d.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (w *webClient) get(path string) *http.Response {
	w.t.Helper()
	resp, err := w.c.Get(w.d.url + path)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// signedIn reports whether the dashboard answers (a signed-out browser is
// sent to sign in).
func (w *webClient) signedIn() bool {
	w.t.Helper()
	return w.get("/app/dashboard").StatusCode == http.StatusOK
}

func setPassword(t *testing.T, tokens, user, password string, args ...string) {
	t.Helper()
	in := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(in, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	if err := RunUser(append([]string{"passwd", "--user", user, "--tokens", tokens}, args...), f, &out, &out); err != nil {
		t.Fatalf("user passwd: %v", err)
	}
}

// TestWebSessions: a password set with `ledgerd user passwd` signs in; the
// cookie holds a session id only, HttpOnly and SameSite=Strict; sign-out,
// a changed password and a removed user end the session; failed sign-ins
// make the next ones wait, whatever the password.
func TestWebSessions(t *testing.T) {
	tokens := writeTestTokens(t)
	// olu has an officer's token and an admin's: the password says which.
	setPassword(t, tokens, "olu", "olu's first password", "--role", "officer")
	setPassword(t, tokens, "ana", "ana's password, long")
	// The API keeps reading the old lines: olu's tokens still work.
	if _, err := access.LoadTokens(tokens); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", tokens)
	d.post(t, http.StatusCreated, "/v1/terms", "tok-ana", "term-1", map[string]any{"id": "2020-2021", "starts_on": "2020-01-01", "ends_on": "2021-12-31", "target": usdMoney("1000000.00"), "fee_rate": "0.01"})

	w := newWebClient(t, d)
	resp := w.post("/app/signin", url.Values{"user": {"olu"}, "password": {"olu's first password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d", resp.StatusCode)
	}
	var sc string
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, webapp.SessionCookie+"=") {
			sc = h
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "olu") || strings.Contains(sc, "Secure") {
		t.Errorf("session cookie %q: a session id only, and not Secure over plain HTTP", sc)
	}
	if !w.signedIn() {
		t.Fatal("not signed in")
	}

	// Sign-out ends the session on the server: the old id no longer works.
	old := w.jar.Cookies(mustURL(t, d.url))
	w.post("/app/signout", nil)
	if w.signedIn() {
		t.Error("still signed in after sign-out")
	}
	w.jar.SetCookies(mustURL(t, d.url), old)
	if w.signedIn() {
		t.Error("the session id of a signed-out session still works")
	}

	// A changed password ends the session.
	w.post("/app/signin", url.Values{"user": {"olu"}, "password": {"olu's first password"}})
	if !w.signedIn() {
		t.Fatal("not signed in again")
	}
	setPassword(t, tokens, "olu", "olu's second password", "--role", "officer")
	if w.signedIn() {
		t.Error("the session outlived a change of password")
	}
	if resp := w.post("/app/signin", url.Values{"user": {"olu"}, "password": {"olu's second password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password answered %d", resp.StatusCode)
	}

	// A removed user's session ends.
	wa := newWebClient(t, d)
	wa.post("/app/signin", url.Values{"user": {"ana"}, "password": {"ana's password, long"}})
	if !wa.signedIn() {
		t.Fatal("ana not signed in")
	}
	b, err := os.ReadFile(tokens)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "ana ") {
			keep = append(keep, l)
		}
	}
	if err := os.WriteFile(tokens, []byte(strings.Join(keep, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if wa.signedIn() {
		t.Error("a removed user's session goes on")
	}

	// Failed sign-ins: the same answer for a wrong password and an
	// unknown user; after webapp.FreeFailures of them, even the right
	// password waits.
	wk := newWebClient(t, d)
	for i := 0; i < webapp.FreeFailures; i++ {
		user := "olu"
		if i%2 == 1 {
			user = "nobody"
		}
		if resp := wk.post("/app/signin", url.Values{"user": {user}, "password": {"wrong"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d answered %d", i, resp.StatusCode)
		}
	}
	if resp := wk.post("/app/signin", url.Values{"user": {"olu"}, "password": {"olu's second password"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a sign-in right after %d failures answered %d, want 401 (wait)", webapp.FreeFailures, resp.StatusCode)
	}
	if !strings.Contains(d.logs.String(), "failed_sign_ins=3") {
		t.Error("the failed sign-ins are not counted in the log")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// postBody posts a same-origin form and returns the status and the page.
func (w *webClient) postBody(path string, form url.Values) (int, string) {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.d.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		w.t.Fatal(err)
	}
	return resp.StatusCode, b.String()
}

// TestWebTermClose: the close form first shows what the close will carry
// over, appending nothing; the confirmation closes the term once.
func TestWebTermClose(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, func() time.Time { return time.Date(2022, 1, 31, 12, 0, 0, 0, time.UTC) }, "--demo", "--data", dir)
	pw := readDemoPasswords(t, filepath.Join(dir, DemoPasswordsFile))
	w := newWebClient(t, d)
	if resp := w.post("/app/signin", url.Values{"user": {"ana"}, "password": {pw["ana"]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	form := url.Values{"idempotency_key": {"close-1"}, "path.id": {"2020-2021"}, "closed_on": {"2021-12-31"},
		"disposition.kind": {"carry_over"}, "disposition.to_term_id": {"2022-2023"}}
	before := d.streamLastSeq(t)
	status, page := w.postBody("/app/forms/term-close", form)
	// The demo's unallocated balance at the end of the term.
	if status != http.StatusOK || !strings.Contains(page, "Unallocated balance: <strong>174,865.15 USD</strong>, to be carried over to term 2022-2023") ||
		!strings.Contains(page, "Confirm the close") {
		t.Fatalf("preview: %d\n%s", status, page)
	}
	if after := d.streamLastSeq(t); after != before {
		t.Fatalf("the preview appended events: %d → %d", before, after)
	}
	form.Set("confirm", "yes")
	status, page = w.postBody("/app/forms/term-close", form)
	if status != http.StatusOK || !strings.Contains(page, "term_closed") {
		t.Fatalf("confirm: %d\n%s", status, page)
	}
	var b struct {
		TermStatus string `json:"term_status"`
		CarriedOut string `json:"carried_out"`
	}
	d.get(t, "/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-12-31", readDemoTokens(t, filepath.Join(dir, DemoTokensFile))["kim auditor"], &b)
	if b.TermStatus != "closed" || b.CarriedOut != "174865.15" {
		t.Errorf("after the close: %+v", b)
	}
}
