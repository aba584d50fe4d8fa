// Command codesize prints the lines of Go code per package (tests apart)
// and the functions longer than a limit, longest first, so that the size
// limits of docs/DESIGN.md's architecture (no package over about 2,500
// lines, no function over about 80 except a flat switch) can be checked:
//
//	go run ./scripts/codesize            # from the repository's root
//	go run ./scripts/codesize -max 60 -top 10
//
// A function whose body is mostly one switch is marked "switch".
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type fn struct {
	name    string
	pos     string
	lines   int
	switch_ bool
}

func main() {
	maxLines := flag.Int("max", 80, "list functions longer than this many lines")
	top := flag.Int("top", 0, "list at most this many packages (0: all)")
	flag.Parse()
	code, tests := map[string]int{}, map[string]int{}
	var fns []fn
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != "." && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		n := fset.File(f.Pos()).LineCount()
		if strings.HasSuffix(path, "_test.go") {
			tests[dir] += n
			return nil
		}
		code[dir] += n
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Body != nil {
				fns = append(fns, measure(fset, fd))
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "codesize:", err)
		os.Exit(1)
	}
	dirs := make([]string, 0, len(code))
	for d := range code {
		dirs = append(dirs, d)
	}
	sort.Slice(dirs, func(i, j int) bool { return code[dirs[i]] > code[dirs[j]] })
	if *top > 0 && len(dirs) > *top {
		dirs = dirs[:*top]
	}
	fmt.Println("lines  tests  package")
	for _, d := range dirs {
		fmt.Printf("%5d  %5d  %s\n", code[d], tests[d], d)
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].lines > fns[j].lines })
	fmt.Printf("\nfunctions over %d lines (tests apart)\n", *maxLines)
	for _, f := range fns {
		if f.lines <= *maxLines {
			break
		}
		mark := ""
		if f.switch_ {
			mark = "  switch"
		}
		fmt.Printf("%5d  %s  %s%s\n", f.lines, f.name, f.pos, mark)
	}
}

// measure counts a function's lines from its signature to its closing
// brace, and whether one switch statement takes most of its body.
func measure(fset *token.FileSet, fd *ast.FuncDecl) fn {
	start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
	name := fd.Name.Name
	if fd.Recv != nil && len(fd.Recv.List) > 0 {
		t := fd.Recv.List[0].Type
		if st, ok := t.(*ast.StarExpr); ok {
			t = st.X
		}
		if id, ok := t.(*ast.Ident); ok {
			name = id.Name + "." + name
		}
	}
	f := fn{name: name, pos: fmt.Sprintf("%s:%d", start.Filename, start.Line), lines: end.Line - start.Line + 1}
	for _, st := range fd.Body.List {
		var body ast.Node
		switch s := st.(type) {
		case *ast.SwitchStmt:
			body = s
		case *ast.TypeSwitchStmt:
			body = s
		}
		if body != nil && 2*(fset.Position(body.End()).Line-fset.Position(body.Pos()).Line) > f.lines {
			f.switch_ = true
		}
	}
	return f
}
