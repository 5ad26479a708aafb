// SPDX-License-Identifier: Apache-2.0

package match

import (
	"fmt"
	"image"
	"math"
	"slices"
	"sync"

	"groundtruth/internal/media/pdq"
)

// CropQuery is a suspected copy prepared for the crop stage: its
// thumbnail for the pre-filter (Score, Candidates) and reduced copies and
// hashes for the verification (Verify). Prepare it once per query; it is
// safe for concurrent use.
type CropQuery struct {
	thumb Thumb
	tq    plane // the thumbnail, for the pre-filter
	views []cropView

	mu   sync.Mutex
	sigs map[[2]int]*sigs // by the original's thumbnail size
}

// cropView is one way of reading the query: whole, or with uniform
// borders trimmed.
type cropView struct {
	kind    string      // KindPDQ or KindTrimmed
	hashes  [8]pdq.Hash // pdq.Dihedral of the view
	quality int
	size    image.Point // pixels the view was hashed at
	coarse  [2]plane    // the view at about twice the coarsest level, plain and mirrored
	levels  [][2][]float32
	dims    [][2]int // w, h of levels[i]
}

// NewCropQuery prepares query for the crop stage.
func NewCropQuery(query image.Image) *CropQuery {
	c := newCopies(query)
	t := trim(c.work)
	cq := &CropQuery{thumb: thumbOf(c, t), sigs: map[[2]int]*sigs{}}
	cq.tq = cq.thumb.plane()
	// The trimmed view first: it is the picture when the query has bars.
	if derivable(t, c.work.Bounds()) {
		cq.views = append(cq.views, newCropView(KindTrimmed, c.hash, c.region(t)))
	}
	cq.views = append(cq.views, newCropView(KindPDQ, c.hash, query))
	return cq
}

// newCropView prepares img, which is either the whole query or a region
// of its hashing copy hash, for alignment.
func newCropView(kind string, hash *image.NRGBA, img image.Image) cropView {
	v := cropView{kind: kind, size: img.Bounds().Size()}
	v.hashes, v.quality = pdq.Dihedral(img)
	r := hash.Bounds()
	if kind != KindPDQ {
		r = img.Bounds()
	}
	p := lumaPlane(hash, r)
	for i := len(alignLevels) - 1; i >= 0; i-- {
		p = p.fit(alignLevels[i])
		if i == 0 {
			break
		}
		plain, mirrored := slices.Clone(p.p), p.mirror().p
		if !normalise(plain) || !normalise(mirrored) {
			plain, mirrored = nil, nil
		}
		v.levels = append([][2][]float32{{plain, mirrored}}, v.levels...)
		v.dims = append([][2]int{{p.w, p.h}}, v.dims...)
		if i == 1 {
			v.coarse = [2]plane{p, p.mirror()}
		}
	}
	return v
}

// Thumb returns the query's thumbnail, as Thumbnail computes it.
func (c *CropQuery) Thumb() Thumb { return c.thumb }

// sigs holds the query's signatures under every crop hypothesis for
// originals of one thumbnail size, n of each size, one after another.
type sigs struct {
	n            int
	fine, coarse []float32
}

// hypotheses returns the query's signatures for originals whose
// thumbnails are w×h: for every window size and position of the crop
// grid, what the detail of the original's centre would look like if the
// query were that window.
func (c *CropQuery) hypotheses(w, h int) *sigs {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := [2]int{w, h}
	if s, ok := c.sigs[key]; ok {
		return s
	}
	out := &sigs{}
	q := c.tq
	if q.w >= sigSide && q.h >= sigSide {
		qa := float64(q.h) / float64(q.w) // the query's aspect ratio
		for fx := MinCropShare; fx <= 1+1e-9; fx += scaleStep {
			// The window keeps the query's aspect ratio, up to a slight stretch.
			fy := fx * float64(w) / float64(h) * qa
			if fy < MinCropShare*(1-aspectSlack) || fy > 1+aspectSlack {
				continue
			}
			fy = min(fy, 1)
			for x0 := 0.0; x0 <= 1-fx+1e-9; x0 += shiftStep {
				for y0 := 0.0; y0 <= 1-fy+1e-9; y0 += shiftStep {
					if f, cs, ok := centre(q, x0, y0, fx, fy); ok {
						out.n++
						out.fine = append(out.fine, f...)
						out.coarse = append(out.coarse, cs...)
					}
				}
			}
		}
	}
	c.sigs[key] = out
	return out
}

// Verify decides whether the query is a crop of original: a window
// keeping MinCropShare to all of each side of the original, at any
// position and scale, with the query's aspect ratio up to a slight
// stretch, mirrored or not. Uniform borders may be trimmed from either
// picture first. It aligns the query on reduced copies of the original,
// coarse to fine, by normalised cross-correlation, then cuts the window
// out of the original and accepts only if the window's PDQ hash is within
// pdq.MatchThreshold of the query's and both have quality at least
// pdq.MinQuality: every accepted crop is backed by a PDQ distance, in
// Match.Distance. Match.Stored is KindCropped; Match.Query is KindTrimmed
// if the query's borders were trimmed, else KindPDQ; Match.Variant is 5
// for a mirrored crop.
//
// It takes about 50 ms for an original of 1024×683 pixels, a third of it
// reducing the original; larger originals add their reduction (about
// 150 ms for 12 megapixels).
func (c *CropQuery) Verify(original image.Image) (Match, bool) {
	oc := newCopies(original)
	rects := []image.Rectangle{oc.hash.Bounds()}
	if t := trim(oc.work); derivable(t, oc.work.Bounds()) {
		rects = slices.Insert(rects, 0, oc.region(t).Bounds())
	}
	for _, r := range rects {
		o := lumaPlane(oc.hash, r)
		if min(o.w, o.h) < minSide {
			continue
		}
		// The original's levels, finest first, each reduced from the one before.
		levels := make([]plane, len(alignLevels))
		p := o
		for i := len(alignLevels) - 1; i >= 0; i-- {
			p = p.fit(alignLevels[i])
			levels[i] = p
		}
		g := newGrid(levels[0])
		for _, v := range c.views {
			if v.quality < pdq.MinQuality || v.levels == nil {
				continue
			}
			if m, ok := v.verify(oc.hash, r, o, levels, g); ok {
				return m, true
			}
		}
	}
	return Match{}, false
}

// verify aligns the view on the original, whose luma plane o is region r
// of its hashing copy src, reduced to levels (coarsest first, g its grid).
func (v *cropView) verify(src *image.NRGBA, r image.Rectangle, o plane, levels []plane, g grid) (Match, bool) {
	for _, p := range coarse(g, v.coarse) {
		sx, sy := float64(o.w)/float64(g.w), float64(o.h)/float64(g.h)
		h := hyp{r: [4]float64{float64(p.x) * sx, float64(p.y) * sy, float64(p.w) * sx, float64(p.h) * sy}, mirror: p.mirror}
		// The coarsest level places the window to a pixel, so the next
		// starts with steps of two of its own pixels and the others
		// with one.
		first := 2.0
		for i := 1; i < len(levels); i++ {
			l := level{o: levels[i], scale: float64(levels[i].w) / float64(o.w), q: v.levels[i-1], qw: v.dims[i-1][0], qh: v.dims[i-1][1]}
			h = l.refine(o, h, first)
			first = 1
		}
		if h.score < fineFloor {
			continue
		}
		win := image.Rect(
			r.Min.X+int(math.Round(h.r[0])), r.Min.Y+int(math.Round(h.r[1])),
			r.Min.X+int(math.Round(h.r[0]+h.r[2])), r.Min.Y+int(math.Round(h.r[1]+h.r[3]))).Intersect(r)
		variant := 0
		if h.mirror {
			variant = 5 // pdq.Dihedral's left-right mirror; TransformName(5)
		}
		d, ok := cropDistance(src, win, v.size, v.hashes[variant])
		if !ok || d > pdq.MatchThreshold {
			continue
		}
		m := Match{Distance: d, Query: v.kind, Stored: KindCropped, Variant: variant}
		m.Transform = fmt.Sprintf("cropped to %.0f %% × %.0f %% of the original",
			100*float64(win.Dx())/float64(r.Dx()), 100*float64(win.Dy())/float64(r.Dy()))
		if variant != 0 {
			m.Transform = TransformName(variant) + ", " + m.Transform
		}
		return m, true
	}
	return Match{}, false
}

// VerifyCrop is NewCropQuery(query).Verify(original): prepare the query
// once instead when checking several originals.
func VerifyCrop(query, original image.Image) (Match, bool) {
	return NewCropQuery(query).Verify(original)
}

// cropDistance returns the distance between the PDQ hash of window r of
// the original's hashing copy and the query's hash qh, and false if the
// window's hash is not of quality pdq.MinQuality. The window is reduced to
// the query's size first when it is larger, so that PDQ filters both
// alike.
func cropDistance(src *image.NRGBA, r image.Rectangle, qsize image.Point, qh pdq.Hash) (int, bool) {
	var img image.Image = src.SubImage(r)
	if r.Dx() > qsize.X && r.Dy() > qsize.Y {
		img = reduce(img, max(qsize.X, qsize.Y))
	}
	h, q := pdq.FromImage(img)
	if q < pdq.MinQuality {
		return 0, false
	}
	return pdq.Distance(h, qh), true
}
