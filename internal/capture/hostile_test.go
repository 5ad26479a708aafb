// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// gzipBomb is n MiB of zeros gzip'd, as concatenated gzip members of one
// MiB each (a valid gzip stream, about 1 KiB on the wire per MiB).
func gzipBomb(t testing.TB, n int) []byte {
	t.Helper()
	var one bytes.Buffer
	w, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	w.Write(make([]byte, 1<<20))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat(one.Bytes(), n)
}

// bitWriter writes a DEFLATE bit stream (RFC 1951: least significant bit
// first; Huffman codes most significant bit first).
type bitWriter struct {
	buf   []byte
	acc   uint64
	nbits uint
}

func (b *bitWriter) bits(v uint64, n uint) {
	b.acc |= v << b.nbits
	b.nbits += n
	for b.nbits >= 8 {
		b.buf = append(b.buf, byte(b.acc))
		b.acc >>= 8
		b.nbits -= 8
	}
}

func (b *bitWriter) code(c uint64, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		b.bits(c>>uint(i)&1, 1)
	}
}

// pngBomb is a valid grey PNG of w × h black pixels, a few megabytes on
// the wire that a browser decodes to w·h bytes or more. Its pixel data is
// one fixed-Huffman DEFLATE block: a literal zero, then back-references of
// length 258 at distance 1 (13 bits each), which no encoder at hand makes
// as fast.
func pngBomb(w, h int) []byte {
	n := h * (w + 1) // a filter byte (0) and w zero pixels per row
	var bw bitWriter
	bw.bits(1, 1) // BFINAL
	bw.bits(1, 2) // BTYPE 01: fixed Huffman codes
	lit0 := func() { bw.code(0x30, 8) }
	lit0()
	left := n - 1
	for ; left >= 258; left -= 258 {
		bw.code(0xC5, 8) // length code 285: 258 bytes
		bw.code(0, 5)    // distance code 0: distance 1
	}
	for ; left > 0; left-- {
		lit0()
	}
	bw.code(0, 7) // end of block
	bw.bits(0, 7) // flush
	zl := append([]byte{0x78, 0x01}, bw.buf...)
	zl = binary.BigEndian.AppendUint32(zl, uint32(n%65521)<<16|1) // Adler-32 of n zeros
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, c.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	chunk("IHDR", append(ihdr, 8, 0, 0, 0, 0)) // 8-bit greyscale
	chunk("IDAT", zl)
	chunk("IEND", nil)
	return out.Bytes()
}

// hostileSite serves a page that pulls eight gzip bombs declared as PNG
// images (1 GiB each decoded), a PNG that decodes to 400 MB of pixels, an
// image whose body trickles a byte every two seconds forever and a frame
// whose head never comes, so that the page never finishes loading.
func hostileSite(t testing.TB) http.Handler {
	bomb := gzipBomb(t, 1024)
	pixels := pngBomb(20000, 20000)
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`<!doctype html><html><head><title>Hostile</title></head><body><p>hostile page</p>`)
		for i := range 8 {
			fmt.Fprintf(&b, `<img src="/bomb/%d.png">`, i)
		}
		b.WriteString(`<img src="/pixels.png"><img src="/trickle.png"><iframe src="/never"></iframe></body></html>`)
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(b.String()))
	})
	mux.HandleFunc("/bomb/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	})
	mux.HandleFunc("/pixels.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(pixels)
	})
	mux.HandleFunc("/trickle.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.WriteHeader(http.StatusOK)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			w.Write([]byte{0})
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	})
	mux.HandleFunc("/never", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	return mux
}

// markBrowser sets an environment variable that Chromium and every
// process it starts inherit, and returns a function listing the live ones
// (from /proc/PID/environ), so that the test sees its own browsers only,
// not those of other programs on the machine.
func markBrowser(t *testing.T) (live func() []int) {
	var b [8]byte
	rand.Read(b[:])
	mark := "GROUNDTRUTH_TEST_BROWSER=" + hex.EncodeToString(b[:])
	t.Setenv("GROUNDTRUTH_TEST_BROWSER", mark[len("GROUNDTRUTH_TEST_BROWSER="):])
	return func() []int {
		entries, _ := os.ReadDir("/proc")
		var pids []int
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
			if err != nil || !bytes.Contains(env, []byte(mark+"\x00")) {
				continue
			}
			if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
				if i := bytes.LastIndexByte(st, ')'); i >= 0 && bytes.HasPrefix(st[i+1:], []byte(" Z")) {
					continue // a zombie holds no memory and is about to be reaped
				}
			}
			pids = append(pids, pid)
		}
		return pids
	}
}

// rssOf is the resident memory of pid in bytes (/proc/PID/statm).
func rssOf(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// peakMemory samples the resident memory of this process and of the
// marked browser processes every 50 ms until stop is called, and returns
// the largest sum seen.
func peakMemory(live func() []int) (stop func() int64) {
	done := make(chan struct{})
	var peak int64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			sum := rssOf(os.Getpid())
			for _, p := range live() {
				sum += rssOf(p)
			}
			peak = max(peak, sum)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() int64 { close(done); wg.Wait(); return peak }
}

// waitNoBrowser fails the test if a marked browser process is still alive
// 10 s after the capture returned (time for the kernel to deliver SIGKILL).
func waitNoBrowser(t *testing.T, live func() []int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := live()
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var cmds []string
			for _, p := range pids {
				c, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/cmdline")
				cmds = append(cmds, fmt.Sprintf("%d %.80s", p, bytes.ReplaceAll(c, []byte{0}, []byte{' '})))
			}
			t.Fatalf("Chromium processes left after the capture: %q", cmds)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCaptureHostilePage captures a page built to exhaust the capture:
// gzip bombs, a pixel bomb, a body that never ends, a frame that never
// answers. The capture must end within its limit plus a bounded grace,
// stay under its memory ceiling (this process and the browser, measured
// from /proc), keep the page and say what it cut, and leave no browser
// process behind.
func TestCaptureHostilePage(t *testing.T) {
	chromium := chromiumOrSkip(t)
	live := markBrowser(t)
	srv := serveOn(t, "127.0.0.1", hostileSite(t))
	cfg := testConfig()
	cfg.Chromium = chromium
	// The page never finishes loading, so the capture runs to its limit:
	// the render to its half, the media to the rest, long enough on a
	// loaded machine for the bombs and the endless image to be met.
	cfg.Timeout = 90 * time.Second
	cfg.FetchTimeout = 10 * time.Second
	cfg.HeaderTimeout = 10 * time.Second
	// The race detector decodes gzip at a few MB/s on a loaded machine;
	// a lower cap keeps the test about the cap, not the time limits. The
	// measurement for docs/benchmarks.md (GROUNDTRUTH_CAPTURE_BENCH=1,
	// scripts/bench.sh) runs without the race detector and with the
	// defaults.
	bench := os.Getenv("GROUNDTRUTH_CAPTURE_BENCH") == "1"
	if !bench {
		cfg.MaxDecodedBytes = 4 << 20
	}
	ceiling := MemoryCeiling(cfg)
	const grace = 15 * time.Second

	stop := peakMemory(live)
	start := time.Now()
	dir := t.TempDir()
	res, err := Capture(t.Context(), cfg, srv.URL+"/page", dir, func(s string) { t.Logf("%v: stage %s", time.Since(start).Round(time.Millisecond), s) })
	took := time.Since(start)
	peak := stop()
	t.Logf("capture took %v; peak memory of the test process and the browser %d MiB (ceiling %d MiB)", took.Round(time.Millisecond), peak>>20, ceiling>>20)
	if bench {
		fmt.Printf("capture-memory: hostile page (8 gzip bombs of 1 GiB, a 20000x20000 PNG, an endless body, a frame that never answers): %v, peak resident memory of the process and the browser %d MiB, ceiling %d MiB, %d failures recorded\n",
			took.Round(100*time.Millisecond), peak>>20, ceiling>>20, len(res.Failures))
	}
	if err != nil {
		t.Fatalf("Capture: %v (failures %q)", err, res.Failures)
	}
	if took > cfg.Timeout+grace {
		t.Errorf("capture took %v, limit %v plus %v grace", took, cfg.Timeout, grace)
	}
	if peak > ceiling {
		t.Errorf("peak memory %d MiB, ceiling %d MiB", peak>>20, ceiling>>20)
	}
	if !hasFailure(res, "decodes to more than") {
		t.Errorf("failures = %q, want the gzip bombs cut", res.Failures)
	}
	if !hasFailure(res, "/trickle.png") {
		t.Errorf("failures = %q, want the endless body cut", res.Failures)
	}
	if recs := readWARC(t, dir+"/capture.warc.gz"); findRecord(recs, "response", srv.URL+"/page") == nil {
		t.Errorf("WARC lacks the page itself")
	}
	waitNoBrowser(t, live)
}

// TestCaptureCancelKillsBrowser cancels a capture while Chromium renders a
// page that never finishes loading: Capture returns within seconds and
// the browser's whole process group is gone.
func TestCaptureCancelKillsBrowser(t *testing.T) {
	chromium := chromiumOrSkip(t)
	live := markBrowser(t)
	srv := serveOn(t, "127.0.0.1", hostileSite(t))
	cfg := testConfig()
	cfg.Chromium = chromium
	cfg.Timeout = 10 * time.Minute
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := Capture(ctx, cfg, srv.URL+"/page", t.TempDir(), nil)
		done <- outcome{res, err}
	}()
	// Cancel once the browser runs.
	deadline := time.Now().Add(2 * time.Minute)
	for len(live()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no browser process started within 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	cancelled := time.Now()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Capture did not return 30 s after its context was cancelled")
	}
	t.Logf("Capture returned %v after the cancellation", time.Since(cancelled).Round(time.Millisecond))
	waitNoBrowser(t, live)
}
