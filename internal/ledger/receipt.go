// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/formats/proof"
	mproof "github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"

	"groundtruth/internal/store"
)

// Receipt extra data: what an outsider needs beside the proof to tie the
// log entry to a file. It travels on the tlog-proof "extra" line, which the
// proof does not authenticate; every field is checked against the leaf.
type receiptExtra struct {
	Format  string `json:"format"`   // "groundtruth-receipt-v1"
	Leaf    string `json:"leaf"`     // the leaf's bytes
	ItemKey string `json:"item_key"` // hex; opens the leaf's subject for this one original
	SHA256  string `json:"sha256"`   // the original's digest
}

const receiptFormat = "groundtruth-receipt-v1"

// Receipt returns a self-contained receipt (C2SP tlog-proof) for the leaf
// at index about the original sha256Hex: the leaf, its inclusion proof and
// the smallest archived checkpoint that covers it. The proof is checked
// before it is returned.
func (l *Ledger) Receipt(ctx context.Context, index uint64, leaf []byte, sha256Hex string) ([]byte, error) {
	cp, err := l.ArchivedAtLeast(index + 1)
	if err != nil {
		return nil, err
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, l.fetchTile)
	if err != nil {
		return nil, fmt.Errorf("ledger: proof builder: %w", err)
	}
	hashes, err := pb.InclusionProof(ctx, index)
	if err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof of %d: %w", index, err)
	}
	if err := mproof.VerifyInclusion(rfc6962.DefaultHasher, index, cp.Size, rfc6962.DefaultHasher.HashLeaf(leaf), hashes, cp.Root); err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof of %d does not verify: %w", index, err)
	}
	extra, _ := json.Marshal(receiptExtra{Format: receiptFormat, Leaf: string(leaf), ItemKey: hex.EncodeToString(l.ItemKeyOf(sha256Hex)), SHA256: sha256Hex})
	p := proof.TLogProof{Index: index, Checkpoint: cp.Raw, ExtraData: extra}
	for _, h := range hashes {
		var a [sha256.Size]byte
		copy(a[:], h)
		p.Hashes = append(p.Hashes, a)
	}
	return p.Marshal(), nil
}

// ReceiptResult is what a verified receipt proves.
type ReceiptResult struct {
	Origin    string
	Index     uint64
	TreeSize  uint64
	SHA256    string // the original's digest, as the leaf commits to it
	Leaf      Leaf
	FileMatch bool // a file was given and is the original
}

// VerifyReceipt checks a receipt with the log's verifier key alone: the
// checkpoint's signature, the inclusion of the leaf, and that the leaf
// commits to the digest the receipt names. When file is not nil its bytes
// must be that original. No data directory is needed.
func VerifyReceipt(receipt []byte, file io.Reader, v note.Verifier) (*ReceiptResult, error) {
	var p proof.TLogProof
	if err := p.Unmarshal(receipt); err != nil {
		return nil, fmt.Errorf("not a tlog-proof receipt: %w", err)
	}
	cp, err := ParseCheckpoint(p.Checkpoint, v)
	if err != nil {
		return nil, err
	}
	var extra receiptExtra
	dec := json.NewDecoder(bytes.NewReader(p.ExtraData))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&extra); err != nil || extra.Format != receiptFormat {
		return nil, fmt.Errorf("the receipt's extra data is not a groundtruth receipt")
	}
	leaf, err := ParseLeaf([]byte(extra.Leaf))
	if err != nil {
		return nil, err
	}
	if leaf.Type != TypeItem {
		return nil, fmt.Errorf("the receipt's leaf is a %s leaf, not an original's", leaf.Type)
	}
	hashes := make([][]byte, len(p.Hashes))
	for i := range p.Hashes {
		hashes[i] = p.Hashes[i][:]
	}
	if err := mproof.VerifyInclusion(rfc6962.DefaultHasher, p.Index, cp.Size, rfc6962.DefaultHasher.HashLeaf([]byte(extra.Leaf)), hashes, cp.Root); err != nil {
		return nil, fmt.Errorf("the leaf is not entry %d of the signed tree of size %d: %w", p.Index, cp.Size, err)
	}
	key, err := hex.DecodeString(extra.ItemKey)
	if err != nil {
		return nil, fmt.Errorf("the receipt's item key is not hex")
	}
	subject, err := ItemSubject(key, extra.SHA256)
	if err != nil {
		return nil, err
	}
	if subject != leaf.Subject {
		return nil, fmt.Errorf("the leaf does not commit to sha256 %s", extra.SHA256)
	}
	res := &ReceiptResult{Origin: v.Name(), Index: p.Index, TreeSize: cp.Size, SHA256: extra.SHA256, Leaf: leaf}
	if file != nil {
		h := sha256.New()
		if _, err := io.Copy(h, file); err != nil {
			return nil, fmt.Errorf("read file: %w", err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != extra.SHA256 {
			return res, fmt.Errorf("the file's sha256 is %s, not the %s this receipt is for", got, extra.SHA256)
		}
		res.FileMatch = true
	}
	return res, nil
}

// ConsistencyProof proves that the tree of an older checkpoint is a prefix
// of the latest one. It returns the latest checkpoint and the proof, which
// it has checked.
func (l *Ledger) ConsistencyProof(ctx context.Context, old *Checkpoint) (*Checkpoint, [][]byte, error) {
	cur, err := l.Latest()
	if err != nil {
		return nil, nil, err
	}
	if cur == nil || cur.Size < old.Size {
		return nil, nil, fmt.Errorf("the log's published tree is smaller than the old checkpoint's (%d entries): it has been rolled back", old.Size)
	}
	pb, err := client.NewProofBuilder(ctx, cur.Size, l.fetchTile)
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: proof builder: %w", err)
	}
	var hashes [][]byte
	if old.Size > 0 {
		if hashes, err = pb.ConsistencyProof(ctx, old.Size, cur.Size); err != nil {
			return nil, nil, fmt.Errorf("ledger: consistency proof: %w", err)
		}
	}
	if err := mproof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cur.Size, hashes, old.Root, cur.Root); err != nil {
		return cur, nil, fmt.Errorf("the old checkpoint is not consistent with the log: %w", err)
	}
	return cur, hashes, nil
}

// ErrNotLogged is returned for an original whose leaf the log does not
// hold yet.
var ErrNotLogged = errors.New("ledger: the original has no log entry yet")

// ItemReceipt returns the receipt of the original with digest sha256Hex,
// for its first leaf (the one written when it entered the locker).
func (l *Ledger) ItemReceipt(ctx context.Context, st *store.Store, sha256Hex string) ([]byte, error) {
	leaves, err := st.LeavesOf(ctx, store.BlobKind, sha256Hex)
	if err != nil {
		return nil, err
	}
	if len(leaves) == 0 || leaves[0].Index < 0 {
		return nil, ErrNotLogged
	}
	return l.Receipt(ctx, uint64(leaves[0].Index), leaves[0].Leaf, sha256Hex)
}

// passOld says what ledger consistency takes.
const passOld = "pass a signed checkpoint of this ledger (a file of DIR/ledger/checkpoints, or the one this command printed) or a receipt (.tlog-proof)"

// OldCheckpoint reads what a user gives as an old state of the ledger: a
// signed checkpoint, or a receipt, whose checkpoint it takes (fromReceipt).
// Anything else is named plainly, with what to pass instead: a receipt or
// a key is not a forgery, and must not read like one.
func OldCheckpoint(raw []byte, v note.Verifier) (cp *Checkpoint, fromReceipt bool, err error) {
	if bytes.HasPrefix(raw, []byte("c2sp.org/tlog-proof@")) {
		var p proof.TLogProof
		if err := p.Unmarshal(raw); err != nil {
			return nil, true, fmt.Errorf("a receipt (tlog-proof) that cannot be read (%v): %s", err, passOld)
		}
		cp, err := ParseCheckpoint(p.Checkpoint, v)
		if err != nil {
			return nil, true, fmt.Errorf("a receipt whose checkpoint is not this ledger's: %v", err)
		}
		return cp, true, nil
	}
	cp, err = ParseCheckpoint(raw, v)
	if err == nil {
		return cp, false, nil
	}
	text := strings.TrimSpace(string(raw))
	var body log.Checkpoint
	switch {
	case text == "":
		return nil, false, fmt.Errorf("the file is empty: %s", passOld)
	case strings.HasPrefix(text, "PRIVATE+KEY+"):
		return nil, false, fmt.Errorf("the file is a private signing key, not a checkpoint (keep it secret): %s", passOld)
	}
	if _, kerr := note.NewVerifier(text); kerr == nil {
		return nil, false, fmt.Errorf("the file is a verifier key, not a checkpoint: %s", passOld)
	}
	var unverified *note.UnverifiedNoteError
	if _, nerr := note.Open(raw, note.VerifierList()); errors.As(nerr, &unverified) {
		if _, berr := body.Unmarshal([]byte(unverified.Note.Text)); berr == nil && body.Origin != v.Name() {
			return nil, false, fmt.Errorf("a checkpoint of another ledger, %q, not of %q: its signature does not verify with this ledger's key", body.Origin, v.Name())
		}
		return nil, false, err // this ledger's name, and a bad signature: forged or damaged
	}
	if _, berr := body.Unmarshal([]byte(text + "\n")); berr == nil {
		return nil, false, fmt.Errorf("an unsigned checkpoint body, without its signature line: pass the whole signed checkpoint")
	}
	first, _, _ := strings.Cut(text, "\n")
	if len(first) > 40 {
		first = first[:40]
	}
	return nil, false, fmt.Errorf("not a checkpoint or a receipt (it starts %q): %s", first, passOld)
}
