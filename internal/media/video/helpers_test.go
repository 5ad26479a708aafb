// SPDX-License-Identifier: Apache-2.0

package video

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sampleDir holds Meta's vPDQ sample videos and per-frame hashes; see its
// README for provenance and tolerances.
const sampleDir = "../../../testdata/pdq/video"

// samples are the four sample videos, by base name.
var samples = []string{"chair-20-sd-bar", "chair-22-sd-sepia-bar", "chair-22-with-large-logo-bar", "pattern-hd-no-bar"}

// samplePath returns the path of a sample file; the test fails when it is
// missing.
func samplePath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(sampleDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample data not available: %v", err)
	}
	return p
}

// needFFmpeg skips the test when ffmpeg or ffprobe is not installed.
func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(name); err != nil {
			t.Skipf("%s not installed (Debian package ffmpeg)", name)
		}
	}
}

// hashCache holds each sample's 1 fps hashes, computed once per test
// binary: hashing is the slow part under -race.
var hashCache struct {
	sync.Mutex
	m map[string][]Frame
}

func sampleHashes(t *testing.T, name string) []Frame {
	t.Helper()
	needFFmpeg(t)
	path := samplePath(t, name+".mp4")
	hashCache.Lock()
	defer hashCache.Unlock()
	if f, ok := hashCache.m[name]; ok {
		return f
	}
	frames, err := Hash(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Hash(%s) = %v", name, err)
	}
	if hashCache.m == nil {
		hashCache.m = map[string][]Frame{}
	}
	hashCache.m[name] = frames
	return frames
}

// reference returns a sample's per-frame reference hashes (every frame).
func reference(t testing.TB, name string) []Frame {
	t.Helper()
	f, err := os.Open(samplePath(t, name+".vpdq.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames, err := ParseReference(f)
	if err != nil {
		t.Fatalf("ParseReference(%s) = %v", name, err)
	}
	return frames
}

// every keeps the frames whose frame number is a multiple of n, as the
// reference's 1 fps sampling of 30 fps video does with n = 30.
func every(frames []Frame, n int) []Frame {
	var out []Frame
	for _, f := range frames {
		if f.Index%n == 0 {
			out = append(out, f)
		}
	}
	return out
}

// ffmpeg runs ffmpeg with args to make test input, failing the test on error.
func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	needFFmpeg(t)
	args = append([]string{"-nostdin", "-v", "error", "-hide_banner", "-y"}, args...)
	out, err := exec.CommandContext(context.Background(), "ffmpeg", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
