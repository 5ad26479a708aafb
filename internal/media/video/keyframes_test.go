// SPDX-License-Identifier: Apache-2.0

package video

import (
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyframes cuts three 2-second scenes together and expects a keyframe
// at the start of each.
func TestKeyframes(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "scenes.mp4")
	ffmpeg(t,
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2",
		"-f", "lavfi", "-i", "smptebars=size=320x240:rate=25:duration=2",
		"-f", "lavfi", "-i", "color=c=red:size=320x240:rate=25:duration=2",
		"-filter_complex", "[0][1][2]concat=n=3:v=1:a=0",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", src)
	// A directory name with characters special to ffmpeg and to Glob.
	out := filepath.Join(dir, "out 100%[x]")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	kfs, err := Keyframes(t.Context(), src, out, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kfs {
		t.Logf("keyframe at %.3f s, score %.3f, %s", k.Seconds, k.Score, filepath.Base(k.File))
	}
	if len(kfs) < 3 {
		t.Fatalf("Keyframes found %d, want at least 3", len(kfs))
	}
	for _, cut := range []float64{0, 2, 4} {
		found := false
		for _, k := range kfs {
			if math.Abs(k.Seconds-cut) <= 0.1 {
				found = true
				if cut > 0 && k.Score <= DefaultSceneThreshold {
					t.Errorf("keyframe at %v s has score %v, want > %v", k.Seconds, k.Score, DefaultSceneThreshold)
				}
			}
		}
		if !found {
			t.Errorf("no keyframe within 0.1 s of the cut at %v s", cut)
		}
	}
	for _, k := range kfs {
		f, err := os.Open(k.File)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", k.File, err)
		}
		if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 240 {
			t.Errorf("%s is %v, want full resolution 320×240", k.File, b)
		}
	}

	// Existing keyframes are never overwritten.
	if _, err := Keyframes(t.Context(), src, out, 0); err == nil || !strings.Contains(err.Error(), "already holds keyframes") {
		t.Errorf("second Keyframes into the same directory = %v, want a refusal", err)
	}
	if _, err := Keyframes(t.Context(), src, filepath.Join(dir, "absent"), 0); err == nil {
		t.Error("Keyframes into a missing directory succeeded")
	}
	if _, err := Keyframes(t.Context(), src, t.TempDir(), 1.5); err == nil {
		t.Error("Keyframes with threshold 1.5 succeeded")
	}
}

func TestKeyframesBadInput(t *testing.T) {
	for name, path := range badInputs(t) {
		t.Run(name, func(t *testing.T) {
			kfs, err := Keyframes(t.Context(), path, t.TempDir(), 0)
			if err == nil || errors.Is(err, ErrDamaged) {
				t.Fatalf("Keyframes(%s) = %d keyframes, %v; want a fatal error", name, len(kfs), err)
			}
			checkOneLine(t, err, "ffmpeg: ")
		})
	}
}

func TestParseSceneLog(t *testing.T) {
	const log = "frame:0    pts:0       pts_time:0\nlavfi.scene_score=0.000000\n" +
		"frame:1    pts:30720   pts_time:2\nlavfi.scene_score=0.845348\n" +
		"frame:2    pts:61440   pts_time:4.04\n"
	got, err := parseSceneLog(strings.NewReader(log), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []Keyframe{{0, 0, ""}, {2, 0.845348, ""}, {4.04, 0, ""}}
	if len(got) != len(want) {
		t.Fatalf("parseSceneLog = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("keyframe %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{
		"lavfi.scene_score=0.5\n",                     // score before any frame
		"frame:0 pts:0 pts_time:x\n",                  // bad time
		"frame:0 pts:0\n",                             // no time
		"frame:0 pts_time:1\nlavfi.scene_score=NaN\n", // bad score
	} {
		if _, err := parseSceneLog(strings.NewReader(bad), 10); err == nil {
			t.Errorf("parseSceneLog(%q) succeeded, want an error", bad)
		}
	}
	if _, err := parseSceneLog(strings.NewReader(log), 2); err == nil {
		t.Error("parseSceneLog beyond its limit succeeded")
	}
}

func FuzzParseSceneLog(f *testing.F) {
	f.Add("frame:0    pts:0       pts_time:0\nlavfi.scene_score=0.000000\nframe:1    pts:30720   pts_time:2\nlavfi.scene_score=0.845348\n")
	f.Add("frame:0 pts_time:1e308\n")
	f.Add("lavfi.scene_score=1\n")
	f.Fuzz(func(t *testing.T, in string) {
		kfs, err := parseSceneLog(strings.NewReader(in), 5)
		if len(kfs) > 5 {
			t.Errorf("%d keyframes beyond the limit of 5", len(kfs))
		}
		if err != nil {
			return
		}
		for _, k := range kfs {
			if math.IsNaN(k.Seconds) || math.IsNaN(k.Score) || math.IsInf(k.Seconds, 0) {
				t.Errorf("keyframe %+v", k)
			}
		}
	})
}
