// SPDX-License-Identifier: Apache-2.0

package index

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"groundtruth/internal/media/pdq"
)

// refDir holds ThreatExchange's needles.txt and haystack.txt (see
// testdata/pdq/README.md).
var refDir = filepath.Join("..", "..", "..", "testdata", "pdq", "images", "reg-test-input")

// readHashes reads one 64-hex PDQ hash per line.
func readHashes(t *testing.T, name string) []pdq.Hash {
	t.Helper()
	f, err := os.Open(filepath.Join(refDir, name))
	if err != nil {
		t.Fatalf("open test data: %v", err)
	}
	defer f.Close()
	var hs []pdq.Hash
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		h, err := pdq.Parse(line)
		if err != nil {
			t.Fatalf("%s line %d: %v", name, len(hs)+1, err)
		}
		hs = append(hs, h)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return hs
}

// bruteForce is the oracle: every (needle, stored) pair within d by a
// plain nested loop over pdq.Distance, sorted as Search documents (ties
// in ID keep the order of the Adds).
func bruteForce(stored []pdq.Hash, ids []ID, needles []pdq.Hash, d int) []Hit {
	var out []Hit
	for k, q := range needles {
		for i, h := range stored {
			if n := pdq.Distance(q, h); n <= d {
				out = append(out, Hit{ID: ids[i], Hash: h, Distance: n, Needle: k})
			}
		}
	}
	slices.SortStableFunc(out, compareHits)
	return out
}

func compareHits(a, b Hit) int {
	if a.Needle != b.Needle {
		return a.Needle - b.Needle
	}
	if a.Distance != b.Distance {
		return a.Distance - b.Distance
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

// diff describes the first difference between two hit lists.
func diff(got, want []Hit) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("hit %d = %+v, want %+v (len %d, want %d)", i, got[i], want[i], len(got), len(want))
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("len = %d, want %d", len(got), len(want))
	}
	return ""
}

func TestReferenceNeedles(t *testing.T) {
	needles := readHashes(t, "needles.txt")
	haystack := readHashes(t, "haystack.txt")
	if len(needles) != 100 || len(haystack) != 1350 {
		t.Fatalf("read %d needles and %d haystack hashes, want 100 and 1350", len(needles), len(haystack))
	}
	ids := make([]ID, len(haystack))
	for i := range ids {
		ids[i] = ID(i / 3) // shared IDs exercise the tie order
	}
	// The README's brute-force pair counts check the oracle itself.
	wantPairs := map[int]int{0: 50, 31: 250, 32: 250, 63: 352}
	options := []Options{
		{Strategy: Linear},
		{Strategy: MultiIndex, MaxDistance: 63},
		{Strategy: MultiIndex}, // radii above 31 fall back to the scan
		{Strategy: Auto, MaxDistance: 63},
		{Strategy: Auto, MaxDistance: 63, AutoThreshold: 300}, // multi-index hashing up to d = 47
	}
	for _, d := range []int{0, 31, 32, 63} {
		want := bruteForce(haystack, ids, needles, d)
		if len(want) != wantPairs[d] {
			t.Errorf("brute force at d = %d finds %d pairs, README says %d", d, len(want), wantPairs[d])
		}
		for _, o := range options {
			t.Run(fmt.Sprintf("d=%d/%v/max=%d/auto=%d", d, o.Strategy, o.MaxDistance, o.AutoThreshold), func(t *testing.T) {
				ix := New(o)
				for i, h := range haystack {
					ix.Add(ids[i], h)
				}
				got := ix.Search(needles, d)
				if s := diff(got, want); s != "" {
					t.Errorf("Search(needles, %d): %s", d, s)
				}
			})
		}
	}
}

// randomHash draws a uniformly random hash.
func randomHash(r *rand.Rand) pdq.Hash {
	var h pdq.Hash
	for i := 0; i < len(h); i += 8 {
		binary.LittleEndian.PutUint64(h[i:], r.Uint64())
	}
	return h
}

// flip returns h with k distinct random bits inverted.
func flip(r *rand.Rand, h pdq.Hash, k int) pdq.Hash {
	for _, b := range r.Perm(256)[:k] {
		h[b/8] ^= 1 << (b % 8)
	}
	return h
}

// spread returns h with k bits inverted, spread as evenly as possible over
// the 16 slots of 16 bits: the hardest case for multi-index hashing, which
// must then find a match whose closest slot is ⌊k/16⌋ bits off.
func spread(r *rand.Rand, h pdq.Hash, k int) pdq.Hash {
	slotOrder := r.Perm(16)
	perSlot := make([]int, 16)
	for i := range k {
		perSlot[slotOrder[i%16]]++
	}
	for j, c := range perSlot {
		for _, b := range r.Perm(16)[:c] {
			bit := 16*j + b
			h[bit/8] ^= 1 << (bit % 8)
		}
	}
	return h
}

// near returns a near-duplicate of h, k bits off: bits chosen at random or
// spread over the slots.
func near(r *rand.Rand, h pdq.Hash, k int) pdq.Hash {
	if r.IntN(2) == 0 {
		return spread(r, h, k)
	}
	return flip(r, h, k)
}

// TestPlanted compares every strategy with brute force on 10^6 random
// hashes holding planted near-duplicates, at radius 31. By default 2 000
// queries are checked (fewer under the race detector, which slows the
// brute force about tenfold); GROUNDTRUTH_INDEX_FULL=1 checks 10^5 (a few
// minutes; `make bench` sets it).
func TestPlanted(t *testing.T) {
	const n, d = 1_000_000, 31
	queries := 2000
	if raceEnabled {
		queries = 400
	}
	if os.Getenv("GROUNDTRUTH_INDEX_FULL") == "1" {
		queries = 100_000
	}
	if testing.Short() {
		queries = 200
	}
	r := rand.New(rand.NewPCG(1, 2))
	stored := make([]pdq.Hash, n)
	ids := make([]ID, n)
	for i := range stored {
		ids[i] = ID(r.IntN(n))
		if i > 0 && r.IntN(20) == 0 {
			// A planted near-duplicate of an earlier hash.
			stored[i] = near(r, stored[r.IntN(i)], r.IntN(41))
		} else {
			stored[i] = randomHash(r)
		}
	}
	needles := make([]pdq.Hash, queries)
	for i := range needles {
		if r.IntN(2) == 0 {
			needles[i] = randomHash(r)
		} else {
			needles[i] = near(r, stored[r.IntN(n)], r.IntN(41))
		}
	}
	want := bruteForceWords(stored, ids, needles, d)
	matched := 0
	for _, h := range want {
		if h.Distance > 0 {
			matched++
		}
	}
	if matched < queries/10 {
		t.Fatalf("only %d non-exact matches among %d queries: the planted duplicates do not work", matched, queries)
	}

	ix := New(Options{Strategy: Linear})
	for i, h := range stored {
		ix.Add(ids[i], h)
	}
	for _, s := range []Strategy{Linear, MultiIndex, Auto} {
		t.Run(s.String(), func(t *testing.T) {
			// Eight needles per search, as for the dihedral variants.
			var got []Hit
			for lo := 0; lo < queries; lo += 8 {
				hi := min(lo+8, queries)
				for _, h := range ix.search(needles[lo:hi], d, s) {
					h.Needle += lo
					got = append(got, h)
				}
			}
			if s := diff(got, want); s != "" {
				t.Errorf("%d queries against %d hashes at d = %d: %s", queries, n, d, s)
			}
		})
	}
}

// bruteForceWords is bruteForce with a faster distance, so that 10^9
// comparisons stay affordable: it packs hashes little-endian, unlike the
// index, and splits needles across goroutines.
func bruteForceWords(stored []pdq.Hash, ids []ID, needles []pdq.Hash, d int) []Hit {
	pack := func(h pdq.Hash) (w [4]uint64) {
		for i := range w {
			w[i] = binary.LittleEndian.Uint64(h[8*i:])
		}
		return w
	}
	ws := make([][4]uint64, len(stored))
	for i, h := range stored {
		ws[i] = pack(h)
	}
	per := make([][]Hit, len(needles))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for k := int(next.Add(1) - 1); k < len(needles); k = int(next.Add(1) - 1) {
				q := pack(needles[k])
				for i := range ws {
					w := &ws[i]
					n := bits.OnesCount64(w[0]^q[0]) + bits.OnesCount64(w[1]^q[1]) +
						bits.OnesCount64(w[2]^q[2]) + bits.OnesCount64(w[3]^q[3])
					if n <= d {
						per[k] = append(per[k], Hit{ID: ids[i], Hash: stored[i], Distance: n, Needle: k})
					}
				}
			}
		})
	}
	wg.Wait()
	var out []Hit
	for _, p := range per {
		out = append(out, p...)
	}
	slices.SortStableFunc(out, compareHits)
	return out
}

// TestProperty checks random small indexes, grown between searches, at
// random radii against brute force, for every strategy.
func TestProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 40 {
		o := Options{
			Strategy:      Strategy(r.IntN(3)),
			MaxDistance:   []int{0, 15, 47, 63}[r.IntN(4)],
			AutoThreshold: r.IntN(300),
		}
		ix := New(o)
		ix.mergeMin, ix.mergeDiv = r.IntN(50), 1+r.IntN(4)
		var stored []pdq.Hash
		var ids []ID
		for step := range 8 {
			for range r.IntN(400) {
				var h pdq.Hash
				if len(stored) > 0 && r.IntN(2) == 0 {
					h = near(r, stored[r.IntN(len(stored))], r.IntN(80))
				} else {
					h = randomHash(r)
				}
				id := ID(r.IntN(100))
				stored, ids = append(stored, h), append(ids, id)
				ix.Add(id, h)
			}
			needles := make([]pdq.Hash, 1+r.IntN(9))
			for i := range needles {
				if len(stored) > 0 && r.IntN(4) != 0 {
					needles[i] = near(r, stored[r.IntN(len(stored))], r.IntN(70))
				} else {
					needles[i] = randomHash(r)
				}
			}
			d := r.IntN(64)
			got := ix.Search(needles, d)
			if s := diff(got, bruteForce(stored, ids, needles, d)); s != "" {
				t.Fatalf("round %d step %d, %+v, %d hashes, d = %d: %s", round, step, o, len(stored), d, s)
			}
			if ix.Len() != len(stored) {
				t.Fatalf("Len() = %d, want %d", ix.Len(), len(stored))
			}
		}
	}
}

func TestSearchEdges(t *testing.T) {
	h := pdq.Hash{1}
	ix := New(Options{Strategy: MultiIndex})
	if got := ix.Search([]pdq.Hash{h}, 31); got != nil {
		t.Errorf("Search on empty index = %v, want nil", got)
	}
	ix.Add(7, h)
	if got := ix.Search([]pdq.Hash{h}, -1); got != nil {
		t.Errorf("Search(d = -1) = %v, want nil", got)
	}
	if got := ix.Search(nil, 31); got != nil {
		t.Errorf("Search(no needles) = %v, want nil", got)
	}
	var far pdq.Hash
	for i := range far {
		far[i] = ^h[i]
	}
	want := []Hit{{ID: 7, Hash: h, Distance: 1, Needle: 0}, {ID: 7, Hash: h, Distance: 256, Needle: 1}}
	if got := ix.Search([]pdq.Hash{{}, far}, 256); diff(got, want) != "" {
		t.Errorf("Search(d = 256) = %v, want %v", got, want)
	}
}

func TestNewRejects(t *testing.T) {
	for _, o := range []Options{
		{MaxDistance: -1},
		{MaxDistance: 64},
		{AutoThreshold: -1},
		{Strategy: MultiIndex + 1},
	} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", o)
				}
			}()
			New(o)
		})
	}
}

// TestConcurrent runs searches while hashes are added, with merges of the
// posting lists forced often. Each search must find every match among the
// hashes added before it began, and nothing that is not a match.
func TestConcurrent(t *testing.T) {
	const n, d = 6_000, 31
	r := rand.New(rand.NewPCG(5, 6))
	stored := make([]pdq.Hash, n)
	for i := range stored {
		if i > 0 && r.IntN(3) == 0 {
			stored[i] = flip(r, stored[r.IntN(i)], r.IntN(40))
		} else {
			stored[i] = randomHash(r)
		}
	}
	for _, s := range []Strategy{Linear, MultiIndex, Auto} {
		t.Run(s.String(), func(t *testing.T) {
			ix := New(Options{Strategy: s, AutoThreshold: n / 2})
			ix.mergeMin, ix.mergeDiv = 32, 8
			var added atomic.Int64
			var wg sync.WaitGroup
			wg.Go(func() {
				for i, h := range stored {
					ix.Add(ID(i), h)
					added.Store(int64(i + 1))
				}
			})
			for reader := range 3 {
				wg.Go(func() {
					rr := rand.New(rand.NewPCG(7, uint64(reader)))
					for searches := 0; searches < 50 || added.Load() < n; searches++ {
						before := int(added.Load())
						if before == 0 {
							continue
						}
						q := flip(rr, stored[rr.IntN(before)], rr.IntN(30))
						got := ix.Search([]pdq.Hash{q}, d)
						found := make(map[ID]bool, len(got))
						for _, h := range got {
							if int(h.ID) >= n || stored[h.ID] != h.Hash || pdq.Distance(q, h.Hash) != h.Distance || h.Distance > d {
								t.Errorf("bad hit %+v", h)
								return
							}
							found[h.ID] = true
						}
						for i, h := range stored[:before] {
							if pdq.Distance(q, h) <= d && !found[ID(i)] {
								t.Errorf("search after %d adds missed hash %d", before, i)
								return
							}
						}
					}
				})
			}
			wg.Wait()
			if ix.Len() != n {
				t.Errorf("Len() = %d, want %d", ix.Len(), n)
			}
		})
	}
}

// FuzzSearch compares the strategies with brute force on indexes and
// needles made from the fuzzer's bytes: byte 0 is the radius, byte 1
// the number of needles, then 32 bytes per hash, needles first.
func FuzzSearch(f *testing.F) {
	f.Add([]byte{31, 1})
	seed := make([]byte, 2+32*6)
	seed[0], seed[1] = 40, 2
	for i := range seed[2:] {
		seed[2+i] = byte(i * 37)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		d, nn := int(data[0])%64, int(data[1])%8
		var hs []pdq.Hash
		for rest := data[2:]; len(rest) >= 32; rest = rest[32:] {
			hs = append(hs, pdq.Hash(rest[:32]))
		}
		if nn > len(hs) {
			nn = len(hs)
		}
		needles, stored := hs[:nn], hs[nn:]
		ids := make([]ID, len(stored))
		want := bruteForce(stored, ids, needles, d)
		for _, s := range []Strategy{Linear, MultiIndex, Auto} {
			ix := New(Options{Strategy: s, MaxDistance: 63, AutoThreshold: 2})
			ix.mergeMin = 1
			for _, h := range stored {
				ix.Add(0, h)
			}
			if msg := diff(ix.Search(needles, d), want); msg != "" {
				t.Errorf("%v, d = %d: %s", s, d, msg)
			}
		}
	})
}
