// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"groundtruth/internal/store"
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
		<-r.Context().Done()
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

	// The limit is generous, so that a loaded machine renders the page
	// and fetches its photo in time: a page that loads ends as soon as it
	// is kept, and the hanging one is cut after 20 s of silence while the
	// other capture runs beside it.
	start := time.Now()
	capCtx, capCancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer capCancel()
	args := []string{"capture", "--allow", "127.0.0.0/8", "--timeout", "60s", srv.URL + "/hang", srv.URL + "/post"}
	res = finish(t, capCtx, command(capCtx, data, args...), args)
	if took := time.Since(start); took > 60*time.Second+30*time.Second {
		t.Errorf("captures took %s with a 60 s limit", took)
	}
	if res.code != 1 || !strings.Contains(res.stderr, "no response: the server sent nothing for 20s") {
		t.Errorf("a hanging page: exit %d, stderr %q; want exit 1 and the silence named", res.code, res.stderr)
	}
	if strings.Contains(res.stderr, "127.0.0.1:") && strings.Contains(res.stderr, "->") {
		t.Errorf("a hanging page: stderr %q names the connection's addresses", res.stderr)
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

// TestServeStopsOnSIGTERMDuringCapture stops the server with SIGTERM
// while it captures a page built to hold it: gzip bombs sent as images, an
// image trickling a byte every two seconds, a frame that never answers,
// so that the page never finishes loading. serve must exit
// within seconds, leave the job queued for the next start without counting
// the attempt, and leave no Chromium process behind.
func TestServeStopsOnSIGTERMDuringCapture(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("GROUNDTRUTH_REQUIRE_TOOLS") != "1" {
		t.Skip("Chromium is not installed")
	}
	// 1 GiB of zeros as gzip members of 1 MiB each: about 1 MB on the wire.
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	bomb := bytes.Repeat(one.Bytes(), 1024)
	browsing := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title>Never done</title></head><body>`)
		for i := range 8 {
			fmt.Fprintf(w, `<img src="/bomb/%d.png">`, i)
		}
		fmt.Fprint(w, `<img src="/trickle.png"><iframe src="/never"></iframe></body></html>`)
	})
	mux.HandleFunc("/bomb/", func(w http.ResponseWriter, r *http.Request) {
		select {
		case browsing <- struct{}{}:
		default:
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	})
	mux.HandleFunc("/trickle.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case browsing <- struct{}{}:
		default:
		}
		w.Header().Set("Content-Type", "image/png")
		for {
			w.Write([]byte{0})
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
	})
	mux.HandleFunc("/never", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	data := filepath.Join(t.TempDir(), "data")
	mustRun(t, data, "init")
	st, err := store.Open(t.Context(), filepath.Join(data, "groundtruth.db"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.EnqueueJob(t.Context(), "capture", []byte(`{"url":"`+srv.URL+`/page"}`), 5, "tester")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := command(ctx, data, "serve", "--addr", "127.0.0.1:0", "--capture-allow", "127.0.0.0/8")
	// Chromium and the processes it starts inherit this mark, by which
	// the test finds them in /proc and no other program's.
	mark := fmt.Sprintf("GROUNDTRUTH_TEST_BROWSER=%d-%d", os.Getpid(), time.Now().UnixNano())
	cmd.Env = append(cmd.Env, mark)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	select {
	case <-browsing:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the browser did not ask for the page's image within 2 minutes (stderr %q)", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	const within = 15 * time.Second
	select {
	case err := <-exited:
		took := time.Since(signalled)
		t.Logf("serve exited %v after SIGTERM", took.Round(time.Millisecond))
		if err != nil {
			t.Errorf("serve after SIGTERM: %v (stderr %q)", err, stderr.String())
		}
		if took > within {
			t.Errorf("serve took %v to exit after SIGTERM, want at most %v", took, within)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve still running 2 minutes after SIGTERM (stderr %q)", stderr.String())
	}

	st, err = store.Open(t.Context(), filepath.Join(data, "groundtruth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if j, err := st.Job(t.Context(), id); err != nil || j.State != store.JobQueued || j.Attempts != 0 {
		t.Errorf("job after SIGTERM = %+v (%v), want queued again with no attempt counted", j, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := markedProcesses(mark)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of the browser left after serve exited: %v", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// markedProcesses lists the live processes whose environment holds mark.
func markedProcesses(mark string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(env, []byte(mark+"\x00")) {
			continue
		}
		if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i >= 0 && bytes.HasPrefix(st[i+1:], []byte(" Z")) {
				continue // a zombie, about to be reaped
			}
		}
		pids = append(pids, pid)
	}
	return pids
}
