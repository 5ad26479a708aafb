// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/transparency-dev/tessera"
)

// appendMany appends n entries in batches of up to 4096 outstanding and
// waits for a checkpoint that covers them all.
func appendMany(tb testing.TB, l *Ledger, start, n int) {
	ctx := context.Background()
	w, err := l.openWriter(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.close(ctx)
	const window = 4096
	for lo := 0; lo < n; lo += window {
		var fs []tessera.IndexFuture
		for i := lo; i < min(lo+window, n); i++ {
			leaf := Leaf{V: 1, Type: TypeItem, Event: "ingest", Subject: fmt.Sprintf("%064x", start+i), Content: "00", Time: "2026-11-25T00:00:00Z"}
			fs = append(fs, w.add(ctx, tessera.NewEntry(leaf.Marshal())))
		}
		for _, f := range fs {
			if _, _, err := w.awaiter.Await(ctx, f); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// BenchmarkAppend measures appending to the log with batching: many leaves
// outstanding at once, as a bulk ingest or a case-file load produces.
// entries/s is the throughput.
func BenchmarkAppend(b *testing.B) {
	l := benchLedger(b)
	const n = 20000
	total := 0
	for b.Loop() {
		appendMany(b, l, total, n)
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkCheckLog measures verify's audit of the log itself (signatures
// of every archived checkpoint, the tree recomputed from every entry, every
// tile re-derived) at the size in GROUNDTRUTH_BENCH_LEAVES (default
// 100000). Building the log is not timed.
func BenchmarkCheckLog(b *testing.B) {
	n := 100000
	if s := os.Getenv("GROUNDTRUTH_BENCH_LEAVES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	l := benchLedger(b)
	appendMany(b, l, 0, n)
	b.ResetTimer()
	for b.Loop() {
		var problems []string
		if _, err := l.checkLog(context.Background(), uint64(n), func(f string, a ...any) {
			problems = append(problems, fmt.Sprintf(f, a...))
		}); err != nil {
			b.Fatal(err)
		}
		if len(problems) > 0 {
			b.Fatalf("problems: %q", problems[:min(3, len(problems))])
		}
	}
	b.ReportMetric(float64(n), "leaves")
}

func benchLedger(b *testing.B) *Ledger {
	dir := filepath.Join(b.TempDir(), "ledger")
	if err := Init(dir, "example.org/bench"); err != nil {
		b.Fatal(err)
	}
	l, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	return l
}
