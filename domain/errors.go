package domain

import "fmt"

// Kind says what sort of refusal an error is; the HTTP edge maps it to a
// status (invalid 422, not found 404, conflict 409).
type Kind int

const (
	KindInvalid  Kind = iota + 1 // well-formed but invalid input
	KindNotFound                 // names an id the fund does not know
	KindConflict                 // breaks a rule of the fund given its state
)

// Error is a refusal of a command. It appends nothing. Code is stable and
// documented; Message is for the finance officer; Field names the input at
// fault when there is one.
type Error struct {
	Code    string
	Kind    Kind
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

// The domain's error codes, in a stable order. Each appears in README.md and
// in the domain's table test.
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

// Codes lists every domain error code with its kind, in the stable order.
var Codes = []struct {
	Code string
	Kind Kind
}{
	{CodeMissingField, KindInvalid},
	{CodeInvalidID, KindInvalid},
	{CodeInvalidAmount, KindInvalid},
	{CodeAmountNotPositive, KindInvalid},
	{CodeAmountTooLarge, KindInvalid},
	{CodeTooManyDecimals, KindInvalid},
	{CodeUnknownCurrency, KindInvalid},
	{CodeUSDRequired, KindInvalid},
	{CodeMissingRate, KindInvalid},
	{CodeInvalidRate, KindInvalid},
	{CodeInvalidFeeRate, KindInvalid},
	{CodeInvalidDate, KindInvalid},
	{CodeDateInFuture, KindInvalid},
	{CodeDateOutsideTerm, KindInvalid},
	{CodeDateOutOfRange, KindInvalid},
	{CodeInvalidTermPeriod, KindInvalid},
	{CodeInvalidDonorKind, KindInvalid},
	{CodeUnknownCountry, KindInvalid},
	{CodeTextTooLong, KindInvalid},
	{CodeInvalidText, KindInvalid},
	{CodeBlankText, KindInvalid},
	{CodeInvalidEarmark, KindInvalid},
	{CodeInvalidDisposition, KindInvalid},
	{CodeBatchTooLarge, KindInvalid},
	{CodeUnknownTerm, KindNotFound},
	{CodeUnknownDonor, KindNotFound},
	{CodeUnknownPledge, KindNotFound},
	{CodeUnknownLine, KindNotFound},
	{CodeUnknownAllocation, KindNotFound},
	{CodeUnknownCity, KindNotFound},
	{CodeUnknownCluster, KindNotFound},
	{CodeUnknownEvent, KindNotFound},
	{CodeDuplicateID, KindConflict},
	{CodeAmendmentChangesNothing, KindConflict},
	{CodeTermOverlaps, KindConflict},
	{CodeInsufficientUnallocated, KindConflict},
	{CodeFundsEarmarkedElsewhere, KindConflict},
	{CodeExceedsBudgetLine, KindConflict},
	{CodeSameUserApproval, KindConflict},
	{CodeAllocationAlreadyApproved, KindConflict},
	{CodeAllocationNotApproved, KindConflict},
	{CodeDateBeforeApproval, KindConflict},
	{CodeInsufficientAllocationBalance, KindConflict},
	{CodePledgeDonorMismatch, KindConflict},
	{CodePledgeTermMismatch, KindConflict},
	{CodePledgeCurrencyMismatch, KindConflict},
	{CodePledgeCancelled, KindConflict},
	{CodePledgeFullyPaid, KindConflict},
	{CodeReceiptExceedsPledge, KindConflict},
	{CodePledgeBelowPaid, KindConflict},
	{CodeEarmarkOutsideTerm, KindConflict},
	{CodeCityCountryMismatch, KindConflict},
	{CodeRefundExceedsAttributable, KindConflict},
	{CodeAlreadyReversed, KindConflict},
	{CodeNotReversible, KindConflict},
	{CodeReversalOverdrawsUnallocated, KindConflict},
	{CodeReversalOverdrawsAllocation, KindConflict},
	{CodeReversalOverdrawsDonor, KindConflict},
	{CodeTermClosed, KindConflict},
	{CodeTermNotEnded, KindConflict},
	{CodeNoDonorToRefund, KindConflict},
	{CodeClusterHasTwoCoordinators, KindConflict},
	{CodeCityAlreadyCoordinates, KindConflict},
	{CodeCityInThreeClusters, KindConflict},
	{CodeAlreadyMember, KindConflict},
}

var codeKinds = func() map[string]Kind {
	m := map[string]Kind{}
	for _, c := range Codes {
		m[c.Code] = c.Kind
	}
	return m
}()

// refuse builds an Error of a listed code; an unlisted code is a programming
// error.
func refuse(code, field, format string, args ...any) *Error {
	k, ok := codeKinds[code]
	if !ok {
		panic("domain: unlisted error code " + code)
	}
	return &Error{Code: code, Kind: k, Message: fmt.Sprintf(format, args...), Field: field}
}
