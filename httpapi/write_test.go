package httpapi

import (
	"reflect"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
)

// TestEveryCommandHasARoute walks domain.Commands: each command has exactly
// one write route, and every route makes one of them. A command added to
// the domain without its endpoint fails here, not in a user's request.
func TestEveryCommandHasARoute(t *testing.T) {
	routes := map[reflect.Type][]string{}
	for _, wr := range writeRoutes() {
		c := wr.newCmd(func(string) string { return "x" })
		routes[reflect.TypeOf(c)] = append(routes[reflect.TypeOf(c)], wr.pattern)
	}
	for _, c := range domain.Commands() {
		ty := reflect.TypeOf(c)
		if got := routes[ty]; len(got) != 1 {
			t.Errorf("command %v has routes %v, want one (writeRoutes in write.go)", ty, got)
		}
		delete(routes, ty)
	}
	for ty, patterns := range routes {
		t.Errorf("routes %v make %v, which is not in domain.Commands", patterns, ty)
	}
}
