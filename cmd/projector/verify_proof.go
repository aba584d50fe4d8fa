package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/tlog"
)

const proofUsage = `
  verify-proof        --vkey FILE --bundle FILE [--origin ORIGIN]
                      check a donor's proof bundle offline: the checkpoint's
                      signature, every event and inclusion proof, and the totals
  verify-consistency  --vkey FILE --old FILE --new FILE --proof FILE [--old-vkey FILE]
                      check offline that the new checkpoint's tree extends the old one's
  tree-root           --from FILE [--fund ID] [--vkey FILE --checkpoint FILE]
                      a fund's tree size and root from an export alone; with a
                      checkpoint, check that the export has its root
`

// runProofCommand runs verify-proof and verify-consistency, which need no
// server and no log (issue 11); ok is false for any other command.
func runProofCommand(args []string, stdout, stderr io.Writer) (code int, ok bool) {
	switch args[0] {
	case "verify-proof":
		return verifyProof(args[1:], stdout, stderr), true
	case "verify-consistency":
		return verifyConsistency(args[1:], stdout, stderr), true
	case "tree-root":
		return treeRoot(args[1:], stdout, stderr), true
	}
	return 0, false
}

// readLimited reads a file of at most max bytes.
func readLimited(flagName, path string, max int64) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("%s: required", flagName)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %s is longer than %d bytes", flagName, path, max)
	}
	return b, nil
}

func parseProofFlags(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return ExitUsage
	}
	return -1
}

// verifyProof is `projector verify-proof --vkey FILE --bundle FILE`.
func verifyProof(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("projector verify-proof", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vkeyFile := fs.String("vkey", "", "`FILE` holding the log's verifier key (<name>+<hash>+<key>)")
	bundleFile := fs.String("bundle", "", "the donor's proof bundle `FILE` (GET /v1/donors/{id}/proof)")
	origin := fs.String("origin", "", "the `ORIGIN` the checkpoint must name (default: any)")
	if code := parseProofFlags(fs, args); code >= 0 {
		return code
	}
	vkey, err := readLimited("--vkey", *vkeyFile, tlog.MaxNoteBytes)
	if err != nil {
		return fail(stderr, ExitUsage, err)
	}
	raw, err := readLimited("--bundle", *bundleFile, tlog.MaxBundleBytes)
	if err != nil {
		return fail(stderr, ExitUsage, err)
	}
	var b tlog.Bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return fail(stderr, ExitFailure, fmt.Errorf("bundle: %w", err))
	}
	cp, err := tlog.VerifyBundle(b, string(vkey), *origin)
	if err != nil {
		return fail(stderr, ExitFailure, fmt.Errorf("verify-proof FAILED: %w", err))
	}
	fmt.Fprintf(stdout, "verify-proof ok: %d events of donor %s in term %s as of %s are in %s at size %d (root %x, key %s); received %s, fees %s, refunded %s USD\n",
		len(b.Events), b.Donor, b.Term, b.AsOf, cp.Origin, cp.Size, cp.Hash, cp.KeyName, b.Totals.ReceivedUSD, b.Totals.FeesUSD, b.Totals.RefundedUSD)
	return ExitOK
}

// verifyConsistency is `projector verify-consistency --vkey FILE --old FILE
// --new FILE --proof FILE`.
func verifyConsistency(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("projector verify-consistency", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vkeyFile := fs.String("vkey", "", "`FILE` holding the log's verifier key")
	oldVkeyFile := fs.String("old-vkey", "", "`FILE` holding the verifier key of the old checkpoint, when the log's key was rotated between the two (default --vkey)")
	oldFile := fs.String("old", "", "the earlier signed checkpoint `FILE` (GET /v1/checkpoint)")
	newFile := fs.String("new", "", "the later signed checkpoint `FILE`")
	proofFile := fs.String("proof", "", "the consistency proof `FILE` (GET /v1/proofs/consistency)")
	if code := parseProofFlags(fs, args); code >= 0 {
		return code
	}
	vkey, err := readLimited("--vkey", *vkeyFile, tlog.MaxNoteBytes)
	if err != nil {
		return fail(stderr, ExitUsage, err)
	}
	oldVkey := vkey
	if *oldVkeyFile != "" {
		if oldVkey, err = readLimited("--old-vkey", *oldVkeyFile, tlog.MaxNoteBytes); err != nil {
			return fail(stderr, ExitUsage, err)
		}
	}
	oldNote, err := readLimited("--old", *oldFile, tlog.MaxNoteBytes)
	if err != nil {
		return fail(stderr, ExitUsage, err)
	}
	newNote, err := readLimited("--new", *newFile, tlog.MaxNoteBytes)
	if err != nil {
		return fail(stderr, ExitUsage, err)
	}
	raw, err := readLimited("--proof", *proofFile, tlog.MaxNoteBytes)
	if err != nil {
		return fail(stderr, ExitUsage, err)
	}
	var p struct {
		From  uint64   `json:"from"`
		To    uint64   `json:"to"`
		Proof []string `json:"proof"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return fail(stderr, ExitFailure, fmt.Errorf("proof: %w", err))
	}
	hashes, err := tlog.DecodeHashes(p.Proof)
	if err != nil {
		return fail(stderr, ExitFailure, fmt.Errorf("proof: %w", err))
	}
	oldCP, newCP, err := tlog.VerifyConsistency(string(oldVkey), string(vkey), oldNote, newNote, hashes)
	if err == nil && (p.From != oldCP.Size || p.To != newCP.Size) {
		err = fmt.Errorf("the proof is from size %d to %d, the checkpoints are of sizes %d and %d", p.From, p.To, oldCP.Size, newCP.Size)
	}
	if err != nil {
		return fail(stderr, ExitFailure, fmt.Errorf("verify-consistency FAILED: %w", err))
	}
	fmt.Fprintf(stdout, "verify-consistency ok: %s at size %d extends size %d (key %s)\n", newCP.Origin, newCP.Size, oldCP.Size, newCP.KeyName)
	return ExitOK
}

func fail(stderr io.Writer, code int, err error) int {
	fmt.Fprintf(stderr, "projector: %v\n", err)
	return code
}

// treeRoot is `projector tree-root --from FILE [--fund ID] [--vkey FILE
// --checkpoint FILE]`: the size and root of a fund's tree computed from an
// NDJSON export alone; with a checkpoint, it checks that the export's first
// events up to the checkpoint's size have the signed root, so an auditor
// holding the whole log confirms a donor's checkpoint, or shows a fork.
func treeRoot(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("projector tree-root", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the NDJSON export `FILE` (projector export, GET /v1/events)")
	fund := fs.String("fund", eventlog.DefaultFund, "the fund `ID`")
	vkeyFile := fs.String("vkey", "", "with --checkpoint: the log's verifier key `FILE`")
	cpFile := fs.String("checkpoint", "", "a signed checkpoint `FILE` to compare the export's tree with")
	if code := parseProofFlags(fs, args); code >= 0 {
		return code
	}
	if *from == "" {
		return fail(stderr, ExitUsage, errors.New("--from: required"))
	}
	if (*vkeyFile == "") != (*cpFile == "") {
		return fail(stderr, ExitUsage, errors.New("--vkey and --checkpoint go together"))
	}
	var cp tlog.Checkpoint
	if *cpFile != "" {
		vkey, err := readLimited("--vkey", *vkeyFile, tlog.MaxNoteBytes)
		if err != nil {
			return fail(stderr, ExitUsage, err)
		}
		msg, err := readLimited("--checkpoint", *cpFile, tlog.MaxNoteBytes)
		if err != nil {
			return fail(stderr, ExitUsage, err)
		}
		if cp, err = tlog.OpenCheckpoint(msg, string(vkey)); err != nil {
			return fail(stderr, ExitFailure, fmt.Errorf("tree-root FAILED: %w", err))
		}
	}
	f, err := os.Open(*from)
	if err != nil {
		return fail(stderr, ExitUsage, fmt.Errorf("--from: %w", err))
	}
	defer f.Close()
	size, root, err := tlog.RootFromExportAt(f, *fund, cp.Size)
	if err != nil {
		return fail(stderr, ExitFailure, fmt.Errorf("tree-root FAILED: %w", err))
	}
	if *cpFile != "" && !bytes.Equal(root, cp.Hash) {
		return fail(stderr, ExitFailure, fmt.Errorf("tree-root FAILED: the export's tree of size %d has root %s; the checkpoint signs %s: the log forked",
			size, base64.StdEncoding.EncodeToString(root), base64.StdEncoding.EncodeToString(cp.Hash)))
	}
	fmt.Fprintf(stdout, "fund %s: tree size %d root %s\n", *fund, size, base64.StdEncoding.EncodeToString(root))
	if *cpFile != "" {
		fmt.Fprintf(stdout, "tree-root ok: the export's first %d events have the root %s signed by %s\n", size, cp.Origin, cp.KeyName)
	}
	return ExitOK
}
