// SPDX-License-Identifier: Apache-2.0

package match

import (
	"image"
	"math"
)

// plane is a greyscale picture as BT.601 luma, row-major, w×h values.
type plane struct {
	w, h int
	p    []float32
}

// lumaPlane returns the luma of region r of img, anchored at (0, 0). The
// weights are PDQ's, so that what is aligned is what PDQ sees.
func lumaPlane(img *image.NRGBA, r image.Rectangle) plane {
	r = r.Intersect(img.Bounds())
	out := plane{w: r.Dx(), h: r.Dy(), p: make([]float32, r.Dx()*r.Dy())}
	for y := range out.h {
		row := img.Pix[img.PixOffset(r.Min.X, r.Min.Y+y):]
		for x := range out.w {
			px := row[4*x : 4*x+3 : 4*x+3]
			out.p[y*out.w+x] = 0.299*float32(px[0]) + 0.587*float32(px[1]) + 0.114*float32(px[2])
		}
	}
	return out
}

// taps are the source indices and weights that make one output sample of
// a one-dimensional resampling.
type taps struct {
	from int
	w    []float32
}

// kernel returns, for each of n outputs covering the source interval
// [lo, lo+span) of a vector of length size, the source samples it averages:
// every source sample the output cell overlaps, weighted by the overlap
// (an area filter). When the cell is narrower than a sample, as when
// enlarging, it takes the samples around its centre linearly instead.
func kernel(size int, lo, span float64, n int) []taps {
	out := make([]taps, n)
	step := span / float64(n)
	for i := range out {
		a, b := lo+float64(i)*step, lo+float64(i+1)*step
		if step < 1 {
			c := (a+b)/2 - 0.5
			f := math.Floor(c)
			t := float32(c - f)
			i0 := clampInt(int(f), 0, size-1)
			i1 := clampInt(int(f)+1, 0, size-1)
			if i0 == i1 {
				out[i] = taps{from: i0, w: []float32{1}}
			} else {
				out[i] = taps{from: i0, w: []float32{1 - t, t}}
			}
			continue
		}
		first := clampInt(int(math.Floor(a)), 0, size-1)
		last := clampInt(int(math.Ceil(b))-1, first, size-1)
		ws := make([]float32, last-first+1)
		var sum float32
		for k := first; k <= last; k++ {
			o := float32(min(b, float64(k+1)) - max(a, float64(k)))
			if o < 0 {
				o = 0
			}
			ws[k-first] = o
			sum += o
		}
		if sum == 0 {
			ws[0], sum = 1, 1
		}
		for k := range ws {
			ws[k] /= sum
		}
		out[i] = taps{from: first, w: ws}
	}
	return out
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

// sample resamples the window of p with top-left (x, y) and size (ww, wh),
// in p's pixels and possibly fractional, to w×h values.
func (p plane) sample(x, y, ww, wh float64, w, h int) plane {
	kx := kernel(p.w, x, ww, w)
	ky := kernel(p.h, y, wh, h)
	// Rows first: only the source rows some output row uses.
	rowLo, rowHi := ky[0].from, ky[h-1].from+len(ky[h-1].w)
	tmp := make([]float32, (rowHi-rowLo)*w)
	for r := rowLo; r < rowHi; r++ {
		src := p.p[r*p.w : (r+1)*p.w]
		dst := tmp[(r-rowLo)*w : (r-rowLo+1)*w]
		for i, t := range kx {
			var s float32
			for k, wt := range t.w {
				s += wt * src[t.from+k]
			}
			dst[i] = s
		}
	}
	out := plane{w: w, h: h, p: make([]float32, w*h)}
	for j, t := range ky {
		dst := out.p[j*w : (j+1)*w]
		for k, wt := range t.w {
			src := tmp[(t.from+k-rowLo)*w : (t.from+k-rowLo+1)*w]
			for i := range dst {
				dst[i] += wt * src[i]
			}
		}
	}
	return out
}

// resize resamples all of p to w×h.
func (p plane) resize(w, h int) plane {
	return p.sample(0, 0, float64(p.w), float64(p.h), w, h)
}

// fit resizes p so that its longer side is at most side, keeping the
// aspect ratio.
func (p plane) fit(side int) plane {
	if max(p.w, p.h) <= side {
		return p
	}
	s := float64(side) / float64(max(p.w, p.h))
	return p.resize(max(1, int(math.Round(float64(p.w)*s))), max(1, int(math.Round(float64(p.h)*s))))
}

// mirror returns p flipped left to right.
func (p plane) mirror() plane {
	out := plane{w: p.w, h: p.h, p: make([]float32, len(p.p))}
	for y := range p.h {
		for x := range p.w {
			out.p[y*p.w+x] = p.p[y*p.w+p.w-1-x]
		}
	}
	return out
}

// normalise subtracts the mean of v and scales it to unit length, so that
// the dot product of two normalised vectors is their normalised
// cross-correlation, which ignores brightness and contrast changes. It
// reports false, leaving v unspecified, if v is flat.
func normalise(v []float32) bool {
	var sum float64
	for _, x := range v {
		sum += float64(x)
	}
	mean := float32(sum / float64(len(v)))
	var ss float64
	for i := range v {
		v[i] -= mean
		ss += float64(v[i]) * float64(v[i])
	}
	// A standard deviation below one grey level is flat: noise, not a picture.
	if ss < float64(len(v)) {
		return false
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
	return true
}

// dot returns the dot product of two vectors of equal length.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}
