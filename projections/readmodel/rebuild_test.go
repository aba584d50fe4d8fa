package readmodel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRebuildAt checks that a rebuild never shows a file at its path before
// it is complete, leaves nothing behind when it fails, and ends with an
// ordinary WAL read model that refuses to be overwritten.
func TestRebuildAt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rebuilt.db")
	boom := errors.New("boom")
	err := RebuildAt(path, func(s *Store) error {
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("during the rebuild %s exists (%v)", path, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failed rebuild: %v, want boom", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("a failed rebuild left %d files, first %s", len(left), left[0].Name())
	}

	if err := RebuildAt(path, func(s *Store) error { return nil }); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	if err := s.read.QueryRowContext(context.Background(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q (%v), want wal", mode, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 3 { // the file, its -wal and -shm while open
		var names []string
		for _, f := range left {
			names = append(names, f.Name())
		}
		t.Fatalf("after a rebuild the folder holds %v", names)
	}
	if err := RebuildAt(path, func(s *Store) error { return nil }); err == nil {
		t.Fatal("a rebuild over an existing read model succeeded")
	}
}
