// SPDX-License-Identifier: Apache-2.0

package match

import (
	"image"
	_ "image/png" // ffmpeg writes PNG frames
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// videoDir holds the ThreatExchange sample videos (see
// testdata/pdq/README.md).
const videoDir = "../../../testdata/pdq/video"

// frames extracts one frame per second of a sample video with ffmpeg.
func frames(t *testing.T, name string) []image.Image {
	t.Helper()
	src := filepath.Join(videoDir, name)
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("sample video not available: %v", err)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "ffmpeg", "-v", "error", "-i", src, "-vf", "fps=1", "-f", "image2", filepath.Join(dir, "%04d.png"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg on %s: %v\n%s", name, err, out)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil || len(files) == 0 {
		t.Fatalf("ffmpeg left no frames of %s (%v)", name, err)
	}
	slices.Sort(files)
	var out []image.Image
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(r)
		r.Close()
		if err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		out = append(out, img)
	}
	return out
}

// TestLargeLogoVideo measures, at one frame per second, how many frames
// of the large-logo edit of the chair video match some frame of the
// original, with plain PDQ and with this package. The logo covers a
// large part of the picture, which no border or frame removal undoes; the
// test records the numbers and checks that an unrelated video (the
// pattern) matches nothing.
func TestLargeLogoVideo(t *testing.T) {
	if testing.Short() {
		t.Skip("video measurement skipped in -short mode")
	}
	var stored [][]Hash
	for _, f := range frames(t, "chair-20-sd-bar.mp4") {
		stored = append(stored, Stored(f))
	}
	count := func(name string) (plain, ours, n int) {
		for _, f := range frames(t, name) {
			q := Query(f)
			n++
			p, o := false, false
			for _, s := range stored {
				_, ok := Compare(plainOnly(q), s[:1])
				p = p || ok
				_, ok = Compare(q, s)
				o = o || ok
			}
			if p {
				plain++
			}
			if o {
				ours++
			}
		}
		return plain, ours, n
	}
	plain, ours, n := count("chair-22-with-large-logo-bar.mp4")
	t.Logf("chair-22-with-large-logo-bar vs chair-20-sd-bar, 1 fps: %d of %d frames match with plain PDQ, %d with match", plain, n, ours)
	if ours < plain {
		t.Errorf("match finds %d frames, fewer than plain PDQ's %d", ours, plain)
	}
	plain, ours, n = count("pattern-hd-no-bar.mp4")
	if plain != 0 || ours != 0 {
		t.Errorf("pattern-hd-no-bar vs chair-20-sd-bar: %d (plain) and %d (match) of %d frames match, want none", plain, ours, n)
	}
}
