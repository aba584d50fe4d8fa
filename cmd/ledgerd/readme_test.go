package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/httpapi"
)

// docPages are the user's documentation: README.md and the pages under
// docs/ it leads to.
var docPages = []string{"README.md", "docs/api.md", "docs/reports.md", "docs/errors.md", "docs/operations.md", "docs/transparency.md"}

// readDocs returns the text of the documentation pages, joined.
func readDocs(t *testing.T) string {
	t.Helper()
	var all strings.Builder
	for _, p := range docPages {
		b, err := os.ReadFile("../../" + p)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
		all.WriteString("\n")
	}
	return all.String()
}

// TestREADME checks README.md and the docs pages against the code: every
// error code (the domain's, the HTTP layer's and the read model's) has a
// row of the Errors table with its status; every write endpoint is in the
// API table; every curl that sends a body says it is JSON, since the API
// answers 415 to curl's default form type.
func TestREADME(t *testing.T) {
	readme := readDocs(t)

	rows := map[string]int{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ([0-9]{3}) \\|").FindAllStringSubmatch(readme, -1) {
		st, _ := strconv.Atoi(m[2])
		if _, twice := rows[m[1]]; twice {
			t.Errorf("docs: code %s has two rows", m[1])
		}
		rows[m[1]] = st
	}
	// Every code of the one error set, with the status its kind answers.
	want := map[string]int{}
	for _, c := range httpapi.AllCodes() {
		want[c.Code] = httpapi.Status(c.Kind)
	}
	for code, st := range want {
		got, ok := rows[code]
		switch {
		case !ok:
			t.Errorf("docs: no row of the Errors table for code %s (%d)", code, st)
		case got != st:
			t.Errorf("docs: code %s is %d, the server answers %d", code, got, st)
		}
	}
	for code := range rows {
		if _, ok := want[code]; !ok {
			t.Errorf("docs: code %s is documented but no part of the server answers it", code)
		}
	}

	for _, p := range httpapi.WritePatterns() {
		if !strings.Contains(readme, "| `POST "+p+"` |") {
			t.Errorf("docs: no row of the API table for POST %s", p)
		}
		if !strings.Contains(readme, p) {
			t.Errorf("docs: %s is not documented", p)
		}
	}

	// One curl command may span lines ending in a backslash.
	joined := strings.ReplaceAll(readme, "\\\n", " ")
	n := 0
	for _, line := range strings.Split(joined, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "curl ") || !strings.Contains(line, " -d ") {
			continue
		}
		n++
		if !strings.Contains(line, `-H "$JSON"`) && !strings.Contains(line, "Content-Type: application/json") {
			t.Errorf("docs: a curl sends a body without Content-Type: application/json: %s", line)
		}
	}
	if n == 0 || !strings.Contains(readme, `JSON='Content-Type: application/json'`) {
		t.Errorf("docs: %d curl commands with a body, JSON header defined: %v", n, strings.Contains(readme, `JSON='Content-Type: application/json'`))
	}
}
