// SPDX-License-Identifier: Apache-2.0

package index

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"groundtruth/internal/media/pdq"
)

// dihedral approximates, on the hash bits alone, the eight dihedral
// variants pdq.Dihedral computes from the DCT: transposes move bit (i, j)
// to (j, i) and a negated coefficient is taken as an inverted bit (the
// median the bits are thresholded at is close to zero). Benchmarks only
// need needles shaped like real dihedral queries.
func dihedral(h pdq.Hash) [8]pdq.Hash {
	get := func(i, j int) bool { k := 16*i + j; return h[31-k/8]>>(k%8)&1 == 1 }
	var out [8]pdq.Hash
	for t := range out {
		for i := range 16 {
			for j := range 16 {
				v := get(i, j)
				keep := func(ok bool) bool { return v == ok }
				ti, tj, b := i, j, v
				switch t {
				case 1:
					ti, tj, b = j, i, keep(j%2 == 1)
				case 2:
					b = keep((i+j)%2 == 0)
				case 3:
					ti, tj, b = j, i, keep(i%2 == 1)
				case 4:
					b = keep(i%2 == 1)
				case 5:
					b = keep(j%2 == 1)
				case 6:
					ti, tj = j, i
				case 7:
					ti, tj, b = j, i, keep((i+j)%2 == 0)
				}
				if b {
					k := 16*ti + tj
					out[t][31-k/8] |= 1 << (k % 8)
				}
			}
		}
	}
	return out
}

// genHashes makes n hashes quickly. "random" is uniform; "clustered" is
// the skewed case: noisy copies (each bit inverted with probability 1/8,
// so ≈ 32 bits off the centre, ≈ 56 bits between two copies) of 1 000
// centres, which are 125 random hashes and their dihedral variants, so
// that every needle of a dihedral query falls into some cluster.
func genHashes(kind string, n int, seed uint64) []pdq.Hash {
	r := rand.New(rand.NewPCG(seed, 99))
	hs := make([]pdq.Hash, n)
	var centres []pdq.Hash
	if kind == "clustered" {
		for range 125 {
			v := dihedral(randomHash(r))
			centres = append(centres, v[:]...)
		}
	}
	for i := range hs {
		if centres == nil {
			hs[i] = randomHash(r)
			continue
		}
		c := &centres[r.IntN(len(centres))]
		for w := 0; w < 32; w += 8 {
			noise := r.Uint64() & r.Uint64() & r.Uint64()
			binary.LittleEndian.PutUint64(hs[i][w:], binary.LittleEndian.Uint64(c[w:])^noise)
		}
	}
	return hs
}

// benchData is an index shared by the sub-benchmarks of one data set.
type benchData struct {
	ix        *Index
	queries   [][8]pdq.Hash
	add       time.Duration // n calls to Add
	merge     time.Duration // building the posting lists
	indexSize float64       // heap bytes per stored hash, posting lists included
}

var (
	benchKey    string
	benchCached *benchData
)

// loadBench builds (or reuses) the index for kind and n. Only one data
// set is kept at a time: 10^7 hashes take about 1 GB.
func loadBench(b *testing.B, kind string, n int) *benchData {
	key := fmt.Sprint(kind, n)
	if key == benchKey {
		return benchCached
	}
	benchKey, benchCached = "", nil
	runtime.GC()
	hs := genHashes(kind, n, uint64(n))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	bd := &benchData{ix: New(Options{})}
	start := time.Now()
	for i, h := range hs {
		bd.ix.Add(ID(i), h)
	}
	bd.add = time.Since(start)
	start = time.Now()
	bd.ix.mih = bd.ix.mih.merge(bd.ix.hashes)
	bd.merge = time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	bd.indexSize = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	// Queries: stored hashes up to 31 bits off, and their variants.
	r := rand.New(rand.NewPCG(7, 8))
	bd.queries = make([][8]pdq.Hash, 1024)
	for i := range bd.queries {
		bd.queries[i] = dihedral(near(r, hs[r.IntN(n)], r.IntN(32)))
	}
	benchKey, benchCached = key, bd
	return bd
}

// BenchmarkSearch measures queries of 8 needles (one hash and its
// dihedral variants) at radius 31 against 10^6 and 10^7 stored hashes,
// uniform and clustered, with each strategy. It reports queries/s, hits
// per query, the CPU time per query (all goroutines; unlike queries/s it
// barely depends on what else the machine runs), the time to Add all
// hashes and to build the posting lists, the heap bytes per stored hash
// and, of those, the bytes of the posting lists.
func BenchmarkSearch(b *testing.B) {
	for _, kind := range []string{"random", "clustered"} {
		for _, n := range []int{1_000_000, 10_000_000} {
			for _, s := range []Strategy{Linear, MultiIndex} {
				b.Run(fmt.Sprintf("%s/n=%.0e/%v", kind, float64(n), s), func(b *testing.B) {
					bd := loadBench(b, kind, n)
					hits := 0
					b.ResetTimer()
					cpu := processCPU()
					for i := range b.N {
						q := &bd.queries[i%len(bd.queries)]
						hits += len(bd.ix.search(q[:], 31, s))
					}
					cpu = processCPU() - cpu
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
					b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/query")
					b.ReportMetric(float64(hits)/float64(b.N), "hits/query")
					b.ReportMetric(bd.add.Seconds(), "add-s")
					b.ReportMetric(bd.merge.Seconds(), "mih-build-s")
					b.ReportMetric(bd.indexSize, "B/hash")
					b.ReportMetric(float64(bd.ix.mih.bytes())/float64(n), "mih-B/hash")
				})
			}
		}
	}
}

// BenchmarkCrossover times both strategies on small uniform indexes, to
// choose DefaultAutoThreshold: 8 needles per search, at radii 31 and 63.
func BenchmarkCrossover(b *testing.B) {
	for _, d := range []int{31, 47, 63} {
		for n := 128; n <= 1<<17; n *= 2 {
			hs := genHashes("random", n, 1)
			ix := New(Options{MaxDistance: 63})
			for i, h := range hs {
				ix.Add(ID(i), h)
			}
			ix.mih = ix.mih.merge(ix.hashes)
			q := dihedral(hs[0])
			for _, s := range []Strategy{Linear, MultiIndex} {
				b.Run(fmt.Sprintf("d=%d/n=%d/%v", d, n, s), func(b *testing.B) {
					for range b.N {
						ix.search(q[:], d, s)
					}
				})
			}
		}
	}
}
