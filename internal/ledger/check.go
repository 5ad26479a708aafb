// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/fsck"

	"groundtruth/internal/store"
)

// Check audits the log against itself and against the store, and returns
// each problem found as one line naming what is wrong. It checks:
//
//   - the published checkpoint and every archived one carry a valid
//     signature of the log's key, and no two archived checkpoints share a
//     tree size;
//   - the tree recomputed from the log's entries has, at every archived
//     size and at the published size, the root the checkpoint states, so
//     that all checkpoints are mutually consistent;
//   - every tile the log holds equals the tile recomputed from the entries;
//   - the archive and the published checkpoint reach as far as the log and
//     the store do (no rollback);
//   - every leaf the store holds is the log entry at its recorded index,
//     and every entry has its leaf;
//   - every original and every record has a leaf, and the latest leaf
//     commits to what the store holds now: a row changed behind
//     groundtruth's back no longer matches;
//   - each subject's leaves form an unbroken chain;
//   - every history row has its leaf and every record leaf its history
//     row (checkHistory);
//   - every user, API token and access-log entry has its leaf, matches
//     it, and no leaf's row is missing (checkAccounts).
func (l *Ledger) Check(ctx context.Context, st *store.Store) ([]string, error) {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	// No append runs while the log is checked. Changes committed during
	// the check by another process are told apart by reading in this
	// order: the highest leaf first, then the rows, then the leaves, so
	// that every row read has its leaf and leaves past maxSeq are ignored.
	unlock, err := lockFile(filepath.Join(l.dir, syncLock))
	if err != nil {
		return nil, err
	}
	defer unlock()
	maxSeq, err := st.MaxLeafSeq(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := readRows(ctx, st)
	if err != nil {
		return nil, err
	}
	accounts, err := readAccountRows(ctx, st)
	if err != nil {
		return nil, err
	}
	next, err := st.NextLogIndex(ctx)
	if err != nil {
		return nil, err
	}
	entries, err := l.checkLog(ctx, next, add)
	if err != nil {
		return nil, err
	}
	all, err := st.Leaves(ctx)
	if err != nil {
		return nil, err
	}
	var leaves []store.LeafRow
	for _, lr := range all {
		if lr.Seq <= maxSeq {
			leaves = append(leaves, lr)
		}
	}
	checkLeaves(leaves, entries, add)
	l.checkCommitments(rows, recordLeaves(leaves), add)
	checkHistory(rows.history, all, maxSeq, add)
	l.checkAccounts(accounts, all, maxSeq, add)
	return problems, nil
}

// rows is what the store holds that leaves commit to.
type rows struct {
	blobs   []store.Blob
	records []store.RawRecord
	history []store.RawVersion
}

func readRows(ctx context.Context, st *store.Store) (*rows, error) {
	var r rows
	var err error
	if r.blobs, err = st.Blobs(ctx); err != nil {
		return nil, err
	}
	if r.records, err = st.RawRecords(ctx); err != nil {
		return nil, err
	}
	if r.history, err = st.RawHistory(ctx); err != nil {
		return nil, err
	}
	return &r, nil
}

// checkRoots compares each checkpoint's root with the root of the same
// number of leading entries.
func checkRoots(entries [][]byte, cps []*Checkpoint, add func(string, ...any)) {
	var list []*Checkpoint
	for _, cp := range cps {
		if cp != nil {
			list = append(list, cp)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Size < list[j].Size })
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := rf.NewEmptyRange(0)
	i := 0
	for _, cp := range list {
		if cp.Size > uint64(len(entries)) {
			add("checkpoint of size %d: the log holds only %d entries", cp.Size, len(entries))
			continue
		}
		for ; uint64(i) < cp.Size; i++ {
			if err := r.Append(rfc6962.DefaultHasher.HashLeaf(entries[i]), nil); err != nil {
				add("recompute tree: %v", err)
				return
			}
		}
		root := rfc6962.DefaultHasher.EmptyRoot()
		if cp.Size > 0 {
			var err error
			if root, err = r.GetRootHash(nil); err != nil {
				add("recompute tree: %v", err)
				return
			}
		}
		if !bytes.Equal(root, cp.Root) {
			add("checkpoint of size %d: its root %x is not the root %x of the log's first %d entries", cp.Size, cp.Root, root, cp.Size)
		}
	}
}

// checkTiles re-derives every tile from the entry bundles (Tessera's fsck).
func (l *Ledger) checkTiles(ctx context.Context) error {
	hasher := func(b []byte) ([][]byte, error) {
		var eb api.EntryBundle
		if err := eb.UnmarshalText(b); err != nil {
			return nil, err
		}
		out := make([][]byte, len(eb.Entries))
		for i, e := range eb.Entries {
			out[i] = rfc6962.DefaultHasher.HashLeaf(e)
		}
		return out, nil
	}
	f := fsck.New(l.Origin(), l.keys.verifier, fetcher{l}, hasher, fsck.Opts{N: 2})
	return f.Check(ctx)
}

type fetcher struct{ l *Ledger }

func (f fetcher) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return f.l.readCheckpointFile(ctx)
}
func (f fetcher) ReadTile(ctx context.Context, l, i uint64, p uint8) ([]byte, error) {
	return f.l.fetchTile(ctx, l, i, p)
}
func (f fetcher) ReadEntryBundle(ctx context.Context, i uint64, p uint8) ([]byte, error) {
	return f.l.fetchBundle(ctx, i, p)
}

// checkLeaves matches the store's leaves with the log's entries.
func checkLeaves(leaves []store.LeafRow, entries [][]byte, add func(string, ...any)) {
	held := make([]bool, len(entries))
	last := map[string]string{} // subject → hash of its latest leaf
	for _, lr := range leaves {
		what := describe(lr)
		switch {
		case lr.Index < 0:
			// Committed by a change still being acknowledged: verify
			// completed every earlier pending leaf before checking.
		case entries == nil:
		case lr.Index >= int64(len(entries)):
			add("%s: its leaf is recorded at log index %d, beyond the log's %d entries", what, lr.Index, len(entries))
		case !bytes.Equal(entries[lr.Index], lr.Leaf):
			add("%s: log entry %d differs from the leaf the database holds", what, lr.Index)
		default:
			held[lr.Index] = true
		}
		if pl, err := ParseLeaf(lr.Leaf); err != nil {
			add("%s: leaf seq %d: %v", what, lr.Seq, err)
		} else if pl.Prev != last[lr.Subject] {
			add("%s: leaf seq %d does not follow the subject's previous leaf", what, lr.Seq)
		}
		last[lr.Subject] = lr.Hash
	}
	for i, ok := range held {
		if !ok && entries != nil {
			add("log entry %d: no leaf in the database matches it", i)
		}
	}
}

func describe(lr store.LeafRow) string {
	if lr.Kind == store.BlobKind {
		return "original " + lr.Ref
	}
	return lr.Kind + " " + lr.Ref
}

// checkCommitments checks the store's rows against the leaves: every
// original and record has a leaf; the latest leaf commits to what the row
// holds now, retired or not; every history version with a leaf matches its
// content and its who and why; and every leaf's row still exists, so that
// a row deleted behind groundtruth's back is named.
func (l *Ledger) checkCommitments(rows *rows, leaves []store.LeafRow, add func(string, ...any)) {
	latest := map[string]Leaf{}
	byVersion := map[string]Leaf{}
	for _, lr := range leaves {
		leaf, err := ParseLeaf(lr.Leaf)
		if err != nil {
			continue // reported by checkLeaves
		}
		latest[lr.Kind+"\x00"+lr.Ref] = leaf
		byVersion[fmt.Sprintf("%s\x00%s\x00%d", lr.Kind, lr.Ref, lr.Version)] = leaf
	}
	exists := map[string]bool{}
	for _, b := range rows.blobs {
		exists[store.BlobKind+"\x00"+b.SHA256] = true
		leaf, ok := latest[store.BlobKind+"\x00"+b.SHA256]
		if !ok {
			add("original %s: no ledger leaf", b.SHA256)
			continue
		}
		k := l.ItemKeyOf(b.SHA256)
		subject, _ := ItemSubject(k, b.SHA256)
		if leaf.Subject != subject || leaf.Content != ItemContent(k, b.Size, b.MediaType) {
			add("original %s: the database row (size %d, %s) does not match its ledger leaf", b.SHA256, b.Size, b.MediaType)
		}
	}
	for _, r := range rows.records {
		exists[r.Kind+"\x00"+r.Slug] = true
		leaf, ok := latest[r.Kind+"\x00"+r.Slug]
		if !ok {
			add("%s %s: no ledger leaf", r.Kind, r.Slug)
			continue
		}
		if leaf.Version != r.Version || leaf.Content != l.RecordContentOf(r.Kind, r.Slug, r.Version, r.Body) {
			add("%s %s: the database row (version %d) does not match its latest ledger leaf: changed outside groundtruth", r.Kind, r.Slug, r.Version)
		} else if leaf.Event != string(store.Backfilled) && (leaf.Event == string(store.Retired)) != r.Retired {
			add("%s %s: retired in the database but not in the ledger, or the reverse: changed outside groundtruth", r.Kind, r.Slug)
		}
	}
	for _, v := range rows.history {
		leaf, ok := byVersion[fmt.Sprintf("%s\x00%s\x00%d", v.Kind, v.Slug, v.Version)]
		if !ok {
			continue // versions written before the ledger existed
		}
		if leaf.Content != l.RecordContentOf(v.Kind, v.Slug, v.Version, v.Body) {
			add("%s %s: history version %d does not match its ledger leaf: changed outside groundtruth", v.Kind, v.Slug, v.Version)
		} else if leaf.Change != "" && leaf.Change != l.recordChangeOf(v.Kind, v.Slug, v.Version, v.By, v.Reason) {
			add("%s %s: who or why of history version %d does not match its ledger leaf: changed outside groundtruth", v.Kind, v.Slug, v.Version)
		}
	}
	for key := range latest {
		if !exists[key] {
			kind, ref, _ := strings.Cut(key, "\x00")
			if kind == store.BlobKind {
				add("original %s: it has ledger leaves but no database row: deleted outside groundtruth", ref)
			} else {
				add("%s %s: it has ledger leaves but no database row: deleted outside groundtruth", kind, ref)
			}
		}
	}
}

// checkLog checks the log on its own: signatures, archive, the tree
// recomputed from the entries, and the tiles. next is one more than the
// highest index the store records, for the rollback check. It returns the
// entries, or nil when they could not be read.
func (l *Ledger) checkLog(ctx context.Context, next uint64, add func(string, ...any)) ([][]byte, error) {
	latest, err := l.Latest()
	if err != nil {
		add("published checkpoint: %v", err)
	}
	arch, err := l.Archive()
	if err != nil {
		return nil, err
	}
	var valid []*Checkpoint
	sizes := map[uint64]string{}
	for _, a := range arch {
		cp, err := ParseCheckpoint(a.Raw, l.keys.verifier)
		if err != nil {
			add("archived checkpoint %s: forged or damaged: %v", a.Name, err)
			continue
		}
		if cp.Size != a.Size {
			add("archived checkpoint %s: it is for a tree of size %d", a.Name, cp.Size)
			continue
		}
		if other, ok := sizes[cp.Size]; ok {
			add("archived checkpoints %s and %s: two different trees of size %d were signed", other, a.Name, cp.Size)
		}
		sizes[cp.Size] = a.Name
		valid = append(valid, cp)
	}
	var archMax uint64
	for _, cp := range valid {
		archMax = max(archMax, cp.Size)
	}
	var size uint64
	if latest != nil {
		size = latest.Size
		if archMax < size {
			add("checkpoint archive rolled back: the newest archived checkpoint covers %d entries, the published one %d", archMax, size)
		}
		if size < archMax {
			add("published checkpoint rolled back: it covers %d entries, the archive %d", size, archMax)
		}
	}
	size = max(size, archMax)
	if next > archMax {
		add("checkpoint archive rolled back: the database records entries up to index %d, beyond the newest archived checkpoint (%d entries)", next-1, archMax)
	}
	if next > size {
		size = next
	}

	// Recompute the tree from the entries.
	entries, err := l.Entries(ctx, 0, size, size)
	if err != nil {
		add("log entries: %v", err)
		entries = nil
	}
	if entries != nil {
		checkRoots(entries, append(valid, latest), add)
		if latest != nil && latest.Size > 0 {
			if err := l.checkTiles(ctx); err != nil {
				add("log tiles: %v", err)
			}
		}
		l.checkArchivedTiles(entries, valid, add)
	}
	bySize := map[uint64][]byte{}
	for _, cp := range valid {
		bySize[cp.Size] = cp.Raw
	}
	l.checkTimestamps(bySize, add)

	return entries, nil
}

// checkArchivedTiles checks the partial tiles of every archived tree size.
// Tessera's fsck checks the tiles of the published tree only, but a receipt
// is built against the smallest archived checkpoint that covers its entry,
// and so reads the partial tiles of that older size (or the full tile that
// replaced them, of which it reads the first hashes).
func (l *Ledger) checkArchivedTiles(entries [][]byte, cps []*Checkpoint, add func(string, ...any)) {
	// levels[h] holds the hashes of the complete nodes at tree height h.
	levels := [][][]byte{make([][]byte, len(entries))}
	for i, e := range entries {
		levels[0][i] = rfc6962.DefaultHasher.HashLeaf(e)
	}
	for h := 0; len(levels[h]) > 1; h++ {
		var up [][]byte
		for i := 0; i+1 < len(levels[h]); i += 2 {
			up = append(up, rfc6962.DefaultHasher.HashChildren(levels[h][i], levels[h][i+1]))
		}
		levels = append(levels, up)
	}
	seen := map[string]bool{}
	for _, cp := range cps {
		for tl := uint64(0); 8*tl < uint64(len(levels)); tl++ {
			nodes := cp.Size >> (8 * tl) // complete nodes at the tile level's base height
			width := nodes % layout.TileWidth
			if nodes == 0 || width == 0 {
				continue
			}
			idx := nodes / layout.TileWidth
			path := layout.TilePath(tl, idx, uint8(width))
			if seen[path] {
				continue
			}
			seen[path] = true
			got, err := l.fetchTile(context.Background(), tl, idx, uint8(width))
			if err != nil {
				add("log tiles: %s, read by receipts for the tree of %d entries: %v", path, cp.Size, err)
				continue
			}
			base := levels[8*tl]
			want := bytes.Join(base[idx*layout.TileWidth:idx*layout.TileWidth+width], nil)
			if len(got) < len(want) || !bytes.Equal(got[:len(want)], want) {
				add("log tiles: %s does not hold the hashes recomputed from the entries (tree of %d entries)", path, cp.Size)
			}
		}
	}
}
