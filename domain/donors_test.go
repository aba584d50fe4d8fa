package domain_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
)

// amendDonor corrects DE's name, dated 2021-01-01.
func amendDonor() *domain.AmendDonor {
	return &domain.AmendDonor{Meta: alice, ID: "DE", Name: ptr("Federal Republic of Germany"), Reason: "official name", AmendedOn: "2021-01-01"}
}

// TestAmendDonorRefusals: every way an amendment of a donor is refused,
// with no event and the state unchanged.
func TestAmendDonorRefusals(t *testing.T) {
	tests := []refusal{
		{"unknown donor", domain.CodeUnknownDonor, "id", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.ID = "FR" })},
		{"no donor id", domain.CodeMissingField, "id", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.ID = "" })},
		{"no field given", domain.CodeMissingField, "name", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Name = nil })},
		{"the same name", domain.CodeAmendmentChangesNothing, "", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Name = ptr("Germany") })},
		{"the same kind, country and no city", domain.CodeAmendmentChangesNothing, "", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) {
				c.Name, c.Kind, c.Country, c.City = nil, ptr("country"), ptr("DE"), ptr("")
			})},
		{"the name it already has as of the date", domain.CodeAmendmentChangesNothing, "", plus(funded(), amendDonor()),
			with(amendDonor(), func(c *domain.AmendDonor) { c.AmendedOn = "2021-06-01" })},
		{"no reason", domain.CodeMissingField, "reason", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Reason = "" })},
		{"an empty name", domain.CodeMissingField, "name", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Name = ptr("") })},
		{"a name too long", domain.CodeTextTooLong, "name", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Name = ptr(strings.Repeat("x", domain.MaxTextLen+1)) })},
		{"an empty kind", domain.CodeMissingField, "kind", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Kind = ptr("") })},
		{"a bad kind", domain.CodeInvalidDonorKind, "kind", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Kind = ptr("government") })},
		{"an empty country", domain.CodeMissingField, "country", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Country = ptr("") })},
		{"a bad country", domain.CodeUnknownCountry, "country", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Country = ptr("ZZ") })},
		{"a city too long", domain.CodeTextTooLong, "city", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.City = ptr(strings.Repeat("x", domain.MaxTextLen+1)) })},
		{"not a date", domain.CodeInvalidDate, "amended_on", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.AmendedOn = "2021-02-30" })},
		{"a date after today", domain.CodeDateInFuture, "amended_on", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.AmendedOn = "2022-01-01" })},
		{"an amendment is not reversible", domain.CodeNotReversible, "event_id", plus(funded(), amendDonor()),
			reverse("ev-6")},
		{"a batch refused by its amendment", domain.CodeMissingField, "commands[1].reason", nil,
			&domain.Batch{Meta: alice, Commands: []domain.Command{registerDonor(),
				with(amendDonor(), func(c *domain.AmendDonor) { c.Reason = "" })}}},
	}
	checkRefusals(t, tests)
}

// TestAmendDonorEvents: the event records the fields that change, dated
// amended_on (today when left out), and no posting.
func TestAmendDonorEvents(t *testing.T) {
	tests := []struct {
		name  string
		given []domain.Command
		when  domain.Command
		then  []decided
	}{
		{"a new name", funded(), amendDonor(), []decided{
			ev("2021-01-01", &events.DonorAmended{DonorID: "DE", Name: ptr("Federal Republic of Germany"), Reason: "official name"}),
		}},
		{"fields given unchanged are left out; today by default", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) {
				c.Name, c.Kind, c.Country, c.City, c.AmendedOn = ptr("Germany"), ptr("country"), ptr("DE"), ptr("Bonn"), ""
			}),
			[]decided{ev("2021-12-31", &events.DonorAmended{DonorID: "DE", City: ptr("Bonn"), Reason: "official name"})}},
		{"a city removed", []domain.Command{with(registerDonor(), func(c *domain.RegisterDonor) { c.City = "Bonn" })},
			with(amendDonor(), func(c *domain.AmendDonor) { c.Name, c.City = nil, ptr("") }),
			[]decided{ev("2021-01-01", &events.DonorAmended{DonorID: "DE", City: ptr(""), Reason: "official name"})}},
		{"back to the registered name after a later amendment", plus(funded(), with(amendDonor(), func(c *domain.AmendDonor) { c.AmendedOn = "2021-06-01" })),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Name, c.AmendedOn = ptr("Germany"), "2021-07-01" }),
			[]decided{ev("2021-07-01", &events.DonorAmended{DonorID: "DE", Name: ptr("Germany"), Reason: "official name"})}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := given(t, tc.given...)
			evs, err := domain.Decide(s, tc.when)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.then, decode(t, evs)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			for _, e := range evs {
				if ps, err := domain.Postings(e); err != nil || len(ps) != 0 {
					t.Errorf("postings of %s = %v, %v; want none", e.Type, ps, err)
				}
			}
		})
	}
}

// TestDonorAsOf: amendments apply in date order, whatever the order they
// were recorded in; before the first, the registration holds.
func TestDonorAsOf(t *testing.T) {
	s := given(t, plus(funded(),
		with(amendDonor(), func(c *domain.AmendDonor) { c.Name, c.AmendedOn = ptr("Germany (Federal Republic)"), "2021-06-01" }),
		// Recorded later, dated earlier: a typo mended from the start,
		// which the rename of June still overrides.
		with(amendDonor(), func(c *domain.AmendDonor) {
			c.Name, c.City, c.AmendedOn = ptr("Germany, BMZ"), ptr("Bonn"), "2020-01-01"
		}),
		with(amendDonor(), func(c *domain.AmendDonor) { c.Name, c.Kind, c.AmendedOn = nil, ptr("other"), "2021-06-01" }),
	)...)
	d := s.Donors["DE"]
	for _, tc := range []struct {
		on   string
		want domain.Donor
	}{
		{"2019-12-31", domain.Donor{ID: "DE", Name: "Germany", Kind: "country", Country: "DE"}},
		{"2020-01-01", domain.Donor{ID: "DE", Name: "Germany, BMZ", Kind: "country", Country: "DE", City: "Bonn"}},
		{"2021-05-31", domain.Donor{ID: "DE", Name: "Germany, BMZ", Kind: "country", Country: "DE", City: "Bonn"}},
		{"2021-06-01", domain.Donor{ID: "DE", Name: "Germany (Federal Republic)", Kind: "other", Country: "DE", City: "Bonn"}},
	} {
		if diff := cmp.Diff(tc.want, d.AsOf(tc.on)); diff != "" {
			t.Errorf("donor as of %s (-want +got):\n%s", tc.on, diff)
		}
	}
}

// TestAmendDonorInBatch: a batch may register a donor and amend it; the
// batch's events apply to the state the commands one by one give.
func TestAmendDonorInBatch(t *testing.T) {
	s := given(t, openTerm())
	cmds := []domain.Command{registerDonor(), amendDonor(), eurReceipt()}
	evs, i, err := domain.DecideBatch(s, cmds)
	if err != nil || i != -1 {
		t.Fatalf("DecideBatch = %d, %v; want all accepted", i, err)
	}
	applyAll(t, s, evs)
	one := given(t, openTerm(), registerDonor(), amendDonor(), eurReceipt())
	if diff := cmp.Diff(one.Donors, s.Donors); diff != "" {
		t.Errorf("the batch's donors differ from the commands one by one (-one +batch):\n%s", diff)
	}
	if got := s.Donors["DE"].AsOf("2021-01-01").Name; got != "Federal Republic of Germany" {
		t.Errorf("name after the batch = %q", got)
	}
}
