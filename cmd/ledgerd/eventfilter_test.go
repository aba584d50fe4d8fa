package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// subjectRef is the test's own reading of what an event concerns, from the
// full export: the donor_id and line_id at the top of its payload, and for
// a reversal those of the event it reverses (issue 7).
type subjectRef struct{ donor, line string }

func exportSubjects(t *testing.T, all []events.Event) map[uint64]subjectRef {
	t.Helper()
	out := map[uint64]subjectRef{}
	for _, e := range all {
		var p map[string]any
		if err := json.Unmarshal(e.Data, &p); err != nil {
			t.Fatal(err)
		}
		if e.Type == events.TypeEventReversed {
			out[e.FundSeq] = out[uint64(p["reversed_fund_seq"].(float64))]
			continue
		}
		d, _ := p["donor_id"].(string)
		l, _ := p["line_id"].(string)
		out[e.FundSeq] = subjectRef{d, l}
	}
	return out
}

// pages reads GET /v1/events?query in pages of limit, forward with after
// or, backward, with before from the end, and returns the fund_seqs in the
// fund's order.
func (d *daemon) pages(t *testing.T, query url.Values, limit int, backward bool, last uint64) []uint64 {
	t.Helper()
	var got []uint64
	cursor := uint64(0)
	if backward {
		cursor = last + 1
	}
	for range 1000 {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", fmt.Sprint(limit))
		if backward {
			q.Set("before", fmt.Sprint(cursor))
		} else {
			q.Set("after", fmt.Sprint(cursor))
		}
		var page []uint64
		for _, b := range d.eventLines(t, "?"+q.Encode(), "tok-kim") {
			e, err := events.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			page = append(page, e.FundSeq)
		}
		if backward {
			got = append(page, got...)
		} else {
			got = append(got, page...)
		}
		if len(page) < limit {
			return got
		}
		if backward {
			cursor = page[0]
		} else {
			cursor = page[len(page)-1]
		}
	}
	t.Fatalf("%v: more than 1000 pages", query)
	return nil
}

// TestEventFilters checks that each filter of GET /v1/events answers
// exactly the events a filter over the full export selects, page by page
// both ways; that a donor's list has the reversals of its receipts and no
// expenditures, and a line's its allocations, approvals, expenditures and
// their reversals.
func TestEventFilters(t *testing.T) {
	d, _ := startIllustrativeDaemon(t)
	var all []events.Event
	for _, b := range d.eventLines(t, "?limit=10000", "tok-kim") {
		e, err := events.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	last := all[len(all)-1].FundSeq
	subj := exportSubjects(t, all)
	type filter struct {
		q     url.Values
		match func(e events.Event) bool
	}
	var filters []filter
	seen := map[string]bool{}
	for _, e := range all {
		s := subj[e.FundSeq]
		for _, f := range []struct{ k, v string }{{"type", e.Type}, {"actor", e.Actor}, {"donor", s.donor}, {"line", s.line}} {
			if f.v == "" || seen[f.k+"="+f.v] {
				continue
			}
			seen[f.k+"="+f.v] = true
			filters = append(filters, filter{url.Values{f.k: {f.v}}, func(x events.Event) bool {
				xs := subj[x.FundSeq]
				return map[string]string{"type": x.Type, "actor": x.Actor, "donor": xs.donor, "line": xs.line}[f.k] == f.v
			}})
		}
	}
	// The donor of a reversed receipt.
	reversedDonor := ""
	for _, e := range all {
		if e.Type == events.TypeEventReversed && subj[e.FundSeq].donor != "" {
			reversedDonor = subj[e.FundSeq].donor
			break
		}
	}
	if reversedDonor == "" {
		t.Fatal("no reversal concerns a donor in the illustrative history")
	}
	mid := all[len(all)/2].EffectiveOn
	filters = append(filters,
		filter{url.Values{"from": {mid}}, func(x events.Event) bool { return x.EffectiveOn >= mid }},
		filter{url.Values{"to": {mid}}, func(x events.Event) bool { return x.EffectiveOn <= mid }},
		filter{url.Values{"from": {"2021-01-01"}, "to": {"2021-06-30"}}, func(x events.Event) bool {
			return x.EffectiveOn >= "2021-01-01" && x.EffectiveOn <= "2021-06-30"
		}},
		filter{url.Values{"donor": {reversedDonor}, "type": {events.TypeEventReversed}}, func(x events.Event) bool {
			return subj[x.FundSeq].donor == reversedDonor && x.Type == events.TypeEventReversed
		}},
	)
	t.Logf("%d filters over %d events", len(filters), len(all))
	if len(filters) < 20 {
		t.Fatalf("only %d filters from the illustrative history", len(filters))
	}
	for _, f := range filters {
		var want []uint64
		for _, e := range all {
			if f.match(e) {
				want = append(want, e.FundSeq)
			}
		}
		if len(want) == 0 {
			t.Errorf("%v matches nothing in the export", f.q)
		}
		for _, backward := range []bool{false, true} {
			if got := d.pages(t, f.q, 7, backward, last); !slices.Equal(got, want) {
				t.Errorf("%v (backward %v): fund_seqs %v, want %v", f.q, backward, got, want)
			}
		}
	}

	// What a donor's and a line's lists hold, by type.
	types := func(q url.Values) map[string]int {
		n := map[string]int{}
		for _, s := range d.pages(t, q, 1000, false, last) {
			n[all[s-1].Type]++
		}
		return n
	}
	byDonor := types(url.Values{"donor": {reversedDonor}})
	if byDonor[events.TypeExpenditureRecorded] != 0 {
		t.Errorf("a donor's list holds expenditures: %v", byDonor)
	}
	for _, typ := range []string{events.TypeDonorRegistered, events.TypeContributionReceived, events.TypeFeeCharged, events.TypeEventReversed} {
		if byDonor[typ] == 0 {
			t.Errorf("%s's list holds no %s: %v", reversedDonor, typ, byDonor)
		}
	}
	lines := map[string]map[string]int{}
	for _, e := range all {
		if l := subj[e.FundSeq].line; l != "" && e.Type == events.TypeEventReversed {
			lines[l] = types(url.Values{"line": {l}})
		}
	}
	if len(lines) == 0 {
		t.Fatal("no reversal concerns a line in the illustrative history")
	}
	for l, n := range lines {
		for _, typ := range []string{events.TypeBudgetLineAdded, events.TypeAllocationProposed, events.TypeAllocationApproved, events.TypeEventReversed} {
			if n[typ] == 0 {
				t.Errorf("line %s's list holds no %s: %v", l, typ, n)
			}
		}
	}
}

// TestEventFiltersBadInput walks the refusals of GET /v1/events's filters:
// each has its code and names its parameter, and none appends an event.
func TestEventFiltersBadInput(t *testing.T) {
	d, _ := startIllustrativeDaemon(t)
	before := d.streamLastSeq(t)
	for _, c := range []struct {
		query, code, field string
	}{
		{"type=nope", "invalid_query", "type"},
		{"from=2021-13-01", "invalid_date", "from"},
		{"to=21-01-01", "invalid_date", "to"},
		{"from=2021-06-01&to=2021-05-31", "invalid_date", "to"},
		{"after=3&before=9", "invalid_query", "before"},
		{"before=0", "invalid_query", "before"},
		{"before=x", "invalid_query", "before"},
		{"donor=" + strings.Repeat("d", 201), "invalid_query", "donor"},
		{"line=" + strings.Repeat("l", 201), "invalid_query", "line"},
		{"actor=" + strings.Repeat("a", 201), "invalid_query", "actor"},
		{"limit=0&donor=il-city", "invalid_query", "limit"},
		{"type=contribution_received&type=fee_charged", "invalid_query", "type"},
		{"cluster=x", "invalid_query", "cluster"},
	} {
		// A bad date is 422 invalid_date, as everywhere in the API.
		want := http.StatusBadRequest
		if c.code == "invalid_date" {
			want = http.StatusUnprocessableEntity
		}
		a := d.do(t, request{method: "GET", path: "/v1/events?" + c.query, token: "tok-kim"})
		code, field := a.errorOf(t)
		if a.status != want || code != c.code || field != c.field {
			t.Errorf("%s: %s, want %d %s on %s", c.query, a, want, c.code, c.field)
		}
	}
	if after := d.streamLastSeq(t); after != before {
		t.Errorf("the stream moved from %d to %d on refused reads", before, after)
	}
}
