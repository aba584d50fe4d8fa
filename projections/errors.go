package projections

import "github.com/unesco-uil/mdfm-ledger/errs"

// The codes of a question the read model cannot answer as asked, besides
// those of the domain it answers too (domain.CodeUnknownTerm,
// domain.CodeUnknownDonor, domain.CodeInvalidDate). Queries and reports
// refuse with an *errs.Error of one of them; Field names the parameter at
// fault.
const (
	// CodeUnknownFund: no fund of that id has events.
	CodeUnknownFund = "unknown_fund"
	// CodeInvalidAtSeq: at_seq is beyond the fund's last event known here.
	CodeInvalidAtSeq = "invalid_at_seq"
	// CodeNoDataAsOf: as_of is before anything the report could show — the
	// term's first entry, or for a statement the donor's registration and
	// first entry. A report refuses such a date rather than answer an
	// empty success.
	CodeNoDataAsOf = "no_data_as_of"
	// CodeNotAttributable: the term's money cannot be attributed to its
	// donors as of the date asked: by then a donor had been refunded while
	// it had put no money into the term, or more than its money, interest
	// and share of a pot came to, and its statement would show money
	// refunded that it had not paid or a negative balance. It happens in an
	// older log as of a date between a back-dated refund and the
	// later-dated receipt it returned (the domain refuses such a refund
	// since issue 8), and after interest was reversed once a refund had
	// paid it out (reversing interest changes no donor's net money, so the
	// domain lets it through).
	CodeNotAttributable = "not_attributable"
)

// Codes defines the read model's own codes with their kinds.
var Codes = errs.Set{
	{Code: CodeUnknownFund, Kind: errs.NotFound},
	{Code: CodeInvalidAtSeq, Kind: errs.Invalid},
	{Code: CodeNoDataAsOf, Kind: errs.Invalid},
	{Code: CodeNotAttributable, Kind: errs.Invalid},
}
