// SPDX-License-Identifier: Apache-2.0

package match

import (
	"image"

	"groundtruth/internal/media/pdq"
)

// Kinds of the half-picture hashes of video frames.
const (
	KindTop    = "top"
	KindBottom = "bottom"
	KindLeft   = "left"
	KindRight  = "right"
)

// HalfKinds lists the half-picture kinds in a fixed order.
var HalfKinds = []string{KindTop, KindBottom, KindLeft, KindRight}

// Halves returns the PDQ hashes of the four halves of a picture after its
// uniform borders (letterbox bars) are trimmed: top, bottom, left and
// right. A large logo or caption stamped over one part of a video changes
// most of the whole frame's hash, but leaves the half without it; these
// hashes let the copy be found from the rest. They are groundtruth's own,
// for video frames, never exchanged as PDQ hashes of the picture.
func Halves(img image.Image) []Hash {
	c := newCopies(img)
	r := trim(c.work)
	if !derivable(r, c.work.Bounds()) {
		r = c.work.Bounds()
	}
	mx, my := (r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2
	parts := []image.Rectangle{
		image.Rect(r.Min.X, r.Min.Y, r.Max.X, my),
		image.Rect(r.Min.X, my, r.Max.X, r.Max.Y),
		image.Rect(r.Min.X, r.Min.Y, mx, r.Max.Y),
		image.Rect(mx, r.Min.Y, r.Max.X, r.Max.Y),
	}
	out := make([]Hash, len(parts))
	for i, p := range parts {
		h, q := pdq.FromImage(c.region(p))
		out[i] = Hash{Kind: HalfKinds[i], Hash: h, Quality: q}
	}
	return out
}
