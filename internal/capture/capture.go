// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"groundtruth/internal/capture/warc"
)

// Defaults applied by Capture to zero Config fields.
const (
	DefaultMaxBytes        = 256 << 20
	DefaultMaxDecodedBytes = 64 << 20
	DefaultMaxTotalBytes   = 1 << 30
	DefaultBrowserMemory   = 2 << 30
	DefaultTimeout         = 2 * time.Minute
	DefaultHeaderTimeout   = 30 * time.Second
	DefaultIdleTimeout     = 20 * time.Second
	DefaultFetchTimeout    = time.Minute
	DefaultUserAgent       = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 groundtruth"
	DefaultTelegramBase    = "https://t.me"
)

// Config controls one capture. The zero value is safe: private and local
// addresses are refused, sizes and time are bounded, tools are looked up on
// PATH.
type Config struct {
	// Allow lists address ranges that may be fetched although they are
	// loopback, private, link-local etc. (tests, intranets).
	Allow []netip.Prefix
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// RootCAs verifies servers' certificates; nil means the system pool.
	RootCAs *x509.CertPool
	// MaxBytes bounds each response body (decoded); default 256 MiB.
	MaxBytes int64
	// MaxDecodedBytes bounds a body the server sent compressed
	// (Content-Encoding), after decompression, whatever its size on the
	// wire: a few kilobytes of gzip can expand to gigabytes. Default
	// 64 MiB.
	MaxDecodedBytes int64
	// MaxTotalBytes bounds what one capture holds in memory at once:
	// response bodies (kept until the capture is packaged) and the wire
	// copies of the fetches in flight. Fetches beyond it are cut and
	// recorded as failures. Default 1 GiB.
	MaxTotalBytes int64
	// BrowserMemory bounds the resident memory of Chromium's whole
	// process group (browser, renderers, GPU and utility processes),
	// checked every 200 ms; above it the browser is killed and the
	// screenshot and PDF are skipped. Default 2 GiB.
	BrowserMemory int64
	// Timeout bounds the whole capture; default 2 minutes. Each stage has
	// its own share of it (see stageDeadline).
	Timeout time.Duration
	// HeaderTimeout bounds the wait for each response head; default 30 s.
	HeaderTimeout time.Duration
	// IdleTimeout bounds each read from and write to a server's
	// connection: a server that stops sending for that long is cut off.
	// Default 20 s.
	IdleTimeout time.Duration
	// FetchTimeout bounds each fetch, head and body, so that a body
	// trickling a byte at a time cannot hold a stage; default 1 minute.
	FetchTimeout time.Duration
	// Chromium and YtDlp are executable paths: "" looks them up on PATH
	// ("chromium", "yt-dlp"), "-" disables the step.
	Chromium, YtDlp string
	// UserAgent is sent with every request (and to yt-dlp).
	UserAgent string
	// TelegramBase replaces https://t.me when fetching Telegram embeds
	// (tests serve a look-alike); the recorded post URL stays on t.me.
	TelegramBase string
	// Software names this program and version in the WARC and WACZ.
	Software string
}

// File is one file Capture wrote into its output directory.
type File struct {
	Path        string // relative to the output directory, slash-separated
	Name        string // base name
	ContentType string
	SourceURL   string // where the bytes came from; "" for files we made
	Role        string // "warc", "wacz", "screenshot", "pdf", "media" or "info"
}

// Sighting is an appearance of the captured content on a platform: the post
// itself, and for a forward the earlier post it names.
type Sighting struct {
	URL, Platform, Channel string
	PostedAt               time.Time // zero when the page does not show it
	Note                   string
}

// Result describes a capture. Failures lists every partial problem (a
// missing tool, a refused subresource, a truncated download); they do not
// make the capture fail.
type Result struct {
	URL, FinalURL, Title string
	Started, Finished    time.Time
	Files                []File
	Sightings            []Sighting
	Telegram             *TelegramPost
	Failures             []string
}

// Capture fetches rawURL and everything needed to preserve it into dir (an
// existing, empty directory): capture.warc.gz, screenshot.png, page.pdf,
// media files and finally capture.wacz, which is verified after writing.
// progress, if not nil, is called with the name of each stage as it starts.
//
// The error is non-nil only when nothing useful was captured: the URL is
// not http(s), the guard refused it, DNS failed, or no response arrived in
// time. The returned Result is never nil, so its Failures can be shown
// even then.
func Capture(ctx context.Context, cfg Config, rawURL, dir string, progress func(stage string)) (*Result, error) {
	cfg = cfg.withDefaults()
	res := &Result{URL: rawURL, Started: time.Now().UTC()}
	stage := func(s string) {
		if progress != nil {
			progress(s)
		}
	}
	fail := func(err error) (*Result, error) {
		res.Failures = append(res.Failures, err.Error())
		res.Finished = time.Now().UTC()
		return res, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return fail(fmt.Errorf("capture: parse URL %q: %w", rawURL, err))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fail(fmt.Errorf("capture: refused %q: only http and https URLs can be captured", rawURL))
	}
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout,
		fmt.Errorf("capture time limit of %s reached", cfg.Timeout))
	defer cancel()

	warcName := "capture.warc.gz"
	ww, err := warc.Create(filepath.Join(dir, warcName), warc.Info{Software: cfg.Software, UserAgent: cfg.UserAgent})
	if err != nil {
		return fail(fmt.Errorf("capture: create WARC in %s: %w", dir, err))
	}
	warcOpen := true
	defer func() {
		if warcOpen {
			ww.Close()
		}
	}()
	rec := &recorder{
		cfg:    &cfg,
		guard:  &guard{allow: cfg.Allow, resolver: cfg.Resolver, timeout: cfg.HeaderTimeout},
		warc:   &lockedWriter{w: ww},
		cache:  map[string]*exchange{},
		budget: newBudget(cfg.MaxTotalBytes),
	}

	// Telegram posts are fetched through their embed view, which carries
	// the post's data without login.
	pageURL := rawURL
	channel, postID, isTelegram := parseTelegramURL(rawURL)
	if isTelegram {
		pageURL = telegramEmbedURL(cfg.TelegramBase, channel, postID)
	}

	stage("fetch")
	fetchCtx, cancelFetch := stageContext(ctx, "fetch", cfg.Timeout, cfg.Timeout/2, cfg.Timeout/2)
	hops, err := rec.get(fetchCtx, pageURL, http.Header{"Accept": {"text/html,application/xhtml+xml,*/*;q=0.8"}})
	cancelFetch()
	if err != nil {
		// No final response for the page itself (refused, unreachable, a
		// redirect loop or a redirect to a refused URL): nothing to keep.
		res.Failures = append(res.Failures, rec.takeFailures()...)
		return fail(err)
	}
	main := hops[len(hops)-1]
	res.FinalURL = main.URL
	finalURL, _ := url.Parse(main.URL)
	ct, _, _ := mime.ParseMediaType(main.Header.Get("Content-Type"))
	isHTML := ct == "text/html" || ct == "application/xhtml+xml" || (ct == "" && bytes.Contains(bytes.ToLower(main.Body[:min(len(main.Body), 1024)]), []byte("<html")))
	var info pageInfo
	if isHTML {
		info = parsePage(main.Body, finalURL)
		res.Title = info.Title
	}

	if isTelegram {
		stage("telegram")
		post, err := parseTelegramEmbed(main.Body, finalURL)
		if err != nil {
			res.Failures = append(res.Failures, err.Error())
		} else {
			res.Telegram = post
			js, _ := json.MarshalIndent(post, "", "  ")
			if _, err := rec.warc.metadata(post.URL, "application/json", main.Date, main.responseID, bytes.NewReader(js)); err != nil {
				return fail(fmt.Errorf("capture: write Telegram metadata: %w", err))
			}
			res.Sightings = append(res.Sightings, Sighting{
				URL: post.URL, Platform: "telegram", Channel: post.Channel, PostedAt: post.PostedAt,
				Note: "captured post",
			})
			if f := post.Forwarded; f != nil {
				res.Sightings = append(res.Sightings, Sighting{
					URL: f.URL, Platform: "telegram", Channel: cmpOr(f.Channel, f.Name),
					Note: fmt.Sprintf("named as origin by the forwarded-from header of %s (%q)", post.URL, f.Name),
				})
			}
			// Embed media first: they are the post's own content.
			info.Media = append(append(append([]string{}, post.Videos...), post.Photos...), info.Media...)
			info.Videos = info.Videos || len(post.Videos) > 0
		}
	}

	stage("render")
	switch {
	case !main.Complete:
		res.Failures = append(res.Failures, "screenshot and PDF skipped: the page itself was not fetched completely")
	case cfg.Chromium == "-":
		res.Failures = append(res.Failures, "screenshot and PDF skipped: Chromium disabled")
	default:
		chromium, err := lookTool(cfg.Chromium, "chromium")
		if err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("screenshot and PDF skipped: %v; install the Debian package chromium", err))
			break
		}
		// The render may use half the capture's time, and never the last
		// quarter, which is kept for the media: the screenshot of a slow
		// page must not cost the images and videos themselves.
		renderCtx, cancelRender := stageContext(ctx, "render", cfg.Timeout, cfg.Timeout/2, cfg.Timeout/4)
		out, err := render(renderCtx, chromium, main.URL, rec)
		cancelRender()
		if err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("screenshot and PDF: %v", err))
			break
		}
		for _, a := range []struct {
			data                  []byte
			name, ct, role, proto string
		}{{out.PNG, "screenshot.png", "image/png", "screenshot", "urn:screenshot:"}, {out.PDF, "page.pdf", "application/pdf", "pdf", "urn:pdf:"}} {
			if len(a.data) == 0 {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, a.name), a.data, 0o644); err != nil {
				return fail(fmt.Errorf("capture: save %s: %w", a.name, err))
			}
			if _, err := rec.warc.resource(a.proto+main.URL, a.ct, time.Now().UTC(), bytes.NewReader(a.data)); err != nil {
				return fail(fmt.Errorf("capture: write %s to the WARC: %w", a.name, err))
			}
			res.Files = append(res.Files, File{Path: a.name, Name: a.name, ContentType: a.ct, SourceURL: main.URL, Role: a.role})
		}
	}

	stage("media")
	if err := os.MkdirAll(filepath.Join(dir, "media"), 0o755); err != nil {
		return fail(fmt.Errorf("capture: media directory: %w", err))
	}
	if !isHTML && main.Complete && main.Status == http.StatusOK {
		// The URL is itself a file (an image, a video, a document): keep it
		// as media too, under the same rules as media found in a page.
		info.Media = append([]string{main.URL}, info.Media...)
	}
	for i, m := range info.Media {
		if i >= maxMedia {
			res.Failures = append(res.Failures, fmt.Sprintf("media: only the first %d of %d items fetched", maxMedia, len(info.Media)))
			break
		}
		if ctx.Err() != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("media: stopped after %d items: %v", i, context.Cause(ctx)))
			break
		}
		mh, err := rec.get(ctx, m, http.Header{"Referer": {main.URL}})
		if err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("media %s: %v", m, err))
			continue
		}
		x := mh[len(mh)-1]
		if !x.Complete || x.Status != http.StatusOK {
			if x.Complete {
				res.Failures = append(res.Failures, fmt.Sprintf("media %s: HTTP status %d", m, x.Status))
			}
			continue
		}
		name := fmt.Sprintf("%02d-%s", i+1, safeName(x.URL, x.Header.Get("Content-Type")))
		if err := os.WriteFile(filepath.Join(dir, "media", name), x.Body, 0o644); err != nil {
			return fail(fmt.Errorf("capture: save media %s: %w", name, err))
		}
		res.Files = append(res.Files, File{Path: "media/" + name, Name: name, ContentType: x.Header.Get("Content-Type"), SourceURL: x.URL, Role: "media"})
	}

	// Telegram videos come straight from the embed above; running yt-dlp
	// on the embed page would only download them a second time.
	if !isTelegram && (info.Videos || isVideoHost(finalURL.Hostname())) {
		stage("video")
		files, err := runYtDlp(ctx, &cfg, rec, main.URL, dir, main.responseID)
		res.Files = append(res.Files, files...)
		if err != nil {
			res.Failures = append(res.Failures, err.Error())
		}
	}

	stage("package")
	res.Failures = append(res.Failures, rec.takeFailures()...)
	res.Finished = time.Now().UTC()
	record, _ := json.MarshalIndent(captureRecord{Result: res, Hops: hopSummary(hops)}, "", "  ")
	if _, err := rec.warc.metadata("urn:capture:"+rawURL, "application/json", res.Finished, main.responseID, bytes.NewReader(record)); err != nil {
		return fail(fmt.Errorf("capture: write capture record: %w", err))
	}
	warcOpen = false
	if err := ww.Close(); err != nil {
		return fail(fmt.Errorf("capture: close WARC: %w", err))
	}
	res.Files = append([]File{{Path: warcName, Name: warcName, ContentType: "application/warc", SourceURL: rawURL, Role: "warc"}}, res.Files...)

	waczName := "capture.wacz"
	waczPath := filepath.Join(dir, waczName)
	err = warc.WriteWACZ(waczPath, warc.Package{
		Title:        cmpOr(res.Title, rawURL),
		Description:  "Capture of " + rawURL,
		Software:     cfg.Software,
		Created:      res.Finished,
		MainPageURL:  main.URL,
		MainPageDate: main.Date,
		WARCs:        []string{filepath.Join(dir, warcName)},
		Pages:        []warc.Page{{URL: main.URL, TS: main.Date, Title: res.Title, ID: main.responseID}},
	})
	if err != nil {
		return fail(fmt.Errorf("capture: write WACZ: %w", err))
	}
	stage("verify")
	if err := warc.VerifyWACZ(waczPath); err != nil {
		return fail(fmt.Errorf("capture: the WACZ just written does not verify: %w", err))
	}
	res.Files = append(res.Files, File{Path: waczName, Name: waczName, ContentType: "application/wacz", SourceURL: rawURL, Role: "wacz"})
	res.Finished = time.Now().UTC()
	return res, nil
}

// stageContext returns the context of one stage of a capture: it ends
// after budget, or when only reserve is left of ctx's time (for the stages
// after it), whichever comes first, with a cause naming the stage. The
// job's cancellation and the capture's own limit still end it at once.
func stageContext(ctx context.Context, name string, limit, budget, reserve time.Duration) (context.Context, context.CancelFunc) {
	now := time.Now()
	deadline := now.Add(budget)
	if d, ok := ctx.Deadline(); ok && d.Add(-reserve).Before(deadline) {
		deadline = d.Add(-reserve)
	}
	return context.WithDeadlineCause(ctx, deadline,
		fmt.Errorf("%s stage's share (%s) of the capture time limit of %s reached", name, deadline.Sub(now).Round(time.Second/10), limit))
}

// transientBytes is what a capture may hold beyond MaxTotalBytes at a
// moment: the bodies handed to Chromium (at most 4 at once, each at most
// maxBrowserBody, and a few copies of each while it is base64-encoded into
// a DevTools message), the screenshot and PDF as they arrive, decoder
// buffers and the runtime's slack before it collects.
const transientBytes = 512 << 20

// MemoryCeiling is the most resident memory one capture with cfg is meant
// to use, groundtruth's part and Chromium's together: MaxTotalBytes of
// bodies, BrowserMemory for the browser's process group, and
// transientBytes. The browser can pass its share by what it allocates
// between two checks (200 ms) before it is killed.
func MemoryCeiling(cfg Config) int64 {
	cfg = cfg.withDefaults()
	return cfg.MaxTotalBytes + cfg.BrowserMemory + transientBytes
}

// captureRecord is the metadata record describing the capture itself.
type captureRecord struct {
	*Result
	Hops []string `json:"redirects,omitempty"`
}

func hopSummary(hops []*exchange) []string {
	var s []string
	for _, h := range hops {
		s = append(s, fmt.Sprintf("%d %s", h.Status, h.URL))
	}
	return s
}

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = DefaultHeaderTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.MaxDecodedBytes <= 0 {
		c.MaxDecodedBytes = DefaultMaxDecodedBytes
	}
	if c.MaxTotalBytes <= 0 {
		c.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if c.BrowserMemory <= 0 {
		c.BrowserMemory = DefaultBrowserMemory
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.TelegramBase == "" {
		c.TelegramBase = DefaultTelegramBase
	}
	if c.Software == "" {
		c.Software = "groundtruth"
	}
	return c
}

// lookTool resolves a configured tool path ("" = look up name on PATH).
func lookTool(configured, name string) (string, error) {
	if configured == "" {
		configured = name
	}
	p, err := exec.LookPath(configured)
	if err != nil {
		return "", fmt.Errorf("%s not found: %w", name, err)
	}
	return p, nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName derives a short file name from a URL's last path segment,
// adding an extension from the content type when it has none.
func safeName(rawURL, contentType string) string {
	base := "file"
	if u, err := url.Parse(rawURL); err == nil {
		if b := path.Base(u.Path); b != "/" && b != "." && b != "" {
			base = b
		}
	}
	base = strings.Trim(unsafeChars.ReplaceAllString(base, "_"), "._")
	if len(base) > 80 {
		base = base[len(base)-80:]
	}
	if base == "" {
		base = "file"
	}
	if path.Ext(base) == "" {
		if mt, _, err := mime.ParseMediaType(contentType); err == nil {
			if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
				base += exts[0]
			}
		}
	}
	return base
}

// videoHosts are sites whose pages carry video that the HTML does not
// expose; yt-dlp has extractors for them.
var videoHosts = []string{"youtube.com", "youtu.be", "vimeo.com", "tiktok.com", "x.com", "twitter.com",
	"facebook.com", "fb.watch", "instagram.com", "rumble.com", "dailymotion.com", "vk.com", "ok.ru", "bitchute.com"}

func isVideoHost(host string) bool {
	host = strings.ToLower(host)
	for _, h := range videoHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
