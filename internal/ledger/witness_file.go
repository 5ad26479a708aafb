// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	mproof "github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
)

// A rollback (an older copy of the database and the ledger restored
// together) leaves a data directory that is consistent with itself: every
// check that reads only the data directory passes. It shows only against a
// checkpoint kept where the restore did not reach. The witness file is the
// one kept by groundtruth itself: the largest checkpoint this ledger ever
// had, written outside the data directory (by default in the user's state
// directory), and moved only forward, each step proved consistent with the
// one before. Witnesses run by other organisations (witness.go) do the same
// with cosignatures.
//
// Invariant: the witness file only ever holds a checkpoint signed by the
// ledger's key, and each checkpoint written to it is consistent with the
// one it replaces.

// RollbackError reports a ledger smaller than, or not an extension of, a
// tree that a witness saw earlier.
type RollbackError struct {
	Witness      string // who saw the tree: "witness file PATH" or "witness NAME"
	Seen         uint64 // size of the tree the witness saw
	Have         uint64 // size of the ledger's published tree
	Inconsistent bool   // the ledger is not an extension of the tree seen
}

func (e *RollbackError) Error() string {
	if e.Inconsistent {
		return fmt.Sprintf("ledger rewritten: the ledger here (%d entries) is not an extension of the tree of %d entries that %s saw: restore the newest copy of the data directory", e.Have, e.Seen, e.Witness)
	}
	return fmt.Sprintf("ledger rolled back: %s saw a tree of %d entries, the ledger here holds %d: an older copy of the data directory was restored; restore the newest copy", e.Witness, e.Seen, e.Have)
}

// SetWitnessFile names the file that keeps the largest checkpoint this
// ledger has had. An empty path turns the check off. Sync refuses to grow
// a ledger that is behind the file and moves the file forward after each
// sync; CheckWitnessFile compares the ledger with it.
func (l *Ledger) SetWitnessFile(path string) { l.witnessFile = path }

// WitnessFile returns the path set with SetWitnessFile.
func (l *Ledger) WitnessFile() string { return l.witnessFile }

// readWitnessFile returns the checkpoint the witness file holds, or nil
// when there is no file yet.
func (l *Ledger) readWitnessFile() (*Checkpoint, error) {
	raw, err := os.ReadFile(l.witnessFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: read witness file: %w", err)
	}
	cp, err := ParseCheckpoint(raw, l.keys.verifier)
	if err != nil {
		return nil, fmt.Errorf("ledger: witness file %s: %w: it is not this ledger's; point GROUNDTRUTH_WITNESS_FILE elsewhere", l.witnessFile, err)
	}
	return cp, nil
}

// CheckWitnessFile compares the published checkpoint with the witness
// file. It returns the witnessed checkpoint (nil if there is none yet) and
// a *RollbackError when the ledger is behind it or not its extension.
func (l *Ledger) CheckWitnessFile(ctx context.Context) (*Checkpoint, error) {
	if l.witnessFile == "" {
		return nil, nil
	}
	seen, err := l.readWitnessFile()
	if err != nil || seen == nil {
		return nil, err
	}
	cur, err := l.Latest()
	if err != nil {
		return seen, err
	}
	return seen, l.extends(ctx, cur, seen, "witness file "+l.witnessFile)
}

// advanceWitnessFile writes cur to the witness file if it is larger than
// what the file holds and consistent with it. The caller holds the sync
// lock, so that two processes never move the file past each other.
func (l *Ledger) advanceWitnessFile(ctx context.Context, cur *Checkpoint) error {
	if l.witnessFile == "" || cur == nil {
		return nil
	}
	seen, err := l.readWitnessFile()
	if err != nil {
		return err
	}
	if seen != nil {
		if err := l.extends(ctx, cur, seen, "witness file "+l.witnessFile); err != nil {
			return err
		}
		if seen.Size >= cur.Size {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(l.witnessFile), 0o700); err != nil {
		return fmt.Errorf("ledger: witness file: %w", err)
	}
	if err := writeFileSync(l.witnessFile, cur.Raw, 0o600); err != nil {
		return fmt.Errorf("ledger: write witness file: %w", err)
	}
	return syncDir(filepath.Dir(l.witnessFile))
}

// extends returns a *RollbackError unless the tree of cur extends the
// tree of seen, proved from the log's tiles. who names the witness.
func (l *Ledger) extends(ctx context.Context, cur, seen *Checkpoint, who string) error {
	var have uint64
	if cur != nil {
		have = cur.Size
	}
	if have < seen.Size {
		return &RollbackError{Witness: who, Seen: seen.Size, Have: have}
	}
	proof, err := l.consistency(ctx, seen.Size, cur.Size)
	if err == nil {
		err = mproof.VerifyConsistency(rfc6962.DefaultHasher, seen.Size, cur.Size, proof, seen.Root, cur.Root)
	}
	if err != nil {
		return &RollbackError{Witness: who, Seen: seen.Size, Have: have, Inconsistent: true}
	}
	return nil
}

// consistency returns the proof that the tree of size from is a prefix of
// the log's tree of size to, read from the tiles. It does not check it.
func (l *Ledger) consistency(ctx context.Context, from, to uint64) ([][]byte, error) {
	if from == 0 || from == to {
		return nil, nil
	}
	pb, err := client.NewProofBuilder(ctx, to, l.fetchTile)
	if err != nil {
		return nil, fmt.Errorf("ledger: proof builder: %w", err)
	}
	p, err := pb.ConsistencyProof(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("ledger: consistency proof %d → %d: %w", from, to, err)
	}
	return p, nil
}
