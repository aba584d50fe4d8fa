package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/errs"
)

// The domain's error codes, in a stable order: every code Decide refuses a
// command with (an *errs.Error, rule 8). Each appears in README.md and in the
// domain's table test.
const (
	CodeMissingField                  = "missing_field"
	CodeInvalidID                     = "invalid_id"
	CodeInvalidAmount                 = "invalid_amount"
	CodeAmountNotPositive             = "amount_not_positive"
	CodeAmountTooLarge                = "amount_too_large"
	CodeTooManyDecimals               = "too_many_decimals"
	CodeUnknownCurrency               = "unknown_currency"
	CodeUSDRequired                   = "usd_required"
	CodeMissingRate                   = "missing_rate"
	CodeInvalidRate                   = "invalid_rate"
	CodeInvalidFeeRate                = "invalid_fee_rate"
	CodeInvalidDate                   = "invalid_date"
	CodeDateInFuture                  = "date_in_future"
	CodeDateOutsideTerm               = "date_outside_term"
	CodeDateOutOfRange                = "date_out_of_range"
	CodeInvalidTermPeriod             = "invalid_term_period"
	CodeInvalidDonorKind              = "invalid_donor_kind"
	CodeUnknownCountry                = "unknown_country"
	CodeTextTooLong                   = "text_too_long"
	CodeInvalidText                   = "invalid_text"
	CodeBlankText                     = "blank_text"
	CodeInvalidEarmark                = "invalid_earmark"
	CodeInvalidDisposition            = "invalid_disposition"
	CodeBatchTooLarge                 = "batch_too_large"
	CodeUnknownTerm                   = "unknown_term"
	CodeUnknownDonor                  = "unknown_donor"
	CodeUnknownPledge                 = "unknown_pledge"
	CodeUnknownLine                   = "unknown_line"
	CodeUnknownAllocation             = "unknown_allocation"
	CodeUnknownCity                   = "unknown_city"
	CodeUnknownCluster                = "unknown_cluster"
	CodeUnknownEvent                  = "unknown_event"
	CodeDuplicateID                   = "duplicate_id"
	CodeAmendmentChangesNothing       = "amendment_changes_nothing"
	CodeTermOverlaps                  = "term_overlaps"
	CodeInsufficientUnallocated       = "insufficient_unallocated_balance"
	CodeFundsEarmarkedElsewhere       = "funds_earmarked_elsewhere"
	CodeExceedsBudgetLine             = "exceeds_budget_line"
	CodeSameUserApproval              = "same_user_approval"
	CodeAllocationAlreadyApproved     = "allocation_already_approved"
	CodeAllocationNotApproved         = "allocation_not_approved"
	CodeDateBeforeApproval            = "date_before_approval"
	CodeInsufficientAllocationBalance = "insufficient_allocation_balance"
	CodePledgeDonorMismatch           = "pledge_donor_mismatch"
	CodePledgeTermMismatch            = "pledge_term_mismatch"
	CodePledgeCurrencyMismatch        = "pledge_currency_mismatch"
	CodePledgeCancelled               = "pledge_cancelled"
	CodePledgeFullyPaid               = "pledge_fully_paid"
	CodeReceiptExceedsPledge          = "receipt_exceeds_pledge"
	CodePledgeBelowPaid               = "pledge_below_paid"
	CodeEarmarkOutsideTerm            = "earmark_outside_term"
	CodeCityCountryMismatch           = "city_country_mismatch"
	CodeRefundExceedsAttributable     = "refund_exceeds_attributable_balance"
	CodeAlreadyReversed               = "already_reversed"
	CodeNotReversible                 = "not_reversible"
	CodeReversalOverdrawsUnallocated  = "reversal_would_overdraw_unallocated"
	CodeReversalOverdrawsAllocation   = "reversal_would_overdraw_allocation"
	CodeReversalOverdrawsDonor        = "reversal_would_overdraw_donor_balance"
	CodeTermClosed                    = "term_closed"
	CodeTermNotEnded                  = "term_not_ended"
	CodeNoDonorToRefund               = "no_donor_to_refund"
	CodeClusterHasTwoCoordinators     = "cluster_has_two_coordinators"
	CodeCityAlreadyCoordinates        = "city_already_coordinates"
	CodeCityInThreeClusters           = "city_in_three_clusters"
	CodeAlreadyMember                 = "already_member"
)

// Codes defines every domain error code with its kind, in the stable order.
// Other layers answer some of them too (projections: unknown_term,
// unknown_donor, invalid_date) and build them with Codes.New.
var Codes = errs.Set{
	{Code: CodeMissingField, Kind: errs.Invalid},
	{Code: CodeInvalidID, Kind: errs.Invalid},
	{Code: CodeInvalidAmount, Kind: errs.Invalid},
	{Code: CodeAmountNotPositive, Kind: errs.Invalid},
	{Code: CodeAmountTooLarge, Kind: errs.Invalid},
	{Code: CodeTooManyDecimals, Kind: errs.Invalid},
	{Code: CodeUnknownCurrency, Kind: errs.Invalid},
	{Code: CodeUSDRequired, Kind: errs.Invalid},
	{Code: CodeMissingRate, Kind: errs.Invalid},
	{Code: CodeInvalidRate, Kind: errs.Invalid},
	{Code: CodeInvalidFeeRate, Kind: errs.Invalid},
	{Code: CodeInvalidDate, Kind: errs.Invalid},
	{Code: CodeDateInFuture, Kind: errs.Invalid},
	{Code: CodeDateOutsideTerm, Kind: errs.Invalid},
	{Code: CodeDateOutOfRange, Kind: errs.Invalid},
	{Code: CodeInvalidTermPeriod, Kind: errs.Invalid},
	{Code: CodeInvalidDonorKind, Kind: errs.Invalid},
	{Code: CodeUnknownCountry, Kind: errs.Invalid},
	{Code: CodeTextTooLong, Kind: errs.Invalid},
	{Code: CodeInvalidText, Kind: errs.Invalid},
	{Code: CodeBlankText, Kind: errs.Invalid},
	{Code: CodeInvalidEarmark, Kind: errs.Invalid},
	{Code: CodeInvalidDisposition, Kind: errs.Invalid},
	{Code: CodeBatchTooLarge, Kind: errs.Invalid},
	{Code: CodeUnknownTerm, Kind: errs.NotFound},
	{Code: CodeUnknownDonor, Kind: errs.NotFound},
	{Code: CodeUnknownPledge, Kind: errs.NotFound},
	{Code: CodeUnknownLine, Kind: errs.NotFound},
	{Code: CodeUnknownAllocation, Kind: errs.NotFound},
	{Code: CodeUnknownCity, Kind: errs.NotFound},
	{Code: CodeUnknownCluster, Kind: errs.NotFound},
	{Code: CodeUnknownEvent, Kind: errs.NotFound},
	{Code: CodeDuplicateID, Kind: errs.Conflict},
	{Code: CodeAmendmentChangesNothing, Kind: errs.Conflict},
	{Code: CodeTermOverlaps, Kind: errs.Conflict},
	{Code: CodeInsufficientUnallocated, Kind: errs.Conflict},
	{Code: CodeFundsEarmarkedElsewhere, Kind: errs.Conflict},
	{Code: CodeExceedsBudgetLine, Kind: errs.Conflict},
	{Code: CodeSameUserApproval, Kind: errs.Conflict},
	{Code: CodeAllocationAlreadyApproved, Kind: errs.Conflict},
	{Code: CodeAllocationNotApproved, Kind: errs.Conflict},
	{Code: CodeDateBeforeApproval, Kind: errs.Conflict},
	{Code: CodeInsufficientAllocationBalance, Kind: errs.Conflict},
	{Code: CodePledgeDonorMismatch, Kind: errs.Conflict},
	{Code: CodePledgeTermMismatch, Kind: errs.Conflict},
	{Code: CodePledgeCurrencyMismatch, Kind: errs.Conflict},
	{Code: CodePledgeCancelled, Kind: errs.Conflict},
	{Code: CodePledgeFullyPaid, Kind: errs.Conflict},
	{Code: CodeReceiptExceedsPledge, Kind: errs.Conflict},
	{Code: CodePledgeBelowPaid, Kind: errs.Conflict},
	{Code: CodeEarmarkOutsideTerm, Kind: errs.Conflict},
	{Code: CodeCityCountryMismatch, Kind: errs.Conflict},
	{Code: CodeRefundExceedsAttributable, Kind: errs.Conflict},
	{Code: CodeAlreadyReversed, Kind: errs.Conflict},
	{Code: CodeNotReversible, Kind: errs.Conflict},
	{Code: CodeReversalOverdrawsUnallocated, Kind: errs.Conflict},
	{Code: CodeReversalOverdrawsAllocation, Kind: errs.Conflict},
	{Code: CodeReversalOverdrawsDonor, Kind: errs.Conflict},
	{Code: CodeTermClosed, Kind: errs.Conflict},
	{Code: CodeTermNotEnded, Kind: errs.Conflict},
	{Code: CodeNoDonorToRefund, Kind: errs.Conflict},
	{Code: CodeClusterHasTwoCoordinators, Kind: errs.Conflict},
	{Code: CodeCityAlreadyCoordinates, Kind: errs.Conflict},
	{Code: CodeCityInThreeClusters, Kind: errs.Conflict},
	{Code: CodeAlreadyMember, Kind: errs.Conflict},
}

// refuse builds an Error of a listed code; an unlisted code is a programming
// error.
func refuse(code, field, format string, args ...any) *errs.Error {
	return Codes.New(code, field, fmt.Sprintf(format, args...))
}
