// SPDX-License-Identifier: Apache-2.0

package video

import (
	"math"
	"testing"

	"groundtruth/internal/media/pdq"
)

// hashWithBits returns a hash with the first n bits set.
func hashWithBits(n int) pdq.Hash {
	var h pdq.Hash
	for i := range n {
		h[i/8] |= 1 << (i % 8)
	}
	return h
}

func TestCompare(t *testing.T) {
	h0, h31, h32, h100 := hashWithBits(0), hashWithBits(31), hashWithBits(32), hashWithBits(100)
	fr := func(h pdq.Hash, q int) Frame { return Frame{Hash: h, Quality: q} }
	tests := []struct {
		name            string
		query, compared []Frame
		wantQ, wantC    float64
		wantNQ, wantNC  int
	}{
		{"empty", nil, nil, 0, 0, 0, 0},
		{"one side empty", []Frame{fr(h0, 100)}, nil, 0, 0, 1, 0},
		{"identical", []Frame{fr(h0, 100)}, []Frame{fr(h0, 100)}, 100, 100, 1, 1},
		{"distance 31 matches", []Frame{fr(h0, 100)}, []Frame{fr(h31, 100)}, 100, 100, 1, 1},
		{"distance 32 does not", []Frame{fr(h0, 100)}, []Frame{fr(h32, 100)}, 0, 0, 1, 1},
		{"quality 49 dropped", []Frame{fr(h0, 49), fr(h100, 50)}, []Frame{fr(h0, 100)}, 0, 0, 1, 1},
		{"duplicates counted once", []Frame{fr(h0, 100), fr(h0, 100), fr(h0, 100), fr(h100, 100)}, []Frame{fr(h0, 100)}, 50, 100, 2, 1},
		{"excerpt", []Frame{fr(h0, 100)}, []Frame{fr(h0, 100), fr(h100, 100), fr(hashWithBits(200), 100), fr(hashWithBits(150), 100)}, 100, 25, 1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.query, tt.compared, pdq.MatchThreshold)
			want := Score{Query: tt.wantQ, Compared: tt.wantC, QueryFrames: tt.wantNQ, ComparedFrames: tt.wantNC}
			if got != want {
				t.Errorf("Compare = %+v, want %+v", got, want)
			}
		})
	}
}

// TestCompareReference checks Compare against the scores published with
// the sample data (testdata/pdq/README.md), computed from the
// reference's own hashes, on the 1 fps subset and on every frame.
func TestCompareReference(t *testing.T) {
	tests := []struct {
		query, compared string
		fps1            [2]float64 // query %, compared % on frames 0, 30, 60, …
		all             [2]float64 // on every frame
	}{
		{"chair-20-sd-bar", "chair-22-sd-sepia-bar", [2]float64{100, 91.3}, [2]float64{100, 98.3}},
		{"chair-20-sd-bar", "chair-22-with-large-logo-bar", [2]float64{0, 0}, [2]float64{10.5, 11.0}},
		{"chair-22-sd-sepia-bar", "chair-22-with-large-logo-bar", [2]float64{0, 0}, [2]float64{9.9, 9.8}},
		{"chair-20-sd-bar", "pattern-hd-no-bar", [2]float64{0, 0}, [2]float64{0, 0}},
		{"chair-22-sd-sepia-bar", "pattern-hd-no-bar", [2]float64{0, 0}, [2]float64{0, 0}},
		{"chair-22-with-large-logo-bar", "pattern-hd-no-bar", [2]float64{0, 0}, [2]float64{0, 0}},
	}
	round := func(p float64) float64 { return math.Round(p*10) / 10 }
	for _, tt := range tests {
		t.Run(tt.query+"/"+tt.compared, func(t *testing.T) {
			q, c := reference(t, tt.query), reference(t, tt.compared)
			s1 := Compare(every(q, 30), every(c, 30), pdq.MatchThreshold)
			sa := Compare(q, c, pdq.MatchThreshold)
			t.Logf("1 fps %.1f / %.1f, every frame %.1f / %.1f", s1.Query, s1.Compared, sa.Query, sa.Compared)
			if got := [2]float64{round(s1.Query), round(s1.Compared)}; got != tt.fps1 {
				t.Errorf("Compare(1 fps) = %v, want %v", got, tt.fps1)
			}
			if got := [2]float64{round(sa.Query), round(sa.Compared)}; got != tt.all {
				t.Errorf("Compare(every frame) = %v, want %v", got, tt.all)
			}
		})
	}
}

func BenchmarkCompare(b *testing.B) {
	q, c := reference(b, "chair-20-sd-bar"), reference(b, "chair-22-sd-sepia-bar")
	for b.Loop() {
		Compare(q, c, pdq.MatchThreshold)
	}
}
