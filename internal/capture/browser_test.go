// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The browser tests start Chromium (a few seconds each), so there are few
// of them and each checks as much as it can.

func TestCaptureBrowser(t *testing.T) {
	chromium := chromiumOrSkip(t)
	needMP4(t)
	srv := serveOn(t, "127.0.0.1", testSite(t))
	cfg := testConfig()
	cfg.Chromium = chromium
	cfg.YtDlp = "" // from PATH, if installed
	// A page that loads ends when it is kept; the generous limit is for a
	// loaded machine, where Chromium under the race detector is slow.
	cfg.Timeout = 3 * time.Minute
	dir := t.TempDir()
	start := time.Now()
	res, err := Capture(t.Context(), cfg, srv.URL+"/page", dir, func(s string) { t.Logf("%v: stage %s", time.Since(start), s) })
	if err != nil {
		t.Fatalf("Capture: %v (failures %q)", err, res.Failures)
	}
	t.Logf("failures: %q; files: %+v", res.Failures, res.Files)
	shots := fileWithRole(res, "screenshot")
	if len(shots) != 1 {
		t.Fatalf("screenshot files = %+v; failures %q", shots, res.Failures)
	}
	checkScreenshot(t, filepath.Join(dir, shots[0].Path))
	pdfs := fileWithRole(res, "pdf")
	if len(pdfs) != 1 {
		t.Fatalf("PDF files = %+v", pdfs)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, pdfs[0].Path)); !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("page.pdf does not start with %%PDF-")
	}
	recs := readWARC(t, filepath.Join(dir, "capture.warc.gz"))
	if findRecord(recs, "resource", "urn:screenshot:"+srv.URL+"/page") == nil || findRecord(recs, "resource", "urn:pdf:"+srv.URL+"/page") == nil {
		t.Errorf("WARC lacks the screenshot or PDF resource record")
	}
	// The page was fetched once: the browser was served the recorded copy.
	n := 0
	for _, r := range recs {
		if r.Type == "response" && r.URI == srv.URL+"/page" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d response records for the page, want 1", n)
	}
	// yt-dlp: either a video and its info JSON, or a recorded failure.
	if _, err := lookTool("", "yt-dlp"); err == nil {
		info := fileWithRole(res, "info")
		if len(info) == 0 && !hasFailure(res, "video: yt-dlp") {
			t.Errorf("yt-dlp is installed but left neither an info JSON nor a failure")
		}
		if len(info) > 0 && findRecord(recs, "metadata", srv.URL+"/page") == nil {
			t.Errorf("info JSON not in the WARC")
		}
	}
}

func TestCaptureBrowserMalformedAndRefusedSubresource(t *testing.T) {
	chromium := chromiumOrSkip(t)
	srv := serveOn(t, "127.0.0.2", testSite(t))
	other := serveOn(t, "127.0.0.1", testSite(t))
	_ = other
	cfg := testConfig()
	cfg.Chromium = chromium
	cfg.Timeout = 3 * time.Minute // generous for a loaded machine; the page loads
	// Only the site itself is allowed; the page below pulls a subresource
	// from 127.0.0.1 through the browser, which must be refused.
	cfg.Allow = nil
	cfg.Allow = append(cfg.Allow, mustPrefix("127.0.0.2/32"))
	dir := t.TempDir()
	res, err := Capture(t.Context(), cfg, srv.URL+"/malformed?x="+other.URL, dir, nil)
	if err != nil {
		t.Fatalf("Capture: %v (failures %q)", err, res.Failures)
	}
	if res.Title != "Broken page" {
		t.Errorf("Title = %q, want %q", res.Title, "Broken page")
	}
	shots := fileWithRole(res, "screenshot")
	if len(shots) != 1 {
		t.Fatalf("no screenshot of malformed HTML; failures %q", res.Failures)
	}
	checkScreenshot(t, filepath.Join(dir, shots[0].Path))
	recs := readWARC(t, filepath.Join(dir, "capture.warc.gz"))
	if findRecord(recs, "response", srv.URL+"/malformed?x="+other.URL) == nil {
		t.Errorf("WARC lacks the malformed page")
	}
	if !hasFailure(res, "127.0.0.1 resolves to a non-public address") {
		t.Errorf("failures = %q, want the browser's loopback subresource refused", res.Failures)
	}
	for _, r := range recs {
		if strings.HasPrefix(r.URI, other.URL) {
			t.Errorf("WARC holds %s, which the guard should have refused", r.URI)
		}
	}
}
