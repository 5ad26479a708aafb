// SPDX-License-Identifier: Apache-2.0

package match

import (
	"image"
	"slices"
	"strings"

	"groundtruth/internal/media/pdq"
)

// Kinds of hash. Only KindPDQ is interoperable with other PDQ users.
const (
	KindPDQ     = "pdq"     // the whole image, plain PDQ
	KindTrimmed = "trimmed" // uniform borders removed
	KindContent = "content" // interface (frame, text rows) removed; query side only
	KindInner   = "inner"   // as KindContent, and bars of other colours at the edges too; query side only
)

// Hash is one stored hash of an original.
type Hash struct {
	Kind    string   // one of the Kind constants
	Hash    pdq.Hash // PDQ of the region the kind names
	Quality int      // PDQ quality of that region, 0 to 100
}

// Probe is one hash of a suspected copy to look up.
type Probe struct {
	Kind    string   // KindPDQ, KindTrimmed or KindContent
	Variant int      // dihedral variant of the region, 0 to 7, in pdq.Dihedral's order
	Hash    pdq.Hash // PDQ of the region after that variant
	Quality int      // PDQ quality of the region, 0 to 100
}

// Match is the best acceptable pairing of a probe and a stored hash.
type Match struct {
	Distance  int    // Hamming distance, 0 to 256
	Query     string // kind of the probe
	Stored    string // kind of the stored hash
	Variant   int    // dihedral variant of the probe
	Transform string // how the copy differs from the original, in words, e.g. "mirrored, frame removed"
}

// Derived regions are found on a working copy of at most workSide pixels
// a side and hashed from a copy of at most hashSide: PDQ reduces anything
// larger than 512 pixels itself, so a region cut from the hashing copy is
// hashed much as the same region of the full image would be, while a
// region cut from the small working copy would come out sharper (PDQ's
// blur scales with the input) and differ by tens of bits.
const (
	workSide = 512
	hashSide = 1024
)

// minRegion is the smallest share of the shorter side a derived region
// may keep on each side; a smaller one is more likely an icon than the
// picture.
const minRegion = 0.25

// copies holds the two reduced copies of an image.
type copies struct {
	hash *image.NRGBA // at most hashSide a side
	work *image.NRGBA // at most workSide a side, reduced from hash
}

func newCopies(img image.Image) copies {
	h := reduce(img, hashSide)
	return copies{hash: h, work: reduce(h, workSide)}
}

// region returns the part of the hashing copy that r, a rectangle of the
// working copy, covers.
func (c copies) region(r image.Rectangle) image.Image {
	hw, hh := c.hash.Bounds().Dx(), c.hash.Bounds().Dy()
	ww, wh := c.work.Bounds().Dx(), c.work.Bounds().Dy()
	return c.hash.SubImage(image.Rect(
		r.Min.X*hw/ww, r.Min.Y*hh/wh,
		(r.Max.X*hw+ww-1)/ww, (r.Max.Y*hh+wh-1)/wh))
}

// Stored returns the hashes to keep for an original. The first is always
// the plain PDQ hash of the whole image, whatever its quality. A hash of
// the picture with uniform borders trimmed follows when the borders are
// there and the trimmed hash passes pdq.MinQuality: an original may itself
// be a letterboxed copy of a picture whose later copies lost the bars.
func Stored(img image.Image) []Hash {
	h, q := pdq.FromImage(img)
	out := []Hash{{Kind: KindPDQ, Hash: h, Quality: q}}
	c := newCopies(img)
	if t := trim(c.work); derivable(t, c.work.Bounds()) {
		if h, q := pdq.FromImage(c.region(t)); q >= pdq.MinQuality {
			out = append(out, Hash{Kind: KindTrimmed, Hash: h, Quality: q})
		}
	}
	return out
}

// Query returns the probes to look up for a suspected copy: the plain PDQ
// hash of the whole image, then the trimmed region and the two content
// boxes (KindContent, KindInner) when they differ from the whole image
// and from each other, each with its eight dihedral variants. The plain
// probes are returned whatever their quality; derived ones only if they
// pass pdq.MinQuality. Compare applies the quality gate to all.
func Query(img image.Image) []Probe {
	var out []Probe
	add := func(kind string, hs [8]pdq.Hash, q int) {
		for v, h := range hs {
			out = append(out, Probe{Kind: kind, Variant: v, Hash: h, Quality: q})
		}
	}
	hs, q := pdq.Dihedral(img)
	add(KindPDQ, hs, q)
	c := newCopies(img)
	full := c.work.Bounds()
	seen := []image.Rectangle{full}
	try := func(kind string, r image.Rectangle) {
		if !derivable(r, full) || slices.ContainsFunc(seen, func(s image.Rectangle) bool { return near(r, s) }) {
			return
		}
		seen = append(seen, r)
		if hs, q := pdq.Dihedral(c.region(r)); q >= pdq.MinQuality {
			add(kind, hs, q)
		}
	}
	try(KindTrimmed, trim(c.work))
	try(KindContent, content(c.work, false))
	try(KindInner, content(c.work, true))
	return out
}

// Thresholds for accepting a pairing. Plain against plain is PDQ's own
// threshold, so that a match means what it means to other PDQ users.
// Pairings involving a derived hash get the same threshold: on the
// evaluation set (73 photographs, ten edits each, every derived region
// with its eight dihedral variants) true pairings were at most 30 bits
// apart and pairings with a wrong photograph at least 92 (plain ones at
// least 88), so the extra probes cost no measurable false-match risk. Keep
// them separate so that a larger corpus can tighten the derived one alone.
const (
	plainThreshold   = pdq.MatchThreshold
	derivedThreshold = pdq.MatchThreshold
)

// threshold returns the largest accepted distance between a probe of kind
// q and a stored hash of kind s.
func threshold(q, s string) int {
	if q == KindPDQ && s == KindPDQ {
		return plainThreshold
	}
	return derivedThreshold
}

// Compare returns the best acceptable pairing of a probe with a stored
// hash, and false if there is none. Both hashes must have quality at least
// pdq.MinQuality and be within the threshold for their kinds. Among
// acceptable pairings the smallest distance wins; ties prefer plain
// hashes and the untransformed variant, so that the explanation is the
// simplest one.
func Compare(q []Probe, s []Hash) (Match, bool) {
	var best Match
	found := false
	rank := func(m Match) int { // lower is simpler
		r := m.Variant
		if m.Query != KindPDQ {
			r += 8
		}
		if m.Stored != KindPDQ {
			r += 16
		}
		return r
	}
	for _, p := range q {
		if p.Quality < pdq.MinQuality {
			continue
		}
		for _, h := range s {
			if h.Quality < pdq.MinQuality {
				continue
			}
			d := pdq.Distance(p.Hash, h.Hash)
			if d > threshold(p.Kind, h.Kind) {
				continue
			}
			m := Match{Distance: d, Query: p.Kind, Stored: h.Kind, Variant: p.Variant}
			if !found || d < best.Distance || d == best.Distance && rank(m) < rank(best) {
				best, found = m, true
			}
		}
	}
	if found {
		best.Transform = describe(best)
	}
	return best, found
}

// describe puts a pairing into words for an analyst.
func describe(m Match) string {
	var parts []string
	if m.Variant != 0 {
		parts = append(parts, TransformName(m.Variant))
	}
	switch m.Query {
	case KindTrimmed:
		parts = append(parts, "borders removed")
	case KindContent, KindInner:
		parts = append(parts, "frame removed")
	}
	switch m.Stored {
	case KindTrimmed:
		parts = append(parts, "original's borders removed")
	}
	if len(parts) == 0 {
		return "same picture"
	}
	return strings.Join(parts, ", ")
}

// TransformName says in words how a copy differs from the original when
// the copy's dihedral variant number variant (pdq.Dihedral's order)
// matched the original. Rotations are named as done to the original to
// make the copy; TestTransformName checks the direction on real pixels.
func TransformName(variant int) string {
	switch variant {
	case 0:
		return "unchanged orientation"
	case 1:
		return "rotated 90° clockwise"
	case 2:
		return "rotated 180°"
	case 3:
		return "rotated 90° anticlockwise"
	case 4:
		return "flipped upside down"
	case 5:
		return "mirrored"
	case 6:
		return "transposed (mirrored and rotated 90°)"
	case 7:
		return "anti-transposed (mirrored and rotated 90°)"
	}
	return "unknown transform"
}
