// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/tlog"
)

func newLedger(t *testing.T) *Ledger {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ledger")
	if err := Init(dir, "example.org/test-log"); err != nil {
		t.Fatal(err)
	}
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// appendRaw appends entries in order, one batch each, so that each gets
// the next index and its own checkpoint.
func appendRaw(t *testing.T, l *Ledger, entries [][]byte) {
	t.Helper()
	ctx := t.Context()
	w, err := l.openWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close(context.Background())
	for _, e := range entries {
		if _, _, err := w.awaiter.Await(ctx, w.add(ctx, tessera.NewEntry(e))); err != nil {
			t.Fatal(err)
		}
	}
}

// hashReader serves stored hashes to golang.org/x/mod/sumdb/tlog, an
// implementation independent of Tessera's.
type hashReader []tlog.Hash

func (h hashReader) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, j := range idx {
		out[i] = h[j]
	}
	return out, nil
}

func storedHashes(t *testing.T, entries [][]byte) hashReader {
	var hr hashReader
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, hr)
		if err != nil {
			t.Fatal(err)
		}
		hr = append(hr, hs...)
	}
	return hr
}

func toTlog(b [][]byte) []tlog.Hash {
	out := make([]tlog.Hash, len(b))
	for i := range b {
		copy(out[i][:], b[i])
	}
	return out
}

// TestRFC6962Vectors appends the RFC 6962 test leaves shipped with
// transparency-dev/merkle and checks every checkpoint root against the
// published roots, and every proof against golang.org/x/mod/sumdb/tlog.
func TestRFC6962Vectors(t *testing.T) {
	l := newLedger(t)
	leaves := testonly.LeafInputs()
	roots := testonly.RootHashes()
	appendRaw(t, l, leaves)

	for size := uint64(1); size <= uint64(len(leaves)); size++ {
		cp, err := l.ArchivedAtLeast(size)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size != size {
			t.Fatalf("smallest archived checkpoint of at least %d entries has %d", size, cp.Size)
		}
		if !bytes.Equal(cp.Root, roots[size]) {
			t.Errorf("root of size %d = %x, want %x", size, cp.Root, roots[size])
		}
	}

	ctx := t.Context()
	n := uint64(len(leaves))
	hr := storedHashes(t, leaves)
	th, err := tlog.TreeHash(int64(n), hr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(th[:], roots[n]) {
		t.Fatalf("x/mod tree hash %x, want %x", th, roots[n])
	}
	pb, err := client.NewProofBuilder(ctx, n, l.fetchTile)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		p, err := pb.InclusionProof(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(toTlog(p), int64(n), th, int64(i), tlog.RecordHash(leaves[i])); err != nil {
			t.Errorf("inclusion proof of %d rejected by x/mod: %v", i, err)
		}
	}
	for m := uint64(1); m < n; m++ {
		p, err := pb.ConsistencyProof(ctx, m, n)
		if err != nil {
			t.Fatal(err)
		}
		var old tlog.Hash
		copy(old[:], roots[m])
		if err := tlog.CheckTree(toTlog(p), int64(n), th, int64(m), old); err != nil {
			t.Errorf("consistency proof %d→%d rejected by x/mod: %v", m, n, err)
		}
	}
}

// TestLargerLog crosses a tile boundary and checks the tree, tiles and
// archive with x/mod and with Check's own recomputation.
func TestLargerLog(t *testing.T) {
	l := newLedger(t)
	ctx := t.Context()
	w, err := l.openWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var futures []tessera.IndexFuture
	for i := range 600 {
		futures = append(futures, w.add(ctx, tessera.NewEntry([]byte(fmt.Sprintf("entry %d", i)))))
	}
	for _, f := range futures {
		if _, _, err := w.awaiter.Await(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	w.close(ctx)
	cp, err := l.Latest()
	if err != nil || cp.Size != 600 {
		t.Fatalf("Latest = %+v, %v", cp, err)
	}
	entries, err := l.Entries(ctx, 0, 600, 600)
	if err != nil {
		t.Fatal(err)
	}
	th, err := tlog.TreeHash(600, storedHashes(t, entries))
	if err != nil || !bytes.Equal(th[:], cp.Root) {
		t.Fatalf("x/mod tree hash %x, checkpoint root %x (%v)", th, cp.Root, err)
	}
	if err := l.checkTiles(ctx); err != nil {
		t.Errorf("checkTiles = %v", err)
	}
	var problems []string
	arch, _ := l.Archive()
	var cps []*Checkpoint
	for _, a := range arch {
		c, err := ParseCheckpoint(a.Raw, l.Verifier())
		if err != nil {
			t.Fatalf("archived %s: %v", a.Name, err)
		}
		cps = append(cps, c)
	}
	checkRoots(entries, cps, func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) })
	if len(problems) != 0 {
		t.Errorf("checkRoots: %q", problems)
	}
	// An entry changed on disk no longer matches the checkpoints.
	entries[300] = []byte("entry forged")
	checkRoots(entries, cps, func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) })
	if len(problems) == 0 {
		t.Error("checkRoots accepted a changed entry")
	}
}

func TestArchiveKeepsForks(t *testing.T) {
	dir := t.TempDir()
	if err := archive(dir, 5, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := archive(dir, 5, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := archive(dir, 5, []byte("b")); err != nil {
		t.Fatal(err)
	}
	names, _ := os.ReadDir(dir)
	var got []string
	for _, n := range names {
		got = append(got, n.Name())
	}
	if strings.Join(got, ",") != "5,5.fork-1" {
		t.Errorf("archive holds %v, want [5 5.fork-1]", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "5")); string(b) != "a" {
		t.Errorf("the first checkpoint of size 5 was overwritten: %q", b)
	}
}

func TestLeaf(t *testing.T) {
	l := Leaf{V: 1, Type: TypeItem, Event: "ingest", Subject: "ab", Content: "cd", Time: "2026-11-25T00:00:00Z"}
	b := l.Marshal()
	got, err := ParseLeaf(b)
	if err != nil || got != l {
		t.Fatalf("ParseLeaf(Marshal) = %+v, %v", got, err)
	}
	if LeafHash(b) != fmt.Sprintf("%x", rfc6962.DefaultHasher.HashLeaf(b)) {
		t.Error("LeafHash is not the RFC 6962 leaf hash")
	}
	for _, bad := range []string{
		`{"v":2,"type":"item","event":"ingest","subject":"ab","time":"x"}`,
		`{"v":1,"type":"item","event":"ingest","subject":"ab","time":"x","extra":1}`,
		`{"type":"item","v":1,"event":"ingest","subject":"ab","time":"x"}`,
		`not json`,
	} {
		if _, err := ParseLeaf([]byte(bad)); err == nil {
			t.Errorf("ParseLeaf(%s) accepted", bad)
		}
	}
}

func TestCommitments(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	sum := strings.Repeat("ab", 32)
	k := ItemKey(secret, sum)
	s1, err := ItemSubject(k, sum)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s1, sum) {
		t.Error("the subject reveals the digest")
	}
	if s2, _ := ItemSubject(ItemKey(bytes.Repeat([]byte{8}, 32), sum), sum); s2 == s1 {
		t.Error("two secrets give the same subject")
	}
	if _, err := ItemSubject(k, "zz"); err == nil {
		t.Error("ItemSubject accepted a bad digest")
	}
	rk := RecordKey(secret, "victim", "v1")
	if RecordContent(rk, 1, []byte(`{"name":"x"}`)) == RecordContent(rk, 2, []byte(`{"name":"x"}`)) {
		t.Error("content commitment ignores the version")
	}
}

func FuzzParseLeaf(f *testing.F) {
	f.Add([]byte(`{"v":1,"type":"item","event":"ingest","subject":"ab","content":"cd","time":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLeaf(b)
		if err == nil && !bytes.Equal(l.Marshal(), b) {
			t.Errorf("ParseLeaf accepted non-canonical %q", b)
		}
	})
}

func FuzzVerifyReceipt(f *testing.F) {
	l := newLedgerF(f)
	f.Add([]byte("c2sp.org/tlog-proof@v1\nindex 0\n\nx\n"))
	f.Add([]byte("c2sp.org/tlog-proof@v1\nextra e30=\nindex 3\nAAAA\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := VerifyReceipt(b, nil, l.Verifier()); err == nil {
			t.Errorf("VerifyReceipt accepted %q", b)
		}
	})
}

func newLedgerF(f *testing.F) *Ledger {
	dir := filepath.Join(f.TempDir(), "ledger")
	if err := Init(dir, "example.org/fuzz-log"); err != nil {
		f.Fatal(err)
	}
	l, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	return l
}

func FuzzParseVerifierKey(f *testing.F) {
	f.Add("example.org/log+12345678+AQID")
	f.Fuzz(func(t *testing.T, s string) {
		ParseVerifierKey(s) // must not panic
	})
}
