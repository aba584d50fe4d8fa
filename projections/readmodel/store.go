// Package readmodel folds the ledger's events into a SQLite read model:
// the index of the log, the entities of each fund, the postings of the two
// books and the memo accounts, and the checkpoint that says how far the
// model has read. It compares two read models table by table. The
// projector loop that feeds it is package projector; the reports read it
// in package projections; replay and verify are package audit.
//
// One SQLite file per projector: WAL, STRICT tables, money as INTEGER minor
// units, one writer connection. Each batch of events is one transaction that
// also writes the checkpoint and the heads of the funds' hash chains, so that
// after a crash the projector resumes at checkpoint+1 and ends exactly where a
// fresh replay ends.
package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/progress"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/sqlstmt"
)

// Limits and timings of the store.
const (
	// BusyTimeoutMS is how long a connection waits for a lock another
	// connection (or process) holds before it fails with SQLITE_BUSY.
	BusyTimeoutMS = 5000
	// MaxReadConns bounds the read pool.
	MaxReadConns = 8
	// MaxBatchEvents bounds the events of one transaction of the live
	// projector (Run). It matches the stream's atomic batch limit and the
	// consumer's pull size.
	MaxBatchEvents = 1000
	// ReplayBatchEvents bounds the events of one transaction of a bounded
	// read (CatchUp: a rebuild, a verify, a catch-up). Each transaction
	// first copies every page it changes to the rollback journal (or the
	// WAL), and a batch of events touches the same hot index pages: eight
	// times fewer transactions took the rebuild of 1,000,000 events from
	// 131 to 112 s (issue 10, docs/performance.md).
	ReplayBatchEvents = 8000
	// waitPollInterval is how often WaitFor rereads the checkpoint, for the
	// case where another process writes the file.
	waitPollInterval = 50 * time.Millisecond
)

// Store is a read model in one SQLite file. Its methods are safe for
// concurrent use; ApplyBatch calls are serialised.
type Store struct {
	path    string
	scratch bool    // opened by OpenScratch
	write   *sql.DB // one connection: SQLite has one writer anyway
	read    *sql.DB // the query pool; read-only connections

	applyMu  sync.Mutex      // one ApplyBatch at a time
	stmts    sqlstmt.Cache   // the fold's statements, under applyMu
	deferred []deferredIndex // a rebuild's indexes, made by persist
	// totals, in a rebuild or a replay, holds the running totals and the
	// monthly checkpoints, written once by persist or MakeTotals
	// (deferredTotals); nil otherwise.
	totals *deferredTotals

	// beforeCommit, when set, is called with the stream sequence a batch
	// ends at after its rows are written and before its transaction
	// commits: the one place where a crash loses a whole batch. Tests use
	// it to stop a projector there (see HaltBeforeCommit).
	beforeCommit func(last uint64)

	mu         sync.Mutex
	checkpoint uint64        // last committed stream seq, as this process knows it
	changed    chan struct{} // closed and replaced after each commit
}

// NewEventError is the *EventError of event e refused for err, for
// readers of the log that check events before they reach ApplyBatch.
func NewEventError(e events.Event, err error) *EventError { return eventError(e, err) }

// Remove removes a read model's SQLite file and its WAL, shared-memory
// and rollback journal files: what a rebuild that failed wrote.
func Remove(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		os.Remove(p)
	}
}

// WriteCacheKiB is the page cache of a live read model's writer
// connection. SQLite's default (2 MiB) made a fold of a large log read the
// same index pages from the file again and again.
const WriteCacheKiB = 64 << 10

// ScratchWriteCacheKiB is the page cache of a scratch store's writer (a
// rebuild, an audit's replay). The process's peak grew by about four times
// the cache's size in the driver's C heap (measured; why, not found): at
// 1,000,000 events a rebuild and an audit held 130 MB more with 64 MiB than
// with 32, and folded no faster (docs/performance.md).
const ScratchWriteCacheKiB = 32 << 10

// dsn is the connection string of a read model's writer (write) or reader.
// A scratch writer never syncs: its file is thrown away unless it is
// complete (see OpenScratch). Its rollback journal is a file (the OS keeps
// it in memory, unsynced) rather than journal_mode MEMORY, whose copy of
// every page a batch changes is allocated and freed page by page in
// SQLite's heap: that cost grew with the read model, and made the fold of
// a long history ever slower (issue 10, docs/performance.md).
func dsn(path string, write, scratch bool) string {
	var q []string
	q = append(q, fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeoutMS))
	switch {
	case write && scratch:
		q = append(q,
			"_pragma=journal_mode(DELETE)",
			"_pragma=synchronous(OFF)",
			fmt.Sprintf("_pragma=cache_size(-%d)", ScratchWriteCacheKiB),
			"_txlock=immediate",
		)
	case write:
		q = append(q,
			"_pragma=journal_mode(WAL)",
			"_pragma=synchronous(NORMAL)",
			fmt.Sprintf("_pragma=cache_size(-%d)", WriteCacheKiB),
			"_txlock=immediate",
		)
	default:
		q = append(q, "_pragma=query_only(1)")
	}
	return path + "?" + strings.Join(q, "&")
}

// Open opens the read model at path, creating the file and its schema if it
// does not exist and migrating an older schema forward. A file written by a
// newer projector (a schema version this code does not know) is refused.
func Open(path string) (*Store, error) { return open(path, false) }

// OpenScratch opens a new read model at path for a replay whose file is
// removed if the replay does not finish (a rebuild, an audit): without a
// journal on disk or a sync it folds faster, and a crash can leave the file
// corrupt, which is why the live read model never runs so. Persist makes a
// finished one an ordinary read model.
func OpenScratch(path string) (*Store, error) { return open(path, true) }

func open(path string, scratch bool) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		// The driver splits the DSN at '?'.
		return nil, fmt.Errorf("open read model: invalid path %q", path)
	}
	w, err := sql.Open("sqlite", dsn(path, true, scratch))
	if err != nil {
		return nil, fmt.Errorf("open read model %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(context.Background(), w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open read model %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, false, false))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open read model %s: %w", path, err)
	}
	r.SetMaxOpenConns(MaxReadConns)
	s := &Store{path: path, scratch: scratch, write: w, read: r, changed: make(chan struct{})}
	cp, err := s.readCheckpoint(context.Background(), w)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open read model %s: %w", path, err)
	}
	s.checkpoint = cp
	return s, nil
}

// RebuildAt replays into a new read model at path: fill folds into a
// scratch store (OpenScratch) in a file of its own next to path, which
// becomes path only once fill has succeeded and the file is a WAL read model
// synced to disk. A rebuild that fails or is killed never leaves a file at
// path, and a file made at path meanwhile is not overwritten (an error).
// On failure the scratch file is removed.
func RebuildAt(ctx context.Context, path string, fill func(*Store) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".rebuild-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		if err != nil {
			Remove(tmp)
		}
	}()
	s, err := OpenScratch(tmp)
	if err != nil {
		return err
	}
	if err := s.deferIndexes(context.Background()); err != nil {
		return errors.Join(err, s.Close())
	}
	s.totals = &deferredTotals{}
	if err := fill(s); err != nil {
		return errors.Join(err, s.Close())
	}
	if err := s.persist(ctx); err != nil {
		return errors.Join(err, s.Close())
	}
	if err := s.Close(); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	// Link, unlike Rename, fails where path exists.
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return os.Remove(tmp)
}

// persist turns a scratch store into an ordinary read model: WAL journal,
// all it holds written and synced. It tells its steps to ctx's report
// (progress.Step).
func (s *Store) persist(ctx context.Context) error {
	progress.Step(ctx, "writing the running totals")
	s.applyMu.Lock()
	err := s.makeDeferredTotals(ctx)
	// No statement open while the journal changes.
	err = errors.Join(err, s.stmts.Close())
	s.applyMu.Unlock()
	if err != nil {
		return fmt.Errorf("persist read model %s: %w", s.path, err)
	}
	if err := s.makeDeferredIndexes(ctx); err != nil {
		return fmt.Errorf("persist read model %s: %w", s.path, err)
	}
	progress.Step(ctx, "switching the file to a WAL journal")
	for _, q := range []string{`PRAGMA synchronous = FULL`, `PRAGMA journal_mode = WAL`} {
		if _, err := s.write.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("persist read model %s: %s: %w", s.path, q, err)
		}
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// migrate brings the schema to the last version, one transaction per step.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		id      INTEGER PRIMARY KEY CHECK (id = 1),
		version INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	for {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var v int
		err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE id = 1`).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			v, err = 0, nil
		}
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > len(migrations) {
			tx.Rollback()
			return fmt.Errorf("schema version %d is newer than this projector knows (%d)", v, len(migrations))
		}
		if v == len(migrations) {
			return tx.Rollback()
		}
		if _, err := tx.ExecContext(ctx, seqtotals.Expand(migrations[v])); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (id, version) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version`, v+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
		}
	}
}

// SchemaVersion is the schema version this code writes.
func SchemaVersion() int { return len(migrations) }

// Path returns the file of the read model.
func (s *Store) Path() string { return s.path }

// Close closes both connection pools.
func (s *Store) Close() error {
	s.applyMu.Lock()
	err := s.stmts.Close()
	s.applyMu.Unlock()
	return errors.Join(err, s.read.Close(), s.write.Close())
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) readCheckpoint(ctx context.Context, q querier) (uint64, error) {
	var seq int64
	if err := q.QueryRowContext(ctx, `SELECT stream_seq FROM checkpoint WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	return uint64(seq), nil
}

// Checkpoint returns the stream sequence of the last event applied: the
// projector resumes after it. It reads the file, so it sees batches
// committed by another process too.
func (s *Store) Checkpoint(ctx context.Context) (uint64, error) {
	return s.readCheckpoint(ctx, s.read)
}

// WaitFor blocks until the checkpoint is at least streamSeq or ctx ends, and
// then returns ctx's error. A batch applied by this Store wakes it at once;
// a batch applied by another process is seen within waitPollInterval.
func (s *Store) WaitFor(ctx context.Context, streamSeq uint64) error {
	var tick *time.Ticker
	for {
		s.mu.Lock()
		cp, ch := s.checkpoint, s.changed
		s.mu.Unlock()
		if cp >= streamSeq {
			return nil
		}
		if tick == nil {
			tick = time.NewTicker(waitPollInterval)
			defer tick.Stop()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			cp, err := s.Checkpoint(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
			s.advance(cp)
		}
	}
}

// advance records a committed checkpoint and wakes the waiters.
func (s *Store) advance(cp uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cp <= s.checkpoint {
		return
	}
	s.checkpoint = cp
	close(s.changed)
	s.changed = make(chan struct{})
}

// FundHead is where a fund's hash chain stands: its last event's fund_seq
// and hash, and that event's stream sequence.
type FundHead struct {
	FundSeq   uint64 `json:"fund_seq"`
	ChainHead string `json:"chain_head"`
	StreamSeq uint64 `json:"stream_seq"`
}

// FundHeads returns the head of every fund the read model has seen.
func (s *Store) FundHeads(ctx context.Context) (map[string]FundHead, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT fund, fund_seq, chain_head, stream_seq FROM fund_heads ORDER BY fund`)
	if err != nil {
		return nil, fmt.Errorf("read fund heads: %w", err)
	}
	defer rows.Close()
	out := map[string]FundHead{}
	for rows.Next() {
		var (
			fund       string
			fseq, sseq int64
			head       string
		)
		if err := rows.Scan(&fund, &fseq, &head, &sseq); err != nil {
			return nil, fmt.Errorf("read fund heads: %w", err)
		}
		out[fund] = FundHead{FundSeq: uint64(fseq), ChainHead: head, StreamSeq: uint64(sseq)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read fund heads: %w", err)
	}
	return out, nil
}

// Commands calls fn for each command of ids that the read model holds
// events of in fund, with its command hash, its events in order and the
// stream sequence of the last. The writer asks it, a group of commands at
// a time, about command ids too old to keep in memory
// (ledger.Options.Commands).
func (s *Store) Commands(ctx context.Context, fund string, ids []string, fn func(id, hash string, refs []events.Ref, streamSeq uint64)) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, fund)
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT command_id, command_hash, id, type, fund_seq, hash, stream_seq FROM events
		WHERE fund = ? AND command_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY command_id, fund_seq`, args...)
	if err != nil {
		return fmt.Errorf("read commands: %w", err)
	}
	defer rows.Close()
	var (
		cur, hash string
		refs      []events.Ref
		last      uint64
	)
	flush := func() {
		if refs != nil {
			fn(cur, hash, refs, last)
		}
	}
	for rows.Next() {
		var (
			id, h string
			r     events.Ref
			seq   int64
		)
		if err := rows.Scan(&id, &h, &r.ID, &r.Type, &r.FundSeq, &r.Hash, &seq); err != nil {
			return fmt.Errorf("read commands: %w", err)
		}
		if id != cur {
			flush()
			cur, hash, refs = id, h, nil
		}
		refs = append(refs, r)
		last = uint64(seq)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read commands: %w", err)
	}
	flush()
	return nil
}
