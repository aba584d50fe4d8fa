package ledgertest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// IllustrativeNow is the clock of the illustrative history: after the
// 2020–2021 term's close and into the 2022–2023 term.
func IllustrativeNow() time.Time { return time.Date(2022, 3, 31, 12, 0, 0, 0, time.UTC) }

// SequentialEventIDs returns an event id maker for ledger.Options.NewEventID
// that gives UUIDv7-shaped ids counting from 1 ("01800000-0000-7000-8000-
// 000000000001", …): with a pinned clock, a history written twice has the
// same bytes and hashes. Each call returns a new counter.
func SequentialEventIDs() func() string {
	var n atomic.Uint64
	return func() string { return fmt.Sprintf("01800000-0000-7000-8000-%012d", n.Add(1)) }
}

// IllustrativeWriter opens a writer of fund on log with IllustrativeNow and
// SequentialEventIDs, and closes it when the test ends.
func IllustrativeWriter(t testing.TB, log *eventlog.Log, fund string) *ledger.Writer {
	t.Helper()
	w, err := ledger.Open(t.Context(), log, fund, ledger.Options{Now: IllustrativeNow, NewEventID: SequentialEventIDs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

// Terms of the illustrative history.
const (
	IllustrativeTerm     = "2020-2021"
	IllustrativeNextTerm = "2022-2023"
)

// Illustrative ids of what the history reverses: a receipt keyed wrong,
// an expenditure booked twice and an approval given by mistake.
const (
	IllustrativeReversedReceipt     = "il-r-4-wrong"
	IllustrativeReversedExpenditure = "il-x-5-wrong"
	IllustrativeReversedApproval    = "il-al-4"
)

// IllustrativeReceipts and IllustrativeExpenditures are the ids of every
// receipt and expenditure the history records, the reversed ones included.
var (
	IllustrativeReceipts     = []string{"il-r-1", "il-r-2", "il-r-3", "il-r-5", IllustrativeReversedReceipt, "il-r-4", "il-r-6"}
	IllustrativeExpenditures = []string{"il-x-1", "il-x-2", "il-x-5-wrong", "il-x-3", "il-x-4", "il-x-7", "il-x-6"}
)

// Illustrative writes one fixed ILLUSTRATIVE history (no real donor,
// payment or cluster role) through w, which should run on IllustrativeNow
// (IllustrativeWriter): the golden files of the reports are drawn from it.
//
//	2020–2021 (target US$1,000,000.00, fee 1 %): five budget lines, two of
//	  clusters LIT and ESD; pledges in JPY (member city), EUR (country) and
//	  USD (foundation, earmarked to LIT); receipts paying them, one keyed
//	  wrong, reversed and entered again; interest; five allocations, one
//	  approved by mistake and its approval reversed; spending in USD and EUR
//	  in four countries, one booked twice and reversed; a refund; closed on
//	  2022-01-15, its unallocated balance carried over; an approved
//	  allocation spent after the close.
//	2022–2023: a line, a pledge in JPY paid in part, an allocation of the
//	  carried-over money and spending in France.
//
// It returns the result of every command by its id.
func Illustrative(t testing.TB, w *ledger.Writer) map[string]ledger.Result {
	t.Helper()
	h := &illustrative{t: t, w: w, res: map[string]ledger.Result{}}
	h.setUp()
	h.firstTerm()
	h.secondTerm()
	return h.res
}

// The terms of the illustrative history.
const t1, t2 = IllustrativeTerm, IllustrativeNextTerm

// illustrative submits the commands of Illustrative and keeps their
// results by command id.
type illustrative struct {
	t   testing.TB
	w   *ledger.Writer
	res map[string]ledger.Result
}

func (h *illustrative) do(id, actor string, c domain.Command) {
	h.t.Helper()
	r, err := Submit(h.t, h.w, id, actor, c)
	if err != nil {
		h.t.Fatalf("illustrative history: %s: %v", id, err)
	}
	h.res[id] = r
}

// eventID is the id of the event of type typ that command id appended.
func (h *illustrative) eventID(id, typ string) string {
	h.t.Helper()
	for _, e := range h.res[id].Events {
		if e.Type == typ {
			return e.ID
		}
	}
	h.t.Fatalf("illustrative history: %s has no %s event", id, typ)
	return ""
}

func (h *illustrative) rcpt(id, donor, term, pledge, amount, cur, rate, on string) {
	h.t.Helper()
	h.do(id, "olu", &domain.RecordContribution{ID: id, DonorID: donor, TermID: term, PledgeID: pledge, Amount: Money(amount, cur), USDRate: rate,
		ReceivedOn: on, BankRef: "ILLUSTRATIVE-" + on})
}

func (h *illustrative) alloc(id, line, amount, proposed, approved string) {
	h.t.Helper()
	h.do(id, "olu", &domain.ProposeAllocation{ID: id, LineID: line, Amount: USD(amount), Note: "ILLUSTRATIVE", ProposedOn: proposed})
	h.do(id+"-approve", "ana", &domain.ApproveAllocation{ID: id, ApprovedOn: approved})
}

func (h *illustrative) spend(id, al, amount, cur, rate, on, payee, country, what string) {
	h.t.Helper()
	h.do(id, "olu", &domain.RecordExpenditure{ID: id, AllocationID: al, Amount: Money(amount, cur), USDRate: rate, SpentOn: on,
		Payee: payee, Description: "ILLUSTRATIVE: " + what, Country: country})
}

// setUp opens both terms and writes the clusters, the budget lines, the
// donors and the first term's pledges.
func (h *illustrative) setUp() {
	h.t.Helper()
	h.do("il-term-1", "ana", &domain.OpenTerm{ID: t1, StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: USD("1000000.00"), FeeRate: "0.01"})
	h.do("il-term-2", "ana", &domain.OpenTerm{ID: t2, StartsOn: "2022-01-01", EndsOn: "2023-12-31", Target: USD("1000000.00"), FeeRate: "0.01"})
	h.do("il-cluster-lit", "olu", &domain.RegisterCluster{ID: "LIT", Name: "Literacy", TechnicalPartner: "ILLUSTRATIVE Literacy Partner"})
	h.do("il-cluster-esd", "olu", &domain.RegisterCluster{ID: "ESD", Name: "Education for Sustainable Development"})
	for _, l := range []struct{ id, term, title, amount, cluster string }{
		{"MDFM-1.1", t1, "Training modules for city officials", "200000.00", ""},
		{"MDFM-1.2", t1, "Policy workshops", "100000.00", ""},
		{"MDFM-3.1", t1, "Communication platform", "30000.00", ""},
		{"LIT-2.1", t1, "Literacy: capacity building", "80000.00", "LIT"},
		{"ESD-2.1", t1, "Education for Sustainable Development: capacity building", "60000.00", "ESD"},
		{"MDFM-1.1-2022", t2, "Training modules, second edition", "150000.00", ""},
	} {
		h.do("il-line-"+l.id, "olu", &domain.AddBudgetLine{ID: l.id, TermID: l.term, Title: l.title, Amount: USD(l.amount), ClusterID: l.cluster})
	}
	h.do("il-donor-city", "olu", &domain.RegisterDonor{ID: "il-city", Name: "ILLUSTRATIVE Member City A", Kind: "member_city", Country: "JP", City: "ILLUSTRATIVE City A"})
	h.do("il-donor-country", "olu", &domain.RegisterDonor{ID: "il-country", Name: "ILLUSTRATIVE Donor Country B", Kind: "country", Country: "DE"})
	h.do("il-donor-foundation", "olu", &domain.RegisterDonor{ID: "il-foundation", Name: "ILLUSTRATIVE Foundation C", Kind: "foundation", Country: "US"})

	h.do("il-pl-city", "olu", &domain.RecordPledge{ID: "il-pl-city", DonorID: "il-city", TermID: t1, Amount: Money("20000000", "JPY"), USDRate: "0.0093", SignedOn: "2020-02-14", DueOn: "2021-06-30"})
	h.do("il-pl-country", "olu", &domain.RecordPledge{ID: "il-pl-country", DonorID: "il-country", TermID: t1, Amount: Money("150000.00", "EUR"), USDRate: "1.1", SignedOn: "2020-03-02", DueOn: "2020-06-30"})
	h.do("il-pl-foundation", "olu", &domain.RecordPledge{ID: "il-pl-foundation", DonorID: "il-foundation", TermID: t1, Amount: USD("80000.00"),
		Earmark: &domain.EarmarkInput{ClusterID: "LIT"}, SignedOn: "2020-07-15", DueOn: "2021-09-30"})
}

// firstTerm writes 2020–2021's receipts, interest, allocations, spending,
// reversals, refund and close, and the spending after the close.
func (h *illustrative) firstTerm() {
	h.t.Helper()
	h.rcpt("il-r-1", "il-city", t1, "il-pl-city", "10000000", "JPY", "0.0093", "2020-03-16")       // 93,000.00 USD
	h.rcpt("il-r-2", "il-country", t1, "il-pl-country", "150000.00", "EUR", "1.1", "2020-05-04")   // 165,000.00 USD
	h.rcpt("il-r-3", "il-foundation", t1, "il-pl-foundation", "50000.00", "USD", "", "2020-09-01") // to LIT
	h.rcpt("il-r-5", "il-city", t1, "il-pl-city", "5000000", "JPY", "0.0096", "2021-03-15")        // 48,000.00 USD
	h.rcpt(IllustrativeReversedReceipt, "il-foundation", t1, "il-pl-foundation", "25000.00", "USD", "", "2021-04-20")
	h.do("il-rv-1", "olu", &domain.ReverseEvent{ID: "il-rv-1", EventID: h.eventID(IllustrativeReversedReceipt, events.TypeContributionReceived),
		Reason: "ILLUSTRATIVE: keyed as 25,000.00; the bank statement says 20,000.00"})
	h.rcpt("il-r-4", "il-foundation", t1, "il-pl-foundation", "20000.00", "USD", "", "2021-04-20")
	h.do("il-int-2020", "olu", &domain.RecordInterest{ID: "il-int-2020", TermID: t1, Amount: USD("1520.35"), EarnedOn: "2020-12-31"})
	h.alloc("il-al-1", "MDFM-1.1", "60000.00", "2020-06-01", "2020-06-03")
	h.spend("il-x-1", "il-al-1", "22500.00", "USD", "", "2020-08-20", "ILLUSTRATIVE Consultant", "DE", "drafting of the first two modules")
	h.alloc("il-al-2", "MDFM-1.2", "50000.00", "2020-10-01", "2020-10-05")
	h.spend("il-x-2", "il-al-2", "18000.00", "EUR", "1.18", "2020-11-20", "ILLUSTRATIVE Venue and travel", "KE", "workshop venue and travel, Nairobi") // 21,240.00 USD
	h.spend(IllustrativeReversedExpenditure, "il-al-1", "3000.00", "USD", "", "2021-02-01", "ILLUSTRATIVE Consultant", "DE", "invoice booked twice")
	h.do("il-rv-2", "olu", &domain.ReverseEvent{ID: "il-rv-2", EventID: h.eventID(IllustrativeReversedExpenditure, events.TypeExpenditureRecorded),
		Reason: "ILLUSTRATIVE: the invoice was booked twice"})
	h.alloc("il-al-3", "ESD-2.1", "40000.00", "2021-04-01", "2021-04-06")
	h.alloc("il-al-5", "LIT-2.1", "45000.00", "2021-05-03", "2021-05-05")
	h.alloc(IllustrativeReversedApproval, "MDFM-3.1", "25000.00", "2021-05-10", "2021-05-11")
	h.do("il-rv-3", "ana", &domain.ReverseEvent{ID: "il-rv-3", EventID: h.eventID(IllustrativeReversedApproval+"-approve", events.TypeAllocationApproved),
		Reason: "ILLUSTRATIVE: approved before the platform's quote was checked"})
	h.spend("il-x-3", "il-al-3", "12000.00", "USD", "", "2021-06-10", "ILLUSTRATIVE Workshop provider", "ZA", "cluster workshop, Durban")
	h.spend("il-x-4", "il-al-5", "9000.00", "EUR", "1.21", "2021-07-12", "ILLUSTRATIVE Literacy trainers", "UG", "literacy facilitators' training") // 10,890.00 USD
	h.do("il-refund-1", "olu", &domain.RecordRefund{ID: "il-refund-1", DonorID: "il-country", TermID: t1, Amount: USD("5000.00"), PaidOn: "2021-09-15",
		Reason: "ILLUSTRATIVE: part of an unspent contribution returned at the donor's request"})

	h.do("il-close-1", "ana", &domain.CloseTerm{ID: t1, ClosedOn: "2022-01-15", Disposition: domain.DispositionInput{Kind: domain.DispositionCarryOver, ToTermID: t2}})
	// An approved allocation keeps its money at the close and may be spent
	// after the term's end.
	h.spend("il-x-7", "il-al-1", "7500.00", "USD", "", "2022-02-20", "ILLUSTRATIVE Consultant", "DE", "final module, delivered after the term")
}

// secondTerm writes 2022–2023's pledge, receipt, allocation and spending.
func (h *illustrative) secondTerm() {
	h.t.Helper()
	h.do("il-pl-city-2", "olu", &domain.RecordPledge{ID: "il-pl-city-2", DonorID: "il-city", TermID: t2, Amount: Money("15000000", "JPY"), USDRate: "0.0089", SignedOn: "2022-02-01", DueOn: "2022-12-31"})
	h.rcpt("il-r-6", "il-city", t2, "il-pl-city-2", "5000000", "JPY", "0.0087", "2022-03-01") // 43,500.00 USD
	h.alloc("il-al-6", "MDFM-1.1-2022", "30000.00", "2022-02-10", "2022-02-11")
	h.spend("il-x-6", "il-al-6", "4000.00", "USD", "", "2022-03-15", "ILLUSTRATIVE Training centre", "FR", "second-edition pilot, Brest")
}
