package domain_test

import (
	"github.com/unesco-uil/mdfm-ledger/domain"
)

// More fixtures, for pledges, earmarks, interest, refunds, reversals, the
// close of a term and the cluster registry. Each call returns a new command.

// approver is bob as the HTTP edge sees him: an approver.
var approver = domain.Meta{Actor: "bob", Today: "2021-12-31", Role: domain.RoleApprover}

// pledge is DE's pledge of EUR 100000.00 at 1.1 (US$110000.00) to 2020-2021.
func pledge() *domain.RecordPledge {
	return &domain.RecordPledge{Meta: alice, ID: "P-1", DonorID: "DE", TermID: "2020-2021", Amount: eurIn("100000.00"),
		USDRate: "1.1", SignedOn: "2020-02-01", DueOn: "2021-06-30"}
}

// paying returns the EUR 50000.00 receipt paying pledge P-1.
func paying() *domain.RecordContribution {
	return with(eurReceipt(), func(c *domain.RecordContribution) { c.PledgeID = "P-1" })
}

func amend() *domain.AmendPledge {
	return &domain.AmendPledge{Meta: alice, ID: "P-1", Amount: eurIn("120000.00"), USDRate: "1.1", Reason: "addendum signed", AmendedOn: "2021-01-10"}
}

func cancel() *domain.CancelPledge {
	return &domain.CancelPledge{Meta: alice, ID: "P-1", Reason: "donor withdrew", CancelledOn: "2021-10-01"}
}

// interest is US$100.00 of interest on 2020-2021.
func interest() *domain.RecordInterest {
	return &domain.RecordInterest{Meta: alice, ID: "I-1", TermID: "2020-2021", Amount: usdIn("100.00"), EarnedOn: "2021-06-30"}
}

// refund returns US$1000.00 to DE.
func refund() *domain.RecordRefund {
	return &domain.RecordRefund{Meta: alice, ID: "R-1", DonorID: "DE", TermID: "2020-2021", Amount: usdIn("1000.00"), PaidOn: "2021-07-01"}
}

func reverse(eventID string) *domain.ReverseEvent {
	return &domain.ReverseEvent{Meta: alice, ID: "X-1", EventID: eventID, Reason: "entered twice"}
}

// closeRefund closes 2020-2021 on its last day, refunding what is unallocated.
func closeRefund() *domain.CloseTerm {
	return &domain.CloseTerm{Meta: approver, ID: "2020-2021", ClosedOn: "2021-12-31",
		Disposition: domain.DispositionInput{Kind: domain.DispositionRefund}}
}

// closeCarry closes 2020-2021, carrying over to 2022-2023.
func closeCarry() *domain.CloseTerm {
	return &domain.CloseTerm{Meta: approver, ID: "2020-2021", ClosedOn: "2021-12-31",
		Disposition: domain.DispositionInput{Kind: domain.DispositionCarryOver, ToTermID: "2022-2023"}}
}

func openNextTerm() *domain.OpenTerm {
	return &domain.OpenTerm{Meta: alice, ID: "2022-2023", StartsOn: "2022-01-01", EndsOn: "2023-12-31",
		Target: usdIn("1000000.00"), FeeRate: "0.01"}
}

func registerDonorFR() *domain.RegisterDonor {
	return &domain.RegisterDonor{Meta: alice, ID: "FR", Name: "France", Kind: "country", Country: "FR"}
}

func registerCluster(id string) *domain.RegisterCluster {
	return &domain.RegisterCluster{Meta: alice, ID: id, Name: "Cluster " + id}
}

func registerCity(id, country string) *domain.RegisterCity {
	return &domain.RegisterCity{Meta: alice, ID: id, Name: "City of " + id, Country: country}
}

func appoint(cluster, city string) *domain.AppointCoordinator {
	return &domain.AppointCoordinator{Meta: alice, ClusterID: cluster, CityID: city, TermID: "2020-2021"}
}

func join(cluster, city string) *domain.JoinCluster {
	return &domain.JoinCluster{Meta: alice, ClusterID: cluster, CityID: city, TermID: "2020-2021"}
}

// clusterLine is the ESD cluster's line ESD-2.1 of US$50000.00.
func clusterLine() *domain.AddBudgetLine {
	return &domain.AddBudgetLine{Meta: alice, ID: "ESD-2.1", TermID: "2020-2021", Title: "ESD capacity-building",
		Amount: usdIn("50000.00"), ClusterID: "ESD"}
}
