// SPDX-License-Identifier: Apache-2.0

package index

import (
	"math/bits"
	"runtime"
	"sync"
)

// parallelWork is the number of hash comparisons (stored hashes × needles)
// from which a search is split across goroutines: below it, starting them
// costs more than they save.
const parallelWork = 1 << 18

// scan compares hashes[from:] with every needle and returns the pairs
// within d. Each stored hash is read once for all needles. Large scans are
// split into contiguous ranges, one per GOMAXPROCS.
func scan(hashes [][4]uint64, from int, qs [][4]uint64, d int) []hit {
	n := len(hashes) - from
	workers := runtime.GOMAXPROCS(0)
	if n <= 0 {
		return nil
	}
	if n*len(qs) < parallelWork || workers == 1 {
		return scanRange(nil, hashes, from, len(hashes), qs, d)
	}
	parts := make([][]hit, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := from+n*w/workers, from+n*(w+1)/workers
		wg.Go(func() { parts[w] = scanRange(nil, hashes, lo, hi, qs, d) })
	}
	wg.Wait()
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	out := make([]hit, 0, total)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// scanRange appends to out the pairs (i, needle) within d for lo ≤ i < hi.
func scanRange(out []hit, hashes [][4]uint64, lo, hi int, qs [][4]uint64, d int) []hit {
	hashes = hashes[:hi]
	for i := lo; i < len(hashes); i++ {
		h := &hashes[i]
		a, b, c, e := h[0], h[1], h[2], h[3]
		for k := range qs {
			q := &qs[k]
			n := bits.OnesCount64(a^q[0]) + bits.OnesCount64(b^q[1]) +
				bits.OnesCount64(c^q[2]) + bits.OnesCount64(e^q[3])
			if n <= d {
				out = append(out, hit{pos: uint32(i), needle: int32(k), dist: int32(n)})
			}
		}
	}
	return out
}
