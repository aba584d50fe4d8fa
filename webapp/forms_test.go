package webapp

import (
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/httpapi"
)

// TestEveryWriteHasAForm: each write endpoint of the API has a form, but
// the approval (a button on the approvals page) and the batch; a form's
// fields name no path segment its endpoint does not have.
func TestEveryWriteHasAForm(t *testing.T) {
	have := map[string]bool{}
	for _, f := range forms {
		have[f.Pattern] = true
		for _, fd := range f.Fields {
			if name, ok := strings.CutPrefix(fd.Name, "path."); ok && !strings.Contains(f.Pattern, "{"+name+"}") {
				t.Errorf("form %s: field %s is not a segment of %s", f.Name, fd.Name, f.Pattern)
			}
		}
	}
	for _, p := range httpapi.WritePatterns() {
		if p == "/v1/batch" || p == "/v1/allocations/{id}/approve" {
			continue
		}
		if !have[p] {
			t.Errorf("no form for POST %s", p)
		}
	}
}
