package readmodel

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// TestReadFoldsComplete walks events.Types: every type folds into the read
// model with a fold for its payload, exactly the types a reversal undoes
// have an unfold, and no fold is left for a type that is not registered.
func TestReadFoldsComplete(t *testing.T) {
	for _, ty := range events.Types() {
		f, ok := readFolds[ty.Name]
		if !ok {
			t.Errorf("event type %s has no read-model fold (type_%s.go)", ty.Name, ty.Name)
			continue
		}
		if !f.payload(ty.New()) {
			t.Errorf("event type %s: the fold is not for %T", ty.Name, ty.New())
		}
		if ty.Reversed() != (f.unfold != nil) {
			t.Errorf("event type %s: reversed %v, but an unfold: %v", ty.Name, ty.Reversed(), f.unfold != nil)
		}
	}
	for name := range readFolds {
		if _, ok := events.LookupType(name); !ok {
			t.Errorf("fold for %s, which is not in events.Types", name)
		}
	}
}

// TestFoldFiles walks this package's source: every fold is added in the
// file of its type, type_<name>.go, named as the domain's file of the type.
func TestFoldFiles(t *testing.T) {
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
		ast.Inspect(f, func(x ast.Node) bool {
			call, ok := x.(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "addFold" {
				return true
			}
			n++
			sel, ok := call.Args[0].(*ast.SelectorExpr)
			if !ok {
				t.Errorf("%s: addFold of %T, not of an events.Type… constant", path, call.Args[0])
				return true
			}
			if want := "type_" + snake(strings.TrimPrefix(sel.Sel.Name, "Type")) + ".go"; path != want {
				t.Errorf("the fold of events.%s is added in %s, not in %s", sel.Sel.Name, path, want)
			}
			return true
		})
	}
	if n != len(events.Types()) {
		t.Errorf("%d calls of addFold, %d event types", n, len(events.Types()))
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
