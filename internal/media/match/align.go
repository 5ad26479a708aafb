// SPDX-License-Identifier: Apache-2.0

package match

import (
	"cmp"
	"math"
	"slices"
)

// KindCropped names, in Match.Stored, a window of the original found by
// VerifyCrop rather than a stored hash.
const KindCropped = "cropped"

// Alignment levels: the original is searched at these longer sides,
// coarsest first. The coarsest is searched exhaustively on a pixel grid,
// the others only around what the level before found, to a quarter of
// their pixel.
var alignLevels = []int{64, 128, 256}

const (
	coarsePeaks = 3   // hypotheses of the coarsest level refined further
	coarseFloor = 0.5 // least correlation at the coarsest level worth refining
	fineFloor   = 0.7 // least correlation after refinement worth a PDQ hash
)

// grid is a plane with its summed-area tables, for the mean and variance
// of any window in constant time.
type grid struct {
	plane
	sum, sq []float64 // (w+1)·(h+1), sum[(y)(w+1)+x] covers [0,x)×[0,y)
}

func newGrid(p plane) grid {
	g := grid{plane: p, sum: make([]float64, (p.w+1)*(p.h+1)), sq: make([]float64, (p.w+1)*(p.h+1))}
	W := p.w + 1
	for y := range p.h {
		var rs, rq float64
		for x := range p.w {
			v := float64(p.p[y*p.w+x])
			rs += v
			rq += v * v
			g.sum[(y+1)*W+x+1] = g.sum[y*W+x+1] + rs
			g.sq[(y+1)*W+x+1] = g.sq[y*W+x+1] + rq
		}
	}
	return g
}

// ncc returns the normalised cross-correlation of the template t
// (normalised, tw×th) with the window of g at (x, y); 0 for a flat window.
// The window must lie inside g.
func (g grid) ncc(t []float32, tw, th, x, y int) float64 {
	W := g.w + 1
	n := float64(tw * th)
	s := g.sum[(y+th)*W+x+tw] - g.sum[y*W+x+tw] - g.sum[(y+th)*W+x] + g.sum[y*W+x]
	q := g.sq[(y+th)*W+x+tw] - g.sq[y*W+x+tw] - g.sq[(y+th)*W+x] + g.sq[y*W+x]
	v := q - s*s/n
	if v < n { // standard deviation below one grey level
		return 0
	}
	var d float32
	for r := range th {
		d += dot(t[r*tw:(r+1)*tw], g.p[(y+r)*g.w+x:(y+r)*g.w+x+tw])
	}
	// t has zero mean, so its product with the window ignores the window's mean.
	return float64(d) / math.Sqrt(v)
}

// window is a crop hypothesis at the coarsest level: the query, mirrored
// or not, covers w×h pixels of the level from (x, y).
type window struct {
	x, y, w, h int
	mirror     bool
	score      float64
}

// coarse searches every crop hypothesis on g, the coarsest level, with
// the query q resized to each window size, and returns the best few
// distinct ones, best first.
func coarse(g grid, q [2]plane) []window {
	qa := float64(q[0].h) / float64(q[0].w)
	var all []window
	for m := range q {
		for w := int(math.Ceil(MinCropShare * float64(g.w))); w <= g.w; w++ {
			h := int(math.Round(float64(w) * qa))
			if h > g.h {
				if float64(h) > float64(g.h)*(1+aspectSlack) {
					continue
				}
				h = g.h
			}
			if float64(h) < MinCropShare*(1-aspectSlack)*float64(g.h) {
				continue
			}
			t := q[m].resize(w, h).p
			if !normalise(t) {
				continue
			}
			for y := 0; y+h <= g.h; y++ {
				for x := 0; x+w <= g.w; x++ {
					if s := g.ncc(t, w, h, x, y); s >= coarseFloor {
						all = append(all, window{x: x, y: y, w: w, h: h, mirror: m == 1, score: s})
					}
				}
			}
		}
	}
	slices.SortFunc(all, func(a, b window) int { return cmp.Compare(b.score, a.score) })
	var out []window
	for _, c := range all {
		distinct := !slices.ContainsFunc(out, func(o window) bool {
			return o.mirror == c.mirror && abs(o.x-c.x) <= 2 && abs(o.y-c.y) <= 2 && abs(o.w-c.w) <= 2
		})
		if distinct {
			out = append(out, c)
			if len(out) == coarsePeaks {
				break
			}
		}
	}
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// hyp is a crop hypothesis in the pixels of the original's luma plane,
// fractional: the query covers [x, x+w) × [y, y+h).
type hyp struct {
	r      [4]float64 // x, y, w, h
	mirror bool
	score  float64
}

// level is one refinement level: the original reduced to about side
// pixels, and the query reduced to that side, normalised, plain and
// mirrored.
type level struct {
	o     plane
	scale float64 // level pixels per original plane pixel
	q     [2][]float32
	qw    int
	qh    int

	xbuf, ybuf axisBuf
}

// score returns the correlation of the hypothesis's window, sampled
// bilinearly to the query's size at this level, with the query; −2 if
// the window leaves the picture by more than a pixel, keeps less than
// MinCropShare of a side (less a slight stretch) or is flat. The
// level has about as many pixels as the query at this level, so the
// window, at most as large, is enlarged or kept and bilinear sampling
// loses nothing.
func (l *level) score(o plane, h hyp) float64 {
	x, y, w, hh := h.r[0], h.r[1], h.r[2], h.r[3]
	if x < -1 || y < -1 || x+w > float64(o.w)+1 || y+hh > float64(o.h)+1 || w < minSide || hh < minSide {
		return -2
	}
	// The refinement may not leave the hypotheses VerifyCrop promises.
	least := MinCropShare * (1 - aspectSlack)
	if w < least*float64(o.w) || hh < least*float64(o.h) {
		return -2
	}
	t := l.q[0]
	if h.mirror {
		t = l.q[1]
	}
	if t == nil {
		return -2
	}
	// Source coordinates of the output samples' centres, at this level.
	xs, xf := l.axis(x*l.scale, w*l.scale, l.qw, l.o.w, &l.xbuf)
	ys, yf := l.axis(y*l.scale, hh*l.scale, l.qh, l.o.h, &l.ybuf)
	var d, sum, sq float64
	p := l.o.p
	for j := range l.qh {
		r0 := p[ys[j]*l.o.w:]
		r1 := r0
		if ys[j]+1 < l.o.h {
			r1 = p[(ys[j]+1)*l.o.w:]
		}
		fy := yf[j]
		tr := t[j*l.qw : (j+1)*l.qw]
		var rd, rs, rq float32
		for i, x0 := range xs {
			x1 := min(x0+1, l.o.w-1)
			a := r0[x0] + (r0[x1]-r0[x0])*xf[i]
			b := r1[x0] + (r1[x1]-r1[x0])*xf[i]
			v := a + (b-a)*fy
			rd += v * tr[i]
			rs += v
			rq += v * v
		}
		d, sum, sq = d+float64(rd), sum+float64(rs), sq+float64(rq)
	}
	n := float64(l.qw * l.qh)
	v := sq - sum*sum/n
	if v < n { // standard deviation below one grey level
		return -2
	}
	// t has zero mean, so its product with the samples ignores their mean.
	return d / math.Sqrt(v)
}

// axis returns, for n samples spread over [lo, lo+span) of an axis of
// size pixels, the pixel at or before each sample's centre and the
// fraction towards the next, reusing buf.
func (l *level) axis(lo, span float64, n, size int, buf *axisBuf) ([]int, []float32) {
	if cap(buf.i) < n {
		buf.i, buf.f = make([]int, n), make([]float32, n)
	}
	is, fs := buf.i[:n], buf.f[:n]
	step := span / float64(n)
	for k := range n {
		c := lo + (float64(k)+0.5)*step - 0.5
		f := math.Floor(c)
		switch {
		case c <= 0:
			is[k], fs[k] = 0, 0
		case int(f) >= size-1:
			is[k], fs[k] = size-1, 0
		default:
			is[k], fs[k] = int(f), float32(c-f)
		}
	}
	return is, fs
}

// axisBuf holds sample positions along one axis between calls.
type axisBuf struct {
	i []int
	f []float32
}

// refine improves h at level l by a pattern search over the window's
// centre and size (the aspect ratio stays): every combination of moving
// the centre by −step, 0 or +step in each direction and the width by
// −2·step, 0 or +2·step is tried, the best taken, until none improves the
// correlation; then the step is halved, from first level pixels to a
// quarter. Trying the combinations, not one parameter at a time, follows
// the ridges that blurred pictures give the correlation, where a shift
// and a change of size compensate each other.
func (l *level) refine(o plane, h hyp, first float64) hyp {
	h.score = l.score(o, h)
	for step := first / l.scale; step >= 0.25/l.scale; step /= 2 {
		for range 8 {
			cur := h
			for ds := -1.0; ds <= 1; ds++ {
				for dy := -1.0; dy <= 1; dy++ {
					for dx := -1.0; dx <= 1; dx++ {
						if dx == 0 && dy == 0 && ds == 0 {
							continue
						}
						c := cur
						f := (c.r[2] + 2*ds*step) / c.r[2]
						c.r[0] += dx*step - (f-1)*c.r[2]/2
						c.r[1] += dy*step - (f-1)*c.r[3]/2
						c.r[2] *= f
						c.r[3] *= f
						if s := l.score(o, c); s > h.score {
							c.score = s
							h = c
						}
					}
				}
			}
			if h == cur {
				break
			}
		}
	}
	return h
}
