// SPDX-License-Identifier: Apache-2.0

package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/capture"
)

// A capture requested through the API runs in the real job queue with
// the real capture handler: its items become evidence, its progress and
// result are visible, and a captured page is only ever served as a
// sandboxed download, never in groundtruth's origin.
func TestCaptureThroughAPI(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("GROUNDTRUTH_REQUIRE_TOOLS") != "1" {
		t.Skip("Chromium is not installed")
	}
	photo, err := os.ReadFile(filepath.Join(pdqData, "images", "reg-test-input", "dih", "bridge-1-original.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bridge.jpg" {
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(photo)
			return
		}
		fmt.Fprint(w, `<html><head><title>Bridge</title><script>document.title="ran"</script></head><body><img src="/bridge.jpg"></body></html>`)
	}))
	defer page.Close()
	s := newSite(t)

	for name, c := range map[string]struct {
		body string
		want int
	}{
		"not a URL":         {`{"urls":["file:///etc/passwd"]}`, 400},
		"no URLs":           {`{"urls":[]}`, 400},
		"unknown incident":  {`{"urls":["` + page.URL + `"],"incident":"no-such-incident"}`, 400},
		"guard is not ours": {`{"urls":["` + page.URL + `"],"allow":["0.0.0.0/0"]}`, 400},
	} {
		t.Run(name, func(t *testing.T) {
			if resp := s.do(t, account.Analyst, "POST", "/api/v1/captures", c.body, nil); resp.StatusCode != c.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, c.want, body(t, resp))
			}
		})
	}

	resp := s.do(t, account.Analyst, "POST", "/api/v1/captures", `{"urls":["`+page.URL+`/post"],"incident":"hadrut-execution"}`, nil)
	var started struct{ Jobs []int64 }
	if err := json.Unmarshal([]byte(body(t, resp)), &started); err != nil || resp.StatusCode != 202 || len(started.Jobs) != 1 {
		t.Fatalf("POST /api/v1/captures: %d %+v %v", resp.StatusCode, started, err)
	}
	id := started.Jobs[0]
	var job struct {
		State    string
		Error    string
		Progress string
		Result   struct {
			Items []struct{ Slug, Role string }
		}
	}
	// The capture's own limit, then storing and analysing the photo and
	// the screenshot, which under the race detector on a loaded machine
	// take minutes: a generous bound, polled, that a working capture
	// never nears.
	deadline := time.Now().Add(capture.DefaultTimeout + 6*time.Minute)
	for job.State != "done" && job.State != "failed" && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if err := json.Unmarshal([]byte(body(t, s.do(t, account.Viewer, "GET", fmt.Sprintf("/api/v1/jobs/%d", id), "", nil))), &job); err != nil {
			t.Fatal(err)
		}
	}
	if job.State != "done" {
		t.Fatalf("capture job ended %q (stage %q): %s", job.State, job.Progress, job.Error)
	}
	slugs := map[string]string{}
	for _, it := range job.Result.Items {
		slugs[it.Role] = it.Slug
	}
	for _, role := range []string{"warc", "wacz", "screenshot", "pdf", "media"} {
		if slugs[role] == "" {
			t.Errorf("no %s item in %+v", role, job.Result.Items)
		}
	}
	for _, role := range []string{"warc", "wacz"} {
		resp := s.do(t, account.Editor, "GET", "/evidence/"+slugs[role]+"/original", "", nil)
		body(t, resp)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("%s original served as %d %q %q %q, want a sandboxed attachment", role, resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), resp.Header.Get("Content-Security-Policy"))
		}
	}
	if p := body(t, s.do(t, account.Viewer, "GET", "/captures", "", nil)); !strings.Contains(p, page.URL+"/post") || !strings.Contains(p, slugs["wacz"]) {
		t.Errorf("the captures page does not show the capture and its items")
	}
	if resp := s.do(t, account.Analyst, "POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", id), "", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("cancel of a finished job: %d, want 409", resp.StatusCode)
	}
	var list struct{ Jobs []struct{ ID int64 } }
	json.Unmarshal([]byte(body(t, s.do(t, account.Viewer, "GET", "/api/v1/jobs?kind=capture", "", nil))), &list)
	if len(list.Jobs) != 1 || list.Jobs[0].ID != id {
		t.Errorf("GET /api/v1/jobs = %+v", list)
	}
}
