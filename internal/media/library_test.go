// SPDX-License-Identifier: Apache-2.0

package media

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/media/pdq"
	"groundtruth/internal/media/video"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// alignedShare counts each frame of the shorter video once: a long video
// whose frames all look like one or two frames of a short clip does not
// reach the share that links them.
func TestAlignedShare(t *testing.T) {
	var a, b pdq.Hash
	for i := range a {
		a[i], b[i] = 0x0f, 0xf0 // 256 bits apart
	}
	frames := func(n int, hash func(i int) pdq.Hash) []video.Frame {
		out := make([]video.Frame, n)
		for i := range out {
			out[i] = video.Frame{Index: i, Seconds: float64(i), Hash: hash(i), Quality: 80}
		}
		return out
	}
	same := func(int) pdq.Hash { return a }
	for _, c := range []struct {
		name string
		q, c []video.Frame
		want float64
	}{
		{"same footage, same timing", frames(10, same), frames(10, same), 1},
		{"static long video against a clip with two such frames", frames(30, same), frames(5, func(i int) pdq.Hash {
			if i < 2 {
				return a
			}
			return b
		}), 0.4},
		{"nothing alike", frames(5, same), frames(5, func(int) pdq.Hash { return b }), 0},
		{"no usable frames", nil, frames(5, same), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := alignedShare(c.q, c.c, pdq.MatchThreshold); got != c.want {
				t.Errorf("alignedShare = %v, want %v", got, c.want)
			}
		})
	}
}

// A group shows only what links among visible members reach: two visible
// items joined only through a hidden one (personal data) are not shown as
// a group, which would betray that the hidden one exists.
func TestGroupNotBridgedByHiddenItems(t *testing.T) {
	ctx := t.Context()
	st, err := store.Create(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := store.Change{By: "test", Reason: "test", At: time.Now()}
	sums := map[string]string{}
	for _, slug := range []string{"visible-a", "hidden", "visible-b"} {
		sum := sha256.Sum256([]byte(slug))
		sums[slug] = hex.EncodeToString(sum[:])
		err := st.Update(ctx, func(tx *store.Tx) error {
			if err := tx.PutBlob(store.Blob{SHA256: sums[slug], Size: 1, MediaType: "image/png", StoredAt: c.At}); err != nil {
				return err
			}
			_, err := tx.Put(&record.Evidence{Slug: slug, SHA256: sums[slug], Size: 1, MediaType: "image/png", PersonalData: slug == "hidden",
				AddedBy: "test", AddedAt: record.At(c.At)}, c)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutMedia(ctx, store.Media{SHA256: sums[slug], Kind: Image, Status: store.MediaAnalysed, AnalysedAt: c.At}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutMediaLinks(ctx, []store.MediaLink{
		{A: sums["hidden"], B: sums["visible-a"], Distance: 10, FoundAt: c.At},
		{A: sums["visible-b"], B: sums["hidden"], Distance: 12, FoundAt: c.At},
	}); err != nil {
		t.Fatal(err)
	}
	public := func(ev *record.Evidence) bool { return !ev.PersonalData }
	v, err := Describe(ctx, st, sums["visible-a"], public)
	if err != nil || v == nil {
		t.Fatalf("Describe: %v, %v", v, err)
	}
	if v.Group != nil {
		t.Errorf("the public sees a group %+v joined through a hidden item", v.Group.Members)
	}
	v, _ = Describe(ctx, st, sums["visible-a"], nil)
	if v.Group == nil || len(v.Group.Members) != 3 {
		t.Errorf("an investigator sees %+v, want all three", v.Group)
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	for _, c := range []struct{ in, want string }{
		{"ffmpeg: bad\n  header\tat 0", "ffmpeg: bad header at 0"},
		{long, strings.Repeat("é", 250) + "…"},
	} {
		if got := OneLine(c.in); got != c.want {
			t.Errorf("OneLine(%.20q…) = %.40q…, want %.40q…", c.in, got, c.want)
		}
	}
}
