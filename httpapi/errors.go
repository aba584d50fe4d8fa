package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// The HTTP-level error codes, in a stable order. The domain's own codes
// (domain.Codes) are answered as they are, with the status of their kind.
const (
	CodeMalformedJSON         = "malformed_json"          // 400: not JSON, not an object, trailing data, a wrong JSON type, a duplicate key
	CodeUnknownField          = "unknown_field"           // 400: a key the endpoint does not know (exact spelling)
	CodeBodyTooLarge          = "body_too_large"          // 413: more than MaxBodyBytes
	CodeUnsupportedMediaType  = "unsupported_media_type"  // 415: a Content-Type other than JSON, or a charset other than UTF-8
	CodeInvalidIdempotencyKey = "invalid_idempotency_key" // 400: an Idempotency-Key too long or not printable ASCII
	CodeInvalidHeader         = "invalid_header"          // 400: a header that must come once given twice (Authorization)
	CodeUnauthorized          = "unauthorized"            // 401: no token or an unknown one
	CodeForbidden             = "forbidden"               // 403: the token's role may not do this
	CodeNotFound              = "not_found"               // 404: no such path
	CodeMethodNotAllowed      = "method_not_allowed"      // 405: the path exists, not with this method
	CodeIdempotencyKeyReused  = "idempotency_key_reused"  // 409: the key was used before with another body
	CodeTooManyRequests       = "too_many_requests"       // 429: the caller has MaxLogReadsPerCaller reads of the log running
	CodeBusy                  = "busy"                    // 503: the writer's queue is full, or a verify is already running
	CodeUnavailable           = "unavailable"             // 503: the writer stopped, the read model is behind or stopped, or the outcome is unknown
	CodeInvalidDate           = "invalid_date"            // 422: a date query parameter that is not YYYY-MM-DD
	CodeInvalidQuery          = "invalid_query"           // 400: an unknown, repeated or malformed query parameter
	CodeUnknownFund           = "unknown_fund"            // 404: a fund id that cannot exist or has no events
	CodeUnknownTerm           = "unknown_term"            // 404: a term the fund does not have
	CodeInvalidBatchItem      = "invalid_batch_item"      // 422: a batch item whose path is not a write endpoint, or is /v1/batch itself
	CodeInternal              = "internal"                // 500: a fault of the server; the log says more
)

// Codes lists every HTTP-level error code with its status, in the stable
// order of the constants.
var Codes = []struct {
	Code   string
	Status int
}{
	{CodeMalformedJSON, http.StatusBadRequest},
	{CodeUnknownField, http.StatusBadRequest},
	{CodeBodyTooLarge, http.StatusRequestEntityTooLarge},
	{CodeUnsupportedMediaType, http.StatusUnsupportedMediaType},
	{CodeInvalidIdempotencyKey, http.StatusBadRequest},
	{CodeInvalidHeader, http.StatusBadRequest},
	{CodeUnauthorized, http.StatusUnauthorized},
	{CodeForbidden, http.StatusForbidden},
	{CodeNotFound, http.StatusNotFound},
	{CodeMethodNotAllowed, http.StatusMethodNotAllowed},
	{CodeIdempotencyKeyReused, http.StatusConflict},
	{CodeTooManyRequests, http.StatusTooManyRequests},
	{CodeBusy, http.StatusServiceUnavailable},
	{CodeUnavailable, http.StatusServiceUnavailable},
	{CodeInvalidDate, http.StatusUnprocessableEntity},
	{CodeInvalidQuery, http.StatusBadRequest},
	{CodeUnknownFund, http.StatusNotFound},
	{CodeUnknownTerm, http.StatusNotFound},
	{CodeInvalidBatchItem, http.StatusUnprocessableEntity},
	{CodeInternal, http.StatusInternalServerError},
}

var codeStatus = func() map[string]int {
	m := make(map[string]int, len(Codes))
	for _, c := range Codes {
		m[c.Code] = c.Status
	}
	return m
}()

// Error is an answer that is not a success: a status and the body
// {"error": {"code", "message", "field"}}, and "index" when the error is
// one item's of a POST /v1/batch (its field then starts "commands[i]").
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
	Index   *int   `json:"index,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errorf builds an Error of a listed HTTP-level code; an unlisted code is a
// programming error.
func errorf(code, field, message string) *Error {
	st, ok := codeStatus[code]
	if !ok {
		panic("httpapi: unlisted error code " + code)
	}
	return &Error{Status: st, Code: code, Message: message, Field: field}
}

// kindStatus maps a domain error's kind to its status.
func kindStatus(k domain.Kind) int {
	switch k {
	case domain.KindInvalid:
		return http.StatusUnprocessableEntity
	case domain.KindNotFound:
		return http.StatusNotFound
	case domain.KindConflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// fromDomain turns a domain refusal into its answer.
func fromDomain(e *domain.Error) *Error {
	return &Error{Status: kindStatus(e.Kind), Code: e.Code, Message: e.Message, Field: e.Field}
}

// fromQuery turns a read model's refusal into its answer: 404 for an id it
// does not know, 422 for a well-formed but unanswerable question.
func fromQuery(e *projections.QueryError) *Error {
	st := http.StatusUnprocessableEntity
	if e.NotFound {
		st = http.StatusNotFound
	}
	return &Error{Status: st, Code: e.Code, Message: e.Message, Field: e.Field}
}

// asError finds the answer for err, or nil when err is not a refusal but a
// fault of the server.
func asError(err error) *Error {
	var he *Error
	if errors.As(err, &he) {
		return he
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return fromDomain(de)
	}
	var qe *projections.QueryError
	if errors.As(err, &qe) {
		return fromQuery(qe)
	}
	return nil
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error *Error `json:"error"`
}

func marshalError(e *Error) []byte {
	b, err := json.Marshal(errorBody{e})
	if err != nil {
		// Only strings are marshalled: this cannot fail.
		panic(err)
	}
	return append(b, '\n')
}
