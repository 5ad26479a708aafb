// SPDX-License-Identifier: Apache-2.0

package photo

import (
	"image"
	"image/color"
	"math"
)

// WorkSide is the longest side, in pixels, of the working copy that
// DecodeReduced returns for analysis. Hashing needs far less: PDQ reduces
// every picture to 512 pixels a side before filtering, and the match
// package cuts its regions and aligns crops on a copy of at most 1024. A
// working copy twice that keeps the reductions after it by whole factors
// of two or more, so that the rounding to 8 bits in between is averaged
// away, while bounding it at 16 MiB (2048 × 2048 × 4 bytes) whatever the
// file declares.
const WorkSide = 2048

// Reduce returns an NRGBA copy of img, anchored at (0, 0), scaled down
// with an area filter so that neither side exceeds maxSide; a smaller
// image is copied as it is. Each source pixel goes to exactly one target
// cell, and a cell is the mean of its pixels. Alpha is ignored (the copy
// is opaque), as PDQ ignores it.
func Reduce(img image.Image, maxSide int) *image.NRGBA {
	b := img.Bounds()
	r := newReducer(b.Dx(), b.Dy(), maxSide)
	if r.w == 0 || r.h == 0 {
		return r.out
	}
	at := reader(img)
	row := make([]uint8, 3*r.w)
	for y := range r.h {
		for x := range r.w {
			row[3*x], row[3*x+1], row[3*x+2] = at(b.Min.X+x, b.Min.Y+y)
		}
		r.add(y, row)
	}
	return r.finish()
}

// reducer computes Reduce one source row at a time, in memory
// proportional to the width: rows map to target rows in order, so only
// the target row being filled needs sums. The sums are added in the same
// order whether the rows come from a decoded image or from a stream, so
// both give the same bytes.
type reducer struct {
	w, h, nw, nh int
	xcell        []int     // target column of each source column
	sum          []float32 // R, G, B sums of the target row being filled
	count        []float32
	cy           int // the target row being filled
	out          *image.NRGBA
}

func newReducer(w, h, maxSide int) *reducer {
	nw, nh := w, h
	if m := max(w, h); m > maxSide {
		s := float64(maxSide) / float64(m)
		nw, nh = max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
	}
	r := &reducer{w: w, h: h, nw: nw, nh: nh, out: image.NewNRGBA(image.Rect(0, 0, nw, nh))}
	if w == 0 || h == 0 {
		return r
	}
	r.xcell = make([]int, w)
	for x := range w {
		r.xcell[x] = x * nw / w
	}
	r.sum = make([]float32, 3*nw)
	r.count = make([]float32, nw)
	return r
}

// add adds source row y, as 8-bit R, G, B triples; rows come in order.
func (r *reducer) add(y int, rgb []uint8) {
	if cy := y * r.nh / r.h; cy != r.cy {
		r.flush()
		r.cy = cy
	}
	for x, c := range r.xcell {
		r.sum[3*c] += float32(rgb[3*x])
		r.sum[3*c+1] += float32(rgb[3*x+1])
		r.sum[3*c+2] += float32(rgb[3*x+2])
		r.count[c]++
	}
}

func (r *reducer) flush() {
	pix := r.out.Pix[r.cy*r.out.Stride:]
	for c, n := range r.count {
		if n == 0 {
			continue
		}
		for k := range 3 {
			pix[4*c+k] = uint8(r.sum[3*c+k]/n + 0.5)
			r.sum[3*c+k] = 0
		}
		pix[4*c+3] = 0xff
		r.count[c] = 0
	}
}

func (r *reducer) finish() *image.NRGBA {
	if r.w > 0 && r.h > 0 {
		r.flush()
	}
	return r.out
}

// reader returns a function giving the straight (not premultiplied) RGB of
// a pixel, with fast paths for the types image decoders return.
func reader(img image.Image) func(x, y int) (r, g, b uint8) {
	switch p := img.(type) {
	case *image.YCbCr:
		return func(x, y int) (uint8, uint8, uint8) {
			return color.YCbCrToRGB(p.Y[p.YOffset(x, y)], p.Cb[p.COffset(x, y)], p.Cr[p.COffset(x, y)])
		}
	case *image.NRGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			i := p.PixOffset(x, y)
			return p.Pix[i], p.Pix[i+1], p.Pix[i+2]
		}
	case *image.Gray:
		return func(x, y int) (uint8, uint8, uint8) {
			v := p.Pix[p.PixOffset(x, y)]
			return v, v, v
		}
	}
	return func(x, y int) (uint8, uint8, uint8) {
		c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
		return c.R, c.G, c.B
	}
}
