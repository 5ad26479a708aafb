// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"groundtruth/internal/capture/warc"
)

// maxRedirects bounds a redirect chain; browsers use about 20, crawlers 10.
const maxRedirects = 10

// headerAllowance is how many wire bytes beyond MaxBytes a response may use
// for its head and chunk framing before the tap stops keeping them.
const headerAllowance = 1 << 20

// exchange is one HTTP request/response as fetched by the recording client.
type exchange struct {
	URL      string
	Date     time.Time
	RemoteIP netip.Addr
	Status   int
	Header   http.Header // as parsed; Content-Encoding removed if Go decoded the body
	Body     []byte      // decoded body (de-chunked, gunzipped if we asked for gzip)
	Complete bool        // body read to its end within MaxBytes
	Location string      // resolved redirect target, for 3xx with Location

	wireReq, wireResp []byte
	certs             [][]byte
	responseID        string // WARC record ID once written
}

// tap keeps copies of the bytes written to and read from a connection, up
// to a limit. The transport reads on its own goroutine and on the caller's,
// hence the mutex.
type tap struct {
	mu          sync.Mutex
	wrote, read bytes.Buffer
	limit       int
	overflow    bool
	overBudget  bool    // overflow because the capture's memory budget ran out
	budget      *budget // the capture's memory; what the tap keeps is charged to it
	charged     int64
}

func (t *tap) add(buf *bytes.Buffer, p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if buf.Len()+len(p) > t.limit {
		t.overflow = true
		p = p[:max(0, t.limit-buf.Len())]
	}
	if !t.budget.take(int64(len(p))) {
		t.overflow, t.overBudget = true, true
		return
	}
	t.charged += int64(len(p))
	buf.Write(p)
}

// release returns what the tap kept to the budget; the tap must not be
// used after.
func (t *tap) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.budget.give(t.charged)
	t.charged = 0
	t.wrote, t.read = bytes.Buffer{}, bytes.Buffer{}
}

// budget is a capture's allowance of bytes held in memory, shared by its
// concurrent fetches.
type budget struct{ left atomic.Int64 }

func newBudget(n int64) *budget {
	b := &budget{}
	b.left.Store(n)
	return b
}

// take reserves n bytes, or reports false (reserving nothing) if fewer
// are left.
func (b *budget) take(n int64) bool {
	if b.left.Add(-n) < 0 {
		b.left.Add(n)
		return false
	}
	return true
}

func (b *budget) give(n int64) { b.left.Add(n) }

// errBudget ends a body read when the capture's memory budget is used up.
var errBudget = errors.New("the capture's memory budget is used up")

// budgetReader charges what it reads to a budget, and stops at once when
// ctx ends: a decompressor can go on producing output from what it has
// buffered after the connection under it is closed.
type budgetReader struct {
	ctx context.Context
	r   io.Reader
	b   *budget
}

func (br budgetReader) Read(p []byte) (int, error) {
	if err := br.ctx.Err(); err != nil {
		return 0, context.Cause(br.ctx)
	}
	// Small reads, so that ctx is looked at often: one large read from a
	// decompressor can take seconds on a loaded machine.
	n, err := br.r.Read(p[:min(len(p), 64<<10)])
	if !br.b.take(int64(n)) {
		return 0, errBudget
	}
	return n, err
}

func (t *tap) snapshot() (wrote, read []byte, overflow, overBudget bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.wrote.Bytes()), bytes.Clone(t.read.Bytes()), t.overflow, t.overBudget
}

// tapConn records a connection's bytes and puts a deadline on every read
// and write: a server that stops sending (or reading) for idle is cut off
// however patient the caller's context is.
type tapConn struct {
	net.Conn
	t    *tap
	idle time.Duration
}

func (c *tapConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	c.t.add(&c.t.read, p[:n])
	return n, err
}

// Write records p before sending it: the peer may answer, and the answer
// be read and snapshotted, before Conn.Write returns on this goroutine.
// Bytes that were not sent are removed again.
func (c *tapConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	c.t.add(&c.t.wrote, p)
	n, err := c.Conn.Write(p)
	if n < len(p) {
		c.t.mu.Lock()
		c.t.wrote.Truncate(max(0, c.t.wrote.Len()-(len(p)-n)))
		c.t.mu.Unlock()
	}
	return n, err
}

// recorder fetches URLs through the guard and writes every complete
// exchange to the WARC. It caches complete GET responses by URL so that the
// browser, the media collector and the page fetch share one recorded copy.
type recorder struct {
	cfg   *Config
	guard *guard
	warc  *lockedWriter

	budget *budget

	mu       sync.Mutex
	cache    map[string]*exchange
	failures []string
}

// lockedWriter serialises access to the WARC writer, which the browser's
// concurrent subresource fetches share.
type lockedWriter struct {
	mu sync.Mutex
	w  *warc.Writer
}

func (l *lockedWriter) exchange(x warc.Exchange) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Exchange(x)
}

func (l *lockedWriter) resource(uri, ct string, date time.Time, body io.Reader) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Resource(uri, ct, date, body)
}

func (l *lockedWriter) metadata(uri, ct string, date time.Time, refersTo string, body io.Reader) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Metadata(uri, ct, date, refersTo, body)
}

func (r *recorder) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) takeFailures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.failures
	r.failures = nil
	return f
}

// get fetches rawURL and follows redirects, returning every hop (the last
// one is the final response). Each hop is guarded and recorded. An error is
// returned when no final response head arrived; a body problem (too large,
// interrupted) leaves the last hop incomplete and is added to failures.
func (r *recorder) get(ctx context.Context, rawURL string, hdr http.Header) ([]*exchange, error) {
	var hops []*exchange
	next := rawURL
	for range maxRedirects + 1 {
		x, err := r.fetchOne(ctx, next, hdr)
		if err != nil {
			return hops, err
		}
		hops = append(hops, x)
		if x.Location == "" {
			return hops, nil
		}
		next = x.Location
	}
	return hops, fmt.Errorf("capture: more than %d redirects from %s", maxRedirects, rawURL)
}

// fetchOne performs a single GET without following redirects.
func (r *recorder) fetchOne(ctx context.Context, rawURL string, hdr http.Header) (*exchange, error) {
	r.mu.Lock()
	if x, ok := r.cache[rawURL]; ok {
		r.mu.Unlock()
		return x, nil
	}
	r.mu.Unlock()

	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("capture: parse URL %q: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("capture: refused %s: only http and https URLs can be captured", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("capture: refused %s: no host", rawURL)
	}

	// Each fetch, head and body, has its own time limit within the stage's.
	ctx, cancel := context.WithTimeoutCause(ctx, r.cfg.FetchTimeout,
		fmt.Errorf("fetch time limit of %s reached", r.cfg.FetchTimeout))
	defer cancel()
	tp := &tap{limit: int(min(r.cfg.MaxBytes+headerAllowance, 1<<40)), budget: r.budget}
	defer tp.release()
	var remote netip.Addr
	var certs [][]byte
	// One transport per request: with a single connection per transport we
	// know which bytes on the wire belong to which exchange.
	tr := &http.Transport{
		Proxy: nil, // never HTTP_PROXY from the environment: it would bypass the guard
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			c, ip, err := r.guard.dial(ctx, addr, rawURL)
			if err != nil {
				return nil, err
			}
			remote = ip
			return &tapConn{Conn: c, t: tp, idle: r.cfg.IdleTimeout}, nil
		},
		DialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			c, ip, err := r.guard.dial(ctx, addr, rawURL)
			if err != nil {
				return nil, err
			}
			remote = ip
			host, _, _ := net.SplitHostPort(addr)
			tc := tls.Client(c, &tls.Config{
				ServerName: host,
				RootCAs:    r.cfg.RootCAs,
				NextProtos: []string{"http/1.1"},
				MinVersion: tls.VersionTLS12,
			})
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return nil, fmt.Errorf("capture: TLS handshake with %s for %s: %w", addr, rawURL, err)
			}
			for _, c := range tc.ConnectionState().PeerCertificates {
				certs = append(certs, c.Raw)
			}
			// Tap the plaintext side so the WARC holds HTTP messages, not TLS records.
			return &tapConn{Conn: tc, t: tp, idle: r.cfg.IdleTimeout}, nil
		},
		DisableKeepAlives:      true,
		ForceAttemptHTTP2:      false,
		TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{},
		ResponseHeaderTimeout:  r.cfg.HeaderTimeout,
		MaxResponseHeaderBytes: 1 << 20,
	}
	defer tr.CloseIdleConnections()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("capture: build request for %s: %w", rawURL, err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", r.cfg.UserAgent)
	date := time.Now().UTC()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		var be *BlockedError
		if errors.As(err, &be) {
			return nil, be
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("capture: fetch %s: gave up waiting for a response: %w", rawURL, context.Cause(ctx))
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, &netError{fmt.Sprintf("capture: fetch %s: no response: the server sent nothing for %s", rawURL, r.cfg.IdleTimeout), err}
		}
		// A *net.OpError prints both ends' addresses; the text keeps only
		// what went wrong.
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			return nil, &netError{fmt.Sprintf("capture: fetch %s: %s: %v", rawURL, oe.Op, oe.Err), err}
		}
		return nil, fmt.Errorf("capture: fetch %s: %w", rawURL, err)
	}
	x := &exchange{URL: rawURL, Date: date, Status: resp.StatusCode, Header: resp.Header}
	// Go asked for gzip and decodes it (resp.Uncompressed): such a body
	// has the tighter decoded limit, since its size on the wire says
	// nothing about its size in memory.
	limit := r.cfg.MaxBytes
	if resp.Uncompressed {
		limit = min(limit, r.cfg.MaxDecodedBytes)
	}
	body, readErr := io.ReadAll(io.LimitReader(budgetReader{ctx, resp.Body, r.budget}, limit+1))
	resp.Body.Close()
	x.RemoteIP = remote
	x.certs = certs
	var overflow, overBudget bool
	x.wireReq, x.wireResp, overflow, overBudget = tp.snapshot()
	tooLarge := true // a size limit cut the body: fetching it again would not help
	switch {
	case int64(len(body)) > limit && resp.Uncompressed:
		x.Body = body[:limit]
		r.fail("%s: compressed response decodes to more than %d bytes: cut and not written to the WARC", rawURL, limit)
	case errors.Is(readErr, errBudget) || overBudget:
		x.Body = body
		r.fail("%s: cut after %d bytes: the capture holds %d bytes in memory at most; not written to the WARC", rawURL, len(body), r.cfg.MaxTotalBytes)
	case int64(len(body)) > limit || overflow:
		x.Body = body[:min(int64(len(body)), limit)]
		r.fail("%s: response larger than %d bytes: truncated and not written to the WARC", rawURL, limit)
	case readErr != nil:
		x.Body = body
		cause := readErr
		switch {
		case errors.Is(readErr, os.ErrDeadlineExceeded):
			cause = fmt.Errorf("the server sent nothing for %s", r.cfg.IdleTimeout)
		case ctx.Err() != nil:
			cause = fmt.Errorf("%w (%w)", readErr, context.Cause(ctx))
		}
		r.fail("%s: response body incomplete after %d bytes: %v; not written to the WARC", rawURL, len(body), cause)
	default:
		x.Body = body
		x.Complete = true
	}
	if x.Complete {
		tooLarge = false
	} else if readErr != nil && !errors.Is(readErr, errBudget) && !overflow && int64(len(body)) <= limit {
		tooLarge = false // interrupted: a later stage, with time of its own, may try again
	}
	if !x.Complete {
		// Only complete bodies are kept (in the cache, for the media stage
		// and the browser); a cut one is used briefly at most (the page's
		// own partial HTML), so it no longer counts against the budget.
		r.budget.give(int64(len(body)))
		if tooLarge {
			// Remembered without its body, so that the browser and the
			// media stage do not fetch a decompression bomb twice.
			r.mu.Lock()
			r.cache[rawURL] = &exchange{URL: rawURL, Date: date, Status: x.Status, Header: x.Header, RemoteIP: remote}
			r.mu.Unlock()
		}
	}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if lu, err := u.Parse(loc); err == nil {
			x.Location = lu.String()
		} else {
			r.fail("%s: unusable redirect target %q: %v", rawURL, loc, err)
		}
	}
	if x.Complete {
		id, err := r.warc.exchange(warc.Exchange{
			URL: rawURL, Date: date, RemoteIP: remote.String(),
			Request: x.wireReq, Response: x.wireResp, Certificates: certs,
		})
		if err != nil {
			return nil, fmt.Errorf("capture: write WARC records for %s: %w", rawURL, err)
		}
		x.responseID = id
		r.mu.Lock()
		r.cache[rawURL] = x
		r.mu.Unlock()
	}
	// The wire copies are in the WARC now; drop them to halve peak memory.
	x.wireReq, x.wireResp = nil, nil
	return x, nil
}
