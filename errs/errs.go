// Package errs is the one error set of mdfm-ledger: the coded Error that
// every layer returns when it refuses a request, and the kinds the HTTP edge
// turns into statuses (httpapi, the only place that knows them). It imports
// nothing of the project and does no I/O, so that events and domain may use
// it.
//
// Each code is defined once, with its kind, in the Set of the layer that
// answers it: domain.Codes (refused commands), projections.Codes (questions
// the read model cannot answer as asked) and httpapi.Codes (requests refused
// before they reach either). A layer reuses another's code rather than define
// it again (projections answers domain.CodeUnknownTerm); httpapi.AllCodes is
// their union, which tests walk against README.md.
//
// An Error is a promise to the caller: the code is stable and the caller can
// act on it. A fault of the server or of stored data carries no code — an
// event of the log that does not verify (readmodel.EventError), a
// statement or IATI file the read model cannot render (statement.InvalidError,
// iati.InputError): their input is not the caller's, and the edge answers
// them unavailable or internal.
package errs

import "fmt"

// Kind says what sort of refusal an Error is; httpapi maps each kind to one
// HTTP status.
type Kind int

// The kinds, in a stable order.
const (
	Invalid              Kind = iota + 1 // well-formed but invalid input
	NotFound                             // names an id, a fund or a path that is not known
	Conflict                             // breaks a rule given the state of the fund
	BadRequest                           // a request that cannot be read: not JSON, an unknown field, a bad header or query
	Unauthorized                         // no token, or an unknown one
	Forbidden                            // the token's role may not do this
	MethodNotAllowed                     // the path exists, not with this method
	TooLarge                             // a body above its limit
	UnsupportedMediaType                 // a body that is not JSON in UTF-8
	TooManyRequests                      // the caller has too many requests running
	Unavailable                          // the server cannot answer now: retry later
	Internal                             // a fault of the server; stays last: httpapi's test walks the kinds up to it
)

// Error is a refusal. It changes nothing. Code is stable and documented in
// README.md; Message is for the person who sent the request (a finance
// officer can act on it); Field names the input at fault when there is one.
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

// Def defines one code: its name and its kind.
type Def struct {
	Code string
	Kind Kind
}

// Set is the codes one layer answers with, in a stable order.
type Set []Def

// New returns an Error of code with the kind s gives it. A code s does not
// list is a programming error: New panics.
func (s Set) New(code, field, message string) *Error {
	for _, d := range s {
		if d.Code == code {
			return &Error{Code: code, Kind: d.Kind, Message: message, Field: field}
		}
	}
	panic("errs: code " + code + " is not in this set")
}
