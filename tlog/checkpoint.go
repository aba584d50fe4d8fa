package tlog

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// MaxNoteBytes bounds a signed checkpoint read from outside (a file, an
// answer): a checkpoint is three short lines and a few signatures.
const MaxNoteBytes = 16 << 10

// DefaultOriginPrefix makes a fund's origin when none is configured: the
// origin names the log, and every fund is a log of its own.
const DefaultOriginPrefix = "uil.unesco.org/mdfm-ledger/"

// DefaultOrigin is the origin of a fund's checkpoints when --origin is not
// given.
func DefaultOrigin(fund string) string { return DefaultOriginPrefix + fund }

// GenerateKey makes a new Ed25519 signing key named name and returns the
// signer key (secret, "PRIVATE+KEY+…") and the verifier key
// ("<name>+<key hash>+<key>") in the note format.
func GenerateKey(name string) (skey, vkey string, err error) {
	if name == "" || strings.ContainsAny(name, "+ \t\n") {
		return "", "", fmt.Errorf("key name %q: want a non-empty name without '+' or spaces", name)
	}
	return note.GenerateKey(rand.Reader, name)
}

// Signer signs the checkpoints of one fund's tree.
type Signer struct {
	Origin string
	signer note.Signer
}

// NewSigner returns a signer of checkpoints with origin from a signer key
// (as GenerateKey makes it).
func NewSigner(skey, origin string) (*Signer, error) {
	if origin == "" || strings.ContainsAny(origin, "\n") {
		return nil, fmt.Errorf("origin %q: want one non-empty line", origin)
	}
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return &Signer{Origin: origin, signer: s}, nil
}

// KeyName is the name of the signing key, as the signature lines carry it.
func (s *Signer) KeyName() string { return s.signer.Name() }

// Sign returns the signed note of the checkpoint of a tree of size leaves
// with root hash root.
func (s *Signer) Sign(size uint64, root []byte) ([]byte, error) {
	body := log.Checkpoint{Origin: s.Origin, Size: size, Hash: root}.Marshal()
	return note.Sign(&note.Note{Text: string(body)}, s.signer)
}

// Checkpoint is a checkpoint that verified: its fields and the signed note.
type Checkpoint struct {
	log.Checkpoint
	KeyName string
	Note    []byte
}

// OpenCheckpoint checks a signed checkpoint against a verifier key: the
// signature of that key, and a body that is a checkpoint (origin, size,
// base64 root). It says which part failed.
func OpenCheckpoint(msg []byte, vkey string) (Checkpoint, error) {
	if len(msg) > MaxNoteBytes {
		return Checkpoint{}, fmt.Errorf("checkpoint: %d bytes, limit %d", len(msg), MaxNoteBytes)
	}
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("verifier key: %w", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	// note.Open decodes base64 leniently: a signature whose last character
	// differs only in its unused bits decodes to the same bytes. The bytes
	// of a checkpoint are its identity (a donor keeps and compares them),
	// so only the canonical spelling is taken.
	for _, sig := range append(n.Sigs, n.UnverifiedSigs...) {
		raw, err := base64.StdEncoding.Strict().DecodeString(sig.Base64)
		if err != nil || base64.StdEncoding.EncodeToString(raw) != sig.Base64 {
			return Checkpoint{}, fmt.Errorf("checkpoint signature of %s: not canonical base64", sig.Name)
		}
	}
	var cp log.Checkpoint
	rest, err := cp.Unmarshal([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint body: %w", err)
	}
	if len(rest) > 0 {
		return Checkpoint{}, errors.New("checkpoint body: extension lines are not expected")
	}
	if len(cp.Hash) != Hasher.Size() {
		return Checkpoint{}, fmt.Errorf("checkpoint body: root of %d bytes, want %d", len(cp.Hash), Hasher.Size())
	}
	return Checkpoint{Checkpoint: cp, KeyName: v.Name(), Note: msg}, nil
}

// SaveCheckpoint keeps the signed checkpoint of the fund's tree of size
// leaves. A size already kept keeps its first note: a log signs one root
// per size, and a second different one would be a fork.
func (s *Store) SaveCheckpoint(ctx context.Context, fund string, size uint64, msg []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tlog_checkpoints (fund, size, note) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, fund, size, msg)
	if err != nil {
		return fmt.Errorf("save checkpoint of fund %s size %d: %w", fund, size, err)
	}
	return nil
}

// Checkpoint returns the signed checkpoint of the fund's tree of size
// leaves, or the latest when size is 0. ErrNotFound when none was signed.
func (s *Store) Checkpoint(ctx context.Context, fund string, size uint64) (size2 uint64, msg []byte, err error) {
	q := `SELECT size, note FROM tlog_checkpoints WHERE fund = ? AND size = ?`
	args := []any{fund, size}
	if size == 0 {
		q, args = `SELECT size, note FROM tlog_checkpoints WHERE fund = ? ORDER BY size DESC LIMIT 1`, []any{fund}
	}
	err = s.db.QueryRowContext(ctx, q, args...).Scan(&size2, &msg)
	if errors.Is(err, sql.ErrNoRows) {
		if size == 0 {
			return 0, nil, fmt.Errorf("%w: fund %s has no signed checkpoint yet", ErrNotFound, fund)
		}
		return 0, nil, fmt.Errorf("%w: fund %s has no checkpoint of size %d", ErrNotFound, fund, size)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("checkpoint of fund %s: %w", fund, err)
	}
	return size2, msg, nil
}

// Checkpoints returns the sizes of the fund's signed checkpoints, in order.
func (s *Store) Checkpoints(ctx context.Context, fund string) ([]uint64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT size FROM tlog_checkpoints WHERE fund = ? ORDER BY size`, fund)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var n uint64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// ParseCheckpoint reads a checkpoint this server signed, without a
// verifier key: its body and the name of its first signature's key. It is
// for naming a checkpoint (on a statement), never for trusting one: a
// check uses OpenCheckpoint.
func ParseCheckpoint(msg []byte) (Checkpoint, error) {
	text, sigs, ok := strings.Cut(string(msg), "\n\n")
	if !ok {
		return Checkpoint{}, errors.New("checkpoint: no signature")
	}
	var cp log.Checkpoint
	if _, err := cp.Unmarshal([]byte(text + "\n")); err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint body: %w", err)
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(sigs, "— "), " ")
	return Checkpoint{Checkpoint: cp, KeyName: name, Note: msg}, nil
}
