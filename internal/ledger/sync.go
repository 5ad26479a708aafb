// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/transparency-dev/tessera"

	"groundtruth/internal/store"
)

// Sync appends every leaf the store holds and the log does not, records
// where each went, and returns once all are durable in the log and covered
// by a published (and archived) checkpoint. Only then may the changes they
// record be acknowledged.
//
// Sync also repairs an interrupted earlier Sync: a leaf that reached the
// log but whose index was not recorded is found in the log and recorded,
// never appended twice. Syncs of several processes take turns.
//
// With a witness file set, Sync refuses to grow a ledger that is behind
// it or not its extension (a *RollbackError): appending to a restored older
// copy would sign a second, different tree of a size already published.
// After the append it moves the witness file forward.
func (l *Ledger) Sync(ctx context.Context, st *store.Store) (*Checkpoint, error) {
	unlock, err := lockFile(filepath.Join(l.dir, syncLock))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := l.CheckWitnessFile(ctx); err != nil {
		return nil, err
	}
	cp, err := l.sync(ctx, st)
	if err != nil {
		return nil, err
	}
	if err := l.advanceWitnessFile(ctx, cp); err != nil {
		return nil, err
	}
	return cp, nil
}

// sync does the work of Sync; the caller holds the sync lock.
func (l *Ledger) sync(ctx context.Context, st *store.Store) (*Checkpoint, error) {
	pending, err := st.PendingLeaves(ctx)
	if err != nil {
		return nil, err
	}
	if len(pending) == 0 {
		return l.Latest()
	}
	w, err := l.openWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer w.close(context.WithoutCancel(ctx))

	// Recover: entries past the last recorded index belong to pending
	// leaves whose append was interrupted before its index was recorded.
	byHash := make(map[string]bool, len(pending))
	for _, p := range pending {
		byHash[p.Hash] = true
	}
	found := map[string]uint64{}
	next, err := st.NextLogIndex(ctx)
	if err != nil {
		return nil, err
	}
	size, err := w.reader.IntegratedSize(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: tree size: %w", err)
	}
	if next < size {
		entries, err := l.Entries(ctx, next, size, size)
		if err != nil {
			return nil, err
		}
		for i, e := range entries {
			if h := LeafHash(e); byHash[h] {
				found[h] = next + uint64(i)
			}
		}
	}

	var futures []tessera.IndexFuture
	var hashes []string
	for _, p := range pending {
		if _, ok := found[p.Hash]; ok {
			continue
		}
		futures = append(futures, w.add(ctx, tessera.NewEntry(p.Leaf)))
		hashes = append(hashes, p.Hash)
	}
	var cpRaw []byte
	for i, f := range futures {
		idx, cp, err := w.awaiter.Await(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("ledger: append: %w", err)
		}
		found[hashes[i]] = idx.Index
		cpRaw = cp
	}
	if err := st.SetLogIndexes(ctx, found); err != nil {
		return nil, err
	}
	if cpRaw == nil {
		// Only recovered leaves: make sure a checkpoint covers them.
		if _, cpRaw, err = w.awaiter.Await(ctx, func() (tessera.Index, error) {
			return tessera.Index{Index: size - 1}, nil
		}); err != nil {
			return nil, fmt.Errorf("ledger: await checkpoint: %w", err)
		}
	}
	return ParseCheckpoint(cpRaw, l.keys.verifier)
}

// lockFile takes an exclusive advisory lock on path, waiting for it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
