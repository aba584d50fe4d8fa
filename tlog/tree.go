// Package tlog keeps a transparency log over each fund's events: an RFC 6962
// Merkle tree whose leaves are the events' stored canonical bytes in
// fund_seq order, signed checkpoints in the C2SP tlog-checkpoint format,
// inclusion and consistency proofs, and donor proof bundles that a donor
// checks offline (docs/transparency.md).
//
// The tree is computed from the log alone: rebuilt from the stream or from
// an NDJSON export it has the same roots. Its node hashes are kept (every
// perfect subtree's root), so a root or a proof costs O(log n) reads,
// whatever the length of the history.
package tlog

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	_ "modernc.org/sqlite"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// Hasher is RFC 6962's SHA-256 tree hasher: leaf = SHA-256(0x00 ‖ bytes),
// node = SHA-256(0x01 ‖ left ‖ right).
var Hasher = rfc6962.DefaultHasher

var factory = &compact.RangeFactory{Hash: Hasher.HashChildren}

// File is the tree store's name inside a ledgerd data folder.
const File = "tlog.db"

// BusyTimeoutMS bounds how long a statement waits for SQLite's lock.
const BusyTimeoutMS = 5000

// ErrNotFound is wrapped when a fund has no tree of the size asked, no
// event at a fund_seq, or no checkpoint of a size.
var ErrNotFound = errors.New("not in the transparency log")

// Leaf is one event as the tree takes it: its stored bytes and where it is.
type Leaf struct {
	FundSeq   uint64
	StreamSeq uint64
	Bytes     []byte
}

// Store keeps the trees of every fund in one SQLite file: the leaves (with
// the donor each event concerns, for bundles), every perfect subtree's hash
// and the signed checkpoints.
type Store struct {
	db *sql.DB
	mu sync.Mutex // one appender at a time per process
	// nodeReads counts the node hashes read: a test holds a proof's cost
	// to O(log n) with it.
	nodeReads atomic.Uint64
}

const schema = `
CREATE TABLE IF NOT EXISTS tlog_leaves (
	fund TEXT NOT NULL, fund_seq INTEGER NOT NULL, stream_seq INTEGER NOT NULL,
	event_id TEXT NOT NULL, type TEXT NOT NULL, donor_id TEXT NOT NULL, term_id TEXT NOT NULL,
	bytes BLOB NOT NULL,
	PRIMARY KEY (fund, fund_seq)) STRICT;
CREATE INDEX IF NOT EXISTS tlog_leaves_donor ON tlog_leaves (fund, donor_id, fund_seq);
CREATE TABLE IF NOT EXISTS tlog_nodes (
	fund TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
	PRIMARY KEY (fund, level, idx)) STRICT;
CREATE TABLE IF NOT EXISTS tlog_checkpoints (
	fund TEXT NOT NULL, size INTEGER NOT NULL, note BLOB NOT NULL,
	PRIMARY KEY (fund, size)) STRICT;
`

// Open opens the tree store at path, creating it if needed.
func Open(path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open tree store: invalid path %q", path)
	}
	dsn := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate", path, BusyTimeoutMS)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open tree store %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open tree store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Head is where a fund's tree stands: its size (the last fund_seq), the
// stream sequence and hash of that event.
type Head struct {
	Size      uint64
	StreamSeq uint64
	Hash      string
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Head returns where the fund's tree stands (all zero, Hash ZeroHash, for
// a fund with no leaves).
func (s *Store) Head(ctx context.Context, fund string) (Head, error) {
	return head(ctx, s.db, fund)
}

func head(ctx context.Context, q querier, fund string) (Head, error) {
	var h Head
	var b []byte
	err := q.QueryRowContext(ctx, `SELECT fund_seq, stream_seq, bytes FROM tlog_leaves WHERE fund = ? ORDER BY fund_seq DESC LIMIT 1`, fund).Scan(&h.Size, &h.StreamSeq, &b)
	if errors.Is(err, sql.ErrNoRows) {
		return Head{Hash: events.ZeroHash}, nil
	}
	if err != nil {
		return h, fmt.Errorf("tree head of fund %s: %w", fund, err)
	}
	e, err := events.Decode(b)
	if err != nil {
		return h, fmt.Errorf("tree head of fund %s: %w", fund, err)
	}
	h.Hash = e.Hash
	return h, nil
}

// Append adds leaves to the fund's tree in one transaction. Each must be the
// next event of the fund's chain (fund_seq and prev_hash), with bytes that
// decode: the tree holds the log's order or nothing.
func (s *Store) Append(ctx context.Context, fund string, leaves []Leaf) error {
	if len(leaves) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append to tree of fund %s: %w", fund, err)
	}
	defer tx.Rollback()
	h, err := head(ctx, tx, fund)
	if err != nil {
		return err
	}
	hashes, err := s.nodeHashes(ctx, tx, fund, compact.RangeNodes(0, h.Size, nil))
	if err != nil {
		return err
	}
	rng, err := factory.NewRange(0, h.Size, hashes)
	if err != nil {
		return fmt.Errorf("append to tree of fund %s: %w", fund, err)
	}
	chain := events.Chain{Fund: fund, FundSeq: h.Size, Head: h.Hash}
	var visitErr error
	visit := func(id compact.NodeID, hash []byte) {
		if visitErr == nil {
			_, visitErr = tx.ExecContext(ctx, `INSERT INTO tlog_nodes (fund, level, idx, hash) VALUES (?, ?, ?, ?)`, fund, id.Level, id.Index, hash)
		}
	}
	for _, l := range leaves {
		e, err := events.Decode(l.Bytes)
		if err != nil {
			return fmt.Errorf("append to tree of fund %s at fund_seq %d: %w", fund, l.FundSeq, err)
		}
		if err := chain.Check(e); err != nil {
			return fmt.Errorf("append to tree: %w", err)
		}
		donor, term, err := subject(ctx, tx, e)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tlog_leaves (fund, fund_seq, stream_seq, event_id, type, donor_id, term_id, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			fund, e.FundSeq, l.StreamSeq, e.ID, e.Type, donor, term, l.Bytes); err != nil {
			return fmt.Errorf("append to tree of fund %s: %w", fund, err)
		}
		if err := rng.Append(Hasher.HashLeaf(l.Bytes), visit); err != nil {
			return fmt.Errorf("append to tree of fund %s: %w", fund, err)
		}
		if visitErr != nil {
			return fmt.Errorf("append to tree of fund %s: %w", fund, visitErr)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append to tree of fund %s: %w", fund, err)
	}
	return nil
}

// subject returns the donor and term an event concerns, from its payload's
// donor_id and term_id; empty when it names none. A reversal concerns the
// reversed event's donor and term, read from the reversed leaf.
func subject(ctx context.Context, q querier, e events.Event) (donor, term string, err error) {
	sub := events.SubjectOf(e)
	if e.Type != events.TypeEventReversed {
		return sub.DonorID, sub.TermID, nil
	}
	err = q.QueryRowContext(ctx, `SELECT donor_id, term_id FROM tlog_leaves WHERE fund = ? AND fund_seq = ?`, e.Fund, sub.Reverses).Scan(&donor, &term)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return donor, term, err
}

// nodeHashes reads the hashes of ids, in order; every one must exist.
func (s *Store) nodeHashes(ctx context.Context, q querier, fund string, ids []compact.NodeID) ([][]byte, error) {
	s.nodeReads.Add(uint64(len(ids)))
	out := make([][]byte, len(ids))
	for i, id := range ids {
		if err := q.QueryRowContext(ctx, `SELECT hash FROM tlog_nodes WHERE fund = ? AND level = ? AND idx = ?`, fund, id.Level, id.Index).Scan(&out[i]); err != nil {
			return nil, fmt.Errorf("tree of fund %s: node (%d, %d): %w", fund, id.Level, id.Index, err)
		}
	}
	return out, nil
}

// checkSize refuses a size the fund's tree has not reached.
func (s *Store) checkSize(ctx context.Context, fund string, size uint64) error {
	h, err := s.Head(ctx, fund)
	if err != nil {
		return err
	}
	if size == 0 || size > h.Size {
		return fmt.Errorf("%w: fund %s has a tree of size 1 to %d, not %d", ErrNotFound, fund, h.Size, size)
	}
	return nil
}

// Root returns the root hash of the fund's tree of size leaves.
func (s *Store) Root(ctx context.Context, fund string, size uint64) ([]byte, error) {
	if err := s.checkSize(ctx, fund, size); err != nil {
		return nil, err
	}
	hashes, err := s.nodeHashes(ctx, s.db, fund, compact.RangeNodes(0, size, nil))
	if err != nil {
		return nil, err
	}
	rng, err := factory.NewRange(0, size, hashes)
	if err != nil {
		return nil, err
	}
	return rng.GetRootHash(nil)
}

// InclusionProof returns the audit path of the event at fundSeq in the
// fund's tree of size leaves (leaf index fundSeq-1).
func (s *Store) InclusionProof(ctx context.Context, fund string, fundSeq, size uint64) ([][]byte, error) {
	if err := s.checkSize(ctx, fund, size); err != nil {
		return nil, err
	}
	if fundSeq == 0 || fundSeq > size {
		return nil, fmt.Errorf("%w: fund_seq %d is not in a tree of size %d", ErrNotFound, fundSeq, size)
	}
	nodes, err := proof.Inclusion(fundSeq-1, size)
	if err != nil {
		return nil, err
	}
	return s.rehash(ctx, fund, nodes)
}

// ConsistencyProof returns the proof that the fund's tree of size to
// extends its tree of size from (1 <= from <= to).
func (s *Store) ConsistencyProof(ctx context.Context, fund string, from, to uint64) ([][]byte, error) {
	if err := s.checkSize(ctx, fund, to); err != nil {
		return nil, err
	}
	if from == 0 || from > to {
		return nil, fmt.Errorf("%w: from %d must be 1 to %d", ErrNotFound, from, to)
	}
	nodes, err := proof.Consistency(from, to)
	if err != nil {
		return nil, err
	}
	return s.rehash(ctx, fund, nodes)
}

func (s *Store) rehash(ctx context.Context, fund string, nodes proof.Nodes) ([][]byte, error) {
	hashes, err := s.nodeHashes(ctx, s.db, fund, nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hashes, Hasher.HashChildren)
}

// LeafHash returns RFC 6962's hash of one leaf's bytes.
func LeafHash(b []byte) []byte { return Hasher.HashLeaf(b) }

// RootOf computes the root of a tree over leaves in memory: what a rebuild
// from an export gives. It is for checks, O(n) in time and O(log n) in memory.
func RootOf(leaves [][]byte) ([]byte, error) {
	if len(leaves) == 0 {
		return Hasher.EmptyRoot(), nil
	}
	rng := factory.NewEmptyRange(0)
	for _, b := range leaves {
		if err := rng.Append(Hasher.HashLeaf(b), nil); err != nil {
			return nil, err
		}
	}
	return rng.GetRootHash(nil)
}

// RootFromExport computes the size and root of a fund's tree from an NDJSON
// export of the log (projector export, GET /v1/events): each line is one
// stored event; the fund's lines are its leaves in order, each checked
// (bytes, hash, chain). It keeps O(log n) hashes in memory.
func RootFromExport(r io.Reader, fund string) (uint64, []byte, error) {
	return RootFromExportAt(r, fund, 0)
}

// RootFromExportAt is RootFromExport stopping after the fund's first size
// events (all of them when size is 0); the export may hold more.
func RootFromExportAt(r io.Reader, fund string, size uint64) (uint64, []byte, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), events.MaxEventBytes+1)
	rng := factory.NewEmptyRange(0)
	chain := events.NewChain(fund)
	for line := 1; (size == 0 || rng.End() < size) && sc.Scan(); line++ {
		b := sc.Bytes()
		e, err := events.Decode(b)
		if err != nil {
			return 0, nil, fmt.Errorf("export line %d: %w", line, err)
		}
		if e.Fund != fund {
			continue
		}
		if err := chain.Check(e); err != nil {
			return 0, nil, fmt.Errorf("export line %d: %w", line, err)
		}
		if err := rng.Append(Hasher.HashLeaf(b), nil); err != nil {
			return 0, nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, nil, fmt.Errorf("read export: %w", err)
	}
	if size > 0 && rng.End() < size {
		return rng.End(), nil, fmt.Errorf("%w: the export holds %d events of fund %s, not %d", ErrNotFound, rng.End(), fund, size)
	}
	if rng.End() == 0 {
		return 0, Hasher.EmptyRoot(), nil
	}
	root, err := rng.GetRootHash(nil)
	return rng.End(), root, err
}

// Leaf returns the stored bytes of the fund's event at fundSeq and the
// donor it concerns (empty for none).
func (s *Store) Leaf(ctx context.Context, fund string, fundSeq uint64) ([]byte, string, error) {
	var b []byte
	var donor string
	err := s.db.QueryRowContext(ctx, `SELECT bytes, donor_id FROM tlog_leaves WHERE fund = ? AND fund_seq = ?`, fund, fundSeq).Scan(&b, &donor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("%w: fund %s has no event at fund_seq %d in its tree", ErrNotFound, fund, fundSeq)
	}
	if err != nil {
		return nil, "", fmt.Errorf("leaf %d of fund %s: %w", fundSeq, fund, err)
	}
	return b, donor, nil
}
