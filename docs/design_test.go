// Package docs holds the project's design documents; its test keeps the
// code's comments honest about them.
package docs

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	ruleCite  = regexp.MustCompile(`(?i)\brules? (\d+)((?:(?:, | and | or )\d+)*)`)
	numbers   = regexp.MustCompile(`\d+`)
	fileCite  = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b`)
	ruleEntry = regexp.MustCompile(`(?m)^(\d+)\. `)
)

// designRules returns the numbers of the rules that docs/DESIGN.md defines
// under "Rules the domain enforces".
func designRules(t *testing.T) map[int]bool {
	t.Helper()
	b, err := os.ReadFile("DESIGN.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "## Rules the domain enforces")
	if start < 0 {
		t.Fatal("DESIGN.md has no section \"Rules the domain enforces\"")
	}
	section := text[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	rules := map[int]bool{}
	for _, m := range ruleEntry.FindAllStringSubmatch(section, -1) {
		n, _ := strconv.Atoi(m[1])
		rules[n] = true
	}
	if len(rules) == 0 {
		t.Fatal("DESIGN.md defines no numbered rule")
	}
	return rules
}

// TestCommentsCiteWhatExists fails on a Go comment that cites a rule that
// docs/DESIGN.md does not define, or a .md file that is not in the repo.
func TestCommentsCiteWhatExists(t *testing.T) {
	rules := designRules(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var cites, files int
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, group := range f.Comments {
			text := group.Text()
			pos := fset.Position(group.Pos())
			for _, m := range ruleCite.FindAllString(text, -1) {
				for _, num := range numbers.FindAllString(m, -1) {
					cites++
					n, _ := strconv.Atoi(num)
					if !rules[n] {
						t.Errorf("%s:%d cites rule %d, which docs/DESIGN.md does not define", rel, pos.Line, n)
					}
				}
			}
			for _, name := range fileCite.FindAllString(text, -1) {
				cites++
				if !existsFrom(name, root, filepath.Dir(path)) {
					t.Errorf("%s:%d cites %s, which is not in the repository", rel, pos.Line, name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The walk must have seen the code that cites the rules.
	if files < 50 || cites < 10 {
		t.Fatalf("walked %d Go files and %d citations: the walk missed the code", files, cites)
	}
}

// existsFrom says whether name is a file relative to the repository's root
// or to the citing file's folder.
func existsFrom(name, root, dir string) bool {
	for _, base := range []string{root, dir} {
		if _, err := os.Stat(filepath.Join(base, name)); err == nil {
			return true
		}
	}
	return false
}
