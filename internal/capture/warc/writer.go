// SPDX-License-Identifier: Apache-2.0

package warc

import (
	"bufio"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gowarc "github.com/nlnwa/gowarc/v3"
	whatwg "github.com/nlnwa/whatwg-url/url"
)

// Content types written in record headers.
const (
	contentTypeRequest  = "application/http;msgtype=request"
	contentTypeResponse = "application/http;msgtype=response"
	// ContentTypePEMChain is the Content-Type of the resource record that
	// holds a server's TLS certificate chain. [Index] leaves these records
	// out of the CDXJ index (see the package documentation).
	ContentTypePEMChain = "application/x-pem-file"
)

// Info describes the software and machine that wrote a WARC file. It is
// written as the warcinfo record, the first record of every file.
type Info struct {
	Software  string // name and version, e.g. "groundtruth/1.4.0"
	Operator  string // organisation or person responsible for the capture
	Hostname  string // machine that captured
	UserAgent string // User-Agent sent with HTTP requests
}

// Exchange is one HTTP(S) fetch exactly as it crossed the wire.
type Exchange struct {
	URL  string    // the requested URL; becomes WARC-Target-URI
	Date time.Time // the capture event's date; every record of the exchange carries it
	// RemoteIP is the server's IP address (an "ip:port" form is accepted and
	// the port dropped); empty when unknown.
	RemoteIP string
	// Request and Response are the raw HTTP/1.1 messages, head and body, the
	// body exactly as sent: possibly chunked, possibly content-encoded.
	Request, Response []byte
	// Certificates is the server's TLS chain, DER, leaf first; nil for plain
	// HTTP.
	Certificates [][]byte
}

// Writer writes one .warc.gz file, one gzip member per record. It is safe
// for concurrent use; records appear in the file in the order their calls
// take the lock, and the records of one call are always adjacent.
//
// After any write error the Writer is unusable: the file may end in a
// partial gzip member, and every later call returns the first error.
type Writer struct {
	path   string
	infoID string // record ID of the warcinfo record, "urn:uuid:…"

	mu     sync.Mutex
	f      *os.File
	buf    *bufio.Writer
	gz     *gzip.Writer
	err    error // sticky
	closed bool
}

// recordOptions are used for every record we build. Syntax errors inside
// HTTP blocks are tolerated (we store what the server sent, even when it is
// malformed), but our own header fields must conform to WARC 1.1.
func recordOptions() []gowarc.WarcRecordOption {
	return []gowarc.WarcRecordOption{
		gowarc.WithVersion(gowarc.V1_1),
		gowarc.WithDefaultDigestAlgorithm("sha256"),
		gowarc.WithDefaultDigestEncoding(gowarc.Base16),
		gowarc.WithAddMissingDigest(true),
		gowarc.WithSpecViolationPolicy(gowarc.ErrFail),
		gowarc.WithSyntaxErrorPolicy(gowarc.ErrIgnore),
		gowarc.WithUnknownRecordTypePolicy(gowarc.ErrFail),
	}
}

// gowarcMu serialises calls to gowarc constructors: each one calls
// uuid.EnableRandPool, which writes a package variable of
// github.com/google/uuid without synchronisation (a data race under
// concurrent use, reported by -race).
var gowarcMu sync.Mutex

// newRecordBuilder returns a builder with [recordOptions].
func newRecordBuilder(t gowarc.RecordType) gowarc.WarcRecordBuilder {
	gowarcMu.Lock()
	defer gowarcMu.Unlock()
	return gowarc.NewRecordBuilder(t, recordOptions()...)
}

// Create creates a new .warc.gz file at path, which must not exist, and
// writes its warcinfo record. The file's base name is recorded in the
// warcinfo record's WARC-Filename field.
func Create(path string, info Info) (*Writer, error) {
	name := filepath.Base(path)
	if !strings.HasSuffix(name, ".warc.gz") {
		return nil, fmt.Errorf("warc: create %s: name must end in .warc.gz", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("warc: create %s: %w", path, err)
	}
	w := &Writer{path: path, f: f, buf: bufio.NewWriterSize(f, 64<<10)}
	w.gz, _ = gzip.NewWriterLevel(nil, gzip.DefaultCompression)

	id := newID()
	rb := newRecordBuilder(gowarc.Warcinfo)
	rb.AddWarcHeader(gowarc.WarcRecordID, "<"+id+">")
	rb.AddWarcHeaderTime(gowarc.WarcDate, time.Now())
	rb.AddWarcHeader(gowarc.WarcFilename, name)
	rb.AddWarcHeader(gowarc.ContentType, gowarc.ApplicationWarcFields)
	// The block is written by hand rather than with gowarc.WarcFields,
	// which would canonicalise "conformsTo" to "Conformsto".
	var fields strings.Builder
	for _, kv := range [][2]string{
		{"software", info.Software},
		{"operator", info.Operator},
		{"hostname", info.Hostname},
		{"http-header-user-agent", info.UserAgent},
		{"format", "WARC File Format 1.1"},
		{"conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"},
	} {
		if kv[1] == "" {
			continue
		}
		if err := checkHeaderValue(kv[0], kv[1]); err != nil {
			_ = rb.Close()
			return nil, w.abort(fmt.Errorf("warc: create %s: warcinfo: %w", path, err))
		}
		fields.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	if _, err := rb.WriteString(fields.String()); err != nil {
		_ = rb.Close()
		return nil, w.abort(fmt.Errorf("warc: create %s: warcinfo: %w", path, err))
	}
	rec, err := build(rb)
	if err != nil {
		return nil, w.abort(fmt.Errorf("warc: create %s: warcinfo: %w", path, err))
	}
	err = w.write(rec)
	_ = rec.Close()
	if err != nil {
		return nil, w.abort(fmt.Errorf("warc: create %s: %w", path, err))
	}
	w.infoID = id
	return w, nil
}

// abort closes and removes a file whose creation failed, returning err.
func (w *Writer) abort(err error) error {
	_ = w.f.Close()
	_ = os.Remove(w.path)
	return err
}

// Path returns the path the Writer was created with.
func (w *Writer) Path() string { return w.path }

// WarcinfoID returns the record ID ("urn:uuid:…") of the file's warcinfo
// record.
func (w *Writer) WarcinfoID() string { return w.infoID }

// Exchange writes a response record and a request record for x, linked to
// each other by WARC-Concurrent-To, and, when x.Certificates is not empty, a
// resource record holding the chain as PEM (Content-Type
// application/x-pem-file, WARC-Target-URI x.URL) linked to the response by
// WARC-Concurrent-To. All records carry x.Date. It returns the response's
// record ID.
func (w *Writer) Exchange(x Exchange) (responseID string, err error) {
	if x.URL == "" || x.Date.IsZero() || len(x.Request) == 0 || len(x.Response) == 0 {
		return "", fmt.Errorf("warc: exchange %q: URL, Date, Request and Response are required", x.URL)
	}
	ip, err := remoteIP(x.RemoteIP)
	if err != nil {
		return "", fmt.Errorf("warc: exchange %s: %w", x.URL, err)
	}
	target, err := asciiURI(x.URL)
	if err != nil {
		return "", fmt.Errorf("warc: exchange %s: %w", x.URL, err)
	}
	respID, reqID := newID(), newID()

	common := func(rb gowarc.WarcRecordBuilder, id, ct string) {
		rb.AddWarcHeader(gowarc.WarcRecordID, "<"+id+">")
		rb.AddWarcHeaderTime(gowarc.WarcDate, x.Date)
		rb.AddWarcHeader(gowarc.WarcTargetURI, target)
		rb.AddWarcHeader(gowarc.WarcWarcinfoID, "<"+w.infoID+">")
		rb.AddWarcHeader(gowarc.ContentType, ct)
	}

	resp := newRecordBuilder(gowarc.Response)
	common(resp, respID, contentTypeResponse)
	if ip != "" {
		resp.AddWarcHeader(gowarc.WarcIPAddress, ip)
	}
	resp.AddWarcHeader(gowarc.WarcConcurrentTo, "<"+reqID+">")
	if _, err := resp.Write(x.Response); err != nil {
		_ = resp.Close()
		return "", fmt.Errorf("warc: exchange %s: response: %w", x.URL, err)
	}

	req := newRecordBuilder(gowarc.Request)
	common(req, reqID, contentTypeRequest)
	if ip != "" {
		req.AddWarcHeader(gowarc.WarcIPAddress, ip)
	}
	req.AddWarcHeader(gowarc.WarcConcurrentTo, "<"+respID+">")
	if _, err := req.Write(x.Request); err != nil {
		_ = resp.Close()
		_ = req.Close()
		return "", fmt.Errorf("warc: exchange %s: request: %w", x.URL, err)
	}

	builders := []gowarc.WarcRecordBuilder{resp, req}
	if len(x.Certificates) > 0 {
		chain := newRecordBuilder(gowarc.Resource)
		common(chain, newID(), ContentTypePEMChain)
		if ip != "" {
			chain.AddWarcHeader(gowarc.WarcIPAddress, ip)
		}
		chain.AddWarcHeader(gowarc.WarcConcurrentTo, "<"+respID+">")
		for _, der := range x.Certificates {
			if err := pem.Encode(chain, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
				for _, b := range append(builders, chain) {
					_ = b.Close()
				}
				return "", fmt.Errorf("warc: exchange %s: certificates: %w", x.URL, err)
			}
		}
		builders = append(builders, chain)
	}

	recs := make([]gowarc.WarcRecord, 0, len(builders))
	defer func() {
		for _, r := range recs {
			_ = r.Close()
		}
	}()
	for i, rb := range builders {
		rec, err := build(rb)
		if err != nil {
			for _, b := range builders[i+1:] {
				_ = b.Close()
			}
			return "", fmt.Errorf("warc: exchange %s: %w", x.URL, err)
		}
		recs = append(recs, rec)
	}
	if err := w.write(recs...); err != nil {
		return "", fmt.Errorf("warc: exchange %s: %w", x.URL, err)
	}
	return respID, nil
}

// Resource writes a resource record: content that did not arrive in an
// HTTP envelope we recorded, such as screenshots, PDFs or media downloaded
// by yt-dlp. The payload digest is over body. It returns the record ID.
func (w *Writer) Resource(uri, contentType string, date time.Time, body io.Reader) (id string, err error) {
	if uri == "" || date.IsZero() {
		return "", fmt.Errorf("warc: resource %q: uri and date are required", uri)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	uri, err = asciiURI(uri)
	if err == nil {
		err = checkHeaderValue("content type", contentType)
	}
	if err != nil {
		return "", fmt.Errorf("warc: resource: %w", err)
	}
	id = newID()
	rb := newRecordBuilder(gowarc.Resource)
	rb.AddWarcHeader(gowarc.WarcRecordID, "<"+id+">")
	rb.AddWarcHeaderTime(gowarc.WarcDate, date)
	rb.AddWarcHeader(gowarc.WarcTargetURI, uri)
	rb.AddWarcHeader(gowarc.WarcWarcinfoID, "<"+w.infoID+">")
	rb.AddWarcHeader(gowarc.ContentType, contentType)
	if err := w.buildAndWrite(rb, body); err != nil {
		return "", fmt.Errorf("warc: resource %s: %w", uri, err)
	}
	return id, nil
}

// Metadata writes a metadata record (platform JSON, our capture record,
// yt-dlp info JSON). uri may be empty, in which case the record has no
// WARC-Target-URI and [Index] leaves it out (warcio would index it under
// the key "null"). refersTo, when not empty, is the
// record ID the metadata describes (with or without angle brackets) and is
// written as WARC-Refers-To. It returns the record ID.
func (w *Writer) Metadata(uri, contentType string, date time.Time, refersTo string, body io.Reader) (id string, err error) {
	if date.IsZero() || contentType == "" {
		return "", fmt.Errorf("warc: metadata %q: contentType and date are required", uri)
	}
	if uri != "" {
		if uri, err = asciiURI(uri); err != nil {
			return "", fmt.Errorf("warc: metadata: %w", err)
		}
	}
	for _, v := range [][2]string{{"content type", contentType}, {"refersTo", refersTo}} {
		if err := checkHeaderValue(v[0], v[1]); err != nil {
			return "", fmt.Errorf("warc: metadata %s: %w", uri, err)
		}
	}
	id = newID()
	rb := newRecordBuilder(gowarc.Metadata)
	rb.AddWarcHeader(gowarc.WarcRecordID, "<"+id+">")
	rb.AddWarcHeaderTime(gowarc.WarcDate, date)
	if uri != "" {
		rb.AddWarcHeader(gowarc.WarcTargetURI, uri)
	}
	rb.AddWarcHeader(gowarc.WarcWarcinfoID, "<"+w.infoID+">")
	if refersTo != "" {
		rb.AddWarcHeader(gowarc.WarcRefersTo, "<"+strings.Trim(refersTo, "<>")+">")
	}
	rb.AddWarcHeader(gowarc.ContentType, contentType)
	if err := w.buildAndWrite(rb, body); err != nil {
		return "", fmt.Errorf("warc: metadata %s: %w", uri, err)
	}
	return id, nil
}

// Close flushes the file, syncs it and its directory to stable storage and
// closes it. Close after Close returns nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.err
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(w.path))
	}
	if err != nil {
		return fmt.Errorf("warc: close %s: %w", w.path, err)
	}
	return nil
}

var errClosed = errors.New("writer is closed")

// buildAndWrite copies body into rb, builds the record and writes it.
func (w *Writer) buildAndWrite(rb gowarc.WarcRecordBuilder, body io.Reader) error {
	if body != nil {
		if _, err := rb.ReadFrom(body); err != nil {
			_ = rb.Close()
			return fmt.Errorf("read body: %w", err)
		}
	}
	rec, err := build(rb)
	if err != nil {
		return err
	}
	defer rec.Close()
	return w.write(rec)
}

// build finishes a record, filling Content-Length and the sha256 digests.
func build(rb gowarc.WarcRecordBuilder) (gowarc.WarcRecord, error) {
	rec, _, err := rb.Build()
	if err != nil {
		return nil, fmt.Errorf("build record: %w", err)
	}
	return rec, nil
}

// write appends records to the file, each as its own gzip member.
func (w *Writer) write(recs ...gowarc.WarcRecord) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed
	}
	if w.err != nil {
		return w.err
	}
	m := gowarc.NewMarshaler()
	for _, rec := range recs {
		w.gz.Reset(w.buf)
		if _, _, err := m.Marshal(w.gz, rec, 0); err != nil {
			w.err = fmt.Errorf("write %s record: %w", rec.Type(), err)
			return w.err
		}
		if err := w.gz.Close(); err != nil {
			w.err = fmt.Errorf("write %s record: %w", rec.Type(), err)
			return w.err
		}
	}
	return nil
}

// asciiURI returns u unchanged when it is ASCII, and otherwise its WHATWG
// serialisation (punycode host, percent-encoded path and query), which is
// what a browser sends. WARC-Target-URI must be an RFC 3986 URI, and
// readers such as warcio decode WARC headers as Latin-1, so a raw UTF-8 IRI
// would be indexed under a garbled key.
func asciiURI(u string) (string, error) {
	if err := checkHeaderValue("target URI", u); err != nil {
		return "", err
	}
	ascii := true
	for i := 0; i < len(u); i++ {
		if u[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return u, nil
	}
	p, err := whatwg.Parse(u)
	if err != nil {
		return "", fmt.Errorf("target URI %q: %w", u, err)
	}
	return p.Href(false), nil
}

// checkHeaderValue refuses control characters in a value bound for a WARC
// header, where a line break would let the value forge header fields.
func checkHeaderValue(what, v string) error {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return fmt.Errorf("%s %q contains a control character", what, v)
		}
	}
	return nil
}

// remoteIP normalises an IP address, dropping a port if present.
func remoteIP(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", fmt.Errorf("remote IP %q: %w", s, err)
	}
	return a.WithZone("").String(), nil
}

// newID returns a random (version 4) UUID URN for a WARC-Record-ID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
