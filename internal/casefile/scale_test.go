// SPDX-License-Identifier: Apache-2.0

package casefile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/store"
)

// bigCase returns a valid case file of about size bytes: groups of an
// actor, a place, an incident that names both and an assessment of it,
// each with unique slugs, and in every placeholderEvery-th group (none
// when 0) a placeholder evidence item linked to the incident.
func bigCase(size, placeholderEvery int) []byte {
	var actors, places, incidents, evidence, assessments strings.Builder
	n := 0
	for total := 0; total < size; n++ {
		a := fmt.Sprintf("  - slug: actor-%d\n    name: Armed group number %d\n    kind: armed_force\n    party_to_conflict: true\n    country: AM\n", n, n)
		p := fmt.Sprintf("  - slug: place-%d\n    name: Village %d\n    location: {lat: %d.5, lon: %d.25, precision: town}\n", n, n, n%80, n%170)
		i := fmt.Sprintf("  - slug: incident-%d\n    title: Shelling of village %d\n    disorder_type: Political violence\n    event_type: Explosions/Remote violence\n    sub_event_type: Shelling/artillery/missile attack\n    date_start: 2020-10-04\n    time_precision: day\n    place: place-%d\n    status: draft\n    actors:\n      - actor: actor-%d\n        role: alleged_perpetrator\n", n, n, n, n)
		e := ""
		if placeholderEvery > 0 && n%placeholderEvery == 0 {
			e = fmt.Sprintf("  - slug: evidence-%d\n    title: \"PLACEHOLDER - video of the shelling of village %d\"\n    placeholder: true\n    incidents: [incident-%d]\n", n, n, n)
		}
		s := fmt.Sprintf("  - slug: geo-%d\n    incident: incident-%d\n    organisation: actor-%d\n    kind: geolocation\n    location: {lat: 40.1, lon: 46.2, radius_m: 50}\n    date: 2020-10-10\n    finding: Matched to the market square of village %d.\n", n, n, n, n)
		actors.WriteString(a)
		places.WriteString(p)
		incidents.WriteString(i)
		evidence.WriteString(e)
		assessments.WriteString(s)
		total += len(a) + len(p) + len(i) + len(e) + len(s)
	}
	return []byte("groundtruth_casefile: 1\ncase:\n  slug: big-case\n  title: A generated case\n" +
		"actors:\n" + actors.String() + "places:\n" + places.String() + "incidents:\n" + incidents.String() +
		"evidence:\n" + evidence.String() + "assessments:\n" + assessments.String())
}

// peakHeap runs f and returns the most heap memory in use while it ran,
// above what was in use before, sampled by another goroutine. The
// collector runs often meanwhile (GOGC 10), so that what is sampled is
// close to what f keeps alive rather than garbage awaiting collection.
// Sampling can miss a short peak, never invent one: a bound checked
// against it may be lenient, never flaky.
func peakHeap(t *testing.T, f func()) (peak uint64) {
	t.Helper()
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		high := base
		for {
			select {
			case <-done:
				result <- high
				return
			default:
			}
			high = max(high, read())
			time.Sleep(200 * time.Microsecond)
		}
	}()
	f()
	close(done)
	return <-result - base
}

// TestLoadHoldsNoOriginals loads a case of 24 originals of 1 MiB: the
// loader reads them one at a time, so its memory must not grow with their
// sum.
func TestLoadHoldsNoOriginals(t *testing.T) {
	fx := newFixture(t)
	const n, size = 24, 1 << 20
	var doc strings.Builder
	doc.WriteString(base + "evidence:\n")
	buf := make([]byte, size)
	for i := range n {
		for j := range buf {
			buf[j] = byte(i*7 + j*13 + j>>9)
		}
		name := fmt.Sprintf("original-%d.bin", i)
		if err := os.WriteFile(filepath.Join(fx.dir, name), buf, 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&doc, "  - slug: original-%d\n    file: %s\n    title: Original %d\n    incidents: [shelling]\n", i, name, i)
	}
	path := filepath.Join(fx.dir, "case.yaml")
	f, err := Parse(path, []byte(doc.String()))
	if err != nil {
		t.Fatal(err)
	}
	var sum *Summary
	peak := peakHeap(t, func() {
		sum, err = Load(t.Context(), fx.st, fx.lk, f, store.Change{By: "tester", Reason: "load", At: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Created != 5+n-1 {
		t.Errorf("Load = %+v, want %d created", sum, 5+n-1)
	}
	const limit = 6 << 20 // a few originals' worth would be a leak of them
	t.Logf("peak heap during Load: %.1f MiB for %d MiB of originals", float64(peak)/(1<<20), n*size>>20)
	if peak > limit {
		t.Errorf("Load of %d originals of %d bytes used %d bytes of heap at its peak, want at most %d: originals must be streamed, not held", n, size, peak, limit)
	}
}

// TestParseMemoryFollowsFileSize parses generated case files of 0.5 and
// 2 MiB: the heap at the peak and the bytes allocated must stay within a
// fixed multiple of the file's size, the same multiple for both.
func TestParseMemoryFollowsFileSize(t *testing.T) {
	const maxPeak, maxAlloc = 28, 80 // per byte of case file; see docs/benchmarks.md
	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	perByte := map[int]float64{}
	for _, size := range []int{512 << 10, 2 << 20} {
		t.Run(fmt.Sprintf("%dKiB", size>>10), func(t *testing.T) {
			data := bigCase(size, 4)
			var f *File
			var err error
			metrics.Read(allocs)
			before := allocs[0].Value.Uint64()
			peak := peakHeap(t, func() { f, err = Parse("big.yaml", data) })
			metrics.Read(allocs)
			if err != nil {
				t.Fatal(err)
			}
			alloc := float64(allocs[0].Value.Uint64()-before) / float64(len(data))
			ratio := float64(peak) / float64(len(data))
			perByte[size] = alloc
			t.Logf("%d bytes, %d records: peak heap %.1f× the file, %.1f bytes allocated per byte", len(data), len(f.Entries), ratio, alloc)
			if ratio > maxPeak {
				t.Errorf("Parse of %d bytes: peak heap %.1f× the file, want at most %d×", len(data), ratio, maxPeak)
			}
			if alloc > maxAlloc {
				t.Errorf("Parse of %d bytes: allocated %.1f bytes per byte, want at most %d", len(data), alloc, maxAlloc)
			}
		})
	}
	if small, large := perByte[512<<10], perByte[2<<20]; small > 0 && large > 1.25*small {
		t.Errorf("Parse allocated %.1f bytes per byte of a 2 MiB file and %.1f of a 0.5 MiB one: the work grows faster than the file", large, small)
	}
}

// TestLoadLargeCase measures parsing and loading a generated case file of
// GROUNDTRUTH_CASEFILE_MIB mebibytes (one placeholder per 50 groups of
// records) for docs/benchmarks.md; scripts/bench.sh runs it at 63 MiB.
func TestLoadLargeCase(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("GROUNDTRUTH_CASEFILE_MIB"))
	if mib <= 0 {
		t.Skip("set GROUNDTRUTH_CASEFILE_MIB to measure loading a case file of that many MiB")
	}
	fx := newFixture(t)
	data := bigCase(mib<<20, 50)
	var f *File
	var err error
	start := time.Now()
	parsePeak := peakHeap(t, func() { f, err = Parse(filepath.Join(fx.dir, "big.yaml"), data) })
	if err != nil {
		t.Fatal(err)
	}
	parsed := time.Since(start)
	var sum *Summary
	loadPeak := peakHeap(t, func() {
		sum, err = Load(t.Context(), fx.st, fx.lk, f, store.Change{By: "bench", Reason: "load", At: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("casefile: %d bytes, %d records: parse %v, peak heap %.0f MiB (%.1f× the file); load %v (%d created), peak heap above the parsed file %.0f MiB; process peak RSS %s",
		len(data), len(f.Entries), parsed.Round(time.Millisecond), float64(parsePeak)/(1<<20), float64(parsePeak)/float64(len(data)),
		(time.Since(start) - parsed).Round(time.Millisecond), sum.Created, float64(loadPeak)/(1<<20), peakRSS())
}

// peakRSS returns the process's peak resident set (VmHWM) as Linux
// reports it, or "unknown".
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
