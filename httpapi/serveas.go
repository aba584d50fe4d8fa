package httpapi

import (
	"context"
	"net/http"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
)

// principalKey carries the principal of a request served by ServeAs.
type principalKey struct{}

// ServeAs serves r as p without a bearer token: the web app, whose users
// sign in with a password and hold a session, sends its reads and writes
// through here so that they meet the same route table, role checks,
// decoding, domain commands and reports as the JSON API. Only code in the
// same process can set the principal; a request from the network always
// goes through the token check.
func (s *Server) ServeAs(w http.ResponseWriter, r *http.Request, p access.Principal) {
	s.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
}

func servedAs(r *http.Request) (access.Principal, bool) {
	p, ok := r.Context().Value(principalKey{}).(access.Principal)
	return p, ok
}

// Allows reports whether p may call method on path by the route table (the
// roles of docs/DESIGN.md's Access): the web app links only what a user may use.
// A handler may still refuse what the table allows (a donor reading another
// donor's statement).
func (s *Server) Allows(p access.Principal, method, path string) bool {
	r, err := http.NewRequest(method, path, nil)
	if err != nil {
		return false
	}
	_, pattern := s.mux.Handler(r)
	ep, ok := s.table[pattern][method]
	return ok && (ep.public || allowed(p.Role, ep.roles))
}
