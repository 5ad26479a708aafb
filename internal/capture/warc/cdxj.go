// SPDX-License-Identifier: Apache-2.0

package warc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	gowarc "github.com/nlnwa/gowarc/v3"
	whatwg "github.com/nlnwa/whatwg-url/url"
)

// CDXJLine is one line of a CDXJ index (cdxj 0.1.0 as used by WACZ):
//
//	<Key> <Timestamp> {"url":…,"mime":…,"status":…,"digest":…,"length":…,"offset":…,"filename":…}
//
// The JSON keys appear in that order, as warcio writes them; mime, status
// and digest are left out when the record has none, and "method" and
// "requestBody" are appended for non-GET requests.
type CDXJLine struct {
	Key       string // SURT form of URL (see [SURT]); for non-GET requests with the request body folded in
	Timestamp string // WARC-Date as YYYYMMDDhhmmss
	URL       string // WARC-Target-URI
	MIME      string // HTTP Content-Type without parameters (response), "warc/revisit", or the record's Content-Type
	Status    string // HTTP status code of a response or revisit, else empty
	Digest    string // WARC-Payload-Digest without its "sha256:" prefix, as warcio writes it
	Length    int64  // bytes of the record in the file (the whole gzip member)
	Offset    int64  // byte offset of the record (its gzip member) in the file
	Filename  string // base name of the WARC file

	Method      string // HTTP method when not GET
	RequestBody string // request body as folded into Key, for non-GET requests
}

// String returns the line without its trailing newline.
func (l CDXJLine) String() string {
	type fields struct {
		URL         string `json:"url"`
		MIME        string `json:"mime,omitempty"`
		Status      string `json:"status,omitempty"`
		Digest      string `json:"digest,omitempty"`
		Length      string `json:"length"`
		Offset      string `json:"offset"`
		Filename    string `json:"filename"`
		Method      string `json:"method,omitempty"`
		RequestBody string `json:"requestBody,omitempty"`
	}
	var b bytes.Buffer
	b.WriteString(l.Key)
	b.WriteByte(' ')
	b.WriteString(l.Timestamp)
	b.WriteByte(' ')
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // JSON.stringify does not escape <, > and &
	_ = enc.Encode(fields{
		URL: l.URL, MIME: l.MIME, Status: l.Status, Digest: l.Digest,
		Length: strconv.FormatInt(l.Length, 10), Offset: strconv.FormatInt(l.Offset, 10),
		Filename: l.Filename, Method: l.Method, RequestBody: l.RequestBody,
	})
	return strings.TrimSuffix(b.String(), "\n")
}

// maxQuerySize bounds the request body folded into a key, as warcio's
// DEFAULT_MAX_QUERY_SIZE does.
const maxQuerySize = 4096

// maxRequestBody bounds how much of a non-GET request's body is read to
// fold into its key. warcio reads all of it; bodies larger than this (rare
// for requests) may give a different key for JSON and multipart bodies.
const maxRequestBody = 1 << 20

// indexRecord is what the indexer keeps of a record while pairing requests
// with responses.
type indexRecord struct {
	typ         gowarc.RecordType
	targetURI   string
	date        string
	contentType string
	digest      string
	offset      int64
	length      int64
	httpHead    []byte // protocol header of response, request and revisit blocks
	body        []byte // start of a request's payload, for non-GET requests
}

// Index reads the WARC file at warcPath and returns its CDXJ lines sorted
// bytewise, as WriteWACZ writes them to indexes/index.cdxj.
//
// Which records are indexed, and how, follows warcio.js's `cdx-index`
// (2.4.x), so that its output is an independent check of ours:
//   - warcinfo and request records are not indexed, nor metadata and
//     resource records whose Content-Type is application/warc-fields;
//     response, revisit, resource and metadata records are.
//   - A response or revisit adjacent to a request for the same target URI is
//     paired with it; a non-GET request's method and body are folded into
//     the key as "__wb_method=…&…" query arguments.
//
// One deliberate difference: resource records with Content-Type
// application/x-pem-file (the TLS chains written by [Writer.Exchange]) are
// left out, because they share the response's URL and date and a replay
// tool could serve the chain in place of the page.
//
// Index fails on records whose digests or Content-Length do not match their
// content, so that a damaged WARC is never packaged.
func Index(warcPath string) ([]CDXJLine, error) {
	gowarcMu.Lock() // see gowarcMu
	r, err := gowarc.NewWarcFileReader(warcPath, 0,
		gowarc.WithSpecViolationPolicy(gowarc.ErrWarn),
		gowarc.WithSyntaxErrorPolicy(gowarc.ErrWarn),
		gowarc.WithUnknownRecordTypePolicy(gowarc.ErrWarn),
	)
	gowarcMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("warc: index %s: %w", warcPath, err)
	}
	defer r.Close()
	filename := filepath.Base(warcPath)

	var (
		lines []CDXJLine
		last  *indexRecord
	)
	emit := func(rec, req *indexRecord) {
		if l, ok := cdxjLine(rec, req, filename); ok {
			lines = append(lines, l)
		}
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = rec.Close()
			return nil, fmt.Errorf("warc: index %s: record at offset %d: %w", warcPath, rec.Offset, err)
		}
		for _, v := range rec.Validation {
			var de *gowarc.DigestError
			var ce *gowarc.ContentLengthError
			if errors.As(v, &de) || errors.As(v, &ce) {
				_ = rec.Close()
				return nil, fmt.Errorf("warc: index %s: record at offset %d: %w", warcPath, rec.Offset, v)
			}
		}
		cur := readIndexRecord(rec)
		_ = rec.Close()

		// The pairing below is warcio's CDXIndexer.indexRecord: a record is
		// emitted when the next one is seen, alone or with an adjacent
		// request for the same URI.
		prev := last
		last = cur
		if prev == nil {
			continue
		}
		switch {
		case prev.targetURI != cur.targetURI:
			emit(prev, nil)
		case cur.typ == gowarc.Request && (prev.typ == gowarc.Response || prev.typ == gowarc.Revisit):
			last = nil
			emit(prev, cur)
		case (cur.typ == gowarc.Response || cur.typ == gowarc.Revisit) && prev.typ == gowarc.Request:
			last = nil
			emit(cur, prev)
		default:
			emit(prev, nil)
		}
	}
	if last != nil {
		emit(last, nil)
	}
	SortCDXJ(lines)
	return lines, nil
}

// SortCDXJ sorts lines bytewise by their serialised form (LC_ALL=C sort).
func SortCDXJ(lines []CDXJLine) {
	type keyed struct {
		s string
		l CDXJLine
	}
	ks := make([]keyed, len(lines))
	for i, l := range lines {
		ks[i] = keyed{l.String(), l}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return strings.Compare(a.s, b.s) })
	for i := range ks {
		lines[i] = ks[i].l
	}
}

// readIndexRecord extracts what the index needs from rec.
func readIndexRecord(rec gowarc.Record) *indexRecord {
	wr := rec.WarcRecord
	h := wr.WarcHeader()
	ir := &indexRecord{
		typ:         wr.Type(),
		targetURI:   h.Get(gowarc.WarcTargetURI),
		date:        h.Get(gowarc.WarcDate),
		contentType: h.Get(gowarc.ContentType),
		digest:      h.Get(gowarc.WarcPayloadDigest),
		offset:      rec.Offset,
		length:      rec.Size,
	}
	switch ir.typ {
	case gowarc.Response, gowarc.Request, gowarc.Revisit:
		if b, ok := wr.Block().(gowarc.ProtocolHeaderBlock); ok {
			ir.httpHead = b.ProtocolHeaderBytes()
		}
	}
	if ir.typ == gowarc.Request {
		if method, _ := parseHTTPHead(ir.httpHead); method != "" && method != "GET" {
			if b, ok := wr.Block().(gowarc.PayloadBlock); ok {
				if p, err := b.PayloadBytes(); err == nil {
					ir.body, _ = io.ReadAll(io.LimitReader(p, maxRequestBody))
				}
			}
		}
	}
	return ir
}

// cdxjLine builds the line for rec, paired with req when not nil. It
// reports false for records that are not indexed.
func cdxjLine(rec, req *indexRecord, filename string) (CDXJLine, bool) {
	switch rec.typ {
	case gowarc.Warcinfo, gowarc.Request:
		return CDXJLine{}, false
	case gowarc.Metadata, gowarc.Resource:
		if rec.contentType == gowarc.ApplicationWarcFields {
			return CDXJLine{}, false
		}
		if rec.typ == gowarc.Resource && rec.contentType == ContentTypePEMChain {
			return CDXJLine{}, false
		}
	}
	if rec.targetURI == "" {
		return CDXJLine{}, false
	}
	l := CDXJLine{
		URL:       rec.targetURI,
		Timestamp: cdxTimestamp(rec.date),
		Offset:    rec.offset,
		Length:    rec.length,
		Filename:  filename,
	}
	if _, d, ok := strings.Cut(rec.digest, ":"); ok {
		l.Digest = d
	}
	_, headers := parseHTTPHead(rec.httpHead)
	switch rec.typ {
	case gowarc.Revisit:
		l.MIME = "warc/revisit"
	case gowarc.Response:
		if ct := headers.get("content-type"); ct != "" {
			mime, _, _ := strings.Cut(ct, ";")
			l.MIME = strings.TrimSpace(mime)
		}
	default:
		l.MIME = rec.contentType
	}
	if rec.typ == gowarc.Response || rec.typ == gowarc.Revisit {
		if code, ok := statusCode(rec.httpHead); ok {
			l.Status = code
		}
	}
	keyURL := rec.targetURI
	if req != nil && req.httpHead != nil {
		method, reqHeaders := parseHTTPHead(req.httpHead)
		if method != "" && method != "GET" {
			l.Method = method
			if u, body, ok := postToGetURL(keyURL, method, reqHeaders.get("content-type"), req.body); ok {
				keyURL, l.RequestBody = u, body
			}
		}
	}
	l.Key = SURT(keyURL)
	return l, true
}

// cdxTimestamp turns a WARC-Date into the 14-digit CDX timestamp the way
// warcio does: drop '-', ':' and 'T', keep the first 14 characters.
func cdxTimestamp(date string) string {
	s := strings.NewReplacer("-", "", ":", "", "T", "").Replace(date)
	if len(s) > 14 {
		s = s[:14]
	}
	return s
}

// httpHeaders is a case-insensitive multimap of HTTP header fields.
type httpHeaders [][2]string

// get returns the values of name joined by ", ", as the Fetch API's
// Headers.get does.
func (h httpHeaders) get(name string) string {
	var vals []string
	for _, kv := range h {
		if strings.EqualFold(kv[0], name) {
			vals = append(vals, kv[1])
		}
	}
	return strings.Join(vals, ", ")
}

// parseHTTPHead splits an HTTP message head into the first token of its
// start line (the method of a request) and its header fields. It is lenient:
// lines without a colon are skipped.
func parseHTTPHead(head []byte) (first string, h httpHeaders) {
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	if len(lines) == 0 {
		return "", nil
	}
	first, _, _ = strings.Cut(strings.TrimSpace(lines[0]), " ")
	for _, line := range lines[1:] {
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		h = append(h, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return first, h
}

// statusCode returns the status code of a response head, the second token
// of its status line.
func statusCode(head []byte) (string, bool) {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 {
		return "", false
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 0 {
		return "", false
	}
	return strconv.Itoa(n), true
}

// SURT returns the sort-friendly URI form used as a CDXJ key, computed as
// warcio.js getSurt does: URLs other than http(s) are returned unchanged; a
// leading "www", "www1"… label is dropped; the URL is lowercased and parsed
// by the WHATWG URL rules; the host labels are reversed and joined with
// commas, a non-default port kept, then ")" and the path; query arguments
// are sorted. Fragments are dropped. A URL that does not parse is returned
// as it is after the "www" step.
//
//	https://www.Example.com:8443/a/b?z=1&a=2#top → com,example:8443)/a/b?a=2&z=1
func SURT(u string) string {
	if !strings.HasPrefix(u, "https:") && !strings.HasPrefix(u, "http:") {
		return u
	}
	u = stripWWW(u)
	p, err := whatwg.Parse(strings.ToLower(u))
	if err != nil {
		return u
	}
	labels := strings.Split(p.Hostname(), ".")
	slices.Reverse(labels)
	var b strings.Builder
	b.WriteString(strings.Join(labels, ","))
	if port := p.Port(); port != "" {
		b.WriteString(":" + port)
	}
	b.WriteString(")")
	b.WriteString(p.Pathname())
	if search := p.Search(); search != "" {
		args := strings.Split(search[1:], "&")
		slices.Sort(args)
		b.WriteString("?" + strings.Join(args, "&"))
	}
	return b.String()
}

// stripWWW removes a "www" label (optionally followed by digits) right after
// "http://" or "https://", like warcio's /^(https?:\/\/)www\d*\./.
func stripWWW(u string) string {
	for _, scheme := range []string{"http://", "https://"} {
		rest, ok := strings.CutPrefix(u, scheme)
		if !ok {
			continue
		}
		after, ok := strings.CutPrefix(rest, "www")
		if !ok {
			return u
		}
		after = strings.TrimLeft(after, "0123456789")
		if after, ok = strings.CutPrefix(after, "."); ok {
			return scheme + after
		}
		return u
	}
	return u
}
