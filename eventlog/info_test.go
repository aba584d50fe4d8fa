package eventlog_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
)

func TestInfoAndReadMsg(t *testing.T) {
	_, log := testnats.Log(t)
	ctx := t.Context()
	if info, err := log.Info(ctx); err != nil || info.LastSeq != 0 || info.Msgs != 0 {
		t.Fatalf("info of an empty stream: %+v, %v", info, err)
	}
	a, b := events.NewChain("a"), events.NewChain("b")
	evsA, evsB := sealed(t, &a, 3), sealed(t, &b, 2)
	if _, err := log.Append(ctx, "a", 0, evsA); err != nil {
		t.Fatal(err)
	}
	if _, err := log.Append(ctx, "b", 0, evsB); err != nil {
		t.Fatal(err)
	}
	info, err := log.Info(ctx)
	if err != nil || info.LastSeq != 5 || info.Msgs != 5 || info.Consumers != 0 {
		t.Fatalf("info after 5 appended events: %+v, %v", info, err)
	}
	m, err := log.ReadMsg(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := evsB[0].Encode()
	if m.Seq != 4 || m.Subject != "mdfm.b."+evsB[0].Type || !bytes.Equal(m.Data, want) {
		t.Errorf("stream seq 4: %d %s %s, want fund b's first event", m.Seq, m.Subject, m.Data)
	}
	if _, err := log.ReadMsg(ctx, 6); err == nil {
		t.Error("read stream seq 6 of 5: no error")
	}
}

// TestJetStreamForTestsOnly: no code of the ledger but the test forger
// (internal/ledgertest) reaches past Log's methods to the JetStream context.
func TestJetStreamForTestsOnly(t *testing.T) {
	allowed := map[string]bool{filepath.Join("internal", "ledgertest", "forge.go"): true}
	var found []string
	n := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", path)
		if d.IsDir() {
			if rel == "eventlog" || rel == "testdata" || strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		n++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(".JetStreamForTests(")) && !allowed[rel] {
			found = append(found, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("walked %d Go files: not the repository", n)
	}
	if len(found) > 0 {
		t.Errorf("%v call Log.JetStreamForTests: use Log's methods (Append, the reads, Info, ReadMsg), or add the one you need to eventlog", found)
	}
}
