package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// The HTTP layer's own error codes, in a stable order: requests refused
// before they reach the writer or the read model. The API also answers the
// codes of domain.Codes and projections.Codes as they are (AllCodes); every
// code's status is its kind's (Status).
const (
	CodeMalformedJSON         = "malformed_json"          // not JSON, not an object, trailing data, a wrong JSON type, a duplicate key
	CodeUnknownField          = "unknown_field"           // a key the endpoint does not know (exact spelling)
	CodeBodyTooLarge          = "body_too_large"          // more than MaxBodyBytes
	CodeUnsupportedMediaType  = "unsupported_media_type"  // a Content-Type other than JSON, or a charset other than UTF-8
	CodeInvalidIdempotencyKey = "invalid_idempotency_key" // an Idempotency-Key too long or not printable ASCII
	CodeInvalidHeader         = "invalid_header"          // a header that must come once given twice (Authorization)
	CodeUnauthorized          = "unauthorized"            // no token or an unknown one
	CodeForbidden             = "forbidden"               // the token's role may not do this
	CodeNotFound              = "not_found"               // no such path
	CodeMethodNotAllowed      = "method_not_allowed"      // the path exists, not with this method
	CodeIdempotencyKeyReused  = "idempotency_key_reused"  // the key was used before with another body
	CodeTooManyRequests       = "too_many_requests"       // the caller has MaxLogReadsPerCaller reads of the log running
	CodeBusy                  = "busy"                    // the writer's queue is full, or a verify is already running
	CodeUnavailable           = "unavailable"             // the writer stopped, the read model is behind or stopped, or the outcome is unknown
	CodeInvalidQuery          = "invalid_query"           // an unknown, repeated or malformed query parameter
	CodeInvalidBatchItem      = "invalid_batch_item"      // a batch item whose path is not a write endpoint, or is /v1/batch itself
	CodeNoCheckpoint          = "no_checkpoint"           // no signed checkpoint of that size (or none yet, or the server signs none)
	CodeNotInLog              = "not_in_log"              // a tree size or fund_seq the fund's transparency log does not have
	CodeReportTooLarge        = "report_too_large"        // a report over a limit of its format (an IATI activity of more than iati.MaxTransactions transactions)
	CodeInternal              = "internal"                // a fault of the server; the log says more
)

// Codes defines the HTTP layer's own codes with their kinds, in the stable
// order of the constants.
var Codes = errs.Set{
	{Code: CodeMalformedJSON, Kind: errs.BadRequest},
	{Code: CodeUnknownField, Kind: errs.BadRequest},
	{Code: CodeBodyTooLarge, Kind: errs.TooLarge},
	{Code: CodeUnsupportedMediaType, Kind: errs.UnsupportedMediaType},
	{Code: CodeInvalidIdempotencyKey, Kind: errs.BadRequest},
	{Code: CodeInvalidHeader, Kind: errs.BadRequest},
	{Code: CodeUnauthorized, Kind: errs.Unauthorized},
	{Code: CodeForbidden, Kind: errs.Forbidden},
	{Code: CodeNotFound, Kind: errs.NotFound},
	{Code: CodeMethodNotAllowed, Kind: errs.MethodNotAllowed},
	{Code: CodeIdempotencyKeyReused, Kind: errs.Conflict},
	{Code: CodeTooManyRequests, Kind: errs.TooManyRequests},
	{Code: CodeBusy, Kind: errs.Unavailable},
	{Code: CodeUnavailable, Kind: errs.Unavailable},
	{Code: CodeInvalidQuery, Kind: errs.BadRequest},
	{Code: CodeInvalidBatchItem, Kind: errs.Invalid},
	{Code: CodeNoCheckpoint, Kind: errs.NotFound},
	{Code: CodeNotInLog, Kind: errs.NotFound},
	{Code: CodeReportTooLarge, Kind: errs.Invalid},
	{Code: CodeInternal, Kind: errs.Internal},
}

// AllCodes is every code the API answers with, each defined once: the
// domain's, the read model's and the HTTP layer's own.
func AllCodes() errs.Set {
	return slices.Concat(domain.Codes, projections.Codes, Codes)
}

// statuses is the one table from a kind of error to its HTTP status.
var statuses = map[errs.Kind]int{
	errs.Invalid:              http.StatusUnprocessableEntity,
	errs.NotFound:             http.StatusNotFound,
	errs.Conflict:             http.StatusConflict,
	errs.BadRequest:           http.StatusBadRequest,
	errs.Unauthorized:         http.StatusUnauthorized,
	errs.Forbidden:            http.StatusForbidden,
	errs.MethodNotAllowed:     http.StatusMethodNotAllowed,
	errs.TooLarge:             http.StatusRequestEntityTooLarge,
	errs.UnsupportedMediaType: http.StatusUnsupportedMediaType,
	errs.TooManyRequests:      http.StatusTooManyRequests,
	errs.Unavailable:          http.StatusServiceUnavailable,
	errs.Internal:             http.StatusInternalServerError,
}

// Status is the HTTP status of a kind of error; 500 for a kind it does not
// know, which a test rules out.
func Status(k errs.Kind) int {
	if st, ok := statuses[k]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// errorf builds an Error of one of the HTTP layer's codes; a code not in
// Codes is a programming error.
func errorf(code, field, message string) *errs.Error {
	return Codes.New(code, field, message)
}

// asError finds the refusal in err, or nil when err is not a refusal but a
// fault of the server.
func asError(err error) *errs.Error {
	var e *errs.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// answer is the error of an answer that is not a success:
// {"code", "message", "field"}, and "index" when the error is one item's of
// a POST /v1/batch (its field then starts "commands[i]").
type answer struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
	Index   *int   `json:"index,omitempty"`
}

func answerOf(e *errs.Error) *answer {
	return &answer{Code: e.Code, Message: e.Message, Field: e.Field}
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error *answer `json:"error"`
}

func marshalError(a *answer) []byte {
	b, err := json.Marshal(errorBody{a})
	if err != nil {
		// Only strings are marshalled: this cannot fail.
		panic(err)
	}
	return append(b, '\n')
}
