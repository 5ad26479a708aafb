// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"groundtruth/internal/store"
)

// testMedia: an analysis replaces the earlier one of the same original
// with its hashes and files, hashes stream in id order from any point, and
// links join originals into groups through each other.
func testMedia(t *testing.T, ctx context.Context, s *store.Store) {
	sums := []string{}
	for _, b := range []string{"a", "b", "c", "d"} {
		sum := sha(b)
		sums = append(sums, sum)
		if err := s.Update(ctx, func(tx *store.Tx) error {
			return tx.PutBlob(store.Blob{SHA256: sum, Size: 1, MediaType: "image/png", StoredAt: t0})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Unanalysed(ctx); err != nil || len(got) != 4 {
		t.Fatalf("Unanalysed = %v, %v; want all four", got, err)
	}
	h := func(b byte) [32]byte { var x [32]byte; x[0] = b; return x }
	put := func(sum string, hashes ...store.MediaHash) {
		t.Helper()
		if err := s.PutMedia(ctx, store.Media{SHA256: sum, Kind: "image", Status: store.MediaAnalysed, Metadata: []byte(`{"format":"png"}`), Thumb: []byte(sum[:4]), AnalysedAt: t0},
			hashes, []store.MediaFile{{Role: "keyframe", File: sha("kf" + sum), Seconds: 1.5}}); err != nil {
			t.Fatal(err)
		}
	}
	put(sums[0], store.MediaHash{Kind: "pdq", Hash: h(1), Quality: 90}, store.MediaHash{Kind: "trimmed", Hash: h(2), Quality: 80})
	put(sums[1], store.MediaHash{Kind: "pdq", Frame: true, Seconds: 2, Hash: h(3), Quality: 70})
	put(sums[0], store.MediaHash{Kind: "pdq", Hash: h(4), Quality: 95}) // re-analysis
	got, err := s.MediaHashes(ctx, sums[0])
	if err != nil || len(got) != 1 || got[0].Hash != h(4) || got[0].Frame {
		t.Fatalf("after re-analysis MediaHashes = %+v, %v; want only the new hash", got, err)
	}
	if fr, _ := s.MediaHashes(ctx, sums[1]); len(fr) != 1 || !fr[0].Frame || fr[0].Seconds != 2 {
		t.Errorf("frame hash = %+v", fr)
	}
	var ids []int64
	if err := s.EachMediaHash(ctx, 0, func(m store.MediaHash) error { ids = append(ids, m.ID); return nil }); err != nil || len(ids) != 2 || !slices.IsSorted(ids) {
		t.Fatalf("EachMediaHash = %v, %v", ids, err)
	}
	var after []int64
	s.EachMediaHash(ctx, ids[0], func(m store.MediaHash) error { after = append(after, m.ID); return nil })
	if !slices.Equal(after, ids[1:]) {
		t.Errorf("EachMediaHash after %d = %v, want %v", ids[0], after, ids[1:])
	}
	m, err := s.Media(ctx, sums[0])
	if err != nil || m.Status != store.MediaAnalysed || string(m.Metadata) != `{"format":"png"}` {
		t.Fatalf("Media = %+v, %v", m, err)
	}
	if f, _ := s.MediaFiles(ctx, sums[0]); len(f) != 1 || f[0].Seconds != 1.5 {
		t.Errorf("MediaFiles = %+v", f)
	}
	if string(m.Thumb) != sums[0][:4] {
		t.Errorf("thumb %q, want %q", m.Thumb, sums[0][:4])
	}
	var thumbs []string
	s.EachThumb(ctx, func(sum string, th []byte) error { thumbs = append(thumbs, sum); return nil })
	if len(thumbs) != 2 || !slices.IsSorted(thumbs) {
		t.Errorf("EachThumb = %v, want the two analysed originals in order", thumbs)
	}
	if _, err := s.Media(ctx, sums[3]); err == nil {
		t.Error("Media of an unanalysed original: no error")
	}
	if un, _ := s.Unanalysed(ctx); len(un) != 2 {
		t.Errorf("Unanalysed = %v, want two", un)
	}

	put(sums[2])
	pct := 91.5
	if err := s.PutMediaLinks(ctx, []store.MediaLink{
		{A: sums[1], B: sums[0], Distance: 4, Transform: "mirrored", FoundAt: t0},
		{A: sums[2], B: sums[1], Distance: 10, APercent: &pct, BPercent: &pct, FoundAt: t0},
	}); err != nil {
		t.Fatal(err)
	}
	members, links, err := s.MediaGroup(ctx, sums[0])
	want := slices.Sorted(slices.Values(sums[:3]))
	if err != nil || !slices.Equal(members, want) || len(links) != 2 {
		t.Fatalf("MediaGroup = %v, %d links, %v; want %v through the middle one", members, len(links), err, want)
	}
	if members, _, _ := s.MediaGroup(ctx, sums[3]); len(members) != 1 {
		t.Errorf("a lone original's group = %v", members)
	}
	ls, _ := s.MediaLinks(ctx, sums[2])
	if len(ls) != 1 || ls[0].APercent == nil || *ls[0].APercent != pct {
		t.Errorf("MediaLinks = %+v", ls)
	}
}

// sha returns a valid-looking digest derived from s.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// testAccessLogTimes: a logged view half a second after a whole second is
// found by a query from that whole second, and not by one from after it,
// however the times are written.
func testAccessLogTimes(t *testing.T, ctx context.Context, s *store.Store) {
	at := t0.Add(500 * time.Millisecond)
	if err := s.LogAccess(ctx, store.Access{At: at, User: "ana", Action: "reveal_graphic", Subject: "clip"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		since time.Time
		want  bool
	}{
		{t0, true},
		{at, true},
		{at.Add(time.Nanosecond), false},
		{t0.Add(time.Second), false},
	} {
		got, err := s.AccessedSince(ctx, "ana", "reveal_graphic", "clip", c.since)
		if err != nil || got != c.want {
			t.Errorf("AccessedSince(%s) = %v, %v; want %v", c.since.Format(time.RFC3339Nano), got, err, c.want)
		}
	}
}
