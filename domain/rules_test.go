package domain

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
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
			t.Errorf("event type %s has no domain rule (fold.go)", ty.Name)
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

// TestCommandsComplete walks this package's source: every type with a
// decide method is a command, and every command but Batch is in Commands
// (which the HTTP edge's routes are checked against).
func TestCommandsComplete(t *testing.T) {
	listed := map[string]bool{"Batch": true}
	for _, c := range Commands() {
		listed[reflect.TypeOf(c).Elem().Name()] = true
	}
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Name.Name != "decide" || fd.Recv == nil {
				continue
			}
			n++
			name := fd.Recv.List[0].Type.(*ast.StarExpr).X.(*ast.Ident).Name
			if !listed[name] {
				t.Errorf("command %s is not in Commands", name)
			}
		}
	}
	if n != len(listed) {
		t.Errorf("%d types with a decide method, %d listed in Commands (with Batch)", n, len(listed))
	}
}
