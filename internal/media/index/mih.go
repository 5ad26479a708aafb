// SPDX-License-Identifier: Apache-2.0

package index

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	slots    = 16            // substrings a hash is cut into
	slotBits = 256 / slots   // bits per substring
	buckets  = 1 << slotBits // distinct values of a substring
)

// mih holds multi-index hashing posting lists for the first n stored
// hashes: for each slot j and 16-bit value v, the hashes whose slot j
// equals v, in increasing order of position. A mih is never changed
// after it is built; merge makes a new one.
type mih struct {
	n    int
	slot [slots]postings
}

// postings is one slot's lists in compressed sparse row form: entry e
// belongs to value v when off[v] ≤ e < off[v+1]; len(off) == buckets+1.
//
// Each entry carries, besides the position of its hash in Index.hashes,
// the three 64-bit words of the hash that do not hold the slot (the
// slot's own word is word j/4, see otherWords): ab holds two of them,
// side by side so that one sequential stream serves the common case, and
// c the third. The Hamming distance over those 192 bits, plus that of the
// slot itself, is a lower bound of the full distance, so a candidate
// whose bound exceeds the radius is rejected without the random read of
// its hash: a search streams 16 bytes per candidate, since two random
// hashes differ in more than 31 of the 128 bits of ab in all but 2·10⁻⁹
// of cases. c is read for candidates that pass ab, which on clustered
// data are many (their hashes are then read for a few hundred per
// search instead of tens of thousands). len(ab) == len(c) == len(pos) ==
// mih.n.
type postings struct {
	off []uint32
	ab  [][2]uint64
	c   []uint64
	pos []uint32
}

// entryBytes is the memory an entry of one slot's lists costs.
const entryBytes = 16 + 8 + 4

// bytes returns the memory held by the posting lists.
func (m *mih) bytes() int {
	if m == nil {
		return 0
	}
	return slots * ((buckets+1)*4 + m.n*entryBytes)
}

// otherWords returns the indexes of the three words of a hash that do not
// hold slot j, in increasing order.
func otherWords(j int) [3]int {
	w := j >> 2
	var o [3]int
	k := 0
	for i := range 4 {
		if i != w {
			o[k] = i
			k++
		}
	}
	return o
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
	n := len(hashes)
	np := postings{
		off: make([]uint32, buckets+1),
		ab:  make([][2]uint64, n),
		c:   make([]uint64, n),
		pos: make([]uint32, n),
	}
	var at uint32
	for v := range buckets {
		np.off[v] = at
		if k := oldLen(v); k > 0 {
			lo, hi := p.off[v], p.off[v+1]
			copy(np.ab[at:], p.ab[lo:hi])
			copy(np.c[at:], p.c[lo:hi])
			copy(np.pos[at:], p.pos[lo:hi])
			at += k
		}
		k := cursor[v]
		cursor[v] = at
		at += k
	}
	np.off[buckets] = at
	o := otherWords(j)
	for i := from; i < n; i++ {
		h := &hashes[i]
		v := slotValue(h, j)
		e := cursor[v]
		np.ab[e] = [2]uint64{h[o[0]], h[o[1]]}
		np.c[e] = h[o[2]]
		np.pos[e] = uint32(i)
		cursor[v]++
	}
	return np
}

// search returns the pairs within d of (needle, stored hash): from the
// posting lists for hashes[:m.n], by linear scan for the rest. m may be
// nil. Each slot, probed for every needle, is independent work, spread
// over GOMAXPROCS goroutines when the index is large.
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
	workers := min(runtime.GOMAXPROCS(0), slots)
	if m.n*len(qs) < parallelWork || workers == 1 {
		for j := range slots {
			out = m.probe(out, hashes, qs, j, d, s)
		}
		return out
	}
	parts := make([][]hit, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var part []hit
			for j := int(next.Add(1) - 1); j < slots; j = int(next.Add(1) - 1) {
				part = m.probe(part, hashes, qs, j, d, s)
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

// probe appends the hashes within d of any needle that are found through
// slot j, probing every value within slot radius s of each needle's slot
// j. A match close enough in several slots is reported only from the
// first of them, so that no deduplication state is needed and slots can
// be probed concurrently: by pigeonhole, every match within d has some
// slot within s = ⌊d/16⌋, and the lowest such slot reports it.
//
// Entries are first judged by their inline words (see postings): the
// slot's own distance is the weight of the probe mask, so an entry can be
// within d only if its two words in ab differ by at most d minus that
// weight, and then only if c keeps the sum within d. Only the survivors,
// a handful per search on random data, have their hash read.
func (m *mih) probe(out []hit, hashes [][4]uint64, qs [][4]uint64, j, d, s int) []hit {
	p := &m.slot[j]
	o := otherWords(j)
	// The lists to scan, for all needles, listed first so that each can
	// be prefetched while earlier ones are scanned (see ahead).
	masks := probes[:probeCount[s]]
	type span struct {
		lo, hi uint32
		k      int32 // needle
		budget int32 // d minus the probe's slot distance
	}
	spans := make([]span, 0, len(qs)*len(masks))
	for k := range qs {
		v := slotValue(&qs[k], j)
		for _, x := range masks {
			u := v ^ uint32(x)
			if lo, hi := p.off[u], p.off[u+1]; lo < hi {
				spans = append(spans, span{lo, hi, int32(k), int32(d - bits.OnesCount16(x))})
			}
		}
	}
	fetch := func(sp span) {
		prefetch(unsafe.Pointer(&p.ab[sp.lo]), uintptr(sp.hi-sp.lo)*16)
	}
	for _, sp := range spans[:min(ahead, len(spans))] {
		fetch(sp)
	}
	for i, sp := range spans {
		if i+ahead < len(spans) {
			fetch(spans[i+ahead])
		}
		q := &qs[sp.k]
		qa, qb, qc := q[o[0]], q[o[1]], q[o[2]]
		budget := int(sp.budget)
		ab := p.ab[sp.lo:sp.hi]
		for e := nextWithin(ab, 0, qa, qb, budget); e < len(ab); e = nextWithin(ab, e+1, qa, qb, budget) {
			n := bits.OnesCount64(ab[e][0]^qa) + bits.OnesCount64(ab[e][1]^qb)
			i := int(sp.lo) + e
			if n+bits.OnesCount64(p.c[i]^qc) > budget {
				continue
			}
			pos := p.pos[i]
			h := &hashes[pos]
			dist := distance(h, q)
			if dist > d || !firstSlot(h, q, j, s) {
				continue
			}
			out = append(out, hit{pos: pos, needle: sp.k, dist: int32(dist)})
		}
	}
	return out
}

// ahead is how many lists ahead of its scan probe prefetches a list: far
// enough for the misses to be served before the scan gets there, near
// enough not to evict the lines again. The lists start at random places
// in hundreds of megabytes, and one list (≈ 150 entries, 2.4 KB, at 10^7
// hashes) is too short for the hardware prefetcher to ramp up: without
// the prefetch each list began with a full memory latency. 2 to 8 measured
// alike; prefetching measured 10 to 15% faster at 10^7 hashes.
const ahead = 4

// nextWithin returns the index of the first entry of ab from i on whose
// two words differ from qa and qb in at most budget bits, or len(ab).
// It is the innermost loop of a search, kept apart so that its few
// values stay in registers.
func nextWithin(ab [][2]uint64, i int, qa, qb uint64, budget int) int {
	for ; i < len(ab); i++ {
		if bits.OnesCount64(ab[i][0]^qa)+bits.OnesCount64(ab[i][1]^qb) <= budget {
			return i
		}
	}
	return len(ab)
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
