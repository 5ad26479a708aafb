// SPDX-License-Identifier: Apache-2.0

package timestamp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	rfc3161 "github.com/digitorus/timestamp"
)

// checkpoint stands in for a checkpoint body, the data the ledger stamps.
var checkpoint = []byte("groundtruth.example/evidence/v1\n1234\nq7mGd0qJpsnBmWl/mfY5kO8JBQoqwTkpVdQdVDS4+Ik=\n")

func newAuthority(t *testing.T, edit func(*x509.Certificate)) *TestAuthority {
	t.Helper()
	ta, err := newTestAuthority(edit)
	if err != nil {
		t.Fatalf("newTestAuthority() = %v", err)
	}
	return ta
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// query returns a DER TimeStampReq over SHA-256(data).
func query(t *testing.T, data []byte, nonce *big.Int, certReq bool) []byte {
	t.Helper()
	sum := sha256.Sum256(data)
	q, err := (&rfc3161.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Nonce: nonce, Certificates: certReq}).Marshal()
	if err != nil {
		t.Fatalf("Request.Marshal() = %v", err)
	}
	return q
}

// token returns a TimeStampResp from ta over data with the given nonce and genTime.
func token(t *testing.T, ta *TestAuthority, data []byte, nonce *big.Int, certReq bool, genTime time.Time) []byte {
	t.Helper()
	der, err := ta.respond(query(t, data, nonce, certReq), genTime)
	if err != nil {
		t.Fatalf("respond() = %v", err)
	}
	return der
}

func TestRequest(t *testing.T) {
	ta := newAuthority(t, nil)
	srv := newServer(t, ta)
	tests := []struct {
		name string
		data []byte
	}{
		{"checkpoint", checkpoint},
		{"empty", nil},
		{"binary", bytes.Repeat([]byte{0, 0xff, 0x80}, 100_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			resp, err := Request(t.Context(), srv.Client(), srv.URL, tt.data)
			if err != nil {
				t.Fatalf("Request() = %v", err)
			}
			after := time.Now().Add(time.Second)
			if resp.Time.Before(before) || resp.Time.After(after) {
				t.Errorf("Request().Time = %v, want between %v and %v", resp.Time, before, after)
			}
			if resp.Time.Location() != time.UTC {
				t.Errorf("Request().Time location = %v, want UTC", resp.Time.Location())
			}
			if resp.Accuracy != time.Second {
				t.Errorf("Request().Accuracy = %v, want 1s", resp.Accuracy)
			}
			if resp.Policy != "2.999.3161" {
				t.Errorf("Request().Policy = %q, want 2.999.3161", resp.Policy)
			}
			if !strings.HasPrefix(resp.Serial, "0x") || len(resp.Serial) < 3 {
				t.Errorf("Request().Serial = %q, want 0x and hex digits", resp.Serial)
			}
			if resp.TSA != srv.URL {
				t.Errorf("Request().TSA = %q, want %q", resp.TSA, srv.URL)
			}

			// The stored DER verifies later against the roots, and gives the same answer.
			got, err := Verify(resp.DER, tt.data, nil, ta.Roots())
			if err != nil {
				t.Fatalf("Verify(Request().DER) = %v", err)
			}
			if !got.Time.Equal(resp.Time) || got.Serial != resp.Serial || got.Policy != resp.Policy {
				t.Errorf("Verify(Request().DER) = %+v, want time, serial and policy of %+v", got, resp)
			}
			if got.TSA != "" {
				t.Errorf("Verify().TSA = %q, want empty", got.TSA)
			}
		})
	}
}

func TestRequestRedactsPassword(t *testing.T) {
	ta := newAuthority(t, nil)
	srv := newServer(t, ta)
	url := strings.Replace(srv.URL, "http://", "http://user:secret@", 1)
	resp, err := Request(t.Context(), srv.Client(), url, checkpoint)
	if err != nil {
		t.Fatalf("Request() = %v", err)
	}
	if strings.Contains(resp.TSA, "secret") || !strings.Contains(resp.TSA, "user:xxxxx@") {
		t.Errorf("Request().TSA = %q, want the password redacted", resp.TSA)
	}
	_, err = Request(t.Context(), srv.Client(), "http://user:secret@[::1", checkpoint)
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Request(bad url) = %v, want an error without the password", err)
	}
}

func TestRequestErrors(t *testing.T) {
	ta := newAuthority(t, nil)
	reply := func(status int, contentType string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}
	}
	// rewrite answers with ta after changing the parsed request, as a broken
	// or malicious TSA might.
	rewrite := func(edit func(*rfc3161.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			q, _ := io.ReadAll(r.Body)
			req, err := rfc3161.ParseRequest(q)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			edit(req)
			q, err = req.Marshal()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			der, err := ta.respond(q, time.Now())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/timestamp-reply")
			_, _ = w.Write(der)
		}
	}
	stop := make(chan struct{}) // releases hanging handlers before the servers close
	t.Cleanup(func() { close(stop) })
	rejection, err := rfc3161.CreateErrorResponse(rfc3161.Rejection, rfc3161.BadAlgorithm)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		handler http.Handler
		timeout time.Duration
		wantIs  error  // if set, errors.Is(err, wantIs)
		want    string // substring of the error
	}{
		{name: "status 500", handler: reply(500, "text/plain", []byte("boom")), want: "http status 500"},
		{name: "status 404", handler: http.NotFoundHandler(), want: "http status 404"},
		{name: "html page", handler: reply(200, "text/html; charset=utf-8", []byte("<html>")), want: `content type "text/html"`},
		{name: "garbage", handler: reply(200, "application/timestamp-reply", []byte("not a der structure")), want: "parse response"},
		{name: "empty body", handler: reply(200, "application/timestamp-reply", nil), want: "parse response"},
		{name: "huge body", handler: reply(200, "application/timestamp-reply", make([]byte, 3<<20)), want: "response larger than 1048576 bytes"},
		{name: "rejection", handler: reply(200, "application/timestamp-reply", rejection), want: "the request is rejected"},
		{name: "wrong nonce", handler: rewrite(func(r *rfc3161.Request) { r.Nonce = new(big.Int).Add(r.Nonce, big.NewInt(1)) }), want: "does not match request nonce"},
		{name: "no nonce", handler: rewrite(func(r *rfc3161.Request) { r.Nonce = nil }), want: "response has no nonce"},
		{name: "other data", handler: rewrite(func(r *rfc3161.Request) { r.HashedMessage = bytes.Repeat([]byte{1}, 32) }), wantIs: ErrMismatch},
		{name: "sha-512 imprint", handler: rewrite(func(r *rfc3161.Request) {
			r.HashAlgorithm = crypto.SHA512
			r.HashedMessage = make([]byte, 64)
		}), want: "uses SHA-512, want SHA-256"},
		{name: "no certificate", handler: rewrite(func(r *rfc3161.Request) { r.Certificates = false }), want: "does not embed the signer certificate"},
		{name: "timeout", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The server notices the client leave only once the body is read.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}), timeout: 100 * time.Millisecond, wantIs: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			resp, err := Request(ctx, srv.Client(), srv.URL, checkpoint)
			if err == nil {
				t.Fatalf("Request() = %+v, want error", resp)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Request() = %v, want errors.Is %v", err, tt.wantIs)
			}
			if tt.wantIs != ErrMismatch && errors.Is(err, ErrMismatch) {
				t.Errorf("Request() = %v, want not ErrMismatch", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Request() = %v, want error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "timestamp: request "+srv.URL+": ") {
				t.Errorf("Request() = %v, want prefix naming the tsa", err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	ta := newAuthority(t, nil)
	other := newAuthority(t, nil)
	nonce := big.NewInt(0x5eed)
	der := token(t, ta, checkpoint, nonce, true, time.Now())
	tampered := bytes.Clone(checkpoint)
	tampered[len(tampered)-2] ^= 1
	tests := []struct {
		name   string
		der    []byte
		data   []byte
		nonce  *big.Int
		roots  *x509.CertPool
		wantIs error  // if set, errors.Is(err, wantIs)
		want   string // substring of the error; empty means success
	}{
		{name: "valid", der: der, data: checkpoint, nonce: nonce, roots: ta.Roots()},
		{name: "valid without nonce", der: der, data: checkpoint, roots: ta.Roots()},
		{name: "valid without roots", der: der, data: checkpoint, nonce: nonce},
		{name: "tampered data", der: der, data: tampered, nonce: nonce, roots: ta.Roots(), wantIs: ErrMismatch, want: "response is for another message"},
		{name: "empty data", der: der, data: nil, roots: ta.Roots(), wantIs: ErrMismatch, want: "response is for another message"},
		{name: "wrong nonce", der: der, data: checkpoint, nonce: big.NewInt(0x5eee), roots: ta.Roots(), want: "nonce 24301 does not match request nonce 24302"},
		{name: "nonce expected but absent", der: token(t, ta, checkpoint, nil, true, time.Now()), data: checkpoint, nonce: nonce, roots: ta.Roots(), want: "response has no nonce"},
		{name: "untrusted roots", der: der, data: checkpoint, nonce: nonce, roots: other.Roots(), want: "certificate signed by unknown authority"},
		{name: "empty roots", der: der, data: checkpoint, roots: x509.NewCertPool(), want: "certificate signed by unknown authority"},
		{name: "no certificate embedded", der: token(t, ta, checkpoint, nonce, false, time.Now()), data: checkpoint, roots: ta.Roots(), want: "does not embed the signer certificate"},
		{name: "genTime before tsa certificate", der: token(t, ta, checkpoint, nil, true, time.Now().Add(-2*time.Hour)), data: checkpoint, roots: ta.Roots(), want: "outside tsa certificate"},
		{name: "truncated", der: der[:len(der)-1], data: checkpoint, want: "parse response"},
		{name: "trailing byte", der: append(bytes.Clone(der), 0), data: checkpoint, want: "trailing data"},
		{name: "flipped signature byte", der: flipLast(der), data: checkpoint, want: "ECDSA verification failure"},
		{name: "nil", der: nil, data: checkpoint, want: "parse response"},
		{name: "sha-1 signature", der: sha1Token(t, ta, checkpoint), data: checkpoint, roots: ta.Roots(), want: "signed with digest 1.3.14.3.2.26, want SHA-2"},
		// pkcs7 ber2der reads past a truncated high tag number (FuzzVerify).
		{name: "pkcs7 panic", der: mustGrant(t, []byte("0\a\xdf\xdf\xdf\xdf\xdf\xdf0")), data: checkpoint, want: "malformed response: parser panicked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(tt.der, tt.data, tt.nonce, tt.roots)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify() = %v, want nil", err)
				}
				if !bytes.Equal(got.DER, tt.der) {
					t.Errorf("Verify().DER differs from input")
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify() = %+v, want error containing %q", got, tt.want)
			}
			if got != nil {
				t.Errorf("Verify() = %+v with error, want nil", got)
			}
			if !strings.HasPrefix(err.Error(), "timestamp: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify() = %v, want timestamp: error containing %q", err, tt.want)
			}
			if is := errors.Is(err, ErrMismatch); is != (tt.wantIs == ErrMismatch) {
				t.Errorf("errors.Is(Verify(), ErrMismatch) = %v, want %v", is, !is)
			}
		})
	}
}

// sha1Token returns a TimeStampResp over SHA-256(data) whose CMS signature
// uses SHA-1, as legacy TSAs made.
func sha1Token(t *testing.T, ta *TestAuthority, data []byte) []byte {
	t.Helper()
	sum := sha256.Sum256(data)
	ts := rfc3161.Timestamp{
		HashAlgorithm:     crypto.SHA256,
		HashedMessage:     sum[:],
		Time:              time.Now(),
		Policy:            testPolicy,
		AddTSACertificate: true,
	}
	der, err := ts.CreateResponseWithOpts(ta.cert, ta.key, crypto.SHA1)
	if err != nil {
		t.Fatalf("CreateResponseWithOpts(SHA-1) = %v", err)
	}
	return der
}

// flipLast returns der with its last byte, the end of the ECDSA signature
// in the only SignerInfo, changed.
func flipLast(der []byte) []byte {
	b := bytes.Clone(der)
	b[len(b)-1] ^= 1
	return b
}

func TestVerifyCertificate(t *testing.T) {
	ekuExt := func(critical bool, oids ...asn1.ObjectIdentifier) []pkix.Extension {
		v, err := asn1.Marshal(oids)
		if err != nil {
			t.Fatal(err)
		}
		return []pkix.Extension{{Id: oidExtKeyUsage, Critical: critical, Value: v}}
	}
	timeStamping := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	serverAuth := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	tests := []struct {
		name string
		edit func(*x509.Certificate)
		want string
	}{
		{"no extended key usage", func(c *x509.Certificate) { c.ExtraExtensions = nil }, "no critical extended key usage"},
		{"non-critical timeStamping", func(c *x509.Certificate) { c.ExtraExtensions = ekuExt(false, timeStamping) }, "no critical extended key usage"},
		{"timeStamping and serverAuth", func(c *x509.Certificate) { c.ExtraExtensions = ekuExt(true, timeStamping, serverAuth) }, "is not timeStamping only"},
		{"serverAuth only", func(c *x509.Certificate) { c.ExtraExtensions = ekuExt(true, serverAuth) }, "is not timeStamping only"},
		{"unknown usage only", func(c *x509.Certificate) { c.ExtraExtensions = ekuExt(true, asn1.ObjectIdentifier{1, 2, 3, 4}) }, "is not timeStamping only"},
		{"timeStamping and unknown usage", func(c *x509.Certificate) {
			c.ExtraExtensions = ekuExt(true, timeStamping, asn1.ObjectIdentifier{1, 2, 3, 4})
		}, "is not timeStamping only"},
		{"ca certificate", func(c *x509.Certificate) { c.IsCA = true; c.KeyUsage |= x509.KeyUsageCertSign }, "is a ca certificate"},
		{"key encipherment", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment }, "is not for signing only"},
		{"expired", func(c *x509.Certificate) {
			c.NotBefore = time.Now().Add(-48 * time.Hour)
			c.NotAfter = time.Now().Add(-24 * time.Hour)
		}, "outside of certificate validity"}, // found by pkcs7 from the signing-time attribute
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta := newAuthority(t, tt.edit)
			der := token(t, ta, checkpoint, nil, true, time.Now())
			for _, roots := range []*x509.CertPool{ta.Roots(), nil} {
				_, err := Verify(der, checkpoint, nil, roots)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Verify(roots %v) = %v, want error containing %q", roots != nil, err, tt.want)
				}
			}
		})
	}
}

func TestTestAuthority(t *testing.T) {
	ta := newAuthority(t, nil)
	srv := newServer(t, ta)
	tests := []struct {
		name        string
		method      string
		contentType string
		body        []byte
		wantStatus  int
	}{
		{"get", http.MethodGet, "", nil, http.StatusMethodNotAllowed},
		{"wrong content type", http.MethodPost, "text/plain", query(t, checkpoint, nil, true), http.StatusUnsupportedMediaType},
		{"too large", http.MethodPost, "application/timestamp-query", make([]byte, 100<<10), http.StatusRequestEntityTooLarge},
		{"garbage is rejected in a TimeStampResp", http.MethodPost, "application/timestamp-query", []byte("junk"), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tt.contentType)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if resp.StatusCode == http.StatusOK {
				body, _ := io.ReadAll(resp.Body)
				if _, err := rfc3161.ParseResponse(body); err == nil || !strings.Contains(err.Error(), "rejected") {
					t.Errorf("ParseResponse(body) = %v, want rejection", err)
				}
			}
		})
	}
	block, _ := pem.Decode(ta.CertPEM())
	if block == nil {
		t.Fatal("CertPEM() is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("ParseCertificate(CertPEM()) = %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ta.Roots(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		t.Errorf("CertPEM() does not chain to Roots(): %v", err)
	}
	if block, _ := pem.Decode(ta.RootPEM()); block == nil || !bytes.Equal(block.Bytes, ta.root.Raw) {
		t.Errorf("RootPEM() does not hold the root certificate")
	}
}

// openssl runs the openssl command and returns its combined output and
// whether it exited 0.
func openssl(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "openssl", args...).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("openssl %s: %v", strings.Join(args, " "), err)
	}
	return string(out), err == nil
}

func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH")
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOpenSSLVerify checks our tokens with an independent verifier, as an
// outsider would (ledger.md section 9).
func TestOpenSSLVerify(t *testing.T) {
	needOpenSSL(t)
	ta := newAuthority(t, nil)
	other := newAuthority(t, nil)
	srv := newServer(t, ta)
	resp, err := Request(t.Context(), srv.Client(), srv.URL, checkpoint)
	if err != nil {
		t.Fatalf("Request() = %v", err)
	}
	dir := t.TempDir()
	tsr := writeFile(t, dir, "1234.tsa.tsr", resp.DER)
	body := writeFile(t, dir, "1234.body", checkpoint)
	root := writeFile(t, dir, "root.pem", ta.RootPEM())

	out, ok := openssl(t, "ts", "-reply", "-in", tsr, "-text")
	t.Logf("openssl ts -reply -text:\n%s", out)
	if !ok {
		t.Fatalf("openssl ts -reply -text failed:\n%s", out)
	}
	for _, want := range []string{
		"Status: Granted.",
		"Policy OID: " + resp.Policy,
		"Serial number: " + resp.Serial + "\n",
		"Time stamp: " + resp.Time.Format("Jan _2 15:04:05 2006 GMT"),
		fmt.Sprintf("Message data:\n    0000 - %s", spacedHex(sha256.Sum256(checkpoint))),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("openssl ts -reply -text output lacks %q", want)
		}
	}

	tests := []struct {
		name   string
		data   []byte
		caPEM  []byte
		args   []string // extra openssl arguments
		wantOK bool     // openssl's verdict
		want   string   // in openssl's output
		ours   bool     // Verify's verdict, which is always at genTime
	}{
		{"our data and root", checkpoint, ta.RootPEM(), nil, true, "Verification: OK", true},
		{"other data", append(bytes.Clone(checkpoint), '\n'), ta.RootPEM(), nil, false, "message imprint mismatch", false},
		{"other root", checkpoint, other.RootPEM(), nil, false, "unable to get local issuer certificate", false},
		// openssl checks the chain now, not at genTime; -attime changes that.
		{"at genTime", checkpoint, ta.RootPEM(), []string{"-attime", fmt.Sprint(resp.Time.Unix())}, true, "Verification: OK", true},
		{"after tsa certificate expiry", checkpoint, ta.RootPEM(), []string{"-attime", fmt.Sprint(resp.Time.AddDate(2, 0, 0).Unix())}, false, "certificate has expired", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, ca := body, root
			if !bytes.Equal(tt.data, checkpoint) {
				data = writeFile(t, t.TempDir(), "data", tt.data)
			}
			if !bytes.Equal(tt.caPEM, ta.RootPEM()) {
				ca = writeFile(t, t.TempDir(), "ca.pem", tt.caPEM)
			}
			out, ok := openssl(t, append([]string{"ts", "-verify", "-data", data, "-in", tsr, "-CAfile", ca}, tt.args...)...)
			verified := ok && strings.Contains(out, "Verification: OK")
			if verified != tt.wantOK || !strings.Contains(out, tt.want) {
				t.Errorf("openssl ts -verify: verified = %v, want %v and output containing %q; output:\n%s", verified, tt.wantOK, tt.want, out)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(tt.caPEM)
			if _, err := Verify(resp.DER, tt.data, nil, pool); (err == nil) != tt.ours {
				t.Errorf("Verify() = %v, want success %v", err, tt.ours)
			}
		})
	}
}

// spacedHex formats the first 16 bytes of sum as openssl's hex dump does.
func spacedHex(sum [32]byte) string {
	var b strings.Builder
	for i, c := range sum[:16] {
		switch {
		case i == 8:
			b.WriteString("-")
		case i > 0:
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%02x", c)
	}
	return b.String()
}

// TestOpenSSLAuthority checks that Verify accepts tokens made by another
// implementation, openssl's own TSA, with both ESS attribute versions.
func TestOpenSSLAuthority(t *testing.T) {
	needOpenSSL(t)
	ta := newAuthority(t, nil)
	dir := t.TempDir()
	key, err := x509.MarshalPKCS8PrivateKey(ta.key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writeFile(t, dir, "tsa.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}))
	certFile := writeFile(t, dir, "tsa.pem", ta.CertPEM())
	serialFile := writeFile(t, dir, "serial", []byte("01\n"))
	data := writeFile(t, dir, "1234.body", checkpoint)
	tests := []struct {
		name    string
		essAlg  string
		wantOID asn1.ObjectIdentifier // the ESS attribute openssl writes
	}{
		{"SigningCertificate", "sha1", oidSigningCertificate},
		{"SigningCertificateV2", "sha256", oidSigningCertificateV2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := writeFile(t, t.TempDir(), "ts.cnf", fmt.Appendf(nil, `
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = %s
crypto_device = builtin
signer_cert = %s
signer_key = %s
signer_digest = sha256
default_policy = %s
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = %s
`, serialFile, certFile, keyFile, testPolicy, tt.essAlg))
			tsq := filepath.Join(dir, tt.essAlg+".tsq")
			tsr := filepath.Join(dir, tt.essAlg+".tsr")
			if out, ok := openssl(t, "ts", "-query", "-data", data, "-sha256", "-cert", "-out", tsq); !ok {
				t.Fatalf("openssl ts -query failed:\n%s", out)
			}
			if out, ok := openssl(t, "ts", "-reply", "-config", conf, "-queryfile", tsq, "-out", tsr); !ok {
				t.Fatalf("openssl ts -reply failed:\n%s", out)
			}
			q, err := os.ReadFile(tsq)
			if err != nil {
				t.Fatal(err)
			}
			req, err := rfc3161.ParseRequest(q)
			if err != nil {
				t.Fatalf("ParseRequest(openssl query) = %v", err)
			}
			der, err := os.ReadFile(tsr)
			if err != nil {
				t.Fatal(err)
			}
			oid, err := asn1.Marshal(tt.wantOID)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(der, oid) {
				t.Errorf("openssl response lacks attribute %s", tt.wantOID)
			}
			got, err := Verify(der, checkpoint, req.Nonce, ta.Roots())
			if err != nil {
				t.Fatalf("Verify(openssl response) = %v", err)
			}
			out, ok := openssl(t, "ts", "-reply", "-in", tsr, "-text")
			if !ok {
				t.Fatalf("openssl ts -reply -text failed:\n%s", out)
			}
			for _, want := range []string{"Serial number: " + got.Serial + "\n", "Policy OID: " + got.Policy + "\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("openssl ts -reply -text output lacks %q:\n%s", want, out)
				}
			}
			if _, err := Verify(der, append(bytes.Clone(checkpoint), 0), req.Nonce, ta.Roots()); !errors.Is(err, ErrMismatch) {
				t.Errorf("Verify(openssl response, other data) = %v, want ErrMismatch", err)
			}
		})
	}
}

// grant returns a TimeStampResp with status granted and token as its
// timeStampToken.
func grant(token []byte) ([]byte, error) {
	status := []byte{0x30, 0x03, 0x02, 0x01, 0x00} // PKIStatusInfo{status: granted}
	return asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: append(status, token...)})
}

func mustGrant(t *testing.T, token []byte) []byte {
	t.Helper()
	der, err := grant(token)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func FuzzVerify(f *testing.F) {
	ta, err := NewTestAuthority()
	if err != nil {
		f.Fatal(err)
	}
	sum := sha256.Sum256(checkpoint)
	q, err := (&rfc3161.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Nonce: big.NewInt(7), Certificates: true}).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	good, err := ta.respond(q, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	rejection, err := rfc3161.CreateErrorResponse(rfc3161.Rejection, rfc3161.BadDataFormat)
	if err != nil {
		f.Fatal(err)
	}
	ts, err := rfc3161.ParseResponse(good)
	if err != nil {
		f.Fatal(err)
	}
	if wrapped, err := grant(ts.RawToken); err != nil || !bytes.Equal(wrapped, good) {
		f.Fatalf("grant(token) = %x, %v, want %x", wrapped, err, good)
	}
	f.Add(ts.RawToken, checkpoint)
	f.Add(good, checkpoint)
	f.Add(good[:len(good)/2], checkpoint)
	f.Add(rejection, checkpoint)
	f.Add([]byte{0x30, 0x80, 0, 0}, []byte(nil)) // BER indefinite length
	f.Add([]byte("not der"), []byte("x"))
	roots := ta.Roots()
	f.Fuzz(func(t *testing.T, der, data []byte) {
		// Also try der as the token of a granted TimeStampResp, so that
		// mutations reach the CMS parser and not only the outer structure.
		granted, err := grant(der)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []struct {
			der   []byte
			roots *x509.CertPool
		}{{der, roots}, {der, nil}, {granted, roots}, {granted, nil}} {
			resp, err := Verify(in.der, data, big.NewInt(7), in.roots)
			if (resp == nil) == (err == nil) {
				t.Fatalf("Verify() = %v, %v: want exactly one of response and error", resp, err)
			}
			if err == nil && !bytes.Equal(resp.DER, in.der) {
				t.Fatalf("Verify().DER differs from input")
			}
		}
	})
}

func TestSerialText(t *testing.T) {
	tests := []struct {
		in   *big.Int
		want string
	}{
		{big.NewInt(0), "0x0"},
		{big.NewInt(2), "0x02"},
		{big.NewInt(0x1ab), "0x01AB"},
		{big.NewInt(-2), "0x-02"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := serialText(tt.in); got != tt.want {
			t.Errorf("serialText(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCheckSignedAttributes covers ESS cases no TSA at hand produces.
func TestCheckSignedAttributes(t *testing.T) {
	ta := newAuthority(t, nil)
	other := newAuthority(t, nil)
	attr := func(oid asn1.ObjectIdentifier, v any) attribute {
		t.Helper()
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return attribute{Type: oid, Value: asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: b}}
	}
	v1 := func(c *x509.Certificate) attribute {
		sum := sha1.Sum(c.Raw)
		return attr(oidSigningCertificate, signingCertificate{Certs: []essCertID{{CertHash: sum[:]}}})
	}
	v2 := func(c *x509.Certificate, h crypto.Hash, oid asn1.ObjectIdentifier) attribute {
		hh := h.New()
		hh.Write(c.Raw)
		return attr(oidSigningCertificateV2, signingCertificateV2{Certs: []essCertIDv2{{
			HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oid},
			CertHash:      hh.Sum(nil),
		}}})
	}
	ct := attr(pkcs7.OIDAttributeContentType, oidTSTInfo)
	tests := []struct {
		name  string
		attrs []attribute
		want  string // substring of the error; empty means success
	}{
		{"v2 default sha-256", []attribute{ct, v2(ta.cert, crypto.SHA256, nil)}, ""},
		{"v2 sha-384", []attribute{ct, v2(ta.cert, crypto.SHA384, oidSHA384)}, ""},
		{"v1", []attribute{ct, v1(ta.cert)}, ""},
		{"v1 and v2", []attribute{v1(ta.cert), ct, v2(ta.cert, crypto.SHA256, oidSHA256)}, ""},
		{"no content type", []attribute{v2(ta.cert, crypto.SHA256, nil)}, "no signed content-type"},
		{"content type data", []attribute{attr(pkcs7.OIDAttributeContentType, pkcs7.OIDData), v1(ta.cert)}, "want id-ct-TSTInfo"},
		{"malformed content type", []attribute{attr(pkcs7.OIDAttributeContentType, 7), v1(ta.cert)}, "signed attribute 1.2.840.113549.1.9.3"},
		{"no ess attribute", []attribute{ct}, "no signing-certificate attribute"},
		{"v2 names another certificate", []attribute{ct, v2(other.cert, crypto.SHA256, nil)}, "does not name the signer"},
		{"v1 names another certificate", []attribute{ct, v1(other.cert)}, "does not name the signer"},
		{"v1 right, v2 wrong", []attribute{ct, v1(ta.cert), v2(other.cert, crypto.SHA256, nil)}, "does not name the signer"},
		{"v2 empty", []attribute{ct, attr(oidSigningCertificateV2, signingCertificateV2{Certs: []essCertIDv2{}})}, "attribute is empty"},
		{"v2 sha-1", []attribute{ct, v2(ta.cert, crypto.SHA1, pkcs7.OIDDigestAlgorithmSHA1)}, "unsupported hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSignedAttributes(tt.attrs, ta.cert)
			if tt.want == "" {
				if err != nil {
					t.Errorf("checkSignedAttributes() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("checkSignedAttributes() = %v, want error containing %q", err, tt.want)
			}
		})
	}
}
