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
// Types, once, with a New that makes that payload, and both are declared in
// the type's own file, type_<name>.go. A type declared but not registered
// would decode nowhere; this test names it.
func TestTypesComplete(t *testing.T) {
	consts, payloads := declared(t)
	seen := map[string]bool{}
	goTypes := map[string]bool{}
	for i, ty := range Types() {
		if ty.Seq != i+1 {
			t.Errorf("type %s has Seq %d at place %d of Types: Seq runs from 1 without a gap", ty.Name, ty.Seq, i+1)
		}
		if seen[ty.Name] {
			t.Errorf("type %s is in Types twice", ty.Name)
		}
		seen[ty.Name] = true
		p := ty.New()
		if p.EventType() != ty.Name {
			t.Errorf("type %s: New() makes a %T, whose EventType is %s", ty.Name, p, p.EventType())
		}
		goTypes[reflect.TypeOf(p).Elem().Name()] = true
		if file := "type_" + ty.Name + ".go"; payloads[reflect.TypeOf(p).Elem().Name()] != file {
			t.Errorf("type %s: payload %T is declared in %s, not in %s", ty.Name, p, payloads[reflect.TypeOf(p).Elem().Name()], file)
		}
		if ty.V < 1 {
			t.Errorf("type %s: version %d", ty.Name, ty.V)
		}
		if w, ok := LookupType(ty.ReversedWith); ty.ReversedWith != "" && (!ok || !w.Reversible || ty.Reversible) {
			t.Errorf("type %s is reversed with %q, which is not a reversible type (or it is reversible itself)", ty.Name, ty.ReversedWith)
		}
	}
	for name, c := range consts {
		if !seen[c.value] {
			t.Errorf("constant %s = %q is not in Types", name, c.value)
		}
		if file := "type_" + c.value + ".go"; c.file != file {
			t.Errorf("constant %s is declared in %s, not in %s", name, c.file, file)
		}
	}
	if len(consts) != len(seen) {
		t.Errorf("%d Type… constants, %d types", len(consts), len(seen))
	}
	for name := range payloads {
		if !goTypes[name] {
			t.Errorf("payload %s has an EventType method but is not in Types", name)
		}
	}
}

// constant is a Type… string constant: its value and the file declaring it.
type constant struct{ value, file string }

// declared returns the Type… string constants and the receivers of
// EventType methods declared in this package's source, with their files.
func declared(t *testing.T) (consts map[string]constant, payloads map[string]string) {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts, payloads = map[string]constant{}, map[string]string{}
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
							consts[n.Name] = constant{strings.Trim(lit.Value, `"`), path}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Name.Name == "EventType" && d.Recv != nil {
					payloads[d.Recv.List[0].Type.(*ast.Ident).Name] = path
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
