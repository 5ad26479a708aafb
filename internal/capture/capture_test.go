// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gowarc "github.com/nlnwa/gowarc/v3"
)

// testPNG returns a small two-colour PNG.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{200, 30, 30, 255}
			if x > w/2 {
				c = color.RGBA{30, 30, 200, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var (
	mp4Once  sync.Once
	mp4Bytes []byte
	mp4Err   error
)

// makeMP4 makes a one-second MPEG-4 video with ffmpeg.
func makeMP4() ([]byte, error) {
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "capture-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "clip.mp4")
	cmd := exec.Command(ff, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
		"-t", "1", "-c:v", "mpeg4", "-pix_fmt", "yuv420p", "-movflags", "+faststart", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %v: %s", err, b)
	}
	return os.ReadFile(out)
}

// needMP4 skips the test when ffmpeg cannot make the test video.
func needMP4(t testing.TB) {
	t.Helper()
	mp4Once.Do(func() { mp4Bytes, mp4Err = makeMP4() })
	if mp4Err != nil {
		requireTool(t, "cannot make a test video: "+mp4Err.Error())
	}
}

// requireTool skips the test, or fails it when GROUNDTRUTH_REQUIRE_TOOLS=1
// (CI images that must have every tool).
func requireTool(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("GROUNDTRUTH_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s (GROUNDTRUTH_REQUIRE_TOOLS=1)", msg)
	}
	t.Skip(msg)
}

func chromiumOrSkip(t testing.TB) string {
	t.Helper()
	const p = "/usr/bin/chromium"
	if _, err := os.Stat(p); err != nil {
		requireTool(t, "chromium not installed at "+p)
	}
	return p
}

const pageHTML = `<!doctype html>
<html><head><title>Shelling of the market</title>
<meta property="og:image" content="/img/og.png">
<style>body{margin:0;font:20px sans-serif} .a{background:#c33;height:400px} .b{background:#33c;height:900px}</style>
</head><body>
<h1>Report</h1>
<div class="a">red block</div>
<img src="/img/a.png" alt="a">
<img src="/img/small.png" srcset="/img/small.png 100w, /img/large.png 800w" alt="b">
<video src="/media/clip.mp4" controls width="64" height="48"></video>
<div class="b">blue block</div>
</body></html>`

const malformedHTML = "<html><head><title>Broken page</title></head></head><body><body><div><p>unclosed <b><i>nest</b></i>" +
	"<img src=/img/a.png <table><tr><td>cell</div></span>&&&<<<>>> \x00\xff\xfe" +
	"<script>document.write('<div style=\"background:#3c3;height:300px\">green</div>')</script>" +
	"<div style='background:#c3c;height:200px'>magenta"

// telegramEmbedHTML is written in the style of a t.me embed view.
const telegramEmbedHTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Telegram Widget</title>
<style>.tgme_widget_message{background:#fff;border:1px solid #888;padding:10px;width:500px}</style></head>
<body class="body_widget_post emoji_image nodark">
<div class="tgme_widget_message_wrap js-widget_message_wrap">
 <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="examplechan/123" data-view="eyJjIjotMTAwfQ" data-peer="c100_abc">
  <div class="tgme_widget_message_user"><a href="https://t.me/examplechan"><i class="tgme_widget_message_user_photo"></i></a></div>
  <div class="tgme_widget_message_bubble">
   <i class="tgme_widget_message_bubble_tail"></i>
   <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="https://t.me/examplechan"><span dir="auto">Example &amp; Channel</span></a></div>
   <div class="tgme_widget_message_forwarded_from accent_color">Forwarded from <a class="tgme_widget_message_forwarded_from_name" href="https://t.me/originchan/45"><span dir="auto">Origin News</span></a></div>
   <a class="tgme_widget_message_photo_wrap 5012 blured" href="https://t.me/examplechan/123?single" style="width:320px;background-image:url('/file/photo1.png')"><div class="tgme_widget_message_photo" style="padding-top:60%"></div></a>
   <div class="tgme_widget_message_video_player js-message_video_player">
     <i class="tgme_widget_message_video_thumb" style="background-image:url('/file/thumb.png')"></i>
     <div class="tgme_widget_message_video_wrap"><video src="/file/video1.mp4" class="tgme_widget_message_video js-message_video" width="100%" height="100%"></video></div>
   </div>
   <div class="tgme_widget_message_text js-message_text" dir="auto">Strike reported near the station.<br/>Second line <a href="https://example.org/x">link</a></div>
   <div class="tgme_widget_message_footer compact js-message_footer">
    <div class="tgme_widget_message_info short js-message_info">
     <span class="tgme_widget_message_views">1.2K</span><span class="copyonly"> views</span>
     <span class="tgme_widget_message_meta">edited <a class="tgme_widget_message_date" href="https://t.me/examplechan/123"><time datetime="2024-02-24T05:31:12+00:00" class="time">05:31</time></a></span>
    </div>
   </div>
  </div>
 </div>
</div></body></html>`

// testSite serves the fixtures used across tests.
func testSite(t testing.TB) http.Handler {
	png1 := testPNG(t, 40, 30)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, pageHTML)
	})
	mux.HandleFunc("GET /malformed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, malformedHTML)
		// ?x=<origin> adds a subresource from another origin, for guard tests.
		if x := r.URL.Query().Get("x"); x != "" {
			fmt.Fprintf(w, "<img src=%q><img src='/img/a.png'>", x+"/img/secret.png")
		}
	})
	mux.HandleFunc("GET /img/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(png1)
	})
	mux.HandleFunc("GET /file/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".mp4") {
			w.Header().Set("Content-Type", "video/mp4")
			io.WriteString(w, "not really a video, but bytes to keep")
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(png1)
	})
	mux.HandleFunc("GET /media/clip.mp4", func(w http.ResponseWriter, r *http.Request) {
		mp4Once.Do(func() { mp4Bytes, mp4Err = makeMP4() })
		if mp4Err != nil {
			http.Error(w, mp4Err.Error(), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeContent(w, r, "clip.mp4", time.Time{}, bytes.NewReader(mp4Bytes))
	})
	mux.HandleFunc("GET /r1", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/r2", http.StatusFound) })
	mux.HandleFunc("GET /r2", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/page", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	mux.HandleFunc("GET /examplechan/123", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("embed") != "1" {
			http.Error(w, "want the embed view", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, telegramEmbedHTML)
	})
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	mux.HandleFunc("GET /hang-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>started")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	mux.HandleFunc("GET /huge", func(w http.ResponseWriter, r *http.Request) {
		// 1 GB of zeros, streamed from one reused buffer.
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", "1000000000")
		zeros := make([]byte, 64<<10)
		for sent := 0; sent < 1_000_000_000; sent += len(zeros) {
			if _, err := w.Write(zeros); err != nil {
				return
			}
		}
	})
	return mux
}

// serveOn starts an HTTP test server listening on ip.
func serveOn(t testing.TB, ip string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func testConfig() Config {
	return Config{Allow: loopback, Timeout: 60 * time.Second, Chromium: "-", YtDlp: "-", Software: "groundtruth-test"}
}

// warcRecord is a WARC record as read back by the nlnwa reader.
type warcRecord struct {
	Type, URI, ContentType, IP string
	Block                      []byte
}

func readWARC(t testing.TB, path string) []warcRecord {
	t.Helper()
	r, err := gowarc.NewWarcFileReader(path, 0)
	if err != nil {
		t.Fatalf("open WARC: %v", err)
	}
	defer r.Close()
	var out []warcRecord
	for rec, err := range r.Records() {
		if err != nil {
			t.Fatalf("read WARC %s: %v", path, err)
		}
		h := rec.WarcRecord.WarcHeader()
		rr := warcRecord{
			Type: rec.WarcRecord.Type().String(), URI: h.Get("WARC-Target-URI"),
			ContentType: h.Get("Content-Type"), IP: h.Get("WARC-IP-Address"),
		}
		if br, err := rec.WarcRecord.Block().RawBytes(); err == nil {
			rr.Block, _ = io.ReadAll(br)
		}
		out = append(out, rr)
		rec.Close()
	}
	return out
}

func findRecord(recs []warcRecord, typ, uri string) *warcRecord {
	for i := range recs {
		if recs[i].Type == typ && recs[i].URI == uri {
			return &recs[i]
		}
	}
	return nil
}

func fileWithRole(res *Result, role string) []File {
	var out []File
	for _, f := range res.Files {
		if f.Role == role {
			out = append(out, f)
		}
	}
	return out
}

func hasFailure(res *Result, substr string) bool {
	for _, f := range res.Failures {
		if strings.Contains(f, substr) {
			return true
		}
	}
	return false
}

// checkScreenshot decodes a PNG and requires more than one colour.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	bnd := img.Bounds()
	if bnd.Dx() == 0 || bnd.Dy() == 0 {
		t.Fatalf("screenshot size = %v, want > 0", bnd)
	}
	first := img.At(bnd.Min.X, bnd.Min.Y)
	r0, g0, b0, _ := first.RGBA()
	for y := bnd.Min.Y; y < bnd.Max.Y; y += 7 {
		for x := bnd.Min.X; x < bnd.Max.X; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			if r != r0 || g != g0 || b != b0 {
				return
			}
		}
	}
	t.Fatalf("screenshot %v is a single colour", bnd)
}

func TestCaptureRedirectChainAndMedia(t *testing.T) {
	needMP4(t)
	srv := serveOn(t, "127.0.0.1", testSite(t))
	dir := t.TempDir()
	var stages []string
	res, err := Capture(t.Context(), testConfig(), srv.URL+"/r1", dir, func(s string) { stages = append(stages, s) })
	if err != nil {
		t.Fatalf("Capture: %v (failures %q)", err, res.Failures)
	}
	if res.FinalURL != srv.URL+"/page" || res.Title != "Shelling of the market" {
		t.Errorf("FinalURL, Title = %q, %q; want %q, %q", res.FinalURL, res.Title, srv.URL+"/page", "Shelling of the market")
	}
	if got := strings.Join(stages, ","); got != "fetch,render,media,video,package,verify" {
		t.Errorf("stages = %s", got)
	}
	recs := readWARC(t, filepath.Join(dir, "capture.warc.gz"))
	for _, u := range []string{"/r1", "/r2", "/page", "/img/a.png", "/img/large.png", "/img/og.png"} {
		req := findRecord(recs, "request", srv.URL+u)
		resp := findRecord(recs, "response", srv.URL+u)
		if req == nil || resp == nil {
			t.Errorf("WARC lacks request/response for %s", u)
			continue
		}
		if !bytes.HasPrefix(req.Block, []byte("GET ")) || !bytes.HasPrefix(resp.Block, []byte("HTTP/1.1 ")) {
			t.Errorf("%s: blocks are not raw HTTP messages: %q / %q", u, req.Block[:min(20, len(req.Block))], resp.Block[:min(20, len(resp.Block))])
		}
		if resp.IP != "127.0.0.1" {
			t.Errorf("%s: WARC-IP-Address = %q, want 127.0.0.1", u, resp.IP)
		}
	}
	if r := findRecord(recs, "response", srv.URL+"/r1"); r != nil && !bytes.Contains(r.Block, []byte("Location: /r2")) {
		t.Errorf("redirect response lacks its Location header: %q", r.Block)
	}
	if findRecord(recs, "response", srv.URL+"/img/small.png") != nil {
		t.Errorf("srcset: the smaller candidate was fetched, want only the largest")
	}
	media := fileWithRole(res, "media")
	if len(media) < 4 {
		t.Errorf("media files = %+v, want the three images and the video", media)
	}
	for _, f := range media {
		if fi, err := os.Stat(filepath.Join(dir, f.Path)); err != nil || fi.Size() == 0 {
			t.Errorf("media file %s missing or empty: %v", f.Path, err)
		}
	}
	if len(fileWithRole(res, "wacz")) != 1 || len(fileWithRole(res, "warc")) != 1 {
		t.Errorf("files = %+v, want one WARC and one WACZ", res.Files)
	}
	if !hasFailure(res, "Chromium disabled") || !hasFailure(res, "yt-dlp disabled") {
		t.Errorf("failures = %q, want disabled tools recorded", res.Failures)
	}
	if findRecord(recs, "metadata", "urn:capture:"+srv.URL+"/r1") == nil {
		t.Errorf("WARC lacks the capture record")
	}
}

func TestCaptureTLS(t *testing.T) {
	srv := httptest.NewTLSServer(testSite(t))
	t.Cleanup(srv.Close)
	cfg := testConfig()
	cfg.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	dir := t.TempDir()
	res, err := Capture(t.Context(), cfg, srv.URL+"/page", dir, nil)
	if err != nil {
		t.Fatalf("Capture: %v (failures %q)", err, res.Failures)
	}
	recs := readWARC(t, filepath.Join(dir, "capture.warc.gz"))
	resp := findRecord(recs, "response", srv.URL+"/page")
	if resp == nil || !bytes.Contains(resp.Block, []byte("Shelling of the market")) {
		t.Fatalf("WARC lacks the decrypted HTTP response for %s", srv.URL+"/page")
	}
	var pem *warcRecord
	for i := range recs {
		if recs[i].Type == "resource" && recs[i].ContentType == "application/x-pem-file" && recs[i].URI == srv.URL+"/page" {
			pem = &recs[i]
		}
	}
	if pem == nil || !bytes.Contains(pem.Block, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("WARC lacks the server's certificate chain")
	}

	// Without the test CA the handshake must fail: no silent downgrade.
	cfg.RootCAs = nil
	if _, err := Capture(t.Context(), cfg, srv.URL+"/page", t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Capture without the CA: err = %v, want a certificate error", err)
	}
}

// mapResolver answers from a fixed table, like a hostile DNS server would.
type mapResolver map[string][]netip.Addr

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := m[host]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("no such host %s", host)
}

func TestCaptureSSRF(t *testing.T) {
	// The site runs on 127.0.0.2, the only address allowed; every target
	// below must be refused although a server may be listening there.
	site := serveOn(t, "127.0.0.2", testSite(t))
	other := serveOn(t, "127.0.0.1", testSite(t))
	v6 := serveOn(t, "::1", testSite(t))
	_, otherPort, _ := net.SplitHostPort(other.Listener.Addr().String())
	_, v6Port, _ := net.SplitHostPort(v6.Listener.Addr().String())
	resolver := mapResolver{
		"evil.test":   {netip.MustParseAddr("10.0.0.5")},
		"loop.test":   {netip.MustParseAddr("127.0.0.1")},
		"mixed.test":  {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("192.168.1.1")},
		"mapped.test": {netip.MustParseAddr("::ffff:169.254.169.254")},
	}
	redirect := func(to string) string { return site.URL + "/redirect?to=" + to }
	// A refusal names the host and the way to allow it, never what the
	// name resolved to: that would map the operator's network for whoever
	// reads the job's result.
	refusal := func(rawURL, host string) string {
		return "capture: refused " + rawURL + ": " + host + " resolves to a non-public address; allow it with --allow if intended"
	}
	tests := []struct {
		name, url string
		want      []string // substrings of the error
		leak      []string // what the error must not say
	}{
		{"redirect to 127.0.0.1", redirect("http://127.0.0.1:" + otherPort + "/page"),
			[]string{refusal("http://127.0.0.1:"+otherPort+"/page", "127.0.0.1")}, []string{"loopback", "127.0.0.0/8"}},
		{"redirect to metadata", redirect("http://169.254.169.254/latest/meta-data/"),
			[]string{refusal("http://169.254.169.254/latest/meta-data/", "169.254.169.254")}, []string{"link-local", "metadata service"}},
		{"redirect to [::1]", redirect("http://[::1]:" + v6Port + "/page"),
			[]string{refusal("http://[::1]:"+v6Port+"/page", "::1")}, []string{"loopback", "::1/128"}},
		{"redirect to name resolving to private", redirect("http://evil.test/"),
			[]string{refusal("http://evil.test/", "evil.test")}, []string{"10.0.0.5", "10.0.0.0/8", "private"}},
		{"name resolving to loopback", "http://loop.test:" + otherPort + "/page",
			[]string{refusal("http://loop.test:"+otherPort+"/page", "loop.test")}, []string{"127.0.0.1", "loopback"}},
		{"name with one private answer", "http://mixed.test/",
			[]string{refusal("http://mixed.test/", "mixed.test")}, []string{"192.168.1.1", "93.184.215.14", "private"}},
		{"IPv4-mapped metadata", "http://mapped.test/", []string{refusal("http://mapped.test/", "mapped.test")}, []string{"169.254", "metadata"}},
		{"IPv4-mapped literal", "http://[::ffff:127.0.0.1]:" + otherPort + "/", []string{"resolves to a non-public address"}, []string{"loopback"}},
		{"decimal literal", "http://2130706433:" + otherPort + "/", nil, nil}, // not an IP to Go; DNS fails: refused either way
		{"file scheme", "file:///etc/passwd", []string{"only http and https"}, nil},
		{"redirect to file scheme", redirect("file:///etc/passwd"), []string{"only http and https"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
			cfg.Resolver = resolver
			start := time.Now()
			res, err := Capture(t.Context(), cfg, tt.url, t.TempDir(), nil)
			if err == nil {
				t.Fatalf("Capture(%s) succeeded, want refusal; final %s", tt.url, res.FinalURL)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %q, want it to contain %q", err, w)
				}
			}
			for _, l := range tt.leak {
				if strings.Contains(err.Error(), l) || slices.ContainsFunc(res.Failures, func(f string) bool { return strings.Contains(f, l) }) {
					t.Errorf("error = %q (failures %q) tells %q", err, res.Failures, l)
				}
			}
			if len(tt.want) > 0 && strings.Contains(tt.want[0], "non-public address") && !errors.Is(err, ErrBlocked) {
				t.Errorf("errors.Is(err, ErrBlocked) = false for %v", err)
			}
			if res == nil || len(res.Failures) == 0 {
				t.Errorf("no failure recorded in the result")
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("refusal took %v", d)
			}
		})
	}

	// The same redirects succeed when the targets are allow-listed.
	for _, to := range []string{"http://127.0.0.1:" + otherPort + "/page", "http://[::1]:" + v6Port + "/page"} {
		cfg := testConfig()
		cfg.Allow = append([]netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, loopback...)
		res, err := Capture(t.Context(), cfg, redirect(to), t.TempDir(), nil)
		if err != nil {
			t.Errorf("allow-listed redirect to %s: %v", to, err)
		} else if res.FinalURL != to {
			t.Errorf("FinalURL = %s, want %s", res.FinalURL, to)
		}
	}
}

func TestCaptureLimits(t *testing.T) {
	srv := serveOn(t, "127.0.0.1", testSite(t))
	t.Run("hanging page", func(t *testing.T) {
		cfg := testConfig()
		cfg.Timeout = 2 * time.Second
		start := time.Now()
		res, err := Capture(t.Context(), cfg, srv.URL+"/hang", t.TempDir(), nil)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Capture took %v with a 2s limit", d)
		}
		if err == nil || !strings.Contains(err.Error(), "time limit of 2s") {
			t.Errorf("err = %v, want the time limit named", err)
		}
		if len(res.Failures) == 0 {
			t.Errorf("no failure recorded")
		}
	})
	t.Run("header timeout", func(t *testing.T) {
		cfg := testConfig()
		cfg.HeaderTimeout = time.Second
		start := time.Now()
		_, err := Capture(t.Context(), cfg, srv.URL+"/hang", t.TempDir(), nil)
		if d := time.Since(start); d > 4*time.Second || err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Errorf("Capture = %v after %v, want a header timeout after about 1s", err, d)
		}
	})
	t.Run("hanging body", func(t *testing.T) {
		cfg := testConfig()
		cfg.Timeout = 2 * time.Second
		start := time.Now()
		dir := t.TempDir()
		res, err := Capture(t.Context(), cfg, srv.URL+"/hang-body", dir, nil)
		if d := time.Since(start); d > 6*time.Second {
			t.Errorf("Capture took %v with a 2s limit", d)
		}
		if err != nil {
			t.Fatalf("Capture: %v; want a result with failures, a response head arrived", err)
		}
		if !hasFailure(res, "response body incomplete") {
			t.Errorf("failures = %q, want the incomplete body recorded", res.Failures)
		}
	})
	t.Run("1 GB response", func(t *testing.T) {
		cfg := testConfig()
		cfg.MaxBytes = 4 << 20
		start := time.Now()
		dir := t.TempDir()
		res, err := Capture(t.Context(), cfg, srv.URL+"/huge", dir, nil)
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("Capture took %v", d)
		}
		if err != nil {
			t.Fatalf("Capture: %v", err)
		}
		if !hasFailure(res, "response larger than 4194304 bytes: truncated") {
			t.Errorf("failures = %q, want the size limit recorded", res.Failures)
		}
		recs := readWARC(t, filepath.Join(dir, "capture.warc.gz"))
		if findRecord(recs, "response", srv.URL+"/huge") != nil {
			t.Errorf("a truncated response was written as if complete")
		}
		if findRecord(recs, "metadata", "urn:capture:"+srv.URL+"/huge") == nil {
			t.Errorf("the capture record with the failure is missing")
		}
	})
	t.Run("redirect loop", func(t *testing.T) {
		_, err := Capture(t.Context(), testConfig(), srv.URL+"/loop", t.TempDir(), nil)
		if err == nil || !strings.Contains(err.Error(), "more than 10 redirects") {
			t.Errorf("err = %v, want the redirect limit", err)
		}
	})
}

func TestCaptureTelegram(t *testing.T) {
	srv := serveOn(t, "127.0.0.1", testSite(t))
	cfg := testConfig()
	cfg.TelegramBase = srv.URL
	dir := t.TempDir()
	res, err := Capture(t.Context(), cfg, "https://t.me/s/examplechan/123", dir, nil)
	if err != nil {
		t.Fatalf("Capture: %v (failures %q)", err, res.Failures)
	}
	p := res.Telegram
	if p == nil {
		t.Fatalf("no Telegram post parsed; failures %q", res.Failures)
	}
	if p.URL != "https://t.me/examplechan/123" || p.Channel != "examplechan" || p.ChannelTitle != "Example & Channel" || p.PostID != 123 {
		t.Errorf("post identity = %q %q %q %d", p.URL, p.Channel, p.ChannelTitle, p.PostID)
	}
	if want := time.Date(2024, 2, 24, 5, 31, 12, 0, time.UTC); !p.PostedAt.Equal(want) || !p.Edited {
		t.Errorf("PostedAt, Edited = %v, %v; want %v, true", p.PostedAt, p.Edited, want)
	}
	if p.Views != 1200 || p.ViewsText != "1.2K" {
		t.Errorf("Views = %d (%q), want 1200 (1.2K)", p.Views, p.ViewsText)
	}
	if p.Forwarded == nil || p.Forwarded.Name != "Origin News" || p.Forwarded.Channel != "originchan" || p.Forwarded.PostID != 45 {
		t.Errorf("Forwarded = %+v", p.Forwarded)
	}
	if !strings.HasPrefix(p.Text, "Strike reported near the station.\nSecond line") {
		t.Errorf("Text = %q", p.Text)
	}
	if len(p.Photos) != 2 || len(p.Videos) != 1 || p.Videos[0] != srv.URL+"/file/video1.mp4" {
		t.Errorf("Photos, Videos = %q, %q", p.Photos, p.Videos)
	}
	if len(res.Sightings) != 2 || res.Sightings[1].URL != "https://t.me/originchan/45" || res.Sightings[1].Channel != "originchan" {
		t.Errorf("Sightings = %+v, want the post and its forwarded-from origin", res.Sightings)
	}
	recs := readWARC(t, filepath.Join(dir, "capture.warc.gz"))
	if m := findRecord(recs, "metadata", "https://t.me/examplechan/123"); m == nil || !bytes.Contains(m.Block, []byte(`"forwarded_from"`)) {
		t.Errorf("WARC lacks the Telegram metadata record")
	}
	if findRecord(recs, "response", srv.URL+"/file/video1.mp4") == nil || findRecord(recs, "response", srv.URL+"/file/photo1.png") == nil {
		t.Errorf("WARC lacks the post's media")
	}
}

func TestCaptureMissingTools(t *testing.T) {
	srv := serveOn(t, "127.0.0.1", testSite(t))
	cfg := testConfig()
	cfg.Chromium = "/nonexistent/chromium"
	cfg.YtDlp = "/nonexistent/yt-dlp"
	res, err := Capture(t.Context(), cfg, srv.URL+"/page", t.TempDir(), nil)
	if err != nil {
		t.Fatalf("Capture: %v", err)
	}
	if !hasFailure(res, "screenshot and PDF skipped: chromium not found") || !hasFailure(res, "video: yt-dlp not found") {
		t.Errorf("failures = %q, want both missing tools recorded", res.Failures)
	}
	if len(fileWithRole(res, "wacz")) != 1 {
		t.Errorf("no WACZ without the tools")
	}
}

// TestYtDlpGuarded checks that yt-dlp's own requests go through the guard:
// the page is allowed, the video it points to is on a refused address.
func TestYtDlpGuarded(t *testing.T) {
	if _, err := lookTool("", "yt-dlp"); err != nil {
		requireTool(t, "yt-dlp not installed")
	}
	needMP4(t)
	secret := serveOn(t, "127.0.0.1", testSite(t))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /video-page", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><head><title>v</title></head><body><video src="%s/media/clip.mp4"></video></body></html>`, secret.URL)
	})
	site := serveOn(t, "127.0.0.2", mux)
	cfg := testConfig()
	cfg.Allow = []netip.Prefix{mustPrefix("127.0.0.2/32")}
	cfg.YtDlp = ""
	dir := t.TempDir()
	res, err := Capture(t.Context(), cfg, site.URL+"/video-page", dir, nil)
	if err != nil {
		t.Fatalf("Capture: %v", err)
	}
	if len(fileWithRole(res, "media")) != 0 {
		t.Errorf("media files %+v fetched from a refused address", res.Files)
	}
	t.Logf("failures: %q", res.Failures)
	if !hasFailure(res, "video: yt-dlp on") || !hasFailure(res, "403") {
		t.Errorf("failures = %q, want yt-dlp's refused download recorded", res.Failures)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "video")); len(entries) > 0 {
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".info.json") {
				t.Errorf("yt-dlp downloaded %s from a refused address", e.Name())
			}
		}
	}
}
