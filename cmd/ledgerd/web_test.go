package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The web app's browser tests: real headless Chromium against the real
// ledgerd (its Main, on port 0) loaded with the demo, signing in with the
// demo's passwords. One browser for every subtest; the subtests run in
// order, each building on the books the previous ones left.

// browserTimeout bounds the whole browser test: generous for a loaded
// machine; every wait is on a condition, never a sleep.
const browserTimeout = 4 * time.Minute

// findChromium finds Debian's chromium on PATH. The tests fail without it:
// scripts/test.sh installs it.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is missing: the web app's browser tests need it on PATH (apt-get install -y chromium; scripts/test.sh installs it)")
	return ""
}

// screenshotDir is where the tests write their screenshots:
// $LEDGERD_SCREENSHOTS, or a new temporary folder that is kept.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LEDGERD_SCREENSHOTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "ledgerd-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "web app screenshots in %s\n", dir)
	return dir
}

// readDemoPasswords reads demo-passwords.txt: user → password.
func readDemoPasswords(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && !strings.HasPrefix(l, "#") {
			out[f[0]] = f[1]
		}
	}
	return out
}

// webCents reads an amount as the web app shows it ("1,234.50 USD") in cents.
func webCents(t *testing.T, s string) int64 {
	t.Helper()
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "USD"))
	s = strings.ReplaceAll(s, ",", "")
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return n
}

type browser struct {
	t   *testing.T
	ctx context.Context
	url string
	pw  map[string]string
	dir string

	signIns int
}

// stepTimeout bounds one call into the browser: a wait for an element that
// never comes fails the test instead of running to its deadline.
const stepTimeout = 30 * time.Second

func (b *browser) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fatal(err)
	}
}

// get runs one action that gives a value.
func get[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fatal(err)
	}
	return v
}

// fatal ends the test with what the browser shows.
func (b *browser) fatal(err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	b.t.Fatalf("browser: %v\nat %s, showing:\n%.2000s", err, loc, html)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, chromedp.Text(chromedp.CSS(sel)))
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	return get(b, chromedp.Value(chromedp.CSS(sel)))
}

func (b *browser) signIn(user, password string) {
	b.t.Helper()
	b.signIns++
	b.run(
		// A subtest that failed may have left a user signed in.
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
			return err
		}),
		// Not "/" itself: after a sign-out the browser is there, and
		// navigating to the page it shows is aborted.
		chromedp.Navigate(fmt.Sprintf("%s/?n=%d", b.url, b.signIns)),
		chromedp.WaitVisible(chromedp.CSS(`#user`)),
		chromedp.SetValue(chromedp.CSS(`#user`), user),
		chromedp.SetValue(chromedp.CSS(`#password`), password),
		chromedp.Click(chromedp.CSS(`#signin`)),
		// Wait for what only the next page has: the page it leaves has
		// a main too.
		chromedp.WaitReady(chromedp.CSS(`#who, #signin-error`)),
	)
}

func (b *browser) signOut() {
	b.t.Helper()
	b.run(chromedp.Click(chromedp.CSS(`header form button`)), chromedp.WaitVisible(chromedp.CSS(`#signin`)))
}

func (b *browser) open(path, waitSel string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.url+path), chromedp.WaitReady(chromedp.CSS(waitSel)))
}

// fill sets form inputs by name and submits the form, then waits for sel.
func (b *browser) fill(values map[string]string, waitSel string) {
	b.t.Helper()
	var acts []chromedp.Action[chromedp.Void]
	for name, v := range values {
		acts = append(acts, chromedp.SetValue(chromedp.CSS(`[name="`+name+`"]`), v))
	}
	acts = append(acts, chromedp.Click(chromedp.CSS(`#submit`)), chromedp.WaitReady(chromedp.CSS(waitSel)))
	b.run(acts...)
}

// shoot writes a full-page screenshot at 1280 and 390 px wide, after
// checking that every input of the page has a label.
func (b *browser) shoot(name string) {
	b.t.Helper()
	unlabelled := get(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length == 0).map(e => e.name || e.id)`))
	if len(unlabelled) > 0 {
		b.t.Errorf("%s: inputs without a label: %v", name, unlabelled)
	}
	for _, w := range []int64{1280, 390} {
		b.run(chromedp.EmulateViewport(w, 900))
		png := get(b, chromedp.FullScreenshot(100))
		ext := ".png"
		if err := os.WriteFile(filepath.Join(b.dir, fmt.Sprintf("%s-%d%s", name, w, ext)), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.run(chromedp.EmulateViewport(1280, 900))
}

// balanceFigures reads received and trust balance off the dashboard.
func (b *browser) balanceFigures() (received, trust int64) {
	b.t.Helper()
	b.open("/app/dashboard?term=2020-2021&as_of=2021-12-31", "#trust-balance")
	return webCents(b.t, b.text("#received")), webCents(b.t, b.text("#trust-balance"))
}

// countCommand counts the events in the log appended by command id (the
// form's idempotency key).
func countCommand(t *testing.T, d *daemon, token, commandID string) (n int, types []string) {
	t.Helper()
	for _, l := range d.eventLines(t, "?limit=10000", token) {
		var e events.Event
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		if e.CommandID == commandID {
			n++
			types = append(types, e.Type)
		}
	}
	return n, types
}

func TestWebApp(t *testing.T) {
	chromium := findChromium(t)
	dir := t.TempDir()
	// A month after the demo's term 2020-2021 ended (it is not closed):
	// a receipt dated after its end, and before today, is refused for
	// the term alone.
	webNow := func() time.Time { return time.Date(2022, 1, 31, 12, 0, 0, 0, time.UTC) }
	d := startDaemon(t, webNow, "--demo", "--data", dir)
	pw := readDemoPasswords(t, filepath.Join(dir, DemoPasswordsFile))
	tokens := readDemoTokens(t, filepath.Join(dir, DemoTokensFile))
	if len(pw) != 5 || pw["olu"] == "" {
		t.Fatalf("demo passwords: %v", pw)
	}
	if !strings.Contains(d.stdout.String(), filepath.Join(dir, DemoPasswordsFile)) {
		t.Errorf("the demo does not say where its passwords are:\n%s", d.stdout)
	}

	userData := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(userData),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	// A page that opens a dialog (alert) is script run from data: fail.
	dialogs := make(chan string, 10)
	b := &browser{t: t, ctx: bctx, url: d.url, pw: pw, dir: screenshotDir(t)}
	// The first call starts the browser, which lives as long as its
	// context: no step timeout on this one.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(bctx, func(ev any) {
		if e, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case dialogs <- e.Message:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}

	t.Run("sign-in", func(t *testing.T) {
		b.t = t
		b.signIn("olu", "not the password")
		if got := b.text("#signin-error"); got != "The user name or the password is not right." {
			t.Errorf("wrong password: %q", got)
		}
		b.signIn("nobody", "not the password")
		if got := b.text("#signin-error"); got != "The user name or the password is not right." {
			t.Errorf("unknown user: %q (must not differ from a wrong password)", got)
		}
		// By keyboard alone: the user name has the focus, Tab goes to the
		// password, Enter signs in.
		// Type only once the page has given the user name the focus: keys
		// sent before that (a loaded machine is slow to focus) are lost.
		b.run(chromedp.Navigate(b.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#user`)),
			chromedp.Poll[chromedp.Void](`document.activeElement !== null && document.activeElement.id === "user"`),
			chromedp.KeyEvent("olu"), chromedp.KeyEvent("\t"), chromedp.KeyEvent(pw["olu"]), chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(chromedp.CSS(`#who`)))
		if got := b.text("#who"); !strings.Contains(got, "olu (officer)") {
			t.Errorf("signed in as %q", got)
		}
		cookies := get(b, chromedp.Evaluate[string](`document.cookie`))
		if cookies != "" {
			t.Errorf("the session cookie is readable by script: %q", cookies)
		}
	})

	t.Run("receipt", func(t *testing.T) {
		b.t = t
		recv0, trust0 := b.balanceFigures()
		b.shoot("dashboard")
		b.open("/app/forms/receipt", "#submit")
		b.fill(map[string]string{"donor_id": "demo-city", "term_id": "2020-2021", "amount.amount": "1000.00", "amount.currency": "USD", "received_on": "2021-06-01", "bank_ref": "WEB-1"}, "#done")
		recv1, trust1 := b.balanceFigures()
		// 1,000.00 received; the agent's fee of 1 % leaves 990.00 in trust.
		if recv1-recv0 != 100000 || trust1-trust0 != 99000 {
			t.Errorf("received %d → %d, trust balance %d → %d (cents): want +100000 and +99000", recv0, recv1, trust0, trust1)
		}
	})

	t.Run("refused-beside-field", func(t *testing.T) {
		b.t = t
		before := d.streamLastSeq(t)
		b.open("/app/forms/receipt", "#submit")
		b.fill(map[string]string{"donor_id": "demo-city", "term_id": "2020-2021", "amount.amount": "12.345", "amount.currency": "USD", "received_on": "2021-06-01"}, `p.error`)
		if got := b.text(`[id="err-amount.amount"]`); !strings.Contains(got, "amount") || !strings.Contains(got, "decimals") {
			t.Errorf("bad amount: message beside the amount %q", got)
		}
		kept := b.value(`[id="f-amount.amount"]`)
		if kept != "12.345" {
			t.Errorf("the form kept %q, want what was typed", kept)
		}
		b.shoot("form-error")
		b.open("/app/forms/receipt", "#submit")
		b.fill(map[string]string{"donor_id": "demo-city", "term_id": "2020-2021", "amount.amount": "10.00", "amount.currency": "USD", "received_on": "2022-01-15"}, `p.error`)
		if got := b.text(`[id="err-received_on"]`); !strings.Contains(got, "after term 2020-2021 ends") {
			t.Errorf("date outside the term: message beside the date %q", got)
		}
		if after := d.streamLastSeq(t); after != before {
			t.Errorf("refused forms appended events: stream seq %d → %d", before, after)
		}
	})

	t.Run("double-submit", func(t *testing.T) {
		b.t = t
		b.open("/app/forms/interest", "#submit")
		key := b.value(`[name="idempotency_key"]`)
		b.run(chromedp.SetValue(chromedp.CSS(`[name="term_id"]`), "2020-2021"),
			chromedp.SetValue(chromedp.CSS(`[name="amount.amount"]`), "12.34"),
			chromedp.SetValue(chromedp.CSS(`[name="earned_on"]`), "2021-09-30"))
		// The same form sent three times, as a double click and a resubmit
		// would: two posts by fetch, then the form itself.
		statuses := get(b, chromedp.Evaluate[[]int](`(async () => { const f = document.querySelector('main form'); const out = [];
			for (let i = 0; i < 2; i++) { const r = await fetch(f.action, {method: 'POST', body: new URLSearchParams(new FormData(f))}); out.push(r.status); }
			return out; })()`, chromedp.EvalAwaitPromise))
		b.run(chromedp.Click(chromedp.CSS(`#submit`)), chromedp.WaitVisible(chromedp.CSS(`#done`)))
		if fmt.Sprint(statuses) != "[200 200]" {
			t.Errorf("the fetches answered %v", statuses)
		}
		if got := b.text("#done"); !strings.Contains(got, "recorded once") {
			t.Errorf("the resubmit says %q", got)
		}
		n, types := countCommand(t, d, tokens["kim auditor"], key)
		if n != 1 || types[0] != events.TypeInterestEarned {
			t.Errorf("command %s appended %v, want one interest_earned", key, types)
		}
	})

	var allocID string
	t.Run("propose-approve", func(t *testing.T) {
		b.t = t
		b.open("/app/forms/allocation", "#submit")
		allocID = b.value(`[name="id"]`)
		b.fill(map[string]string{"line_id": "MDFM-2.2", "amount.amount": "5000.00", "amount.currency": "USD", "proposed_on": "2021-06-02", "note": "web test"}, "#done")
		// The officer sees the queue, without an approve button.
		b.open("/app/approvals", "#queue")
		buttons := get(b, chromedp.Evaluate[int](`document.querySelectorAll('#queue button').length`))
		if buttons != 0 {
			t.Errorf("the officer's queue has %d approve buttons", buttons)
		}
		allocW := func() string {
			b.open("/app/dashboard?term=2020-2021&as_of=2021-12-31", "#trust-balance")
			return get(b, chromedp.AttributeValue(chromedp.CSS(`[data-line="MDFM-2.2"] rect.allocated`), "width")).Value
		}
		before := allocW()
		b.signOut()
		b.signIn("ana", pw["ana"])
		b.open("/app/approvals", "#queue")
		if got := b.text(`[id="alloc-` + allocID + `"]`); !strings.Contains(got, "olu") || !strings.Contains(got, "5,000.00 USD") || !strings.Contains(got, "MDFM-2.2") {
			t.Errorf("queue row %q", got)
		}
		b.shoot("approvals")
		// Approved on the term's last day: today is after it.
		b.run(chromedp.SetValue(chromedp.CSS(`[id="approved-on-`+allocID+`"]`), "2021-12-31"),
			chromedp.Click(chromedp.CSS(`[id="approve-`+allocID+`"]`)), chromedp.WaitVisible(chromedp.CSS(`#done`)))
		after := allocW()
		if before != "0" || toFloatTest(after) <= 0 {
			t.Errorf("the allocated bar of MDFM-2.2 went from %q to %q", before, after)
		}
		b.signOut()
	})

	t.Run("donor", func(t *testing.T) {
		b.t = t
		b.signIn("dana", pw["dana"])
		b.open("/app/donors/demo-foundation?term=2020-2021&as_of=2021-12-31", "#donor-name")
		if got := b.text("#donor-name"); got != "ILLUSTRATIVE Foundation C" {
			t.Errorf("donor page of %q", got)
		}
		b.shoot("donor")
		head := get(b, chromedp.Evaluate[string](`(async () => { const r = await fetch(document.querySelector('#pdf').href); const a = new Uint8Array(await r.arrayBuffer()); return String.fromCharCode(...a.slice(0, 5)); })()`,
			chromedp.EvalAwaitPromise))
		if head != "%PDF-" {
			t.Errorf("the PDF starts %q", head)
		}
		csv := get(b, chromedp.Evaluate[string](`(async () => (await fetch(document.querySelector('#csv').href)).text())()`, chromedp.EvalAwaitPromise))
		if !strings.Contains(csv, "demo-foundation") {
			t.Errorf("the CSV: %.200q", csv)
		}
		links := b.text(`header nav`)
		for _, hidden := range []string{"Record", "Event log", "Approvals", "Verify"} {
			if strings.Contains(links, hidden) {
				t.Errorf("a donor is offered %q: %q", hidden, links)
			}
		}
		for _, path := range []string{"/app/donors/demo-city", "/app/forms/receipt", "/app/events", "/app/approvals"} {
			b.open(path, "h1")
			if got := b.text("h1"); got != "403 Forbidden" {
				t.Errorf("a donor typing %s gets %q", path, got)
			}
		}
		b.signOut()
	})

	t.Run("auditor", func(t *testing.T) {
		b.t = t
		b.signIn("kim", pw["kim"])
		b.open("/app/events", "#filter")
		// SetValue sets the input's value, not its attribute: only the
		// filtered page has the attribute.
		b.run(chromedp.SetValue(chromedp.CSS(`#donor`), "demo-country"), chromedp.Click(chromedp.CSS(`#filter`)),
			chromedp.WaitReady(chromedp.CSS(`input#donor[value="demo-country"]`)))
		b.shoot("events")
		donors := get(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#log .donor-cell')].map(e => e.textContent)`))
		if len(donors) == 0 {
			t.Fatal("no event of demo-country in the log")
		}
		for _, x := range donors {
			if x != "demo-country" {
				t.Errorf("the filtered log shows donor %q", x)
			}
		}
		b.run(chromedp.Click(chromedp.CSS(`#log tbody tr:last-child a`)), chromedp.WaitVisible(chromedp.CSS(`#event-seq`)))
		seq, _ := strconv.Atoi(b.text("#event-seq"))
		b.run(chromedp.Click(chromedp.CSS(`#predecessor`)), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`a#predecessor[href="/app/events/%d"]`, seq-2))))
		if got, _ := strconv.Atoi(b.text("#event-seq")); got != seq-1 || seq < 2 {
			t.Errorf("the predecessor of event %d is %d", seq, got)
		}
		if got := b.text("#canonical"); !strings.Contains(got, `"fund_seq":`+strconv.Itoa(seq-1)) {
			t.Errorf("canonical JSON %.200q", got)
		}
		b.shoot("event")
		b.open("/app/reports/budget?term=2020-2021&as_of=2021-12-31", "#at_seq")
		b.shoot("report-budget")
		b.open("/app/verify", "#verify")
		// The audit runs as a job: the button goes to the job's page,
		// which reloads until the job has ended.
		b.run(chromedp.Click(chromedp.CSS(`#verify`)), chromedp.WaitVisible(chromedp.CSS(`#job-id`)))
		b.run(chromedp.WaitVisible(chromedp.CSS(`#verify-result`)))
		if got := b.text("#verify-result"); !strings.HasPrefix(got, "Verified") {
			t.Errorf("verify: %q", got)
		}
		if id, loc := b.text("#job-id"), get(b, chromedp.Location()); !strings.HasSuffix(loc, "/app/verify/jobs/"+id) || id == "" {
			t.Errorf("the verify job's page is %s, showing job %q", loc, id)
		}
		b.shoot("verify-job")
		b.signOut()
	})

	t.Run("escaping", func(t *testing.T) {
		b.t = t
		const name = "<script>alert(1)</script>"
		b.signIn("olu", pw["olu"])
		b.open("/app/forms/donor", "#submit")
		b.fill(map[string]string{"id": "xss", "name": name, "kind": "company", "country": "DE"}, "#done")
		eventPage := strings.TrimPrefix(get(b, chromedp.AttributeValue(chromedp.CSS(`main table a`), "href")).Value, b.url)
		// Refused (the id is taken), the form shows the name as typed.
		b.open("/app/forms/donor", "#submit")
		b.fill(map[string]string{"id": "xss", "name": name, "kind": "company", "country": "DE"}, `p.error`)
		if got := b.value(`[name="name"]`); got != name {
			t.Errorf("the refused form keeps the name as %q", got)
		}
		b.open("/app/forms/receipt", "#submit")
		b.fill(map[string]string{"donor_id": "xss", "term_id": "2020-2021", "amount.amount": "100.00", "amount.currency": "USD", "received_on": "2021-06-03"}, "#done")
		for _, p := range []struct{ path, sel string }{
			{"/app/donors", "#donors"},
			{"/app/donors/xss?term=2020-2021&as_of=2021-12-31", "#donor-name"},
			{"/app/dashboard?term=2020-2021&as_of=2021-12-31", "#by-donor"},
			{eventPage, "#canonical"},
		} {
			b.open(p.path, p.sel)
			scripts := get(b, chromedp.Evaluate[int](`document.querySelectorAll('script').length`))
			text := b.text(p.sel)
			if scripts != 0 || !strings.Contains(text, name) {
				t.Errorf("%s: %d script elements; the name shown as text: %v", p.path, scripts, strings.Contains(text, name))
			}
		}
		select {
		case m := <-dialogs:
			t.Errorf("a dialog opened: %q", m)
		default:
		}
	})

	t.Run("cross-origin", func(t *testing.T) {
		b.t = t
		before := d.streamLastSeq(t)
		// Another origin (another port) whose page posts a receipt form to
		// the ledger while olu is signed in.
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/app/forms/receipt">
<input name="id" value="rcpt-evil"><input name="donor_id" value="demo-city"><input name="term_id" value="2020-2021"><input name="amount.amount" value="999.00">
<input name="amount.currency" value="USD"><input name="received_on" value="2021-06-01"><button id="go">go</button></form>`, d.url)
		}))
		defer evil.Close()
		b.run(chromedp.Navigate(evil.URL), chromedp.Click(chromedp.CSS(`#go`)), chromedp.WaitReady(chromedp.CSS(`body:not(:has(#go))`)))
		body := b.text(`body`)
		if !strings.Contains(strings.ToLower(body), "cross-origin") {
			t.Errorf("the cross-origin post answered %q", body)
		}
		if after := d.streamLastSeq(t); after != before {
			t.Errorf("a cross-origin form appended events: stream seq %d → %d", before, after)
		}
	})
}

func toFloatTest(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
