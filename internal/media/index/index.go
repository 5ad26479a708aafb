// SPDX-License-Identifier: Apache-2.0

// Package index finds stored PDQ hashes within a Hamming distance of query
// hashes, exactly: every search returns the same hits a brute-force
// comparison against every stored hash would, never an approximation.
//
// # Strategies
//
// Two exact strategies share one store of hashes:
//
//   - Linear scans every stored hash with XOR and popcount, comparing each
//     against all needles of a search in one pass (so the eight dihedral
//     variants of an image cost one trip through memory, not eight), split
//     across GOMAXPROCS goroutines when the work is large.
//   - MultiIndex is multi-index hashing (Norouzi, Punjani and Fleet, "Fast
//     Exact Search in Hamming Space with Multi-Index Hashing", TPAMI 2014),
//     laid out as in Meta's ThreatExchange: the 256 bits are cut into 16
//     slots of 16 bits. If two hashes are within d bits, by pigeonhole at
//     least one slot is within ⌊d/16⌋ bits, so probing every 16-bit value
//     that close to each needle slot finds every match. Each posting-list
//     entry also carries the 192 bits of its hash outside the slot's
//     64-bit word, and a candidate is rejected as soon as the distance over
//     those bits exceeds the radius: a lower bound, so rejecting is exact.
//     The posting lists are thereby scanned sequentially, and only the few
//     candidates that survive (about one per search on random data) have
//     their full distance computed from the stored hash.
//
// Auto uses the linear scan for small indexes and multi-index hashing from
// [Options.AutoThreshold] stored hashes on (4× that at radii 32 to 47;
// at radii 48 to 63 Auto always scans, see [DefaultAutoThreshold]).
//
// # Memory
//
// A stored hash costs 32 bytes plus 8 for its [ID], and, once multi-index
// hashing is in use, 448 bytes more: an entry of 28 bytes in each of 16
// posting lists (a 4-byte position and the three 64-bit words outside the
// slot's own word). That is 11 times the 40 bytes of the linear scan,
// about 5 GB at 10^7 hashes, and it buys speed: with 4-byte positions
// only, each candidate (≈ 41 000 per needle at 10^7 random hashes,
// 332 000 per 8-needle search) cost a random read of its hash, and a
// search took 16 ms; with the words inline the candidates stream from the
// lists and a search costs about 1.2 ms of CPU (BenchmarkSearch, 2-core
// AMD EPYC, GOAMD64=v3). Keeping only two words inline (20-byte entries,
// 360 bytes per hash in all) measured as fast on random data but 1.8
// times slower on clustered data, where most same-cluster candidates pass
// two words and the third word then spares the random read. Small
// indexes, below [Options.AutoThreshold], use the linear scan and pay
// none of this. Posting lists are kept per slot in compressed sparse row
// form (65 537 offsets into arrays of entries, 4 MiB for the offsets of
// all slots), which costs no pointer or slack per bucket. Hashes added
// after the posting lists were last built are searched linearly until
// enough of them accumulate (more than max(1 024, indexed/256)); the next
// multi-index search then merges them in, holding the write lock while it
// does: seconds at 10^7 hashes, with old and new lists both in memory
// meanwhile, so bulk-load before serving searches. BenchmarkSearch
// measured 496 heap bytes per hash in all, slack of the growing slices
// included.
//
// Searches are faster built with GOAMD64=v3 (or v2), which lets the
// compiler emit POPCNT without a run-time check: 10% measured.
//
// # Concurrency
//
// An Index is safe for any number of concurrent searches together with
// Adds from one or more goroutines: a sync.RWMutex lets searches share the
// index and gives each Add, and each merge of new hashes into the posting
// lists, exclusive use. A search sees every hash whose Add returned before
// the search began.
package index

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sync"

	"groundtruth/internal/media/pdq"
)

// ID is the caller's key for a stored hash, such as a database row id.
// Several hashes may share an ID (the frames of one video, say).
type ID uint64

// Strategy selects how an Index answers searches.
type Strategy int

const (
	// Auto scans linearly below Options.AutoThreshold hashes and uses
	// multi-index hashing from there on, for radii up to 47.
	Auto Strategy = iota
	// Linear always scans every stored hash.
	Linear
	// MultiIndex always uses multi-index hashing.
	MultiIndex
)

// String returns the strategy's name as used in benchmarks.
func (s Strategy) String() string {
	switch s {
	case Auto:
		return "Auto"
	case Linear:
		return "Linear"
	case MultiIndex:
		return "MultiIndex"
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

const (
	// DefaultMaxDistance is Options.MaxDistance when it is left zero: the
	// PDQ match threshold.
	DefaultMaxDistance = pdq.MatchThreshold

	// MaxSupportedDistance is the largest Options.MaxDistance: radius 63
	// means a slot radius of 3, 697 probes per slot.
	MaxSupportedDistance = 63

	// DefaultAutoThreshold is Options.AutoThreshold when it is left zero.
	// Measured with BenchmarkCrossover (8 needles, random hashes, 2-core
	// AMD EPYC): at radius 31 one search by multi-index hashing costs
	// about 8 µs whatever the size up to 10^4 hashes, the scan about 26 ns
	// per stored hash, so they cross near 300 hashes and multi-index
	// hashing is 3× faster at 1 024. Below that a scan costs under 30 µs,
	// not worth the 4 MiB of posting-list offsets. At radii 32 to 47 the
	// crossover measured between 2 048 and 4 096, hence 4× the threshold.
	DefaultAutoThreshold = 1024
)

// Options configures an Index. The zero value is usable.
type Options struct {
	// MaxDistance is the largest radius multi-index hashing serves, 0 to
	// MaxSupportedDistance; 0 means DefaultMaxDistance. Searches with a
	// larger radius are still exact but use the linear scan.
	MaxDistance int
	// Strategy selects linear scan, multi-index hashing, or Auto.
	Strategy Strategy
	// AutoThreshold is the number of stored hashes from which Auto uses
	// multi-index hashing; 0 means DefaultAutoThreshold.
	AutoThreshold int
}

// Hit is one stored hash within the search radius of one needle.
type Hit struct {
	ID       ID       // the ID the hash was added with
	Hash     pdq.Hash // the stored hash
	Distance int      // Hamming distance to the needle, 0 to the radius
	Needle   int      // index of the needle in the Search argument
}

// Index is an in-memory exact near-duplicate index of PDQ hashes. Create
// it with New; see the package documentation for concurrency.
type Index struct {
	maxDistance   int
	strategy      Strategy
	autoThreshold int
	// mergeMin and mergeDiv decide when unindexed hashes are merged into
	// the posting lists: when there are more than
	// max(mergeMin, indexed/mergeDiv) of them. Fields so tests can force
	// frequent merges.
	mergeMin, mergeDiv int

	mu     sync.RWMutex
	hashes [][4]uint64 // stored hashes, most significant word first
	ids    []ID        // ids[i] belongs to hashes[i]
	mih    *mih        // posting lists for hashes[:mih.n], nil until needed
}

// New returns an empty Index. It panics if o.MaxDistance is outside 0 to
// MaxSupportedDistance, o.AutoThreshold is negative or o.Strategy is not
// one of the constants: those are programming errors.
func New(o Options) *Index {
	if o.MaxDistance < 0 || o.MaxDistance > MaxSupportedDistance {
		panic(fmt.Sprintf("index: Options.MaxDistance %d is outside 0..%d; use Linear strategy searches for larger radii", o.MaxDistance, MaxSupportedDistance))
	}
	if o.AutoThreshold < 0 {
		panic(fmt.Sprintf("index: Options.AutoThreshold %d is negative", o.AutoThreshold))
	}
	if o.Strategy < Auto || o.Strategy > MultiIndex {
		panic(fmt.Sprintf("index: unknown %v", o.Strategy))
	}
	ix := &Index{
		maxDistance:   o.MaxDistance,
		strategy:      o.Strategy,
		autoThreshold: o.AutoThreshold,
		mergeMin:      1024,
		mergeDiv:      256,
	}
	if ix.maxDistance == 0 {
		ix.maxDistance = DefaultMaxDistance
	}
	if ix.autoThreshold == 0 {
		ix.autoThreshold = DefaultAutoThreshold
	}
	return ix
}

// Add stores h under id. Adding the same hash twice stores it twice.
func (ix *Index) Add(id ID, h pdq.Hash) {
	w := words(h)
	ix.mu.Lock()
	if len(ix.hashes) == maxHashes {
		ix.mu.Unlock()
		panic(fmt.Sprintf("index: full at %d hashes; shard the data over several indexes", maxHashes))
	}
	ix.hashes = append(ix.hashes, w)
	ix.ids = append(ix.ids, id)
	ix.mu.Unlock()
}

// maxHashes is the capacity of an Index: posting lists hold uint32
// positions.
const maxHashes = 1<<32 - 1

// Len returns the number of stored hashes.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.hashes)
}

// Search returns every stored hash within maxDistance (inclusive) of any
// of the needles: one Hit per (needle, stored hash) pair, sorted by
// Needle, then Distance, then ID, then the order of the Adds. A negative
// maxDistance finds nothing.
func (ix *Index) Search(needles []pdq.Hash, maxDistance int) []Hit {
	return ix.search(needles, maxDistance, ix.strategy)
}

// search is Search with the strategy given, so that benchmarks can
// compare strategies on one set of stored hashes.
func (ix *Index) search(needles []pdq.Hash, d int, strategy Strategy) []Hit {
	if d < 0 || len(needles) == 0 {
		return nil
	}
	qs := make([][4]uint64, len(needles))
	for i, h := range needles {
		qs[i] = words(h)
	}
	ix.mu.RLock()
	useMIH := ix.useMIH(strategy, d)
	if useMIH && ix.mergeDue() {
		// Merging needs the write lock. Another search may merge first,
		// and Adds may slip in before the read lock is back: both are
		// fine, since hashes beyond the posting lists are scanned.
		ix.mu.RUnlock()
		ix.mu.Lock()
		if ix.mergeDue() {
			ix.mih = ix.mih.merge(ix.hashes)
		}
		ix.mu.Unlock()
		ix.mu.RLock()
	}
	var hs []hit
	if useMIH {
		hs = ix.mih.search(ix.hashes, qs, d)
	} else {
		hs = scan(ix.hashes, 0, qs, d)
	}
	if len(hs) == 0 {
		ix.mu.RUnlock()
		return nil
	}
	out := make([]Hit, len(hs))
	slices.SortFunc(hs, func(a, b hit) int {
		if a.needle != b.needle {
			return int(a.needle) - int(b.needle)
		}
		if a.dist != b.dist {
			return int(a.dist) - int(b.dist)
		}
		if ia, ib := ix.ids[a.pos], ix.ids[b.pos]; ia != ib {
			if ia < ib {
				return -1
			}
			return 1
		}
		return int(int64(a.pos) - int64(b.pos))
	})
	for i, h := range hs {
		out[i] = Hit{ID: ix.ids[h.pos], Hash: hashOf(ix.hashes[h.pos]), Distance: int(h.dist), Needle: int(h.needle)}
	}
	ix.mu.RUnlock()
	return out
}

// useMIH reports whether a search at radius d uses multi-index hashing.
// For Auto the slot radius matters: at ⌊d/16⌋ ≤ 1 a needle probes 272
// posting lists and multi-index hashing wins from about a thousand
// hashes; at 2 it probes 2 192 lists and wins from a few thousand; at 3 it
// probes 11 152 lists and verifies about a sixth of the index in random
// order, which measured no faster than the sequential scan, so Auto scans.
// The caller holds mu.
func (ix *Index) useMIH(strategy Strategy, d int) bool {
	if d > ix.maxDistance || strategy == Linear {
		return false
	}
	if strategy == MultiIndex {
		return true
	}
	switch n := len(ix.hashes); d / slots {
	case 0, 1:
		return n >= ix.autoThreshold
	case 2:
		return n >= 4*ix.autoThreshold
	}
	return false
}

// mergeDue reports whether the posting lists should be (re)built before a
// multi-index search: when the hashes added since the last build would
// make the linear part of the search expensive. The caller holds mu.
func (ix *Index) mergeDue() bool {
	n := 0
	if ix.mih != nil {
		n = ix.mih.n
	}
	return len(ix.hashes)-n > max(ix.mergeMin, n/ix.mergeDiv)
}

// hit is a match found by a search: a position in Index.hashes.
type hit struct {
	pos    uint32
	needle int32
	dist   int32
}

// words returns h as four 64-bit words, most significant first, so that
// bit order and slot values follow the hexadecimal form.
func words(h pdq.Hash) [4]uint64 {
	return [4]uint64{
		binary.BigEndian.Uint64(h[0:]),
		binary.BigEndian.Uint64(h[8:]),
		binary.BigEndian.Uint64(h[16:]),
		binary.BigEndian.Uint64(h[24:]),
	}
}

// hashOf is the inverse of words.
func hashOf(w [4]uint64) pdq.Hash {
	var h pdq.Hash
	for i, x := range w {
		binary.BigEndian.PutUint64(h[8*i:], x)
	}
	return h
}

// distance is the Hamming distance between two hashes in word form.
func distance(a, b *[4]uint64) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}
