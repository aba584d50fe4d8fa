package iatireport

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/iati"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// maxTransactions is iati.MaxTransactions, lowered by tests.
var maxTransactions = iati.MaxTransactions

// Activities builds the activity file of a fund from one snapshot of the
// read model: for each term (q.Term, or every term started by q.AsOf) one
// iati.Activity with
//
//   - the donors of its reported pledges and receipts as funding
//     participating orgs, typed by iati.OrgTypeForDonorKind, by donor id;
//   - the term's target split into calendar-year budgets
//     (iati.YearlyBudgets), valued on the term's first day;
//   - transactions by date, then fund_seq: every pledge as 11 (incoming
//     commitment: a pledge here is a signed contribution agreement; the
//     ledger records no unsigned pledge, so 13 is never written), in its
//     currency at its amount as last amended by AsOf, less what a
//     cancellation wrote off (a pledge cancelled before any payment is
//     left out), valued on its signing date; every receipt as 1 and every
//     expenditure as 4, in the currency paid, valued on received_on or
//     spent_on, the date whose rate the ledger recorded, with the US dollar
//     amount for the recipient countries;
//   - status closed once the term's close is dated by AsOf, finalisation
//     after its end, implementation from its start, pipeline before.
//
// A reversed receipt or expenditure is left out together with its
// reversal (IATI values here are never negative): the file shows what
// stands. Errors are *errs.Error (invalid_date, unknown_fund,
// unknown_term, invalid_at_seq, no_data_as_of before the term's first
// event, or before every term's when q.Term is empty) or an
// infrastructure error.
func Activities(ctx context.Context, s *projections.Store, q Query) (ActivitiesReport, error) {
	if !projections.ValidDate(q.AsOf) {
		return ActivitiesReport{}, projections.InvalidDate("as_of", q.AsOf)
	}
	v, err := s.OpenView(ctx, "iati activities", q.Fund, q.AtSeq)
	if err != nil {
		return ActivitiesReport{}, err
	}
	defer v.Tx.Rollback()
	terms, err := activityTerms(ctx, v, q)
	if err != nil {
		return ActivitiesReport{}, err
	}
	stamp, err := readStamp(ctx, v, q)
	if err != nil {
		return ActivitiesReport{}, err
	}
	r := ActivitiesReport{Stamp: stamp}
	donors, err := readDonors(ctx, v, q.AsOf)
	if err != nil {
		return ActivitiesReport{}, err
	}
	for i, t := range terms {
		a, err := activity(ctx, v, t, q.AsOf, donors)
		var ie *iati.InputError
		if errors.As(err, &ie) {
			ie.Field = fmt.Sprintf("activities[%d].%s", i, ie.Field)
		}
		if err != nil {
			return ActivitiesReport{}, fmt.Errorf("iati activity of fund %s term %s: %w", q.Fund, t.ID, err)
		}
		r.Activities = append(r.Activities, a)
	}
	return r, nil
}

// activityTerms returns the term asked, or every term started by q.AsOf.
func activityTerms(ctx context.Context, v *projections.View, q Query) ([]projections.TermSpan, error) {
	if q.Term != "" {
		t, err := v.PickTermSpan(ctx, q.Term, q.AsOf)
		if err != nil {
			return nil, err
		}
		return []projections.TermSpan{t}, nil
	}
	all, err := v.TermSpans(ctx)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, domain.Codes.New(domain.CodeUnknownTerm, "term", fmt.Sprintf("fund %s has no term yet", q.Fund))
	}
	var terms []projections.TermSpan
	for _, t := range all {
		if t.First <= q.AsOf {
			terms = append(terms, t)
		}
	}
	if len(terms) == 0 {
		return nil, projections.AsOfRefusal("any term of fund "+q.Fund, q.AsOf, all[0].First)
	}
	return terms, nil
}

// activity builds the activity of term t as of asOf: its head, budgets, and
// the pledges, receipts and expenditures standing at the view as
// transactions, by date then fund_seq.
func activity(ctx context.Context, v *projections.View, t projections.TermSpan, asOf string, donors map[string]*statement.Donor) (iati.Activity, error) {
	a := activityHead(v.Fund, t, asOf)
	var err error
	if a.LastUpdated, err = termLastUpdated(ctx, v, t.ID); err != nil {
		return a, err
	}
	a.Budgets, err = iati.YearlyBudgets(t.StartsOn, t.EndsOn, money.FormatUSD(t.TargetMinor), t.StartsOn)
	if err != nil {
		return a, fmt.Errorf("budgets: %w", err)
	}
	// Each receipt is a transaction: a term with more than the file holds
	// is refused before they are read (issue 10: at 1,000,000 events the
	// refusal came after reading 480,000 receipts, and took ledgerd's
	// memory from 350 to 960 MB).
	n, err := countReceipts(ctx, v, t.ID, asOf)
	if err != nil {
		return a, err
	}
	if n > int64(maxTransactions) {
		return a, &iati.InputError{Field: "transactions", OverLimit: true,
			Message: fmt.Sprintf("%d receipts, each a transaction, exceed the limit of %d", n, maxTransactions)}
	}
	b := &build{donors: donors, funding: map[string]bool{}}
	pledges, err := readPledges(ctx, v, t.ID, asOf)
	if err != nil {
		return a, err
	}
	if err := b.addPledges(pledges); err != nil {
		return a, err
	}
	receipts, err := readReceipts(ctx, v, t.ID, asOf)
	if err != nil {
		return a, err
	}
	if err := b.addReceipts(receipts); err != nil {
		return a, err
	}
	spending, err := readExpenditures(ctx, v, t.ID, asOf)
	if err != nil {
		return a, err
	}
	if err := b.addExpenditures(spending); err != nil {
		return a, err
	}
	a.Transactions, a.Donors = b.finish()
	return a, nil
}

// activityHead is the activity of term t without its transactions: title,
// description, dates and status as of asOf.
func activityHead(fund string, t projections.TermSpan, asOf string) iati.Activity {
	a := iati.Activity{
		FundID:   fund,
		TermID:   t.ID,
		Title:    fmt.Sprintf("Learning Cities Multi-donor Funding Modality (%s), term %s", strings.ToUpper(fund), t.ID),
		StartsOn: t.StartsOn,
		EndsOn:   t.EndsOn,
		Description: fmt.Sprintf("Pooled fund of the UNESCO Global Network of Learning Cities, held in trust by the UNESCO Institute for Lifelong Learning (UIL) "+
			"as administrative agent: contributions of member cities, countries, companies and foundations for the term %s to %s, "+
			"with a target of %s USD, allocated to the network's thematic clusters and to UIL's capacity-building, research and communication lines.",
			t.StartsOn, t.EndsOn, money.FormatUSD(t.TargetMinor)),
	}
	switch {
	case t.ClosedOn != "" && t.ClosedOn <= asOf:
		a.Status = iati.StatusClosed
	case asOf > t.EndsOn:
		a.Status = iati.StatusFinalisation
	case asOf >= t.StartsOn:
		a.Status = iati.StatusImplementation
	default:
		a.Status = iati.StatusPipeline
	}
	return a
}

// tx is a transaction with what orders it.
type tx struct {
	seq int64
	tx  iati.Transaction
}

// build collects an activity's transactions and the donors that funded
// them.
type build struct {
	donors  map[string]*statement.Donor
	funding map[string]bool
	txs     []tx
}

// participant is the registered donor of a transaction, now among those
// that funded the activity.
func (b *build) participant(donorID string) (iati.Participant, error) {
	d, ok := b.donors[donorID]
	if !ok {
		return iati.Participant{}, fmt.Errorf("%w: donor %s is not registered", projections.ErrInconsistent, donorID)
	}
	b.funding[donorID] = true
	return iati.Participant{Name: d.Name, Type: iati.OrgTypeForDonorKind(d.Kind)}, nil
}

// value writes an amount in its currency.
func value(minor int64, code string) (string, error) {
	cur, err := money.LookupCurrency(code)
	if err != nil {
		return "", fmt.Errorf("%w: currency %q: %v", projections.ErrInconsistent, code, err)
	}
	return money.Format(minor, cur), nil
}

// finish returns the transactions by date then fund_seq, and the donors
// that funded them in id order.
func (b *build) finish() ([]iati.Transaction, []iati.Participant) {
	sort.Slice(b.txs, func(i, j int) bool {
		if b.txs[i].tx.Date != b.txs[j].tx.Date {
			return b.txs[i].tx.Date < b.txs[j].tx.Date
		}
		return b.txs[i].seq < b.txs[j].seq
	})
	var txs []iati.Transaction
	for _, x := range b.txs {
		txs = append(txs, x.tx)
	}
	ids := make([]string, 0, len(b.funding))
	for id := range b.funding {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var donors []iati.Participant
	for _, id := range ids {
		d := b.donors[id]
		donors = append(donors, iati.Participant{Name: d.Name, Type: iati.OrgTypeForDonorKind(d.Kind)})
	}
	return txs, donors
}

// addPledges adds the pledges still worth something as incoming
// commitments.
func (b *build) addPledges(pledges []pledge) error {
	for _, p := range pledges {
		if p.minor <= 0 {
			continue // cancelled before anything was paid
		}
		org, err := b.participant(p.donor)
		if err != nil {
			return err
		}
		val, err := value(p.minor, p.cur)
		if err != nil {
			return err
		}
		desc := "Contribution agreement signed"
		if p.earmark != "" {
			desc += ", earmarked to " + strings.Replace(p.earmark, ":", " ", 1)
		}
		b.txs = append(b.txs, tx{p.seq, iati.Transaction{Ref: p.id, Type: iati.TypeIncomingCommitment, Date: p.signed, ValueDate: p.signed,
			Currency: p.cur, Value: val, Description: desc, ProviderOrg: org}})
	}
	return nil
}

// addReceipts adds the receipts as incoming funds.
func (b *build) addReceipts(receipts []receipt) error {
	for _, r := range receipts {
		org, err := b.participant(r.donor)
		if err != nil {
			return err
		}
		val, err := value(r.minor, r.cur)
		if err != nil {
			return err
		}
		desc := "Contribution received"
		if r.pledge != "" {
			desc += ", paying pledge " + r.pledge
		}
		b.txs = append(b.txs, tx{r.seq, iati.Transaction{Ref: r.id, Type: iati.TypeIncomingFunds, Date: r.on, ValueDate: r.on,
			Currency: r.cur, Value: val, ValueUSD: money.FormatUSD(r.usd), Description: desc, ProviderOrg: org}})
	}
	return nil
}

// addExpenditures adds the expenditures as expenditure transactions.
func (b *build) addExpenditures(spending []expenditure) error {
	for _, x := range spending {
		val, err := value(x.minor, x.cur)
		if err != nil {
			return err
		}
		t := iati.Transaction{Ref: x.id, Type: iati.TypeExpenditure, Date: x.on, ValueDate: x.on, Currency: x.cur, Value: val,
			ValueUSD: money.FormatUSD(x.usd), Description: x.desc, RecipientCountry: x.country}
		if strings.TrimSpace(x.payee) != "" {
			t.ReceiverOrg = iati.Participant{Name: x.payee}
		}
		b.txs = append(b.txs, tx{x.seq, t})
	}
	return nil
}
