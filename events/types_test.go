package events

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestTypesComplete walks the source of this package: every Type… name
// constant and every payload struct (a type with an EventType method) is in
// Types, once, with a New that makes that payload. A type declared but not
// registered would decode nowhere; this test names it.
func TestTypesComplete(t *testing.T) {
	consts, payloads := declared(t)
	seen := map[string]bool{}
	goTypes := map[string]bool{}
	for _, ty := range Types() {
		if seen[ty.Name] {
			t.Errorf("type %s is in Types twice", ty.Name)
		}
		seen[ty.Name] = true
		p := ty.New()
		if p.EventType() != ty.Name {
			t.Errorf("type %s: New() makes a %T, whose EventType is %s", ty.Name, p, p.EventType())
		}
		goTypes[reflect.TypeOf(p).Elem().Name()] = true
		if ty.V < 1 {
			t.Errorf("type %s: version %d", ty.Name, ty.V)
		}
		if w, ok := LookupType(ty.ReversedWith); ty.ReversedWith != "" && (!ok || !w.Reversible || ty.Reversible) {
			t.Errorf("type %s is reversed with %q, which is not a reversible type (or it is reversible itself)", ty.Name, ty.ReversedWith)
		}
	}
	for name, value := range consts {
		if !seen[value] {
			t.Errorf("constant %s = %q is not in Types", name, value)
		}
	}
	if len(consts) != len(seen) {
		t.Errorf("%d Type… constants, %d types", len(consts), len(seen))
	}
	for _, name := range payloads {
		if !goTypes[name] {
			t.Errorf("payload %s has an EventType method but is not in Types", name)
		}
	}
}

// declared returns the Type… string constants and the receivers of
// EventType methods declared in this package's source.
func declared(t *testing.T) (consts map[string]string, payloads []string) {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts = map[string]string{}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					vs, ok := s.(*ast.ValueSpec)
					if !ok || d.Tok != token.CONST {
						continue
					}
					for i, n := range vs.Names {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(n.Name, "Type") && lit.Kind == token.STRING {
							consts[n.Name] = strings.Trim(lit.Value, `"`)
						}
					}
				}
			case *ast.FuncDecl:
				if d.Name.Name == "EventType" && d.Recv != nil {
					payloads = append(payloads, d.Recv.List[0].Type.(*ast.Ident).Name)
				}
			}
		}
	}
	return consts, payloads
}

// TestReversibleTypes pins which types a reversal may name (rule 5).
func TestReversibleTypes(t *testing.T) {
	var got []string
	for _, ty := range Types() {
		if ty.Reversible {
			got = append(got, ty.Name)
		}
	}
	want := "contribution_received allocation_approved expenditure_recorded interest_earned refund_paid"
	if strings.Join(got, " ") != want {
		t.Errorf("reversible types %v, want %s", got, want)
	}
}
