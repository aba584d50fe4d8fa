package readmodel

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/tablediff"
)

// Difference is the first difference between two read models: the table,
// the key of the first row that differs (with its fund and fund_seq when the
// row has them) and both values.
type Difference = tablediff.Difference

// Digested is every table of a read model and its digest (tablediff).
type Digested = tablediff.Digested

// DigestTx digests every table of the read snapshot tx.
func DigestTx(ctx context.Context, tx *sql.Tx) (*Digested, error) {
	return tablediff.DigestAll(ctx, tx)
}

// CompareDigested is CompareStores of two snapshots already digested (dA
// of txA's, dB of txB's).
func CompareDigested(ctx context.Context, txA *sql.Tx, dA *Digested, txB *sql.Tx, dB *Digested, nameA, nameB string) (*Difference, error) {
	return tablediff.CompareDigested(ctx, txA, dA, txB, dB, nameA, nameB)
}

// DigestIdle digests every table of a store that nothing writes to
// meanwhile (a replay that has stopped folding) on two read connections at
// once, and returns the first one's snapshot for CompareDigested; the
// caller rolls it back.
func (s *Store) DigestIdle(ctx context.Context) (*sql.Tx, *Digested, error) {
	txA, err := s.Snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	txB, err := s.Snapshot(ctx)
	if err != nil {
		txA.Rollback()
		return nil, nil, err
	}
	defer txB.Rollback()
	d, err := tablediff.DigestAll(ctx, txA, txB)
	if err != nil {
		txA.Rollback()
		return nil, nil, fmt.Errorf("read %s: %w", s.path, err)
	}
	return txA, d, nil
}

// BeginRead begins a read-only transaction on the query pool; its error is
// the driver's, unwrapped. The caller rolls it back.
func (s *Store) BeginRead(ctx context.Context) (*sql.Tx, error) {
	return s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
}

// Snapshot begins a read-only transaction on the read model: one consistent
// view of every table. The caller rolls it back.
func (s *Store) Snapshot(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.BeginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.path, err)
	}
	return tx, nil
}

// SnapshotAtCheckpoint opens a read snapshot and reads the checkpoint in
// it. SQLite fixes a read transaction's snapshot at its first read, so the
// checkpoint is the one every later read of the transaction agrees with.
func (s *Store) SnapshotAtCheckpoint(ctx context.Context) (*sql.Tx, uint64, error) {
	tx, err := s.Snapshot(ctx)
	if err != nil {
		return nil, 0, err
	}
	cp, err := s.readCheckpoint(ctx, tx)
	if err != nil {
		tx.Rollback()
		return nil, 0, fmt.Errorf("read %s: %w", s.path, err)
	}
	return tx, cp, nil
}

// Digests returns, for every table of the read model, the SHA-256 (hex) of
// its column names and of its rows in primary-key order, each value
// written with its type. Two read models built from the same events have
// the same digests. All tables are read in one snapshot.
func (s *Store) Digests(ctx context.Context) (map[string]string, error) {
	tx, err := s.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return tablediff.Digests(ctx, tx)
}

// CompareStores compares two read models table by table (in name order)
// and returns the first difference: the table, the key of the first row
// that differs and both values (a's and b's), or nil when every table is
// identical. Each store is read in one snapshot.
func CompareStores(ctx context.Context, a, b *Store) (*Difference, error) {
	return compareStores(ctx, a, b, "a", "b")
}

func compareStores(ctx context.Context, a, b *Store, nameA, nameB string) (*Difference, error) {
	txA, err := a.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer txA.Rollback()
	txB, err := b.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer txB.Rollback()
	return tablediff.Compare(ctx, txA, txB, nameA, nameB)
}
