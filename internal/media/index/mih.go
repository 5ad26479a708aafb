// SPDX-License-Identifier: Apache-2.0

package index

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

const (
	slots    = 16            // substrings a hash is cut into
	slotBits = 256 / slots   // bits per substring
	buckets  = 1 << slotBits // distinct values of a substring
)

// mih holds multi-index hashing posting lists for the first n stored
// hashes: for each slot j and 16-bit value v, the positions (indexes into
// Index.hashes) of the hashes whose slot j equals v, in increasing order.
// A mih is never changed after it is built; merge makes a new one.
type mih struct {
	n    int
	slot [slots]postings
}

// postings is one slot's lists in compressed sparse row form: the
// positions with value v are pos[off[v]:off[v+1]]. len(off) == buckets+1,
// len(pos) == mih.n.
type postings struct {
	off []uint32
	pos []uint32
}

// slotValue returns slot j (0 to 15) of a hash in word form: bits
// 255−16j down to 240−16j, i.e. hex digits 4j to 4j+3.
func slotValue(w *[4]uint64, j int) uint32 {
	return uint32(w[j>>2]>>(48-16*(j&3))) & (buckets - 1)
}

// probes lists every 16-bit mask of at most 3 set bits, by number of set
// bits; probes[:probeCount[s]] are the masks within slot radius s.
var probes, probeCount = func() ([]uint16, [4]int) {
	var ps []uint16
	var count [4]int
	for s := range 4 {
		for m := range buckets {
			if bits.OnesCount16(uint16(m)) == s {
				ps = append(ps, uint16(m))
			}
		}
		count[s] = len(ps)
	}
	return ps, count
}()

// merge returns posting lists covering all of hashes, reusing m's lists
// for the hashes m already covers (m may be nil). Slots are built in
// parallel; the old lists are left intact for searches still using them.
func (m *mih) merge(hashes [][4]uint64) *mih {
	nm := &mih{n: len(hashes)}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), slots) {
		wg.Go(func() {
			for j := int(next.Add(1) - 1); j < slots; j = int(next.Add(1) - 1) {
				var old *postings
				if m != nil {
					old = &m.slot[j]
				}
				nm.slot[j] = old.merge(hashes, j)
			}
		})
	}
	wg.Wait()
	return nm
}

// merge returns slot j's lists for all of hashes, given p's lists for a
// prefix of them (p nil: none). Counting sort of the new hashes by slot
// value; each list keeps positions in increasing order, old ones first.
func (p *postings) merge(hashes [][4]uint64, j int) postings {
	from := 0
	if p != nil {
		from = len(p.pos)
	}
	oldLen := func(v int) uint32 {
		if p == nil {
			return 0
		}
		return p.off[v+1] - p.off[v]
	}
	// cursor[v] counts new hashes with value v, then becomes the next
	// free place in list v.
	cursor := make([]uint32, buckets)
	for i := from; i < len(hashes); i++ {
		cursor[slotValue(&hashes[i], j)]++
	}
	np := postings{off: make([]uint32, buckets+1), pos: make([]uint32, len(hashes))}
	var at uint32
	for v := range buckets {
		np.off[v] = at
		if n := oldLen(v); n > 0 {
			copy(np.pos[at:], p.pos[p.off[v]:p.off[v+1]])
			at += n
		}
		n := cursor[v]
		cursor[v] = at
		at += n
	}
	np.off[buckets] = at
	for i := from; i < len(hashes); i++ {
		v := slotValue(&hashes[i], j)
		np.pos[cursor[v]] = uint32(i)
		cursor[v]++
	}
	return np
}

// search returns the pairs within d of (needle, stored hash): from the
// posting lists for hashes[:m.n], by linear scan for the rest. m may be
// nil. Each (needle, slot) probe is independent work, spread over
// GOMAXPROCS goroutines when the index is large.
func (m *mih) search(hashes [][4]uint64, qs [][4]uint64, d int) []hit {
	from := 0
	if m != nil {
		from = m.n
	}
	out := scan(hashes, from, qs, d)
	if m == nil || m.n == 0 {
		return out
	}
	s := d / slots
	units := len(qs) * slots
	workers := min(runtime.GOMAXPROCS(0), units)
	if m.n*len(qs) < parallelWork || workers == 1 {
		for u := range units {
			out = m.probe(out, hashes, qs, u/slots, u%slots, d, s)
		}
		return out
	}
	parts := make([][]hit, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var part []hit
			for u := int(next.Add(1) - 1); u < units; u = int(next.Add(1) - 1) {
				part = m.probe(part, hashes, qs, u/slots, u%slots, d, s)
			}
			parts[w] = part
		})
	}
	wg.Wait()
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// probe appends the hashes within d of needle qs[k] that are found
// through slot j, probing every value within slot radius s of the
// needle's slot j. A match close enough in several slots is reported only
// from the first of them, so that no deduplication state is needed and
// probes can run concurrently: by pigeonhole, every match within d has
// some slot within s = ⌊d/16⌋, and the lowest such slot reports it.
func (m *mih) probe(out []hit, hashes [][4]uint64, qs [][4]uint64, k, j, d, s int) []hit {
	q := &qs[k]
	p := &m.slot[j]
	v := slotValue(q, j)
	for _, x := range probes[:probeCount[s]] {
		u := v ^ uint32(x)
		for _, i := range p.pos[p.off[u]:p.off[u+1]] {
			h := &hashes[i]
			n := distance(h, q)
			if n > d || !firstSlot(h, q, j, s) {
				continue
			}
			out = append(out, hit{pos: i, needle: int32(k), dist: int32(n)})
		}
	}
	return out
}

// firstSlot reports whether j is the lowest slot in which h and q differ
// by at most s bits.
func firstSlot(h, q *[4]uint64, j, s int) bool {
	for i := range j {
		if bits.OnesCount32(slotValue(h, i)^slotValue(q, i)) <= s {
			return false
		}
	}
	return true
}
