// SPDX-License-Identifier: Apache-2.0

package video

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxKeyframes caps the keyframes [Keyframes] writes. A video with more
// scene changes (or a noisy one with a low threshold) stops at this many:
// a result of exactly MaxKeyframes entries may be incomplete.
const MaxKeyframes = 200

// DefaultSceneThreshold is the scene-change score (0 to 1) above which a
// frame starts a new scene; 0.3 to 0.4 is common, lower gives more frames.
const DefaultSceneThreshold = 0.3

// Keyframe is one extracted scene-change frame.
type Keyframe struct {
	Seconds float64 // presentation time of the frame (pts_time)
	Score   float64 // ffmpeg's scene score, 0 to 1; 0 for the first frame
	File    string  // path of the PNG written, dir/keyframe-NNNN.png
}

// keyframePattern names the PNG files; ffmpeg numbers them from 1.
const keyframePattern = "keyframe-%04d.png"

// Keyframes writes the first frame and every frame whose scene score
// exceeds threshold (0 means [DefaultSceneThreshold]) as full-resolution
// PNGs into the existing directory dir, displayed orientation, for reverse
// image search, and returns them in order, at most [MaxKeyframes]. It
// refuses a dir that already holds keyframe files rather than overwrite
// them. A partly decodable file gives its keyframes with an error wrapping
// [ErrDamaged], as [Hash] does.
//
// ffmpeg's select filter computes the score; its metadata filter prints
// each selected frame's pts_time and lavfi.scene_score to our stdout, which
// is parsed here, so the log is not mixed with ffmpeg's error messages.
func Keyframes(ctx context.Context, path, dir string, threshold float64) ([]Keyframe, error) {
	if threshold == 0 {
		threshold = DefaultSceneThreshold
	}
	if !(threshold > 0 && threshold < 1) {
		return nil, fmt.Errorf("video: keyframes %s: scene threshold %v outside (0, 1)", path, threshold)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("video: keyframes %s: output directory %s does not exist: create it first", path, dir)
	}
	if old, _ := filepath.Glob(filepath.Join(globEscape(dir), "keyframe-*.png")); len(old) > 0 {
		return nil, fmt.Errorf("video: keyframes %s: %s already holds keyframes (%s): use an empty directory", path, dir, filepath.Base(old[0]))
	}
	filter := fmt.Sprintf("select='eq(n\\,0)+gt(scene\\,%s)',metadata=print:file='pipe\\:1'",
		strconv.FormatFloat(threshold, 'f', -1, 64))
	args := []string{"-nostdin", "-v", "error", "-hide_banner"}
	args = append(args, inputArgs(path)...)
	args = append(args,
		"-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", filter, "-fps_mode", "vfr",
		"-frames:v", strconv.Itoa(MaxKeyframes),
		"-f", "image2", "-c:v", "png",
		// '%' is the image2 pattern character; a literal one in dir is doubled.
		"file:"+filepath.Join(strings.ReplaceAll(dir, "%", "%%"), keyframePattern))

	cmd, stderr, err := command(ctx, "ffmpeg", args...)
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("video: keyframes %s: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("video: keyframes %s: start ffmpeg: %w", path, err)
	}
	kfs, parseErr := parseSceneLog(stdout, MaxKeyframes)
	if parseErr != nil {
		_, _ = io.Copy(io.Discard, stdout) // let ffmpeg finish rather than block
	}
	if err := cmd.Wait(); err != nil {
		return nil, runError(ctx, "ffmpeg", "keyframes", path, err, stderr)
	}
	if parseErr != nil {
		return nil, fmt.Errorf("video: keyframes %s: %w", path, parseErr)
	}
	if len(kfs) == 0 {
		return nil, fmt.Errorf("video: keyframes %s: no video frames decoded", path)
	}
	for i := range kfs {
		kfs[i].File = filepath.Join(dir, fmt.Sprintf(keyframePattern, i+1))
		if _, err := os.Stat(kfs[i].File); err != nil {
			return nil, fmt.Errorf("video: keyframes %s: ffmpeg did not write %s: %w", path, kfs[i].File, err)
		}
	}
	if msg := firstLine(stderr.String()); msg != "" {
		return kfs, fmt.Errorf("video: keyframes %s: %d keyframes written, more may be lost: ffmpeg: %s: %w", path, len(kfs), msg, ErrDamaged)
	}
	return kfs, nil
}

// parseSceneLog reads the metadata filter's print output, one block per
// selected frame:
//
//	frame:1    pts:30720   pts_time:2
//	lavfi.scene_score=0.845348
//
// The score line is absent when ffmpeg did not compute one (frame 0 may
// lack it), leaving Score 0. At most limit frames are read.
func parseSceneLog(r io.Reader, limit int) ([]Keyframe, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), 64<<10)
	var out []Keyframe
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "frame:"):
			if len(out) == limit {
				return out, fmt.Errorf("more than %d frames in ffmpeg's scene log", limit)
			}
			_, ts, ok := strings.Cut(line, "pts_time:")
			ts, _, _ = strings.Cut(strings.TrimSpace(ts), " ")
			sec, err := strconv.ParseFloat(ts, 64)
			if !ok || err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) {
				return out, fmt.Errorf("scene log line %q has no pts_time", line)
			}
			out = append(out, Keyframe{Seconds: sec})
		case strings.HasPrefix(line, "lavfi.scene_score="):
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, "lavfi.scene_score="), 64)
			if len(out) == 0 || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return out, fmt.Errorf("scene log line %q is not a score after a frame line", line)
			}
			out[len(out)-1].Score = v
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("scene log: %w", err)
	}
	return out, nil
}

// globEscape escapes the characters filepath.Glob treats specially.
func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}
