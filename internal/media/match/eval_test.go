// SPDX-License-Identifier: Apache-2.0

package match

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"groundtruth/internal/media/pdq"
	"groundtruth/internal/media/photo"
)

// refSide bounds the reference copy of each evaluation photograph: the
// test treats the photograph scaled to at most this many pixels as the
// original, so that the ten edits of 73 photographs stay quick to make.
const refSide = 1024

type entry struct{ name, pkg, path, sum string }

// manifest reads testdata/evalset.tsv.
func manifest(t *testing.T) []entry {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "evalset.tsv"))
	if err != nil {
		t.Fatalf("open manifest: %v", err)
	}
	defer f.Close()
	var out []entry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 4 || len(c[3]) != 64 {
			t.Fatalf("testdata/evalset.tsv:%d: want 4 tab-separated columns ending in a sha256, got %q", n, line)
		}
		out = append(out, entry{c[0], c[1], c[2], c[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	return out
}

// evalsetDir returns where the evaluation photographs are expected.
func evalsetDir(t *testing.T) string {
	if d := os.Getenv("GROUNDTRUTH_EVALSET"); d != "" {
		return d
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no GROUNDTRUTH_EVALSET and no user cache directory: %v", err)
	}
	return filepath.Join(cache, "groundtruth", "evalset")
}

// loadEvalset returns the reference copies of the evaluation photographs,
// in manifest order, after checking every file's sha256.
func loadEvalset(t *testing.T) ([]string, []image.Image) {
	t.Helper()
	dir := evalsetDir(t)
	entries := manifest(t)
	if _, err := os.Stat(filepath.Join(dir, entries[0].name)); err != nil {
		msg := fmt.Sprintf("evaluation set not found in %s: run scripts/evalset.sh %s (or set GROUNDTRUTH_EVALSET to where it is)", dir, dir)
		if os.Getenv("GROUNDTRUTH_EVALSET_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	names := make([]string, len(entries))
	imgs := make([]image.Image, len(entries))
	for i, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.name))
		if err != nil {
			t.Fatalf("evaluation set incomplete: %v; run scripts/evalset.sh %s", err, dir)
		}
		if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != e.sum {
			t.Fatalf("%s: sha256 differs from testdata/evalset.tsv; run scripts/evalset.sh %s", e.name, dir)
		}
		// The production decoder, so that the evaluation covers what
		// analysis does: decode straight to a reduced copy.
		img, _, err := photo.DecodeReduced(b, 0, refSide)
		if err != nil {
			t.Fatalf("decode %s: %v", e.name, err)
		}
		names[i], imgs[i] = e.name, img
	}
	return names, imgs
}

// plainOnly keeps the probes of the whole image.
func plainOnly(q []Probe) []Probe {
	return slices.DeleteFunc(slices.Clone(q), func(p Probe) bool { return p.Kind != KindPDQ })
}

// nearest returns the smallest distance between any quality-passing probe
// and stored hash, whatever the threshold, with the kinds of that pair;
// for diagnostics.
func nearest(q []Probe, s []Hash) (int, string) {
	best, kinds := 257, ""
	for _, p := range q {
		for _, h := range s {
			if p.Quality < pdq.MinQuality || h.Quality < pdq.MinQuality {
				continue
			}
			if d := pdq.Distance(p.Hash, h.Hash); d < best {
				best, kinds = d, p.Kind+"/"+h.Kind
			}
		}
	}
	return best, kinds
}

// cropHit is an original the crop stage accepted for a query.
type cropHit struct {
	orig int
	m    Match
}

// cropStage runs the crop stage as a caller would: the pre-filter over
// every original's thumbnail (but self, the query's own index when the
// query is an original, or −1), then the verification of each candidate
// against the original's pixels.
func cropStage(img image.Image, thumbs []Thumb, refs []image.Image, self int) []cropHit {
	cq := NewCropQuery(img)
	others := slices.Clone(thumbs)
	if self >= 0 {
		others[self] = Thumb{} // invalid: scores −1 and is never a candidate
	}
	var out []cropHit
	for _, j := range cq.Candidates(others) {
		if m, ok := cq.Verify(refs[j]); ok {
			out = append(out, cropHit{j, m})
		}
	}
	return out
}

// parallel calls f(i) for i in [0, n) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// TestEvaluation measures recall per edit on real photographs, hash
// lookup first and the crop stage for what it misses, and checks that no
// edit of one photograph, and no original, matches another photograph by
// either. It needs the photographs from scripts/evalset.sh.
func TestEvaluation(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluation skipped in -short mode")
	}
	if raceEnabled && os.Getenv("GROUNDTRUTH_EVALSET_REQUIRED") != "1" {
		t.Skip("evaluation skipped under -race: it takes about a minute without the race detector and many with it")
	}
	names, refs := loadEvalset(t)
	n := len(refs)

	stored := make([][]Hash, n)
	thumbs := make([]Thumb, n)
	origQ := make([][]Probe, n)
	parallel(n, func(i int) {
		stored[i] = Stored(refs[i])
		thumbs[i] = Thumbnail(refs[i])
		origQ[i] = Query(refs[i])
	})
	// The crop stage runs on every query, not only on those no hash
	// found, so that any wrong match it could add anywhere is counted.
	queries := make([][][]Probe, n) // [photo][transform]
	crops := make([][][]cropHit, n) // [photo][transform]
	origCrops := make([][]cropHit, n)
	parallel(n, func(i int) {
		queries[i] = make([][]Probe, len(transforms))
		crops[i] = make([][]cropHit, len(transforms))
		for k, tr := range transforms {
			img, err := reupload(tr.apply(refs[i], seeded(names[i]+"/"+tr.name)), tr.quality)
			if err != nil {
				t.Errorf("%s of %s: %v", tr.name, names[i], err)
				continue
			}
			queries[i][k] = Query(img)
			crops[i][k] = cropStage(img, thumbs, refs, -1)
		}
		origCrops[i] = cropStage(refs[i], thumbs, refs, i)
	})

	type tally struct{ plain, ours, crop, plainWrong, oursWrong int }
	tallies := make([]tally, len(transforms))
	maxTrue := map[string]int{} // largest accepted distance to the right original, by kinds
	minWrong := map[string]int{}
	wrongs := 0
	for k, tr := range transforms {
		var missed []string
		for i := range n {
			q := queries[i][k]
			if _, ok := Compare(plainOnly(q), stored[i][:1]); ok {
				tallies[k].plain++
			}
			m, ok := Compare(q, stored[i])
			if !ok {
				// The second stage, as a caller runs it: only when no hash matched.
				for _, c := range crops[i][k] {
					if c.orig == i {
						m, ok = c.m, true
						tallies[k].crop++
					}
				}
			}
			if ok {
				tallies[k].ours++
				key := m.Query + "/" + m.Stored
				maxTrue[key] = max(maxTrue[key], m.Distance)
			} else {
				d, kinds := nearest(q, stored[i])
				missed = append(missed, fmt.Sprintf("%s (nearest %d, %s)", names[i], d, kinds))
			}
			for _, c := range crops[i][k] {
				if c.orig != i {
					tallies[k].oursWrong++
					wrongs++
					t.Errorf("crop stage: %s of %s matches %s: %+v", tr.name, names[i], names[c.orig], c.m)
				}
			}
			for j := range n {
				if j == i {
					continue
				}
				if m, ok := Compare(plainOnly(q), stored[j][:1]); ok {
					tallies[k].plainWrong++
					t.Errorf("plain PDQ: %s of %s matches %s at %d", tr.name, names[i], names[j], m.Distance)
				}
				if m, ok := Compare(q, stored[j]); ok {
					tallies[k].oursWrong++
					wrongs++
					t.Errorf("%s of %s matches %s: %+v", tr.name, names[i], names[j], m)
				}
				d, kinds := nearest(q, stored[j])
				if v, seen := minWrong[kinds]; !seen || d < v {
					minWrong[kinds] = d
				}
			}
		}
		if len(missed) > 0 {
			t.Logf("%s: missed %s", tr.name, strings.Join(missed, "; "))
		}
	}
	for i := range n {
		for j := range n {
			if i == j {
				continue
			}
			if m, ok := Compare(origQ[i], stored[j]); ok {
				wrongs++
				t.Errorf("originals %s and %s match: %+v", names[i], names[j], m)
			}
			d, kinds := nearest(origQ[i], stored[j])
			if v, seen := minWrong[kinds]; !seen || d < v {
				minWrong[kinds] = d
			}
		}
		for _, c := range origCrops[i] {
			wrongs++
			t.Errorf("crop stage: original %s matches %s: %+v", names[i], names[c.orig], c.m)
		}
	}
	t.Logf("largest accepted distance to the right original, by query/stored kinds: %v", maxTrue)
	t.Logf("smallest distance to a wrong original, by query/stored kinds: %v", minWrong)

	var report strings.Builder
	pct := func(v, of int) string { return fmt.Sprintf("%d/%d (%.0f %%)", v, of, 100*float64(v)/float64(of)) }
	fmt.Fprintf(&report, "| transform | plain PDQ recall | groundtruth recall | of which crop stage | wrong matches (plain / groundtruth) |\n|---|---|---|---|---|\n")
	var plain, ours int
	for k, tr := range transforms {
		tl := tallies[k]
		plain += tl.plain
		ours += tl.ours
		if float64(tl.ours) < 0.90*float64(n) {
			t.Errorf("%s: recall %s, want at least 90 %%", tr.name, pct(tl.ours, n))
		}
		fmt.Fprintf(&report, "| %s | %s | %s | %d | %d / %d |\n", tr.name, pct(tl.plain, n), pct(tl.ours, n), tl.crop, tl.plainWrong, tl.oursWrong)
	}
	fmt.Fprintf(&report, "| **all edits** | %s | %s | | |\n", pct(plain, len(transforms)*n), pct(ours, len(transforms)*n))
	fmt.Fprintf(&report, "\n%d photographs, each edit re-encoded as JPEG; %d wrong matches in all, including originals against each other; the crop stage ran on every query and original.\n", n, wrongs)
	t.Logf("\n%s", report.String())
	if float64(ours) < 0.95*float64(len(transforms)*n) {
		t.Errorf("overall recall %s, want at least 95 %%", pct(ours, len(transforms)*n))
	}
	if p := os.Getenv("GROUNDTRUTH_EVAL_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(report.String()), 0o644); err != nil {
			t.Errorf("write report: %v", err)
		}
	}
}
