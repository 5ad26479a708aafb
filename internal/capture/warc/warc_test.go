// SPDX-License-Identifier: Apache-2.0

package warc

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gowarc "github.com/nlnwa/gowarc/v3"
)

// captureDate is the date of every test capture event; the nanoseconds
// check that WARC-Date keeps sub-second precision.
var captureDate = time.Date(2024, 3, 5, 14, 7, 9, 123456789, time.UTC)

// fetch sends a raw HTTP/1.1 request over conn and returns the request and
// the response exactly as they crossed the wire (the server closes the
// connection after responding).
func fetch(t *testing.T, conn net.Conn, host, method, target string, extra string, body []byte) (req, resp []byte) {
	t.Helper()
	defer conn.Close()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: groundtruth-test\r\nConnection: close\r\n%s", method, target, host, extra)
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	if _, err := conn.Write(b.Bytes()); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return b.Bytes(), resp
}

// testServer serves the pages used by the tests.
func testHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		for i := range 3 {
			fmt.Fprintf(w, "<p>part %d</p>\n", i)
			w.(http.Flusher).Flush() // forces Transfer-Encoding: chunked
		}
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, r *http.Request) {
		var z bytes.Buffer
		gw := gzip.NewWriter(&z)
		io.WriteString(gw, strings.Repeat(`{"message":"hello"}`, 50))
		gw.Close()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", fmt.Sprint(z.Len()))
		w.Write(z.Bytes())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
		fmt.Fprintf(w, "<title>%s</title>", r.URL.Path)
	})
	return mux
}

// pngBytes returns a small PNG image.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// exchanges fetches the test pages: a chunked response and a gzip
// content-encoded one over plain HTTP, and one page over TLS.
func exchanges(t *testing.T) []Exchange {
	t.Helper()
	plain := httptest.NewServer(testHandler())
	t.Cleanup(plain.Close)
	tlsSrv := httptest.NewTLSServer(testHandler())
	t.Cleanup(tlsSrv.Close)

	var xs []Exchange
	plainHost := plain.Listener.Addr().String()
	for _, p := range []string{"/chunked", "/gzip"} {
		conn, err := net.Dial("tcp", plainHost)
		if err != nil {
			t.Fatal(err)
		}
		req, resp := fetch(t, conn, plainHost, "GET", p, "", nil)
		xs = append(xs, Exchange{URL: plain.URL + p, Date: captureDate, RemoteIP: conn.RemoteAddr().String(), Request: req, Response: resp})
	}

	tlsHost := tlsSrv.Listener.Addr().String()
	conn, err := tls.Dial("tcp", tlsHost, tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	var chain [][]byte
	for _, c := range conn.ConnectionState().PeerCertificates {
		chain = append(chain, c.Raw)
	}
	req, resp := fetch(t, conn, tlsHost, "GET", "/secure?b=2&a=1", "", nil)
	xs = append(xs, Exchange{URL: tlsSrv.URL + "/secure?b=2&a=1", Date: captureDate, RemoteIP: tlsHost, Request: req, Response: resp, Certificates: chain})
	return xs
}

// writeTestWARC writes the round-trip WARC: three exchanges, a PNG
// resource and a metadata record.
func writeTestWARC(t *testing.T, dir string, xs []Exchange) (path string, respIDs []string) {
	t.Helper()
	path = filepath.Join(dir, "test.warc.gz")
	w, err := Create(path, Info{Software: "groundtruth/test", Operator: "test", Hostname: "localhost", UserAgent: "groundtruth-test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range xs {
		id, err := w.Exchange(x)
		if err != nil {
			t.Fatal(err)
		}
		respIDs = append(respIDs, id)
	}
	if _, err := w.Resource("https://example.org/screenshot.png", "image/png", captureDate, bytes.NewReader(pngBytes(t))); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Metadata("https://example.org/post/1", "application/json", captureDate, respIDs[0], strings.NewReader(`{"views":12}`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, respIDs
}

var sha256Digest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// httpBody returns what follows the head of a raw HTTP message.
func httpBody(msg []byte) []byte {
	_, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	return body
}

func TestRoundTrip(t *testing.T) {
	xs := exchanges(t)
	if !bytes.Contains(xs[0].Response, []byte("Transfer-Encoding: chunked")) {
		t.Fatalf("test server did not send a chunked response:\n%s", xs[0].Response)
	}
	if !bytes.Contains(xs[1].Response, []byte("Content-Encoding: gzip")) {
		t.Fatalf("test server did not send a gzip response:\n%s", xs[1].Response)
	}
	path, respIDs := writeTestWARC(t, t.TempDir(), xs)

	r, err := gowarc.NewWarcFileReader(path, 0, gowarc.WithStrictValidation())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var (
		types  []string
		infoID string
		byID         = map[string]*gowarc.WarcFields{}
		prevGz int64 = -1
	)
	for rec, err := range r.Records() {
		if err != nil {
			t.Fatalf("strict read: record at offset %d: %v", rec.Offset, err)
		}
		if len(rec.Validation) != 0 {
			t.Errorf("record at offset %d: validation findings %v", rec.Offset, rec.Validation)
		}
		if rec.Offset <= prevGz {
			t.Errorf("record offsets not increasing: %d after %d", rec.Offset, prevGz)
		}
		prevGz = rec.Offset
		wr := rec.WarcRecord
		h := wr.WarcHeader()
		types = append(types, wr.Type().String())
		if wr.Version() != gowarc.V1_1 {
			t.Errorf("record %s: version %v, want WARC/1.1", wr.RecordId(), wr.Version())
		}
		if !strings.HasPrefix(wr.RecordId(), "urn:uuid:") {
			t.Errorf("record ID %q is not a urn:uuid", wr.RecordId())
		}
		if !sha256Digest.MatchString(h.Get(gowarc.WarcBlockDigest)) {
			t.Errorf("record %s: WARC-Block-Digest %q, want sha256 lowercase hex", wr.RecordId(), h.Get(gowarc.WarcBlockDigest))
		}
		byID[wr.RecordId()] = h
		if wr.Type() == gowarc.Warcinfo {
			infoID = wr.RecordId()
			if got := h.Get(gowarc.WarcFilename); got != "test.warc.gz" {
				t.Errorf("WARC-Filename = %q, want test.warc.gz", got)
			}
			if h.Has(gowarc.WarcTargetURI) {
				t.Errorf("warcinfo has WARC-Target-URI")
			}
			continue
		}
		if got := h.GetId(gowarc.WarcWarcinfoID); got != infoID {
			t.Errorf("record %s: WARC-Warcinfo-ID = %q, want %q", wr.RecordId(), got, infoID)
		}
		if got := h.Get(gowarc.WarcDate); got != "2024-03-05T14:07:09.123456789Z" {
			t.Errorf("record %s: WARC-Date = %q", wr.RecordId(), got)
		}
		switch wr.Type() {
		case gowarc.Response, gowarc.Request, gowarc.Resource:
			if !sha256Digest.MatchString(h.Get(gowarc.WarcPayloadDigest)) {
				t.Errorf("record %s: WARC-Payload-Digest %q, want sha256 lowercase hex", wr.RecordId(), h.Get(gowarc.WarcPayloadDigest))
			}
		}
	}
	want := []string{"warcinfo", "response", "request", "response", "request", "response", "request", "resource", "resource", "metadata"}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Fatalf("record types = %v, want %v", types, want)
	}

	// Cross-links, IP addresses and payload digests.
	for i, x := range xs {
		resp := byID[respIDs[i]]
		reqID := resp.GetId(gowarc.WarcConcurrentTo)
		req := byID[reqID]
		if req == nil || req.GetId(gowarc.WarcConcurrentTo) != respIDs[i] {
			t.Errorf("exchange %d: response and request do not name each other with WARC-Concurrent-To", i)
			continue
		}
		for _, h := range []*gowarc.WarcFields{resp, req} {
			if got := h.Get(gowarc.WarcIPAddress); got != "127.0.0.1" {
				t.Errorf("exchange %d: WARC-IP-Address = %q, want 127.0.0.1", i, got)
			}
			if got := h.Get(gowarc.WarcTargetURI); got != x.URL {
				t.Errorf("exchange %d: WARC-Target-URI = %q, want %q", i, got, x.URL)
			}
		}
		if got, want := resp.Get(gowarc.ContentType), "application/http;msgtype=response"; got != want {
			t.Errorf("exchange %d: response Content-Type = %q, want %q", i, got, want)
		}
		if got, want := req.Get(gowarc.ContentType), "application/http;msgtype=request"; got != want {
			t.Errorf("exchange %d: request Content-Type = %q, want %q", i, got, want)
		}
		// The payload digest is over the body as transmitted (chunk framing
		// and content coding included); see the package documentation.
		if got, want := resp.Get(gowarc.WarcPayloadDigest), sha256Hex(httpBody(x.Response)); got != want {
			t.Errorf("exchange %d: response WARC-Payload-Digest = %s, want %s", i, got, want)
		}
		if got, want := resp.Get(gowarc.WarcBlockDigest), sha256Hex(x.Response); got != want {
			t.Errorf("exchange %d: response WARC-Block-Digest = %s, want %s", i, got, want)
		}
	}
	var chains, pngs int
	for _, h := range byID {
		switch h.Get(gowarc.ContentType) {
		case ContentTypePEMChain:
			chains++
			if h.GetId(gowarc.WarcConcurrentTo) != respIDs[2] {
				t.Errorf("certificate chain is not WARC-Concurrent-To the TLS response")
			}
		case "image/png":
			pngs++
			if got, want := h.Get(gowarc.WarcPayloadDigest), sha256Hex(pngBytes(t)); got != want {
				t.Errorf("PNG resource payload digest = %s, want %s", got, want)
			}
		case "application/json":
			if h.GetId(gowarc.WarcRefersTo) != respIDs[0] {
				t.Errorf("metadata WARC-Refers-To = %q, want %q", h.GetId(gowarc.WarcRefersTo), respIDs[0])
			}
		}
	}
	if chains != 1 || pngs != 1 {
		t.Errorf("found %d certificate chains and %d PNG resources, want 1 and 1", chains, pngs)
	}
}

// TestStrictReadDetectsTampering changes one byte of a record's block and
// checks that the strict reader used in TestRoundTrip notices, so that the
// round trip can fail.
func TestStrictReadDetectsTampering(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeTestWARC(t, dir, exchanges(t))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f) // reads all members
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte(`{"views":12}`))
	if i < 0 {
		t.Fatal("metadata body not found")
	}
	raw[i+9] = '3'
	bad := filepath.Join(dir, "bad.warc")
	if err := os.WriteFile(bad, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := gowarc.NewWarcFileReader(bad, 0, gowarc.WithStrictValidation())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got error
	for _, err := range r.Records() {
		if err != nil {
			got = err
		}
	}
	var de *gowarc.DigestError
	if !errors.As(got, &de) {
		t.Fatalf("strict read of tampered WARC: error %v, want a digest error", got)
	}
	if _, err := Index(bad); err == nil {
		t.Errorf("Index of tampered WARC succeeded, want a digest error")
	}
}

func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(filepath.Join(dir, "x.warc"), Info{}); err == nil {
		t.Errorf("Create(x.warc) succeeded, want an error for a name without .warc.gz")
	}
	path := filepath.Join(dir, "a.warc.gz")
	w, err := Create(path, Info{Software: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path, Info{}); err == nil {
		t.Errorf("Create of an existing file succeeded")
	}
	tests := []struct {
		name string
		x    Exchange
	}{
		{"no URL", Exchange{Date: captureDate, Request: []byte("GET / HTTP/1.1\r\n\r\n"), Response: []byte("HTTP/1.1 200 OK\r\n\r\n")}},
		{"no date", Exchange{URL: "http://a/", Request: []byte("GET / HTTP/1.1\r\n\r\n"), Response: []byte("HTTP/1.1 200 OK\r\n\r\n")}},
		{"bad IP", Exchange{URL: "http://a/", Date: captureDate, RemoteIP: "not-an-ip", Request: []byte("GET / HTTP/1.1\r\n\r\n"), Response: []byte("HTTP/1.1 200 OK\r\n\r\n")}},
		{"no response", Exchange{URL: "http://a/", Date: captureDate, Request: []byte("GET / HTTP/1.1\r\n\r\n")}},
		{"header injection in URL", Exchange{URL: "http://a/\r\nWARC-Type: resource", Date: captureDate, Request: []byte("GET / HTTP/1.1\r\n\r\n"), Response: []byte("HTTP/1.1 200 OK\r\n\r\n")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.Exchange(tt.x); err == nil {
				t.Errorf("Exchange(%s) succeeded, want an error", tt.name)
			}
		})
	}
	if _, err := w.Resource("http://a/", "text/plain\r\nX: y", captureDate, strings.NewReader("x")); err == nil {
		t.Errorf("Resource with a line break in its content type succeeded")
	}
	if _, err := w.Metadata("http://a/", "application/json", captureDate, "urn:uuid:x\nX: y", strings.NewReader("{}")); err == nil {
		t.Errorf("Metadata with a line break in refersTo succeeded")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Resource("http://a/", "text/plain", captureDate, strings.NewReader("x")); err == nil {
		t.Errorf("Resource after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

// TestConcurrentWrites writes from several goroutines; the file must read
// back strictly with every record whole (run with -race).
func TestConcurrentWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.warc.gz")
	w, err := Create(path, Info{Software: "t"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			u := fmt.Sprintf("https://example.org/%d", i)
			_, err := w.Resource(u, "text/plain", captureDate, strings.NewReader(strings.Repeat("x", 1000*i)))
			if err == nil {
				_, err = w.Exchange(rawExchange(u+"/page", "GET", "", nil, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", []byte("hi")))
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := gowarc.NewWarcFileReader(path, 0, gowarc.WithStrictValidation())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	count := 0
	var prev gowarc.RecordType
	for rec, err := range r.Records() {
		if err != nil {
			t.Fatalf("record at offset %d: %v", rec.Offset, err)
		}
		// The records of one Exchange call stay adjacent.
		if prev == gowarc.Response && rec.WarcRecord.Type() != gowarc.Request {
			t.Errorf("record after a response is a %s, want its request", rec.WarcRecord.Type())
		}
		prev = rec.WarcRecord.Type()
		count++
	}
	if want := 1 + 3*n; count != want {
		t.Errorf("read %d records, want %d", count, want)
	}
	lines, err := Index(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2*n {
		t.Errorf("Index gave %d lines, want %d", len(lines), 2*n)
	}
}
