// SPDX-License-Identifier: Apache-2.0

package match

import (
	"image"
	"math"

	"groundtruth/internal/media/photo"
)

// Tolerances, in 8-bit channel steps, for the region finders. They are
// wide enough for JPEG noise at quality 25 around flat areas and narrow
// enough that photographic texture rarely passes.
const (
	uniformTol   = 16   // a pixel belongs to a uniform line if no channel is further than this from the line's median
	uniformShare = 0.97 // share of a line's pixels that must belong for the line to be uniform
	frameTol     = 6    // a pixel has the frame colour if no channel is further than this from it
	frameRing    = 0.25 // share of the outer ring that must have one colour for the image to have a frame
	frameShare   = 0.50 // a row or column with at least this share of frame colour is interface
	barShare     = 0.70 // a line at the edge with at least this share of one colour (within uniformTol) is a bar, text or not
	textShare    = 0.30 // a line next to a bar with at least this share of the bar's colour is text on the bar
	ringDepth    = 2    // lines on each side that make up the outer ring
	minSide      = 16   // pixels: smaller regions are not hashed
)

// reduce is photo.Reduce: the same area filter whether a picture arrives
// already reduced by photo.DecodeReduced or whole.
func reduce(img image.Image, maxSide int) *image.NRGBA { return photo.Reduce(img, maxSide) }

// line describes n pixels of img starting at (x, y) and stepping (dx, dy).
type line struct{ x, y, dx, dy, n int }

func row(y, x0, x1 int) line { return line{x0, y, 1, 0, x1 - x0} }
func col(x, y0, y1 int) line { return line{x, y0, 0, 1, y1 - y0} }

// pixels calls f for each pixel of l.
func (l line) pixels(img *image.NRGBA, f func(p []uint8)) {
	for k := range l.n {
		i := img.PixOffset(l.x+k*l.dx, l.y+k*l.dy)
		f(img.Pix[i : i+3 : i+3])
	}
}

// within reports whether no channel of p is further than tol from c.
func within(p []uint8, c [3]uint8, tol int) bool {
	for k := range 3 {
		if d := int(p[k]) - int(c[k]); d > tol || d < -tol {
			return false
		}
	}
	return true
}

// uniform reports whether nearly all of l's pixels are close to the
// line's per-channel median colour.
func uniform(img *image.NRGBA, l line) bool {
	if l.n <= 0 {
		return false
	}
	var hist [3][256]int
	l.pixels(img, func(p []uint8) {
		hist[0][p[0]]++
		hist[1][p[1]]++
		hist[2][p[2]]++
	})
	var med [3]uint8
	for k := range 3 {
		seen := 0
		for v, c := range hist[k] {
			seen += c
			if 2*seen >= l.n {
				med[k] = uint8(v)
				break
			}
		}
	}
	return share(img, l, med, uniformTol) >= uniformShare
}

// share returns the fraction of l's pixels close to c.
func share(img *image.NRGBA, l line, c [3]uint8, tol int) float64 {
	if l.n <= 0 {
		return 0
	}
	n := 0
	l.pixels(img, func(p []uint8) {
		if within(p, c, tol) {
			n++
		}
	})
	return float64(n) / float64(l.n)
}

// limits returns the smallest width and height a derived region of a
// region as large as r may have: minRegion of the shorter side, so that a
// landscape picture in a tall phone screenshot still counts.
func limits(r image.Rectangle) (int, int) {
	m := max(minSide, int(math.Ceil(minRegion*float64(min(r.Dx(), r.Dy())))))
	return m, m
}

// trim removes uniform lines (of any colour, each line on its own) from
// the four edges of img, as long as the rest keeps at least minRegion of
// each side. It finds letterbox and pillarbox bars and plain margins.
// Uniform lines inside the picture are never removed: trimming only
// proceeds inward from an edge.
func trim(img *image.NRGBA) image.Rectangle {
	r := img.Bounds()
	mw, mh := limits(r)
	for changed := true; changed; {
		changed = false
		for r.Dy() > mh && uniform(img, row(r.Min.Y, r.Min.X, r.Max.X)) {
			r.Min.Y++
			changed = true
		}
		for r.Dy() > mh && uniform(img, row(r.Max.Y-1, r.Min.X, r.Max.X)) {
			r.Max.Y--
			changed = true
		}
		for r.Dx() > mw && uniform(img, col(r.Min.X, r.Min.Y, r.Max.Y)) {
			r.Min.X++
			changed = true
		}
		for r.Dx() > mw && uniform(img, col(r.Max.X-1, r.Min.Y, r.Max.Y)) {
			r.Max.X--
			changed = true
		}
	}
	return r
}

// mode returns the mean colour of the most common colour bin among the
// pixels of lines (bins of 16 levels per channel) and the share of those
// pixels within tol of it.
func mode(img *image.NRGBA, lines []line, tol int) ([3]uint8, float64) {
	var count [4096]int32
	var sum [4096][3]int32
	total := 0
	for _, l := range lines {
		l.pixels(img, func(p []uint8) {
			bin := int(p[0]>>4)<<8 | int(p[1]>>4)<<4 | int(p[2]>>4)
			count[bin]++
			sum[bin][0] += int32(p[0])
			sum[bin][1] += int32(p[1])
			sum[bin][2] += int32(p[2])
			total++
		})
	}
	if total == 0 {
		return [3]uint8{}, 0
	}
	best := 0
	for bin, c := range count {
		if c > count[best] {
			best = bin
		}
	}
	var f [3]uint8
	for k := range 3 {
		f[k] = uint8((sum[best][k] + count[best]/2) / count[best])
	}
	n := 0
	for _, l := range lines {
		l.pixels(img, func(p []uint8) {
			if within(p, f, tol) {
				n++
			}
		})
	}
	return f, float64(n) / float64(total)
}

// frameColour returns the colour dominating the outer ring of img (the
// ringDepth outermost lines on each side) and whether it covers at least
// frameRing of the ring: the background of a screenshot or the colour of
// letterbox bars.
func frameColour(img *image.NRGBA) ([3]uint8, bool) {
	b := img.Bounds()
	var ring []line
	for d := range min(ringDepth, b.Dy()/2, b.Dx()/2) {
		ring = append(ring,
			row(b.Min.Y+d, b.Min.X, b.Max.X), row(b.Max.Y-1-d, b.Min.X, b.Max.X),
			col(b.Min.X+d, b.Min.Y+ringDepth, b.Max.Y-ringDepth), col(b.Max.X-1-d, b.Min.Y+ringDepth, b.Max.Y-ringDepth))
	}
	f, s := mode(img, ring, frameTol)
	return f, s >= frameRing
}

// content returns the content box of img: the picture inside a frame of
// interface. It works on the trimmed region, rows first, then columns,
// then rows again (to drop margins the first pass included):
//
//   - From each edge it peels lines that are interface: at least
//     frameShare of the pixels have the frame colour (blank space, text or
//     icons on the background), or, if bars is set, barShare have one
//     colour of their own (a header or status bar of another colour, with
//     text on it). Such bars are peeled only as rows, in the first pass,
//     from the image's top and bottom edges before any frame-coloured row.
//     A picture whose edge is a clear sky looks like such a bar, which is
//     why callers try both settings.
//   - Of what remains it keeps the longest run of lines that do not have
//     the frame colour, dropping caption lines and buttons that are
//     separated from the picture by background.
//
// Peeling lines of their own colour only from the edges means a uniform
// band inside the picture, such as a clear sky, never splits it; only a
// band of the frame colour can. Without a frame colour the trimmed region
// is returned, and so it is when the box would be smaller than minRegion
// of a side.
func content(img *image.NRGBA, bars bool) image.Rectangle {
	t := trim(img)
	f, ok := frameColour(img)
	if !ok {
		return t
	}
	framed := func(l line) bool { return share(img, l, f, frameTol) >= frameShare }
	mw, mh := limits(img.Bounds())
	r := t
	for pass := range 3 {
		if pass%2 == 0 {
			at := func(y int) line { return row(y, r.Min.X, r.Max.X) }
			// Own-colour bars are peeled only in the first pass, which
			// starts at the image's top and bottom edges.
			lo, hi := r.Min.Y, r.Max.Y
			for p := (peeler{img: img, framed: framed, bars: bars && pass == 0}); lo < hi && p.peel(at(lo)); {
				lo++
			}
			for p := (peeler{img: img, framed: framed, bars: bars && pass == 0}); hi > lo && p.peel(at(hi-1)); {
				hi--
			}
			r.Min.Y, r.Max.Y = longest(lo, hi, func(y int) bool { return !framed(at(y)) })
		} else {
			at := func(x int) line { return col(x, r.Min.Y, r.Max.Y) }
			// Side bars of their own colour are rare, and a column of a
			// picture is more often uniform than a row of one: columns
			// peel frame colour only.
			lo, hi := r.Min.X, r.Max.X
			for p := (peeler{img: img, framed: framed}); lo < hi && p.peel(at(lo)); {
				lo++
			}
			for p := (peeler{img: img, framed: framed}); hi > lo && p.peel(at(hi-1)); {
				hi--
			}
			r.Min.X, r.Max.X = longest(lo, hi, func(x int) bool { return !framed(at(x)) })
		}
		if r.Dx() < mw || r.Dy() < mh {
			return t
		}
	}
	return r
}

// peeler decides, line by line inward from one edge, which lines are
// interface.
type peeler struct {
	img    *image.NRGBA
	framed func(line) bool // whether a line is mostly frame colour
	bars   bool            // whether lines of their own colour may be peeled yet
	bar    [3]uint8        // colour of the last own-colour bar peeled
	inBar  bool            // whether the line before was peeled as a bar
}

// peel reports whether l, the next line inward, is interface. Bars of
// their own colour are peeled only from the very edge, before any line of
// frame colour: a status bar and a header above the picture, not a
// uniform strip of the picture just above the caption. Lines of text in a
// bar keep less of the bar's colour than its plain lines, hence the lower
// textShare for lines following a bar.
func (p *peeler) peel(l line) bool {
	if p.framed(l) {
		p.bars, p.inBar = false, false
		return true
	}
	if !p.bars {
		return false
	}
	if c, s := mode(p.img, []line{l}, frameTol); s >= barShare {
		p.bar, p.inBar = c, true
		return true
	}
	return p.inBar && share(p.img, l, p.bar, frameTol) >= textShare
}

// longest returns the longest run [lo, hi) within [from, to) of indices
// for which in is true; the first such run on a tie, and an empty run at
// from if there is none.
func longest(from, to int, in func(int) bool) (int, int) {
	lo, hi := from, from
	start := -1
	for i := from; i <= to; i++ {
		if i < to && in(i) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start > hi-lo {
			lo, hi = start, i
		}
		start = -1
	}
	return lo, hi
}

// near reports whether two regions differ by at most 1 % of their size
// (and at least one pixel) on every edge, too little to change a hash.
func near(a, b image.Rectangle) bool {
	tx := max(1, a.Dx()/100)
	ty := max(1, a.Dy()/100)
	abs := func(v int) int {
		if v < 0 {
			return -v
		}
		return v
	}
	return abs(a.Min.X-b.Min.X) <= tx && abs(a.Max.X-b.Max.X) <= tx &&
		abs(a.Min.Y-b.Min.Y) <= ty && abs(a.Max.Y-b.Max.Y) <= ty
}

// derivable reports whether region r of full is worth a hash of its own:
// large enough to be the picture and different enough from full.
func derivable(r, full image.Rectangle) bool {
	mw, mh := limits(full)
	return r.Dx() >= mw && r.Dy() >= mh && !near(r, full)
}
