package httpapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
)

func TestWriteRouteMatch(t *testing.T) {
	approve := writeRoute{pattern: "/v1/allocations/{id}/approve"}
	for _, c := range []struct {
		path string
		ok   bool
		id   string
	}{
		{"/v1/allocations/al-1/approve", true, "al-1"},
		{"/v1/allocations//approve", false, ""},
		{"/v1/allocations/al-1/approve/", false, ""},
		{"/v1/allocations/al-1", false, ""},
		{"/v1/allocations/a/b/approve", false, ""},
		{"v1/allocations/al-1/approve", false, ""},
	} {
		vals, ok := approve.match(c.path)
		if ok != c.ok || vals["id"] != c.id {
			t.Errorf("match %s: %v %v, want %v %q", c.path, vals, ok, c.ok, c.id)
		}
	}
	// Every pattern is unique and matches itself only as itself.
	seen := map[string]bool{}
	for _, wr := range writeRoutes() {
		if seen[wr.pattern] {
			t.Errorf("pattern %s twice", wr.pattern)
		}
		seen[wr.pattern] = true
		if len(wr.roles) == 0 {
			t.Errorf("%s: no role but admin may call it", wr.pattern)
		}
		if wr.pattern == batchPath {
			t.Errorf("the batch endpoint is among the routes a batch item may take")
		}
	}
}

// TestDecodeBatchItem decodes items as their endpoints do and names the
// item of every refusal.
func TestDecodeBatchItem(t *testing.T) {
	officer := access.Principal{User: "olu", Role: access.Role{Name: access.RoleOfficer}}
	routes := writeRoutes()
	cmd, err := decodeBatchItem(3, batchItem{Path: "/v1/clusters/LIT/members", Body: []byte(`{"city_id":"gulu","term_id":"2020-2021"}`)}, officer, routes)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&domain.JoinCluster{ClusterID: "LIT", CityID: "gulu", TermID: "2020-2021"}, cmd); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		name   string
		it     batchItem
		status int
		code   string
		field  string
	}{
		{"no path", batchItem{Body: []byte(`{}`)}, 422, CodeInvalidBatchItem, "commands[3].path"},
		{"nested", batchItem{Path: "/v1/batch", Body: []byte(`{"commands":[]}`)}, 422, CodeInvalidBatchItem, "commands[3].path"},
		{"a read", batchItem{Path: "/v1/events", Body: []byte(`{}`)}, 422, CodeInvalidBatchItem, "commands[3].path"},
		{"a role's", batchItem{Path: "/v1/terms/2020-2021/close", Body: []byte(`{}`)}, 403, CodeForbidden, "commands[3].path"},
		{"no body", batchItem{Path: "/v1/donors"}, 400, CodeMalformedJSON, "commands[3]"},
		{"unknown field", batchItem{Path: "/v1/donors", Body: []byte(`{"nom":"x"}`)}, 400, CodeUnknownField, "commands[3].nom"},
		{"path id in body", batchItem{Path: "/v1/clusters/LIT/members", Body: []byte(`{"cluster_id":"ESD"}`)}, 400, CodeUnknownField, "commands[3].cluster_id"},
	} {
		_, err := decodeBatchItem(3, c.it, officer, routes)
		if err == nil || Status(err.Kind) != c.status || err.Code != c.code || err.Field != c.field || !indexIs(err, 3) {
			t.Errorf("%s: %+v, want %d %s %s index 3", c.name, err, c.status, c.code, c.field)
		}
	}
	// An approval's body may be left out, as on its own endpoint.
	approver := access.Principal{User: "ana", Role: access.Role{Name: access.RoleApprover}}
	if _, err := decodeBatchItem(0, batchItem{Path: "/v1/allocations/al-1/approve"}, approver, routes); err != nil {
		t.Errorf("approval without body: %v", err)
	}
}

// TestBatchIndex: the index of a batch's error comes from the item its field
// names, and an error of the whole batch has none.
func TestBatchIndex(t *testing.T) {
	de := domain.Codes.New(domain.CodeAmountNotPositive, "commands[12].amount", "m")
	if !indexIs(de, 12) {
		t.Errorf("batchIndex(%q) = %v, want 12", de.Field, batchIndex(de.Field))
	}
	if i := batchIndex("commands"); i != nil {
		t.Errorf("an error of the whole batch got index %d", *i)
	}
}

func indexIs(e *errs.Error, i int) bool {
	got := batchIndex(e.Field)
	return got != nil && *got == i
}

// FuzzDecodeBatch feeds POST /v1/batch bodies to its decoder: only the
// decoder's codes come out, and an item's error names its item.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range []string{
		`{"commands":[]}`,
		`{"commands":[{"path":"/v1/donors","body":{"id":"d"}}]}`,
		`{"commands":[{"path":"/v1/allocations/a/approve"},{"path":"/v1/batch","body":{}}]}`,
		`{"commands":[{"path":"/v1/contributions","body":{"amount":{"amount":1}}}]}`,
		`{"commands":{"path":1}}`,
	} {
		f.Add([]byte(s))
	}
	admin := access.Principal{User: "root", Role: access.Role{Name: access.RoleAdmin}}
	routes := writeRoutes()
	known := map[string]bool{CodeMalformedJSON: true, CodeUnknownField: true, CodeInvalidBatchItem: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req batchRequest
		if err := decodeCommand(b, &req); err != nil {
			if !known[err.Code] {
				t.Errorf("code %s for %q", err.Code, b)
			}
			return
		}
		for i, it := range req.Commands {
			if _, err := decodeBatchItem(i, it, admin, routes); err != nil && (!known[err.Code] || !indexIs(err, i)) {
				t.Errorf("item %d: %+v for %q", i, err, b)
			}
		}
	})
}
