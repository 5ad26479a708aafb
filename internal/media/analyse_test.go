// SPDX-License-Identifier: Apache-2.0

package media

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// bombPNG returns a w × h 16-bit RGBA PNG of four flat quadrants: a few
// hundred kilobytes on disk that image/png would decode into w·h·8 bytes.
// Rows are written with the Up filter, so that each repeated row
// compresses to almost nothing.
func bombPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	chunk := func(buf *bytes.Buffer, typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		buf.Write(n[:])
		buf.WriteString(typ)
		buf.Write(data)
		binary.BigEndian.PutUint32(n[:], crc32.ChecksumIEEE(append([]byte(typ), data...)))
		buf.Write(n[:])
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+8*w)
	zero := make([]byte, 1+8*w)
	zero[0] = 2 // Up: the same as the row above
	for y := range h {
		if y != 0 && y != h/2 {
			zw.Write(zero)
			continue
		}
		row[0] = 0
		for x := range w {
			v := uint16(0x2000)
			if (x < w/2) != (y < h/2) {
				v = 0xd000
			}
			p := row[1+8*x:]
			binary.BigEndian.PutUint16(p, v)
			binary.BigEndian.PutUint16(p[2:], v^uint16(x*40))
			binary.BigEndian.PutUint16(p[4:], 0x8000)
			binary.BigEndian.PutUint16(p[6:], 0xffff)
		}
		zw.Write(row)
	}
	zw.Close()
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 6
	chunk(&buf, "IHDR", ihdr)
	chunk(&buf, "IDAT", z.Bytes())
	chunk(&buf, "IEND", nil)
	return buf.Bytes()
}

// peakHeap runs f and returns the most heap memory in use while it ran,
// above what was in use before, sampled by another goroutine. The
// collector runs often meanwhile (GOGC 10), so that what is sampled is
// close to what f keeps alive. Sampling can miss a short peak, never
// invent one: a bound checked against it may be lenient, never flaky.
func peakHeap(f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	done, result := make(chan struct{}), make(chan uint64)
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

// TestAnalyseLargePNGBoundedMemory analyses a 7000 × 7000 16-bit RGBA PNG
// of a few hundred kilobytes, a decompression bomb that image/png would
// turn into 392 MB of pixels: analysis decodes it row by row into its
// working copy, so the heap stays within a bound documented in
// docs/benchmarks.md.
func TestAnalyseLargePNGBoundedMemory(t *testing.T) {
	const side = 7000
	const limit = 64 << 20
	data := bombPNG(t, side, side)
	path := filepath.Join(t.TempDir(), "bomb.png")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var a *Analysis
	var err error
	start := time.Now()
	peak := peakHeap(func() { a, err = Analyse(t.Context(), path, "image/png", "bomb.png", "") })
	t.Logf("analyse: %d-byte PNG of %d×%d 16-bit RGBA: peak heap %.1f MiB, %v; process peak RSS %s", len(data), side, side, float64(peak)/(1<<20), time.Since(start).Round(time.Millisecond), peakRSS())
	if err != nil {
		t.Fatalf("Analyse: %v", err)
	}
	if len(a.Hashes) == 0 || a.Metadata["width"] != side {
		t.Errorf("Analyse = %d hashes, width %v; want hashes of the %d-pixel image", len(a.Hashes), a.Metadata["width"], side)
	}
	if peak > limit {
		t.Errorf("Analyse of a %d×%d 16-bit PNG used %.0f MiB of heap at its peak, want at most %d MiB", side, side, float64(peak)/(1<<20), limit>>20)
	}
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
