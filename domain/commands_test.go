package domain

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCommandsComplete walks this package's source: every type with a
// decide method is a command, every command but Batch is in Commands
// (which the HTTP edge's routes are checked against) and is declared in its
// own file, command_<name>.go.
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
			if want := "command_" + snake(name) + ".go"; name != "Batch" && path != want {
				t.Errorf("command %s is decided in %s, not in %s", name, path, want)
			}
		}
	}
	if n != len(listed) {
		t.Errorf("%d types with a decide method, %d listed in Commands (with Batch)", n, len(listed))
	}
}

// snake turns CamelCase into snake_case: RecordInterest → record_interest.
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
