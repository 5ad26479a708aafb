// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/timestamp"
)

// TestCapture archives a local page with a photo from the command line:
// the WARC, WACZ, screenshot, PDF and the photo become evidence with a
// sighting of the URL; a loopback address is refused unless allowed; a
// hanging page fails within its time limit while the next capture in the
// queue still succeeds; and the ledger still verifies.
func TestCapture(t *testing.T) {
	needFFmpeg(t)
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("GROUNDTRUTH_REQUIRE_TOOLS") != "1" {
		t.Skip("Chromium is not installed")
	}
	photo, err := os.ReadFile(filepath.Join(pdqData, "images", "reg-test-input", "dih", "bridge-1-original.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/post", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title>Bridge struck</title></head><body><p>Footage from this morning.</p><img src="/bridge.jpg"></body></html>`)
	})
	mux.HandleFunc("/bridge.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(photo)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	mustRun(t, data, "init")
	// A time-stamping authority: the checkpoint covering a capture is
	// stamped, so that when it was kept is provable to a third party.
	tsa, err := timestamp.NewTestAuthority()
	if err != nil {
		t.Fatal(err)
	}
	tsaSrv := httptest.NewServer(tsa)
	defer tsaSrv.Close()
	root := filepath.Join(dir, "tsa-root.pem")
	os.WriteFile(root, tsa.RootPEM(), 0o644)
	mustRun(t, data, "ledger", "tsa", "add", "local", tsaSrv.URL, "--roots", root, "--every", "0s")
	res := run(t, data, "capture", srv.URL+"/post")
	if res.code != 2 || !strings.Contains(res.stderr, "resolves to a non-public address; allow it with --allow if intended") {
		t.Fatalf("capture of a loopback URL: exit %d, stderr %q; want exit 2 and the refusal", res.code, res.stderr)
	}

	start := time.Now()
	res = run(t, data, "capture", "--allow", "127.0.0.0/8", "--timeout", "15s", srv.URL+"/hang", srv.URL+"/post")
	if took := time.Since(start); took > 60*time.Second {
		t.Errorf("captures took %s with a 15 s limit", took)
	}
	if res.code != 1 || !strings.Contains(res.stderr, "time limit") {
		t.Errorf("a hanging page: exit %d, stderr %q; want exit 1 and the time limit named", res.code, res.stderr)
	}
	roles := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		f := strings.Fields(line)
		if len(f) == 5 && f[0] == "captured" {
			roles[f[1]] = f[3]
		}
	}
	for _, role := range []string{"warc", "wacz", "screenshot", "pdf", "media"} {
		if roles[role] == "" {
			t.Errorf("no %s captured (stdout %q, stderr %q)", role, res.stdout, res.stderr)
		}
	}
	var shown mediaShow
	runJSON(t, data, &shown, "show", roles["media"], "--json")
	if shown.Media == nil || shown.Media.Kind != "image" || shown.Media.Status != "analysed" {
		t.Errorf("the captured photo was not analysed: %+v", shown.Media)
	}
	var ev struct {
		Sightings []struct {
			URL        string `json:"url"`
			CapturedAt string `json:"captured_at"`
		} `json:"sightings"`
	}
	runJSON(t, data, &ev, "show", roles["wacz"], "--json")
	if len(ev.Sightings) != 1 || ev.Sightings[0].URL != srv.URL+"/post" || ev.Sightings[0].CapturedAt == "" {
		t.Errorf("the WACZ's sightings = %+v, want the URL with the capture time", ev.Sightings)
	}
	jobs := mustRun(t, data, "jobs")
	if !strings.Contains(jobs, "capture failed") || !strings.Contains(jobs, "capture done") {
		t.Errorf("jobs = %q, want one failed and one done capture", jobs)
	}
	tsrs, _ := filepath.Glob(filepath.Join(data, "ledger", "timestamps", "*.local.tsr"))
	if len(tsrs) == 0 {
		t.Fatal("no timestamp of the checkpoint covering the capture")
	}
	last := tsrs[len(tsrs)-1]
	if out, err := exec.Command("openssl", "ts", "-verify", "-data", strings.TrimSuffix(last, ".local.tsr")+".body", "-in", last, "-CAfile", root).CombinedOutput(); err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Errorf("openssl ts -verify of the capture's timestamp: %v\n%s", err, out)
	}
	if res := run(t, data, "verify"); res.code != 0 {
		t.Fatalf("verify after captures: exit %d: %s%s", res.code, res.stdout, res.stderr)
	}
}
