// SPDX-License-Identifier: Apache-2.0

package video

import "groundtruth/internal/media/pdq"

// Score is the result of comparing two frame lists with [Compare].
type Score struct {
	// Query is the percentage (0 to 100) of the query's distinct usable
	// frames with some frame of the compared video within the distance;
	// Compared is the same the other way.
	Query, Compared float64
	// QueryFrames and ComparedFrames count the distinct usable frames
	// (quality ≥ pdq.MinQuality, duplicates by exact hash removed) that the
	// percentages are taken over.
	QueryFrames, ComparedFrames int
}

// Compare scores two videos by the vPDQ rule: on each side drop frames of
// quality below pdq.MinQuality and frames whose hash repeats an earlier
// one exactly, then count the frames having a frame on the other side at
// Hamming distance ≤ maxDistance (pdq.MatchThreshold, 31, is the vPDQ
// default). Frame order and time are ignored. A side with no usable frames
// scores 0. The cost is one distance per pair of distinct frames.
//
// The reference's thresholds for calling it a match are Query ≥ 80 and
// Compared ≥ 0; both percentages are returned because their asymmetry says
// which video is an excerpt of the other.
func Compare(query, compared []Frame, maxDistance int) Score {
	q, c := usable(query), usable(compared)
	qHit := make([]bool, len(q))
	cHit := make([]bool, len(c))
	for i, a := range q {
		for j, b := range c {
			if pdq.Distance(a, b) <= maxDistance {
				qHit[i], cHit[j] = true, true
			}
		}
	}
	return Score{
		Query:          percent(qHit),
		Compared:       percent(cHit),
		QueryFrames:    len(q),
		ComparedFrames: len(c),
	}
}

// usable returns the distinct hashes of frames of quality ≥ pdq.MinQuality,
// in first-seen order.
func usable(frames []Frame) []pdq.Hash {
	seen := make(map[pdq.Hash]bool, len(frames))
	out := make([]pdq.Hash, 0, len(frames))
	for _, f := range frames {
		if f.Quality < pdq.MinQuality || seen[f.Hash] {
			continue
		}
		seen[f.Hash] = true
		out = append(out, f.Hash)
	}
	return out
}

func percent(hit []bool) float64 {
	if len(hit) == 0 {
		return 0
	}
	n := 0
	for _, h := range hit {
		if h {
			n++
		}
	}
	return 100 * float64(n) / float64(len(hit))
}
