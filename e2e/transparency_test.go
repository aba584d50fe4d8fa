package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// TestCheckpointAndProofsWithOutsideCode checks what the real ledgerd
// serves with code that is not the project's: the signed checkpoint with
// golang.org/x/mod/sumdb/note, its body as C2SP tlog-checkpoint says, and
// the inclusion and consistency proofs with github.com/transparency-dev/merkle.
// This package imports nothing of the project.
func TestCheckpointAndProofsWithOutsideCode(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "log.key")
	out, err := exec.Command(ledgerdBin, "keygen", "--name", "example.org/e2e-log", "--out", keyFile).Output()
	if err != nil {
		t.Fatalf("ledgerd keygen: %v", err)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("keygen printed %q: %v", out, err)
	}
	d := start(t, "--data", filepath.Join(dir, "data"), "--tokens", writeTokens(t), "--signing-key", keyFile, "--origin", "example.org/e2e")
	setUpFund(t, d)
	for i := range 3 {
		d.must(t, 201, "POST", "/v1/contributions", "olu", fmt.Sprintf("tl-%d", i), contribution(i))
	}
	logged := d.loggedEvents(t)
	size := uint64(len(logged))

	// Wait for the checkpoint of the whole log (signed at most once a second).
	cur := waitCheckpoint(t, d, verifier, size)
	if cur.origin != "example.org/e2e" || cur.size != size {
		t.Fatalf("checkpoint %s size %d, want example.org/e2e size %d", cur.origin, cur.size, size)
	}

	// Each event's inclusion proof, over the bytes the log export gives.
	events := d.must(t, 200, "GET", "/v1/events?fund=mdfm&after=0&limit=1000", "kim", "", nil)
	lines := bytes.Split(bytes.TrimSpace(events.body), []byte("\n"))
	for i, line := range lines {
		r := d.must(t, 200, "GET", fmt.Sprintf("/v1/proofs/inclusion?fund_seq=%d&size=%d", i+1, size), "kim", "", nil)
		var p struct {
			Event string   `json:"event"`
			Proof []string `json:"proof"`
		}
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		leaf, _ := base64.StdEncoding.DecodeString(p.Event)
		if !bytes.Equal(leaf, line) {
			t.Errorf("fund_seq %d: the proof's leaf is not the logged event", i+1)
		}
		err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), size, rfc6962.DefaultHasher.HashLeaf(line), decode(t, p.Proof), cur.root)
		if err != nil {
			t.Errorf("fund_seq %d: %v", i+1, err)
		}
	}

	// One more write: the next checkpoint extends this one.
	old := cur
	d.must(t, 201, "POST", "/v1/contributions", "olu", "tl-more", contribution(9))
	cur = waitCheckpoint(t, d, verifier, old.size+2) // the receipt and its fee
	r := d.must(t, 200, "GET", fmt.Sprintf("/v1/proofs/consistency?from=%d&to=%d", old.size, cur.size), "kim", "", nil)
	var c struct {
		Proof []string `json:"proof"`
	}
	if err := json.Unmarshal(r.body, &c); err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.size, cur.size, decode(t, c.Proof), old.root, cur.root); err != nil {
		t.Errorf("consistency %d → %d: %v", old.size, cur.size, err)
	}
	// A tampered root is caught by the same outside code.
	bad := append([]byte(nil), old.root...)
	bad[0] ^= 1
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.size, cur.size, decode(t, c.Proof), bad, cur.root); err == nil {
		t.Error("a consistency proof verified against a changed root")
	}
}

// waitCheckpoint polls GET /v1/checkpoint until it is of size (the daemon
// signs at most once a second, and none before its first sync after a
// write) and returns it.
func waitCheckpoint(t *testing.T, d *daemon, v note.Verifier, size uint64) checkpoint {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := d.do(t, "GET", "/v1/checkpoint", "kim", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.status == 200 {
			if cp := openCheckpoint(t, v, r.body); cp.size == size {
				return cp
			}
		} else if r.code() != "no_checkpoint" {
			t.Fatalf("GET /v1/checkpoint: %d %s", r.status, r.body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size %d within 60s: %d %s", size, r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type checkpoint struct {
	origin string
	size   uint64
	root   []byte
}

// openCheckpoint checks the note's signature with x/mod's note package and
// parses the C2SP body by hand: origin, size, base64 root.
func openCheckpoint(t *testing.T, v note.Verifier, msg []byte) checkpoint {
	t.Helper()
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint %q: %v", msg, err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		t.Fatalf("checkpoint body %q: want three lines", n.Text)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		t.Fatalf("root %q: %v", lines[2], err)
	}
	return checkpoint{lines[0], size, root}
}

func decode(t *testing.T, ss []string) [][]byte {
	t.Helper()
	out := make([][]byte, len(ss))
	for i, s := range ss {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}
