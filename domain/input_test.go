package domain_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
)

// inputField is one date or text field of one command: the state the
// command needs and the command with the field set to v.
type inputField struct {
	name  string // command.field
	field string // as the refusal names it
	given []domain.Command
	set   func(v string) domain.Command
}

// dateFields lists every date field of every command (issue 8, item 2),
// with a batch item's for the batch.
func dateFields() []inputField {
	spendable := plus(funded(), propose(), approve())
	withPledge := plus(funded(), pledge())
	return []inputField{
		{"OpenTerm.starts_on", "starts_on", nil, func(v string) domain.Command {
			return with(openTerm(), func(c *domain.OpenTerm) { c.StartsOn = v })
		}},
		{"OpenTerm.ends_on", "ends_on", nil, func(v string) domain.Command {
			return with(openTerm(), func(c *domain.OpenTerm) { c.EndsOn = v })
		}},
		{"RecordContribution.received_on", "received_on", funded(), func(v string) domain.Command {
			return with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.ReceivedOn = v })
		}},
		{"ProposeAllocation.proposed_on", "proposed_on", funded(), func(v string) domain.Command {
			return with(propose(), func(c *domain.ProposeAllocation) { c.ProposedOn = v })
		}},
		{"ApproveAllocation.approved_on", "approved_on", plus(funded(), propose()), func(v string) domain.Command {
			return with(approve(), func(c *domain.ApproveAllocation) { c.ApprovedOn = v })
		}},
		{"RecordExpenditure.spent_on", "spent_on", spendable, func(v string) domain.Command {
			return with(spend(), func(c *domain.RecordExpenditure) { c.SpentOn = v })
		}},
		{"RecordPledge.signed_on", "signed_on", funded(), func(v string) domain.Command {
			return with(pledge(), func(c *domain.RecordPledge) { c.SignedOn = v })
		}},
		{"RecordPledge.due_on", "due_on", funded(), func(v string) domain.Command {
			return with(pledge(), func(c *domain.RecordPledge) { c.DueOn = v })
		}},
		{"AmendPledge.due_on", "due_on", withPledge, func(v string) domain.Command {
			return with(amend(), func(c *domain.AmendPledge) { c.DueOn = v })
		}},
		{"AmendPledge.amended_on", "amended_on", withPledge, func(v string) domain.Command {
			return with(amend(), func(c *domain.AmendPledge) { c.AmendedOn = v })
		}},
		{"AmendDonor.amended_on", "amended_on", funded(), func(v string) domain.Command {
			return with(amendDonor(), func(c *domain.AmendDonor) { c.AmendedOn = v })
		}},
		{"CancelPledge.cancelled_on", "cancelled_on", withPledge, func(v string) domain.Command {
			return with(cancel(), func(c *domain.CancelPledge) { c.CancelledOn = v })
		}},
		{"RecordInterest.earned_on", "earned_on", funded(), func(v string) domain.Command {
			return with(interest(), func(c *domain.RecordInterest) { c.EarnedOn = v })
		}},
		{"RecordRefund.paid_on", "paid_on", funded(), func(v string) domain.Command {
			return with(refund(), func(c *domain.RecordRefund) { c.PaidOn = v })
		}},
		{"CloseTerm.closed_on", "closed_on", funded(), func(v string) domain.Command {
			return with(closeRefund(), func(c *domain.CloseTerm) { c.ClosedOn = v })
		}},
		{"Batch item received_on", "commands[1].received_on", funded(), func(v string) domain.Command {
			return &domain.Batch{Meta: alice, Commands: []domain.Command{registerDonorFR(),
				with(eurReceipt(), func(c *domain.RecordContribution) { c.ID, c.DonorID, c.ReceivedOn = "C-FR", "FR", v })}}
		}},
	}
}

// textFields lists every free-text field of every command (issue 8, items
// 3 and 4), each one line or multi-line, with a batch item's for the batch.
func textFields() (oneLine, multiline []inputField) {
	spendable := plus(funded(), propose(), approve())
	withPledge := plus(funded(), pledge())
	oneLine = []inputField{
		{"RegisterDonor.name", "name", nil, func(v string) domain.Command {
			return with(registerDonor(), func(c *domain.RegisterDonor) { c.Name = v })
		}},
		{"RegisterDonor.city", "city", nil, func(v string) domain.Command {
			return with(registerDonor(), func(c *domain.RegisterDonor) { c.City = v })
		}},
		{"AmendDonor.name", "name", funded(), func(v string) domain.Command {
			return with(amendDonor(), func(c *domain.AmendDonor) { c.Name = &v })
		}},
		{"AmendDonor.city", "city", funded(), func(v string) domain.Command {
			return with(amendDonor(), func(c *domain.AmendDonor) { c.City = &v })
		}},
		{"RecordContribution.bank_ref", "bank_ref", funded(), func(v string) domain.Command {
			return with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.BankRef = v })
		}},
		{"AddBudgetLine.title", "title", funded(), func(v string) domain.Command {
			return with(addLine(), func(c *domain.AddBudgetLine) { c.ID = "MDFM-1.2"; c.Title = v })
		}},
		{"RecordExpenditure.payee", "payee", spendable, func(v string) domain.Command {
			return with(spend(), func(c *domain.RecordExpenditure) { c.Payee = v })
		}},
		{"RecordExpenditure.city", "city", spendable, func(v string) domain.Command {
			return with(spend(), func(c *domain.RecordExpenditure) { c.City = v })
		}},
		{"RegisterCity.name", "name", nil, func(v string) domain.Command {
			return with(registerCity("cork", "IE"), func(c *domain.RegisterCity) { c.Name = v })
		}},
		{"RegisterCluster.name", "name", nil, func(v string) domain.Command {
			return with(registerCluster("ESD"), func(c *domain.RegisterCluster) { c.Name = v })
		}},
		{"RegisterCluster.technical_partner", "technical_partner", nil, func(v string) domain.Command {
			return with(registerCluster("ESD"), func(c *domain.RegisterCluster) { c.TechnicalPartner = v })
		}},
		{"Batch item name", "commands[1].name", nil, func(v string) domain.Command {
			return &domain.Batch{Meta: alice, Commands: []domain.Command{registerDonor(),
				with(registerDonorFR(), func(c *domain.RegisterDonor) { c.Name = v })}}
		}},
	}
	multiline = []inputField{
		{"ProposeAllocation.note", "note", funded(), func(v string) domain.Command {
			return with(propose(), func(c *domain.ProposeAllocation) { c.Note = v })
		}},
		{"RecordExpenditure.description", "description", spendable, func(v string) domain.Command {
			return with(spend(), func(c *domain.RecordExpenditure) { c.Description = v })
		}},
		{"AmendPledge.reason", "reason", withPledge, func(v string) domain.Command {
			return with(amend(), func(c *domain.AmendPledge) { c.Reason = v })
		}},
		{"CancelPledge.reason", "reason", withPledge, func(v string) domain.Command {
			return with(cancel(), func(c *domain.CancelPledge) { c.Reason = v })
		}},
		{"AmendDonor.reason", "reason", funded(), func(v string) domain.Command {
			return with(amendDonor(), func(c *domain.AmendDonor) { c.Reason = v })
		}},
		{"RecordRefund.reason", "reason", funded(), func(v string) domain.Command {
			return with(refund(), func(c *domain.RecordRefund) { c.Reason = v })
		}},
		{"ReverseEvent.reason", "reason", funded(), func(v string) domain.Command {
			return with(reverse("ev-3"), func(c *domain.ReverseEvent) { c.Reason = v })
		}},
	}
	return oneLine, multiline
}

// refused checks that f set to v is refused with code, names the field and
// changes nothing.
func refused(t *testing.T, f inputField, v, code string) {
	t.Helper()
	s, before := given(t, f.given...), given(t, f.given...)
	evs, err := domain.Decide(s, f.set(v))
	var de *errs.Error
	if !errors.As(err, &de) || de.Code != code || de.Field != f.field || len(evs) != 0 {
		t.Errorf("%s = %q: %d events, %v; want %s on field %s", f.name, v, len(evs), err, code, f.field)
		return
	}
	if diff := cmp.Diff(before, s); diff != "" {
		t.Errorf("%s = %q: a refused command changed the state:\n%s", f.name, v, diff)
	}
}

// accepted checks that f set to v is accepted.
func accepted(t *testing.T, f inputField, v string) {
	t.Helper()
	s := given(t, f.given...)
	if _, err := domain.Decide(s, f.set(v)); err != nil {
		t.Errorf("%s = %q: %v, want it accepted", f.name, v, err)
	}
}

// TestDateWindow refuses, on every date field of every command, dates
// outside [MinDate, MaxDate] with date_out_of_range naming the field.
func TestDateWindow(t *testing.T) {
	for _, f := range dateFields() {
		t.Run(f.name, func(t *testing.T) {
			for _, v := range []string{"0000-01-01", "0001-01-01", "1899-12-31", "1999-12-31", "2100-01-01", "9999-12-31"} {
				refused(t, f, v, domain.CodeDateOutOfRange)
			}
		})
	}
}

// TestDateMargins checks the rules that tie a date to its term or pledge,
// on both sides of each limit.
func TestDateMargins(t *testing.T) {
	// The next term starts on 2022-01-01; today is 2021-12-31.
	nextTerm := plus(funded(), openNextTerm())
	early := func(name, field string, set func(v string) domain.Command) inputField {
		return inputField{name, field, nextTerm, set}
	}
	receipt := early("receipt before its term", "received_on", func(v string) domain.Command {
		return with(eurReceipt(), func(c *domain.RecordContribution) { c.ID, c.TermID, c.ReceivedOn = "C-2", "2022-2023", v })
	})
	accepted(t, receipt, "2021-01-01") // EarlyReceiptYears before
	refused(t, receipt, "2020-12-31", domain.CodeDateOutsideTerm)

	signed := early("pledge signed before its term", "signed_on", func(v string) domain.Command {
		return with(pledge(), func(c *domain.RecordPledge) { c.TermID, c.SignedOn = "2022-2023", v })
	})
	accepted(t, signed, "2020-01-01") // EarlySigningYears before
	refused(t, signed, "2019-12-31", domain.CodeDateOutsideTerm)

	term := inputField{"term of more than MaxTermYears", "ends_on", nil, func(v string) domain.Command {
		return with(openTerm(), func(c *domain.OpenTerm) { c.EndsOn = v })
	}}
	accepted(t, term, "2030-01-01")
	refused(t, term, "2030-01-02", domain.CodeInvalidTermPeriod)

	// The window's own edges are inside it.
	edges := inputField{"term at the window's edges", "starts_on", nil, func(v string) domain.Command {
		return with(openTerm(), func(c *domain.OpenTerm) { c.StartsOn, c.EndsOn = v, "2001-12-31" })
	}}
	accepted(t, edges, domain.MinDate)
	due := inputField{"pledge due on the last day", "due_on", funded(), func(v string) domain.Command {
		return with(pledge(), func(c *domain.RecordPledge) { c.DueOn = v })
	}}
	accepted(t, due, domain.MaxDate)

	// A pledge is changed on or after the day it was signed (2020-02-01).
	for _, f := range dateFields() {
		if f.name == "AmendPledge.amended_on" || f.name == "CancelPledge.cancelled_on" {
			accepted(t, f, "2020-02-01")
			refused(t, f, "2020-01-31", domain.CodeInvalidDate)
		}
	}
}

// TestTextFields refuses, on every text field of every command, control
// characters, noncharacters, invalid UTF-8 and blank text, naming the
// field; tabs and line breaks pass only where the text is multi-line.
func TestTextFields(t *testing.T) {
	invalid := []string{
		"a\x00b", "a\x1bb", "a\x7fb", "a\u0085b", "a\u009bb", // C0, DEL, C1
		"a\xffb", "a\xed\xa0\x80b", "a\xc3", // invalid UTF-8, an encoded surrogate, a cut rune
		"a\ufffeb", "a\uffffb", "a\ufdd0b", "a\U0010ffffb", // noncharacters
	}
	lineBreaks := []string{"a\tb", "a\nb", "a\r\nb", "a\u2028b", "a\u2029b"}
	blank := []string{" ", "   ", "\u00a0", "\u3000", "\u2003 \u2009", "\u200b", "\ufeff", " \u200b\u00a0"}
	good := []string{"Zürich", "東京都", "مدينة التعلم", "e\u0301te\u0301", "a\u200bb", "\u202eabc\u202c", "Ville d’Évry – 😀"}

	oneLine, multiline := textFields()
	for _, f := range oneLine {
		t.Run(f.name, func(t *testing.T) {
			for _, v := range append(invalid, lineBreaks...) {
				refused(t, f, v, domain.CodeInvalidText)
			}
			for _, v := range blank {
				refused(t, f, v, domain.CodeBlankText)
			}
			for _, v := range good {
				accepted(t, f, v)
			}
		})
	}
	for _, f := range multiline {
		t.Run(f.name, func(t *testing.T) {
			for _, v := range invalid {
				refused(t, f, v, domain.CodeInvalidText)
			}
			for _, v := range append(blank, "\t\n", "\r\n \n", "\u2028") {
				refused(t, f, v, domain.CodeBlankText)
			}
			for _, v := range append(good, lineBreaks...) {
				accepted(t, f, v)
			}
		})
	}
}
