// SPDX-License-Identifier: Apache-2.0

package warc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// warcioCLI returns the command that runs warcio.js, or skips the test
// when node or web/node_modules/warcio is missing (fails instead when
// GROUNDTRUTH_REQUIRE_TOOLS=1). `make build` / `npm ci` in web/ install it.
func warcioCLI(t *testing.T) (node, cli string) {
	t.Helper()
	missing := func(what, fix string) {
		if os.Getenv("GROUNDTRUTH_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is missing and GROUNDTRUTH_REQUIRE_TOOLS=1; %s", what, fix)
		}
		t.Skipf("%s is missing; %s to compare our CDXJ with warcio.js", what, fix)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node", "install Node.js ≥ 20")
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
	// The package's "bin" entry is ./dist/cli.js.
	cli = filepath.Join(dir, "web", "node_modules", "warcio", "dist", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		missing("web/node_modules/warcio", "run `cd web && npm ci`")
	}
	return node, cli
}

// cdxjFields splits a CDXJ line into key, timestamp and JSON fields.
func cdxjFields(t *testing.T, line string) (key, ts string, fields map[string]string) {
	t.Helper()
	key, rest, ok1 := strings.Cut(line, " ")
	ts, js, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 {
		t.Fatalf("malformed CDXJ line %q", line)
	}
	if err := json.Unmarshal([]byte(js), &fields); err != nil {
		t.Fatalf("CDXJ line %q: %v", line, err)
	}
	return key, ts, fields
}

// rawExchange builds an exchange from literal HTTP messages.
func rawExchange(u, method, reqHeaders string, reqBody []byte, respHead string, respBody []byte) Exchange {
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: example\r\n%s\r\n", method, u, reqHeaders)
	return Exchange{
		URL: u, Date: captureDate, RemoteIP: "192.0.2.7:443",
		Request:  append([]byte(req), reqBody...),
		Response: append([]byte(respHead+"\r\n"), respBody...),
	}
}

// writeIndexWARC writes a WARC exercising the indexer: real exchanges (a
// chunked, a gzip and a TLS one with its chain), unusual URLs, non-GET
// requests with several body types, and resource and metadata records.
func writeIndexWARC(t *testing.T, dir string) string {
	t.Helper()
	xs := exchanges(t)
	ok := "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 2\r\n"
	xs = append(xs,
		rawExchange("https://WWW.Example.COM/Path/A?z=1&a=2&a=1#frag", "GET", "", nil, ok, []byte("hi")),
		rawExchange("http://www2.example.org:80/x/../y/%7euser/", "GET", "", nil,
			"HTTP/1.1 301 Moved Permanently\r\nLocation: /z\r\nContent-Length: 0\r\n", nil),
		rawExchange("https://例え.jp/パス?q=値", "GET", "", nil, ok, []byte("hi")),
		rawExchange("http://example.com", "GET", "", nil, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n", []byte("no")),
		rawExchange("https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9?q=%E5%80%A4&", "GET", "", nil, ok, []byte("hi")),
		rawExchange("https://api.example.net/form?x=1", "POST", "Content-Type: application/x-www-form-urlencoded\r\n",
			[]byte("b=2&a=%20x+y&c=%3D"), ok, []byte("hi")),
		rawExchange("https://api.example.net/json", "POST", "Content-Type: application/json\r\n",
			[]byte(`{"z":1.5e-7,"a":[1,2,{"b":null}],"10":true,"2":"s","a":"dup","e":"","n":1e21,"q":"a b*~"}`), ok, []byte("hi")),
		rawExchange("https://api.example.net/bin", "POST", "Content-Type: application/octet-stream\r\n",
			[]byte{0, 1, 2, 250, 251, 252}, ok, []byte("hi")),
		rawExchange("https://api.example.net/mp", "PUT", "Content-Type: multipart/form-data; boundary=XyZ\r\n",
			[]byte("--XyZ\r\nContent-Disposition: form-data; name=\"f1\"\r\n\r\nv1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f2\"\r\n\r\nv 2\r\n--XyZ--\r\n"),
			ok, []byte("hi")),
		rawExchange("https://api.example.net/text", "POST", "Content-Type: text/plain\r\n", []byte("not json"), ok, []byte("hi")),
	)

	path := filepath.Join(dir, "index-test.warc.gz")
	w, err := Create(path, Info{Software: "groundtruth/test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range xs {
		if _, err := w.Exchange(x); err != nil {
			t.Fatalf("Exchange(%s): %v", x.URL, err)
		}
	}
	if _, err := w.Resource("https://t.me/chan/42", "video/mp4", captureDate.Add(time.Second), strings.NewReader("not really a video")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Resource("https://example.org/a.txt", "text/plain; charset=utf-8", captureDate, strings.NewReader("text")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Metadata("urn:x-groundtruth:capture:1", "application/json", captureDate, "", strings.NewReader(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Metadata("https://t.me/chan/42", "application/warc-fields", captureDate, "", strings.NewReader("a: b\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestIndexMatchesWarcio compares Index with warcio.js cdx-index --format
// cdxj, field by field and byte for byte.
func TestIndexMatchesWarcio(t *testing.T) {
	node, cli := warcioCLI(t)
	dir := t.TempDir()
	path := writeIndexWARC(t, dir)

	cmd := exec.Command(node, cli, "cdx-index", "--format", "cdxj", filepath.Base(path))
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("warcio cdx-index: %v\n%s", err, stderr.String())
	}
	var theirs []string
	var chains int
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if _, _, f := cdxjFields(t, l); f["mime"] == ContentTypePEMChain {
			chains++ // left out of our index on purpose
			continue
		}
		theirs = append(theirs, l)
	}
	if chains != 1 {
		t.Errorf("warcio indexed %d certificate chains, want 1", chains)
	}
	slices.Sort(theirs)

	lines, err := Index(path)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, l := range lines {
		ours = append(ours, l.String())
	}
	if !slices.IsSorted(ours) {
		t.Errorf("Index lines are not sorted bytewise")
	}
	if len(ours) != len(theirs) {
		t.Fatalf("Index gave %d lines, warcio %d (excluding chains)\nours:\n%s\nwarcio:\n%s",
			len(ours), len(theirs), strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
	}
	for i := range ours {
		ok, ots, of := cdxjFields(t, ours[i])
		wk, wts, wf := cdxjFields(t, theirs[i])
		if ok != wk {
			t.Errorf("line %d: key = %q, warcio %q", i, ok, wk)
		}
		if ots != wts {
			t.Errorf("line %d: timestamp = %q, warcio %q", i, ots, wts)
		}
		for _, k := range []string{"url", "mime", "status", "digest", "length", "offset", "filename", "method", "requestBody"} {
			if of[k] != wf[k] {
				t.Errorf("line %d (%s): %s = %q, warcio %q", i, wf["url"], k, of[k], wf[k])
			}
		}
		if len(of) != len(wf) {
			t.Errorf("line %d: fields %v, warcio %v", i, of, wf)
		}
		if ours[i] != theirs[i] {
			t.Errorf("line %d differs byte for byte:\n ours:   %s\n warcio: %s", i, ours[i], theirs[i])
		}
	}
}

func TestSURT(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://www.Example.com:8443/a/b?z=1&a=2#top", "com,example:8443)/a/b?a=2&z=1"},
		{"http://example.com", "com,example)/"},
		{"http://www.example.com:80/", "com,example)/"},
		{"https://WWW.example.com/", "com,example,www)/"}, // warcio strips only lowercase www before lowercasing
		{"http://www12.example.com/x?", "com,example)/x"},
		{"http://wwwexample.com/", "com,wwwexample)/"},
		{"https://[2001:db8::1]:8080/p", "[2001:db8::1]:8080)/p"},
		{"urn:uuid:1234", "urn:uuid:1234"},
		{"https://t.me/chan/42", "me,t)/chan/42"},
		{"http://a.b/%7Efoo/./bar/../baz", "b,a)/%7efoo/baz"},
		{"http://exa mple.com/", "http://exa mple.com/"}, // unparseable: returned after the www step
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := SURT(tt.in); got != tt.want {
				t.Errorf("SURT(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzIndex feeds arbitrary bytes to Index as a WARC file: it must return
// lines or an error, never panic. The seeds are a valid WARC, a truncated
// one and a few near-misses.
func FuzzIndex(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.warc.gz")
	w, err := Create(path, Info{Software: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	x := rawExchange("https://example.org/p", "POST", "Content-Type: application/json\r\n", []byte(`{"a":[1,{"b":2}]}`),
		"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", []byte("<p>hi</p>"))
	if _, err := w.Exchange(x); err != nil {
		f.Fatal(err)
	}
	if _, err := w.Resource("https://example.org/r", "image/png", captureDate, strings.NewReader("png")); err != nil {
		f.Fatal(err)
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte("WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 5\r\n\r\nHTTP/\r\n\r\n"))
	f.Add([]byte("WARC/1.0\r\nWARC-Type: request\r\nWARC-Target-URI: http://a/\r\nContent-Length: 99999999999\r\n\r\nPOST / HTTP/1.1\r\n"))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.warc.gz")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		lines, err := Index(p)
		if err != nil {
			return
		}
		for _, l := range lines {
			_ = l.String()
		}
	})
}

// TestPostToGetURL pins the request-body folding to values warcio.js
// 2.4.11 produced for the same requests (see TestIndexMatchesWarcio), so it
// is checked even where node is missing.
func TestPostToGetURL(t *testing.T) {
	tests := []struct {
		name, url, method, ct, body string
		wantURL, wantBody           string
	}{
		{"form", "https://api.example.net/form?x=1", "POST", "application/x-www-form-urlencoded", "b=2&a=%20x+y&c=%3D",
			"https://api.example.net/form?x=1&__wb_method=POST&b=2&a= x+y&c=%3D", "b=2&a=%20x+y&c=%3D"},
		{"json", "https://api.example.net/json", "POST", "application/json",
			`{"z":1.5e-7,"a":[1,2,{"b":null}],"10":true,"2":"s","a":"dup","e":"","n":1e21,"q":"a b*~"}`,
			"https://api.example.net/json?__wb_method=POST&2=s&10=true&z=1.5e-7&a=dup&n=1e%2B21&q=a+b*~",
			"2=s&10=true&z=1.5e-7&a=dup&n=1e%2B21&q=a+b*%7E"},
		{"json arrays repeat keys", "http://a/", "POST", "application/json", `{"k":[1,2,3],"m":0.000001}`,
			"http://a/?__wb_method=POST&k=1&k.2_=2&k.3_=3&m=0.000001", "k=1&k.2_=2&k.3_=3&m=0.000001"},
		{"binary", "https://api.example.net/bin", "POST", "application/octet-stream", "\x00\x01\x02\xfa\xfb\xfc",
			"https://api.example.net/bin?__wb_method=POST&__wb_post_data=AAEC+vv8", "__wb_post_data=AAEC+vv8"},
		{"multipart", "https://api.example.net/mp", "PUT", "multipart/form-data; boundary=XyZ",
			"--XyZ\r\nContent-Disposition: form-data; name=\"f1\"\r\n\r\nv1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f2\"\r\n\r\nv 2\r\n--XyZ--\r\n",
			"https://api.example.net/mp?__wb_method=PUT&f1=v1&f2=v+2", "f1=v1&f2=v+2"},
		{"text not JSON", "https://api.example.net/text", "POST", "text/plain", "not json",
			"https://api.example.net/text?__wb_method=POST&", ""},
		{"malformed escape", "http://a/", "POST", "application/x-www-form-urlencoded", "a=%zz",
			"http://a/?__wb_method=POST&", "a=%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, body, ok := postToGetURL(tt.url, tt.method, tt.ct, []byte(tt.body))
			if !ok || u != tt.wantURL || body != tt.wantBody {
				t.Errorf("postToGetURL = %q, %q, %v; want %q, %q", u, body, ok, tt.wantURL, tt.wantBody)
			}
		})
	}
}
