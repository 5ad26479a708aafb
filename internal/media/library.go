// SPDX-License-Identifier: Apache-2.0

package media

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sync"
	"time"

	"groundtruth/internal/locker"
	"groundtruth/internal/media/index"
	"groundtruth/internal/media/match"
	"groundtruth/internal/media/pdq"
	"groundtruth/internal/media/photo"
	"groundtruth/internal/media/video"
	"groundtruth/internal/store"
)

// VideoLinkPercent is the share of one video's frames that must be found
// in another for the two to be linked: 80 % as in the vPDQ reference,
// applied to whichever side is the excerpt, so that a clip and the longer
// video it was cut from are linked whichever is analysed first.
const VideoLinkPercent = 80

// Library finds near-duplicates among everything analysed so far. It
// keeps an in-memory index of every stored hash and catches up with the
// database before each search, so one Library can serve a long-running
// process. Candidates from the index are always re-checked against the
// hashes in the database, which are the truth.
type Library struct {
	st          *store.Store
	lk          *locker.Locker // originals, for the crop stage's alignment
	maxDistance int

	mu   sync.Mutex
	ix   *index.Index
	rows map[index.ID]string // hash row → original
	last int64
}

// NewLibrary returns a library over the store's analyses and the
// locker's originals, matching at distance ≤ maxDistance (PDQ's own is
// pdq.MatchThreshold; a negative value means that).
func NewLibrary(st *store.Store, lk *locker.Locker, maxDistance int) *Library {
	if maxDistance < 0 {
		maxDistance = pdq.MatchThreshold
	}
	return &Library{st: st, lk: lk, maxDistance: maxDistance, ix: index.New(index.Options{MaxDistance: max(maxDistance, pdq.MatchThreshold)}), rows: map[index.ID]string{}}
}

// catchUp adds the hashes stored since the last call. Hashes of low
// quality are left out of the index: they are never matched on.
func (l *Library) catchUp(ctx context.Context) error {
	return l.st.EachMediaHash(ctx, l.last, func(h store.MediaHash) error {
		l.last = h.ID
		if h.Quality < pdq.MinQuality {
			return nil
		}
		l.ix.Add(index.ID(h.ID), h.Hash)
		l.rows[index.ID(h.ID)] = h.SHA256
		return nil
	})
}

// Found is one near-duplicate of an analysed file.
type Found struct {
	SHA256 string `json:"sha256"`
	// Distance is the smallest Hamming distance between the two (0 to 256).
	Distance int `json:"distance"`
	// Transform names what was undone to find it: "mirrored", "letterbox
	// removed", … empty for a plain match.
	Transform string `json:"transform,omitempty"`
	// FrameSeconds is the time of the matching frame when an image matched
	// a frame of a stored video, or a video frame matched a stored image.
	FrameSeconds *float64 `json:"frame_seconds,omitempty"`
	// For two videos: the share of the analysed video's frames found in
	// the stored one, and of the stored one's found in the analysed one.
	QueryPercent    *float64 `json:"query_percent,omitempty"`
	ComparedPercent *float64 `json:"compared_percent,omitempty"`
}

// Match returns the stored originals that a is a near-duplicate of,
// closest first, leaving out self (the analysed original's own digest).
func (l *Library) Match(ctx context.Context, a *Analysis, self string) ([]Found, error) {
	var needles []pdq.Hash
	switch a.Kind {
	case Image:
		for _, p := range a.probes {
			if p.Quality >= pdq.MinQuality {
				needles = append(needles, p.Hash)
			}
		}
	case Video:
		groups := [][]video.Frame{a.frames, a.mirror}
		for _, k := range match.HalfKinds {
			groups = append(groups, a.halves[k])
		}
		for _, fs := range groups {
			for _, f := range fs {
				if f.Quality >= pdq.MinQuality {
					needles = append(needles, f.Hash)
				}
			}
		}
	}
	if len(needles) == 0 {
		return nil, nil
	}
	l.mu.Lock()
	if err := l.catchUp(ctx); err != nil {
		l.mu.Unlock()
		return nil, err
	}
	hits := l.ix.Search(needles, l.maxDistance)
	candidates := map[string]bool{}
	for _, h := range hits {
		if sum := l.rows[h.ID]; sum != self {
			candidates[sum] = true
		}
	}
	l.mu.Unlock()

	var out []Found
	for _, sum := range slices.Sorted(maps.Keys(candidates)) {
		hashes, err := l.st.MediaHashes(ctx, sum)
		if err != nil {
			return nil, err
		}
		if f, ok := l.compare(a, sum, hashes); ok {
			out = append(out, f)
		}
	}
	if len(out) == 0 && a.Kind == Image {
		var err error
		if out, err = l.cropStage(ctx, a, self); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(x, y Found) int { return x.Distance - y.Distance })
	return out, nil
}

// cropStage looks for the original a photo was cut from, when none of its
// hashes matched: a crop moves every cell PDQ samples, so no hash finds
// it. Every stored thumbnail is scored against the photo under crop
// hypotheses (a linear pass: 22 to 36 µs per original, see make bench), and the best few
// originals are aligned with it at full resolution; a candidate is
// accepted only when the aligned window's PDQ hash is within the match
// distance of the photo's.
func (l *Library) cropStage(ctx context.Context, a *Analysis, self string) ([]Found, error) {
	if l.lk == nil || a.img == nil {
		return nil, nil
	}
	cq := match.NewCropQuery(a.img)
	type candidate struct {
		sum   string
		score float32
	}
	var top []candidate
	err := l.st.EachThumb(ctx, func(sum string, b []byte) error {
		var th match.Thumb
		if sum == self || th.UnmarshalBinary(b) != nil {
			return nil // an older thumbnail is skipped until the original is analysed again
		}
		if s := cq.Score(th); s >= match.CropFloor {
			top = append(top, candidate{sum, s})
			slices.SortStableFunc(top, func(x, y candidate) int { return cmp.Compare(y.score, x.score) })
			top = top[:min(len(top), match.CropTopK)]
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	var out []Found
	for _, c := range top {
		data, err := os.ReadFile(l.lk.Path(c.sum))
		if err != nil {
			continue // a missing original is verify's finding; it must not stop matching
		}
		orig, _, err := photo.DecodeReduced(data, photo.DefaultMaxPixels, photo.WorkSide)
		if err != nil {
			continue // analysed before, so decodable; changed limits may refuse it now
		}
		if m, ok := cq.Verify(orig); ok && m.Distance <= l.maxDistance {
			out = append(out, Found{SHA256: c.sum, Distance: m.Distance, Transform: m.Transform})
		}
	}
	return out, nil
}

// compare decides whether a matches the stored original sum, whose hashes
// are given, with the gates of the match package for single pictures and
// vPDQ percentages for two videos.
func (l *Library) compare(a *Analysis, sum string, hashes []store.MediaHash) (Found, bool) {
	var stills []match.Hash
	var frames []video.Frame
	halves := map[string][]video.Frame{}
	for _, h := range hashes {
		switch {
		case h.Frame && h.Kind == match.KindPDQ:
			frames = append(frames, video.Frame{Index: len(frames), Seconds: h.Seconds, Hash: h.Hash, Quality: h.Quality})
		case h.Frame:
			halves[h.Kind] = append(halves[h.Kind], video.Frame{Index: len(halves[h.Kind]), Seconds: h.Seconds, Hash: h.Hash, Quality: h.Quality})
		default:
			stills = append(stills, match.Hash{Kind: h.Kind, Hash: h.Hash, Quality: h.Quality})
		}
	}
	switch {
	case a.Kind == Image && len(frames) == 0:
		m, ok := match.Compare(a.probes, stills)
		if !ok || m.Distance > l.maxDistance {
			return Found{}, false
		}
		return Found{SHA256: sum, Distance: m.Distance, Transform: m.Transform}, true
	case a.Kind == Image:
		// An image against a stored video: the best single frame.
		best, ok := Found{SHA256: sum, Distance: 257}, false
		for _, f := range frames {
			m, hit := match.Compare(a.probes, []match.Hash{{Kind: match.KindPDQ, Hash: f.Hash, Quality: f.Quality}})
			if hit && m.Distance <= l.maxDistance && m.Distance < best.Distance {
				sec := f.Seconds
				best, ok = Found{SHA256: sum, Distance: m.Distance, Transform: m.Transform, FrameSeconds: &sec}, true
			}
		}
		return best, ok
	case len(frames) > 0:
		// Two videos: vPDQ both ways, plain and mirrored.
		best, ok := Found{}, false
		for i, q := range [][]video.Frame{a.frames, a.mirror} {
			s := video.Compare(q, frames, l.maxDistance)
			if max(s.Query, s.Compared) < VideoLinkPercent {
				continue
			}
			if ok && s.Query+s.Compared <= *best.QueryPercent+*best.ComparedPercent {
				continue
			}
			qp, cp := s.Query, s.Compared
			best, ok = Found{SHA256: sum, Distance: minDistance(q, frames), QueryPercent: &qp, ComparedPercent: &cp}, true
			if i == 1 {
				best.Transform = match.TransformName(mirrorVariant)
			}
		}
		if ok {
			return best, ok
		}
		return l.compareHalves(a, sum, halves)
	default:
		// A video against a stored image: the frame closest to it.
		best, ok := Found{SHA256: sum, Distance: 257}, false
		for i, q := range [][]video.Frame{a.frames, a.mirror} {
			for _, f := range q {
				probe := []match.Probe{{Kind: match.KindPDQ, Hash: f.Hash, Quality: f.Quality}}
				if i == 1 {
					probe[0].Variant = mirrorVariant
				}
				m, hit := match.Compare(probe, stills)
				if hit && m.Distance <= l.maxDistance && m.Distance < best.Distance {
					sec := f.Seconds
					best, ok = Found{SHA256: sum, Distance: m.Distance, Transform: m.Transform, FrameSeconds: &sec}, true
				}
			}
		}
		return best, ok
	}
}

// compareHalves finds the same footage under a large overlay from the
// halves of the frames that the overlay leaves alone. Half a frame holds
// less of the scene than a whole one, so besides the vPDQ share the
// matched frames must keep one time offset between the two videos, as
// an excerpt or re-upload of the same footage does: a half that merely
// looks alike at random moments is not enough.
func (l *Library) compareHalves(a *Analysis, sum string, halves map[string][]video.Frame) (Found, bool) {
	best, ok := Found{}, false
	for _, k := range match.HalfKinds {
		q, c := a.halves[k], halves[k]
		if len(q) == 0 || len(c) == 0 {
			continue
		}
		s := video.Compare(q, c, l.maxDistance)
		if max(s.Query, s.Compared) < VideoLinkPercent || alignedShare(q, c, l.maxDistance) < VideoLinkPercent/100.0 {
			continue
		}
		if ok && s.Query+s.Compared <= *best.QueryPercent+*best.ComparedPercent {
			continue
		}
		qp, cp := s.Query, s.Compared
		best, ok = Found{SHA256: sum, Distance: minDistance(q, c), QueryPercent: &qp, ComparedPercent: &cp,
			Transform: "matched on the " + k + " half of the frames (the rest differs, as under an overlay)"}, true
	}
	return best, ok
}

// alignedShare is the share of the shorter video's usable frames that
// match a frame of the other at the most common time offset (± 1 s).
func alignedShare(q, c []video.Frame, maxDistance int) float64 {
	// For each offset in seconds, the distinct frames of each side matched
	// at it: the share counts the shorter side's frames, each once, so that
	// many frames of a long video matching one frame of a short one do not
	// add up.
	type sides struct{ q, c map[int]bool }
	offsets := map[int]*sides{}
	usable := func(fs []video.Frame) int {
		n := 0
		for _, f := range fs {
			if f.Quality >= pdq.MinQuality {
				n++
			}
		}
		return n
	}
	for i, x := range q {
		if x.Quality < pdq.MinQuality {
			continue
		}
		for j, y := range c {
			if y.Quality >= pdq.MinQuality && pdq.Distance(x.Hash, y.Hash) <= maxDistance {
				off := int(math.Round(x.Seconds - y.Seconds))
				for d := off - 1; d <= off+1; d++ {
					if offsets[d] == nil {
						offsets[d] = &sides{map[int]bool{}, map[int]bool{}}
					}
					offsets[d].q[i], offsets[d].c[j] = true, true
				}
			}
		}
	}
	nq, nc := usable(q), usable(c)
	if min(nq, nc) == 0 {
		return 0
	}
	best := 0.0
	for _, s := range offsets {
		share := float64(len(s.q)) / float64(nq)
		if nc < nq {
			share = float64(len(s.c)) / float64(nc)
		}
		best = max(best, share)
	}
	return best
}

func minDistance(q, c []video.Frame) int {
	best := 257
	for _, x := range q {
		if x.Quality < pdq.MinQuality {
			continue
		}
		for _, y := range c {
			if y.Quality >= pdq.MinQuality {
				best = min(best, pdq.Distance(x.Hash, y.Hash))
			}
		}
	}
	return best
}

// AnalysisTimeout bounds the analysis of one original.
const AnalysisTimeout = 15 * time.Minute

// Report is the outcome of processing one original.
type Report struct {
	SHA256   string
	Analysis *Analysis
	// Failure is why the analysis failed; the original is stored all the
	// same and the failure is recorded on it.
	Failure error
	Found   []Found
}

// Process analyses original sum from the locker, keeps its keyframes in
// derived, records the analysis and links the original to the
// near-duplicates found. It returns an error only when something could
// not be recorded; a file that cannot be analysed is a Report.Failure.
func (l *Library) Process(ctx context.Context, lk, derived *locker.Locker, sum, mediaType, name string, now time.Time) (*Report, error) {
	work, err := os.MkdirTemp("", "groundtruth-media-")
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	defer os.RemoveAll(work)
	// A hostile or broken file must not hold a worker for ever.
	actx, cancel := context.WithTimeout(ctx, AnalysisTimeout)
	defer cancel()
	a, aerr := Analyse(actx, lk.Path(sum), mediaType, name, work)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if a == nil {
		// The original could not even be read: that is the data
		// directory's problem, not the file's, and is not recorded on it.
		return nil, fmt.Errorf("media: %s: %w", sum, aerr)
	}
	rep := &Report{SHA256: sum, Analysis: a, Failure: aerr}
	var files []store.MediaFile
	for _, k := range a.Keyframes {
		f, err := os.Open(k.File)
		if err != nil {
			return nil, fmt.Errorf("media: keyframe of %s: %w", sum, err)
		}
		ksum, _, _, err := derived.Put(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("media: keep keyframe of %s: %w", sum, err)
		}
		files = append(files, store.MediaFile{SHA256: sum, Role: "keyframe", File: ksum, Seconds: k.Seconds})
	}
	if err := l.st.PutMedia(ctx, a.Record(sum, aerr, now), rowsOf(a.Hashes, aerr), files); err != nil {
		return nil, err
	}
	if aerr != nil {
		return rep, nil
	}
	found, err := l.Match(ctx, a, sum)
	if err != nil {
		return nil, err
	}
	rep.Found = found
	links := make([]store.MediaLink, 0, len(found))
	for _, f := range found {
		links = append(links, store.MediaLink{A: sum, B: f.SHA256, Distance: f.Distance, Transform: f.Transform,
			APercent: f.QueryPercent, BPercent: f.ComparedPercent, FoundAt: now})
	}
	return rep, l.st.PutMediaLinks(ctx, links)
}

// rowsOf keeps no hashes from a failed analysis: a half-hashed video must
// not be matched as if it were whole.
func rowsOf(h []store.MediaHash, err error) []store.MediaHash {
	if err != nil {
		return nil
	}
	return h
}
