package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// page reads a page of the web app whole.
func (w *webClient) page(path string) string {
	w.t.Helper()
	resp, err := w.c.Get(w.d.url + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		w.t.Fatalf("GET %s: %d %v\n%s", path, resp.StatusCode, err, b)
	}
	return string(b)
}

// TestWebEventLog reverses a receipt of the demo, then, as the auditor in
// the web app, filters the log to the receipt's donor: the list shows the
// reversal (whose payload names no donor; issue 7), the receipt's page
// links to it, and the unfiltered log pages by 50 with next and previous
// links.
func TestWebEventLog(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, func() time.Time { return time.Date(2022, 1, 31, 12, 0, 0, 0, time.UTC) }, "--demo", "--data", dir)
	tokens := readDemoTokens(t, filepath.Join(dir, DemoTokensFile))
	var receipt events.Event
	for _, b := range d.eventLines(t, "?type="+events.TypeContributionReceived+"&limit=1", tokens["kim auditor"]) {
		var err error
		if receipt, err = events.Decode(b); err != nil {
			t.Fatal(err)
		}
	}
	sub := events.SubjectOf(receipt)
	if sub.DonorID == "" {
		t.Fatalf("the demo's first receipt names no donor: %s", receipt.Data)
	}
	d.post(t, http.StatusCreated, "/v1/reversals", tokens["olu officer"], "rv-web-1",
		map[string]string{"id": "rv-web-1", "event_id": receipt.ID, "reason": "keyed twice"})
	var reversal events.Event
	for _, b := range d.eventLines(t, "?type="+events.TypeEventReversed, tokens["kim auditor"]) {
		e, err := events.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(e.Data), receipt.ID) {
			reversal = e
		}
	}
	if reversal.FundSeq == 0 {
		t.Fatal("no reversal of the receipt in the log")
	}

	pw := readDemoPasswords(t, filepath.Join(dir, DemoPasswordsFile))
	w := newWebClient(t, d)
	if resp := w.post("/app/signin", url.Values{"user": {"kim"}, "password": {pw["kim"]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	link := func(seq uint64) string { return fmt.Sprintf(`href="/app/events/%d"`, seq) }
	list := w.page("/app/events?donor=" + url.QueryEscape(sub.DonorID))
	for _, seq := range []uint64{receipt.FundSeq, reversal.FundSeq} {
		if !strings.Contains(list, link(seq)) {
			t.Errorf("the log filtered to donor %s lacks event %d", sub.DonorID, seq)
		}
	}
	if page := w.page(fmt.Sprintf("/app/events/%d", receipt.FundSeq)); !strings.Contains(page, link(reversal.FundSeq)) {
		t.Errorf("the receipt's page does not link to its reversal %d", reversal.FundSeq)
	}

	// A bad filter is refused beside the form, which keeps it.
	resp, err := w.c.Get(d.url + "/app/events?from=2021-13-01&donor=" + url.QueryEscape(sub.DonorID))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), `id="filter-error"`) || !strings.Contains(string(b), `value="2021-13-01"`) {
		t.Errorf("a bad date in the filter: %d\n%s", resp.StatusCode, b)
	}

	first := w.page("/app/events")
	if n := strings.Count(first, `data-label="fund_seq"`); n != 50 {
		t.Fatalf("the first page of the log has %d rows, want 50", n)
	}
	if !strings.Contains(first, `href="/app/events?after=50" rel="next"`) || strings.Contains(first, `rel="prev"`) {
		t.Fatalf("the first page's links are wrong")
	}
	second := w.page("/app/events?after=50")
	if !strings.Contains(second, link(51)) || strings.Contains(second, link(50)) || !strings.Contains(second, `href="/app/events?before=51" rel="prev"`) {
		t.Errorf("the second page does not start at event 51 or has no link back")
	}
	back := w.page("/app/events?before=51")
	if !strings.Contains(back, link(1)) || !strings.Contains(back, link(50)) || strings.Contains(back, link(51)) || strings.Contains(back, `rel="prev"`) {
		t.Errorf("the page before 51 is not events 1 to 50")
	}
}
