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
	"sync"
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
}

func (t *tap) add(buf *bytes.Buffer, p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if buf.Len()+len(p) > t.limit {
		t.overflow = true
		p = p[:max(0, t.limit-buf.Len())]
	}
	buf.Write(p)
}

func (t *tap) snapshot() (wrote, read []byte, overflow bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.wrote.Bytes()), bytes.Clone(t.read.Bytes()), t.overflow
}

type tapConn struct {
	net.Conn
	t *tap
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.t.add(&c.t.read, p[:n])
	return n, err
}

// Write records p before sending it: the peer may answer, and the answer
// be read and snapshotted, before Conn.Write returns on this goroutine.
// Bytes that were not sent are removed again.
func (c *tapConn) Write(p []byte) (int, error) {
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

	tp := &tap{limit: int(min(r.cfg.MaxBytes+headerAllowance, 1<<40))}
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
			return &tapConn{Conn: c, t: tp}, nil
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
			return &tapConn{Conn: tc, t: tp}, nil
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
		return nil, fmt.Errorf("capture: fetch %s: %w", rawURL, err)
	}
	x := &exchange{URL: rawURL, Date: date, Status: resp.StatusCode, Header: resp.Header}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, r.cfg.MaxBytes+1))
	resp.Body.Close()
	x.RemoteIP = remote
	x.certs = certs
	x.wireReq, x.wireResp, _ = tp.snapshot()
	_, _, overflow := tp.snapshot()
	switch {
	case int64(len(body)) > r.cfg.MaxBytes || overflow:
		x.Body = body[:min(int64(len(body)), r.cfg.MaxBytes)]
		r.fail("%s: response larger than %d bytes: truncated and not written to the WARC", rawURL, r.cfg.MaxBytes)
	case readErr != nil:
		x.Body = body
		cause := readErr
		if ctx.Err() != nil {
			cause = fmt.Errorf("%w (%w)", readErr, context.Cause(ctx))
		}
		r.fail("%s: response body incomplete after %d bytes: %v; not written to the WARC", rawURL, len(body), cause)
	default:
		x.Body = body
		x.Complete = true
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
