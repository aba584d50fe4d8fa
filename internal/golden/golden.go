// Package golden is the one golden-file check of the tests: compare what a
// test made with a file under testdata/, or rewrite the file with -update.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Updating says whether the test run rewrites its golden files (-update).
func Updating() bool { return *update }

// Check compares got with the file at path (under the package's testdata/),
// or writes got there first with -update. A difference names the file and
// how to accept it if it is intended.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); run the test with -update if the change is intended:\n%s", path, diff)
	}
}
