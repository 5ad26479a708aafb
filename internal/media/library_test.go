// SPDX-License-Identifier: Apache-2.0

package media

import (
	"testing"

	"groundtruth/internal/media/pdq"
	"groundtruth/internal/media/video"
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
