// SPDX-License-Identifier: Apache-2.0

package match

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// ThumbSide is the longer side of a Thumb in pixels.
const ThumbSide = 64

// thumbVersion is the first byte of an encoded Thumb. Change it whenever
// Thumbnail computes something different, so that stored thumbnails of the
// old kind are recognised and recomputed instead of compared wrongly.
const thumbVersion = 1

// Thumb is a small greyscale copy of a picture for the crop stage's
// pre-filter (see CropQuery.Score): the upright picture with uniform borders
// trimmed, reduced with an area filter so that its longer side is
// ThumbSide pixels (or less, for a smaller picture), as BT.601 luma.
type Thumb struct {
	Width, Height int     // 1 to ThumbSide each
	Pix           []uint8 // Width·Height luma values, row by row
}

// Thumbnail returns the Thumb of img. Keep one per original, next to its
// hashes; the query's is computed the same way.
func Thumbnail(img image.Image) Thumb {
	c := newCopies(img)
	return thumbOf(c, trim(c.work))
}

// thumbOf returns the Thumb of the region t of c's working copy.
func thumbOf(c copies, t image.Rectangle) Thumb {
	hr := c.region(t).Bounds()
	p := lumaPlane(c.hash, hr).fit(ThumbSide)
	out := Thumb{Width: p.w, Height: p.h, Pix: make([]uint8, len(p.p))}
	for i, v := range p.p {
		out.Pix[i] = uint8(max(0, min(255, math.Round(float64(v)))))
	}
	return out
}

// valid reports whether t's fields are consistent.
func (t Thumb) valid() error {
	if t.Width < 1 || t.Width > ThumbSide || t.Height < 1 || t.Height > ThumbSide {
		return fmt.Errorf("size %d×%d outside 1 to %d", t.Width, t.Height, ThumbSide)
	}
	if len(t.Pix) != t.Width*t.Height {
		return fmt.Errorf("%d pixels for %d×%d", len(t.Pix), t.Width, t.Height)
	}
	return nil
}

// MarshalBinary encodes t as one version byte, the width and the height
// (one byte each), then the pixels row by row: at most 3 + 64·64 = 4099
// bytes.
func (t Thumb) MarshalBinary() ([]byte, error) {
	if err := t.valid(); err != nil {
		return nil, fmt.Errorf("match: encode thumbnail: %w", err)
	}
	out := make([]byte, 0, 3+len(t.Pix))
	out = append(out, thumbVersion, byte(t.Width), byte(t.Height))
	return append(out, t.Pix...), nil
}

// ErrThumbVersion is returned by UnmarshalBinary for a thumbnail encoded
// by another version of Thumbnail: recompute it from the original.
var ErrThumbVersion = errors.New("match: thumbnail from another version: recompute it from the original")

// UnmarshalBinary decodes what MarshalBinary produced. It accepts only
// the exact length the header announces; the pixels are copied.
func (t *Thumb) UnmarshalBinary(b []byte) error {
	if len(b) < 3 {
		return fmt.Errorf("match: decode thumbnail: %d bytes, shorter than the 3-byte header", len(b))
	}
	if b[0] != thumbVersion {
		return fmt.Errorf("%w (version %d, want %d)", ErrThumbVersion, b[0], thumbVersion)
	}
	d := Thumb{Width: int(b[1]), Height: int(b[2])}
	if want := 3 + d.Width*d.Height; len(b) != want {
		return fmt.Errorf("match: decode thumbnail: %d bytes, want %d for %d×%d", len(b), want, d.Width, d.Height)
	}
	d.Pix = append([]uint8(nil), b[3:]...)
	if err := d.valid(); err != nil {
		return fmt.Errorf("match: decode thumbnail: %w", err)
	}
	*t = d
	return nil
}

// plane returns t's pixels as a plane.
func (t Thumb) plane() plane {
	out := plane{w: t.Width, h: t.Height, p: make([]float32, len(t.Pix))}
	for i, v := range t.Pix {
		out.p[i] = float32(v)
	}
	return out
}
