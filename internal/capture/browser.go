// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The browser is driven over the Chrome DevTools Protocol on a pipe
// (--remote-debugging-pipe: JSON messages separated by NUL bytes on file
// descriptors 3 and 4). A pipe needs no websocket library and, unlike a
// debugging port, cannot be reached by other local processes.
//
// Chromium never uses the network itself: the Fetch domain pauses every
// request, and we answer it from the recording client, so subresources are
// checked by the guard and written to the WARC like the page. As a second
// barrier Chromium is pointed at a dead proxy (127.0.0.1:1) with the
// implicit loopback bypass removed, so anything the interception missed
// fails to connect.

const (
	maxBrowserRequests = 300   // subresources fetched for one render
	maxScreenshotPx    = 16384 // Chromium's texture limit; taller pages are cut
	viewportWidth      = 1280
	viewportHeight     = 800
	settleDelay        = 500 * time.Millisecond // after load, for late layout
	// maxBrowserBody bounds a body handed to Chromium. A fulfilled body
	// travels base64-encoded inside a JSON message, several copies of it
	// at once; larger images are still kept by the media stage, they are
	// only missing from the screenshot.
	maxBrowserBody = 16 << 20
	// pipeWriteTimeout bounds each command written to Chromium's pipe
	// when the caller's context sets no earlier deadline: a browser that
	// stops reading must not block the capture.
	pipeWriteTimeout = 10 * time.Second
	// memoryCheckEvery is how often the browser's resident memory is
	// measured against Config.BrowserMemory.
	memoryCheckEvery = 200 * time.Millisecond
)

// rendering is what the browser produced.
type rendering struct {
	PNG, PDF []byte
	Version  string // Chromium product/version
}

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type cdpConn struct {
	w       *os.File // a pipe: writes take deadlines
	wmu     sync.Mutex
	mu      sync.Mutex
	next    int64
	pending map[int64]chan cdpMessage
	onEvent func(cdpMessage)
	closed  chan struct{}
}

func (c *cdpConn) readLoop(r io.Reader) {
	defer close(c.closed)
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(line[:len(line)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			c.mu.Lock()
			ch := c.pending[m.ID]
			delete(c.pending, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		c.onEvent(m)
	}
}

// call sends a command and waits for its reply, decoding the result into out.
func (c *cdpConn) call(ctx context.Context, session, method string, params, out any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan cdpMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	msg, _ := json.Marshal(cdpMessage{ID: id, Method: method, Params: raw, SessionID: session})
	c.wmu.Lock()
	deadline := time.Now().Add(pipeWriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	err = c.w.SetWriteDeadline(deadline)
	if err == nil {
		_, err = c.w.Write(append(msg, 0))
	}
	c.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("chromium: send %s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("chromium: %s: %s", method, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-c.closed:
		return fmt.Errorf("chromium: %s: browser exited", method)
	case <-ctx.Done():
		return fmt.Errorf("chromium: %s: %w", method, context.Cause(ctx))
	}
}

// render loads pageURL in headless Chromium, answering every request
// through rec, and returns a full-page PNG and a PDF. The main document is
// served from rec's cache, so the screenshot shows the bytes in the WARC.
func render(ctx context.Context, chromium, pageURL string, rec *recorder) (*rendering, error) {
	profile, err := os.MkdirTemp("", "groundtruth-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium: profile directory: %w", err)
	}
	defer os.RemoveAll(profile)

	cmdIn, toChrome, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("chromium: pipe: %w", err)
	}
	fromChrome, cmdOut, err := os.Pipe()
	if err != nil {
		cmdIn.Close()
		toChrome.Close()
		return nil, fmt.Errorf("chromium: pipe: %w", err)
	}
	cmd := exec.Command(chromium, chromiumArgs(profile)...)
	cmd.ExtraFiles = []*os.File{cmdIn, cmdOut} // fd 3: commands to Chromium, fd 4: its replies
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second // a child that escaped the group must not hold Wait on its stderr
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 8 << 10}
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{cmdIn, toChrome, fromChrome, cmdOut} {
			f.Close()
		}
		return nil, fmt.Errorf("chromium: start %s: %w", chromium, err)
	}
	cmdIn.Close()
	cmdOut.Close()
	pgid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	// The end of the render stage (its deadline, the job's cancellation)
	// kills the browser's whole process group at once: renderers, the
	// zygote and utility processes, not only the process we started.
	stopKill := context.AfterFunc(ctx, func() { syscall.Kill(-pgid, syscall.SIGKILL) })
	defer func() {
		stopKill()
		toChrome.Close()
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
		}
		// On every path, including a browser that exited by itself:
		// children it left behind in its group are killed too.
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
		fromChrome.Close()
	}()
	var memErr atomicError
	go watchMemory(ctx, pgid, rec.cfg.BrowserMemory, exited, &memErr)

	loaded := make(chan struct{})
	var loadOnce sync.Once
	var sessionID string
	var sessionReady = make(chan struct{})
	c := &cdpConn{w: toChrome, pending: map[int64]chan cdpMessage{}, closed: make(chan struct{})}
	reqCtx, cancelReqs := context.WithCancel(ctx)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	var nreq, nskipped int
	var closing bool // no request is started once set
	var countMu sync.Mutex
	// Requests in flight are cancelled before they are waited for.
	defer func() {
		countMu.Lock()
		closing = true
		countMu.Unlock()
		cancelReqs()
		wg.Wait()
	}()
	c.onEvent = func(m cdpMessage) {
		switch m.Method {
		case "Page.loadEventFired":
			loadOnce.Do(func() { close(loaded) })
		case "Fetch.requestPaused":
			select {
			case <-sessionReady:
			case <-reqCtx.Done():
				return
			}
			var ev struct {
				RequestID string `json:"requestId"`
				Request   struct {
					URL     string            `json:"url"`
					Method  string            `json:"method"`
					Headers map[string]string `json:"headers"`
				} `json:"request"`
			}
			if json.Unmarshal(m.Params, &ev) != nil {
				return
			}
			countMu.Lock()
			if closing {
				countMu.Unlock()
				return
			}
			nreq++
			over := nreq > maxBrowserRequests
			wg.Add(1) // under countMu, so never concurrently with the Wait below
			countMu.Unlock()
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
				case <-reqCtx.Done():
					return
				}
				defer func() { <-sem }()
				if ev.Request.Method != http.MethodGet || over {
					countMu.Lock()
					nskipped++
					countMu.Unlock()
					c.call(reqCtx, sessionID, "Fetch.failRequest", map[string]any{"requestId": ev.RequestID, "errorReason": "BlockedByClient"}, nil)
					return
				}
				c.answer(reqCtx, sessionID, ev.RequestID, ev.Request.URL, ev.Request.Headers, rec)
			}()
		}
	}
	go c.readLoop(fromChrome)

	var version struct {
		Product string `json:"product"`
	}
	if err := c.call(ctx, "", "Browser.getVersion", nil, &version); err != nil {
		return nil, memErr.or(fmt.Errorf("%w (stderr: %s)", err, strings.TrimSpace(stderr.String())))
	}
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, memErr.or(err)
	}
	var attach struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attach); err != nil {
		return nil, memErr.or(err)
	}
	sessionID = attach.SessionID
	close(sessionReady)
	s := sessionID
	steps := []struct {
		method string
		params any
	}{
		{"Fetch.enable", map[string]any{"patterns": []map[string]any{{"urlPattern": "*", "requestStage": "Request"}}}},
		{"Page.enable", nil},
		{"Emulation.setDeviceMetricsOverride", map[string]any{"width": viewportWidth, "height": viewportHeight, "deviceScaleFactor": 1, "mobile": false}},
	}
	for _, st := range steps {
		if err := c.call(ctx, s, st.method, st.params, nil); err != nil {
			return nil, memErr.or(err)
		}
	}
	// The page may load until a third of what is left of the stage after
	// the browser's start; that third is for the screenshot and the PDF.
	// A partial page is better evidence than none, so they are taken even
	// when the load event never came.
	loadCtx, cancelLoad := context.WithCancel(ctx)
	if d, ok := ctx.Deadline(); ok {
		cancelLoad()
		loadCtx, cancelLoad = context.WithDeadline(ctx, d.Add(-time.Until(d)/3))
	}
	defer cancelLoad()
	if err := c.call(loadCtx, s, "Page.navigate", map[string]any{"url": pageURL}, nil); err != nil {
		return nil, memErr.or(err)
	}
	select {
	case <-loaded:
		select {
		case <-time.After(settleDelay):
		case <-loadCtx.Done():
		}
	case <-loadCtx.Done():
		rec.fail("%s: page did not finish loading in the browser within its share of the time limit", pageURL)
	}
	shotCtx := ctx
	var metrics struct {
		CSSContentSize struct{ Width, Height float64 } `json:"cssContentSize"`
	}
	if err := c.call(shotCtx, s, "Page.getLayoutMetrics", nil, &metrics); err != nil {
		return nil, memErr.or(err)
	}
	w := min(max(metrics.CSSContentSize.Width, viewportWidth), maxScreenshotPx)
	h := min(max(metrics.CSSContentSize.Height, 1), maxScreenshotPx)
	if metrics.CSSContentSize.Height > maxScreenshotPx {
		rec.fail("%s: page is %.0f px tall; screenshot cut at %d px", pageURL, metrics.CSSContentSize.Height, maxScreenshotPx)
	}
	out := &rendering{Version: version.Product}
	var shot struct{ Data []byte }
	if err := c.call(shotCtx, s, "Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": w, "height": h, "scale": 1},
	}, &shot); err != nil {
		return nil, memErr.or(err)
	}
	out.PNG = shot.Data
	var pdf struct{ Data []byte }
	if err := c.call(shotCtx, s, "Page.printToPDF", map[string]any{"printBackground": true}, &pdf); err != nil {
		rec.fail("%s: PDF: %v", pageURL, memErr.or(err))
	} else {
		out.PDF = pdf.Data
	}
	cancelReqs()
	closeCtx, cancelClose := context.WithTimeout(ctx, 2*time.Second)
	c.call(closeCtx, "", "Browser.close", nil, nil)
	cancelClose()
	countMu.Lock()
	skipped := nskipped
	countMu.Unlock()
	if skipped > 0 {
		rec.fail("%s: browser: %d requests not sent (not GET, or over the limit of %d)", pageURL, skipped, maxBrowserRequests)
	}
	return out, nil
}

// hopByHop and encoding headers are dropped when handing a response to
// Chromium: the body we give it is already de-chunked and decoded.
var dropHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Content-Length": true,
	"Content-Encoding": true, "Trailer": true, "Upgrade": true, "Proxy-Connection": true,
}

// answer fetches one browser request through the recorder and fulfils it,
// or fails it with a reason Chromium shows in the console.
func (c *cdpConn) answer(ctx context.Context, session, requestID, rawURL string, hdr map[string]string, rec *recorder) {
	h := http.Header{}
	for k, v := range hdr {
		switch http.CanonicalHeaderKey(k) {
		case "Accept", "Accept-Language", "Referer":
			h.Set(k, v)
		}
	}
	x, err := rec.fetchOne(ctx, rawURL, h)
	if err == nil && x.Complete && len(x.Body) > maxBrowserBody {
		rec.fail("%s: %d bytes: not shown to the browser (more than %d); kept in the WARC", rawURL, len(x.Body), maxBrowserBody)
		c.call(ctx, session, "Fetch.failRequest", map[string]any{"requestId": requestID, "errorReason": "BlockedByClient"}, nil)
		return
	}
	if err != nil || !x.Complete {
		reason := "Failed"
		var be *BlockedError
		if errors.As(err, &be) {
			reason = "AccessDenied"
		}
		if err != nil {
			rec.fail("%v", err)
		}
		c.call(ctx, session, "Fetch.failRequest", map[string]any{"requestId": requestID, "errorReason": reason}, nil)
		return
	}
	var headers []map[string]string
	for k, vs := range x.Header {
		if dropHeaders[k] {
			continue
		}
		for _, v := range vs {
			headers = append(headers, map[string]string{"name": k, "value": v})
		}
	}
	c.call(ctx, session, "Fetch.fulfillRequest", map[string]any{
		"requestId": requestID, "responseCode": x.Status, "responseHeaders": headers,
		"body": base64.StdEncoding.EncodeToString(x.Body),
	}, nil)
}

// limitedWriter keeps the first n bytes written to it and drops the rest,
// so a chatty child process cannot fill memory.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// watchMemory measures the resident memory of process group pgid every
// memoryCheckEvery until exited is closed or ctx ends, and kills the
// group once it exceeds limit, recording why in e. A page can make
// Chromium's renderer decode images to gigabytes (a small PNG of
// 30000 × 30000 pixels), which no byte limit on the wire prevents. RLIMIT_AS
// does not fit Chromium, which reserves terabytes of address space for
// its heaps, and cgroups need a delegated hierarchy that a plain install
// lacks; measuring /proc works everywhere. Between two checks the group
// can grow by what it allocates in 200 ms.
func watchMemory(ctx context.Context, pgid int, limit int64, exited <-chan struct{}, e *atomicError) {
	tick := time.NewTicker(memoryCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if rss := groupRSS(pgid); rss > limit {
			e.set(fmt.Errorf("chromium: stopped: its processes used %d MiB of memory, more than the limit of %d MiB", rss>>20, limit>>20))
			syscall.Kill(-pgid, syscall.SIGKILL)
			return
		}
	}
}

// groupRSS is the resident memory in bytes of the processes in group
// pgid, from /proc/PID/stat (field 5 pgrp, field 24 rss in pages).
func groupRSS(pgid int) int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total int64
	for _, d := range entries {
		name := d.Name()
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue
		}
		// The command name (field 2) is in parentheses and may hold
		// spaces or parentheses itself: fields are counted after the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 22 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		pages, _ := strconv.ParseInt(f[21], 10, 64)
		total += pages * int64(os.Getpagesize())
	}
	return total
}

// atomicError holds the first error set, for another goroutine to read.
type atomicError struct {
	mu  sync.Mutex
	err error
}

func (a *atomicError) set(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
	}
}

// or returns the error set, if any, instead of err: when the memory
// watchdog killed the browser, that is why the call failed.
func (a *atomicError) or(err error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	return err
}
