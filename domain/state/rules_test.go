package state

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// TestRulesComplete walks events.Types: every type has a rule for its
// payload, a money event (one a reversal undoes) has postings and an effect,
// a type a reversal may name says how it is marked, and no rule is left
// for a type that is not registered.
func TestRulesComplete(t *testing.T) {
	for _, ty := range events.Types() {
		r, ok := rules[ty.Name]
		if !ok {
			t.Errorf("event type %s has no domain rule (type_%s.go)", ty.Name, ty.Name)
			continue
		}
		if !r.payload(ty.New()) || r.apply == nil {
			t.Errorf("event type %s: the rule is not for %T, or has no apply", ty.Name, ty.New())
		}
		if ty.Reversed() && (r.effect == nil || r.postings == nil) {
			t.Errorf("event type %s is reversed, but its rule has no effect or no postings to reverse", ty.Name)
		}
		if r.effect != nil && r.postings == nil {
			t.Errorf("event type %s moves money but has no postings", ty.Name)
		}
		if ty.Reversible != (r.reversed != nil) {
			t.Errorf("event type %s: reversible %v, but its rule marks a reversal: %v", ty.Name, ty.Reversible, r.reversed != nil)
		}
		if !ty.Reversed() && r.effect != nil {
			t.Errorf("event type %s has an effect, but no reversal undoes it", ty.Name)
		}
	}
	for name := range rules {
		if _, ok := events.LookupType(name); !ok {
			t.Errorf("rule for %s, which is not in events.Types", name)
		}
	}
}

// TestRuleFiles walks this package's source: every rule is added in the
// file of its type, type_<name>.go, so that a type's fold, postings and
// command are found in one place.
func TestRuleFiles(t *testing.T) {
	n := 0
	for _, path := range sourceFiles(t) {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(x ast.Node) bool {
			call, ok := x.(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "addRule" {
				return true
			}
			n++
			sel, ok := call.Args[0].(*ast.SelectorExpr)
			if !ok {
				t.Errorf("%s: addRule of %T, not of an events.Type… constant", path, call.Args[0])
				return true
			}
			if want := "type_" + snake(strings.TrimPrefix(sel.Sel.Name, "Type")) + ".go"; path != want {
				t.Errorf("the rule of events.%s is added in %s, not in %s", sel.Sel.Name, path, want)
			}
			return true
		})
	}
	if n != len(events.Types()) {
		t.Errorf("%d calls of addRule, %d event types", n, len(events.Types()))
	}
}

// snake turns CamelCase into snake_case: InterestEarned → interest_earned.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sourceFiles returns the non-test Go files of this package.
func sourceFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		if !strings.HasSuffix(p, "_test.go") {
			out = append(out, p)
		}
	}
	return out
}
