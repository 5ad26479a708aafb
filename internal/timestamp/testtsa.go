// SPDX-License-Identifier: Apache-2.0

package timestamp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"time"

	rfc3161 "github.com/digitorus/timestamp"
)

// testPolicy is the policy OID of TestAuthority tokens, under the ASN.1
// example arc 2.999 so that it can never name a real policy.
var testPolicy = asn1.ObjectIdentifier{2, 999, 3161}

// TestAuthority is an in-memory RFC 3161 Time-Stamping Authority for tests,
// to be served with net/http/httptest. It holds a self-signed ECDSA P-256
// root and a TSA certificate issued by it, with a critical id-kp-timeStamping
// extended key usage, and signs with the local clock. Its keys exist only in
// memory; it is not for production.
type TestAuthority struct {
	root *x509.Certificate
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewTestAuthority returns a TestAuthority with a fresh root and TSA
// certificate, valid from an hour ago for 30 days.
func NewTestAuthority() (*TestAuthority, error) {
	return newTestAuthority(nil)
}

// newTestAuthority is NewTestAuthority with a hook to alter the TSA
// certificate template before it is signed, for tests of bad certificates.
func newTestAuthority(edit func(leaf *x509.Certificate)) (*TestAuthority, error) {
	now := time.Now()
	// Random serial numbers keep certificates of two authorities apart, as
	// CMS finds the signer by issuer name and serial number.
	serial := func() (*big.Int, error) { return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)) }
	rootSerial, err := serial()
	if err != nil {
		return nil, fmt.Errorf("timestamp: test authority: %w", err)
	}
	leafSerial, err := serial()
	if err != nil {
		return nil, fmt.Errorf("timestamp: test authority: %w", err)
	}
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("timestamp: test authority: %w", err)
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          rootSerial,
		Subject:               pkix.Name{CommonName: "groundtruth test TSA root"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("timestamp: test authority: root certificate: %w", err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, fmt.Errorf("timestamp: test authority: root certificate: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("timestamp: test authority: %w", err)
	}
	// crypto/x509 marks extended key usage non-critical; RFC 3161 section 2.3
	// requires it critical, so it is written by hand.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return nil, fmt.Errorf("timestamp: test authority: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:          leafSerial,
		Subject:               pkix.Name{CommonName: "groundtruth test TSA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtraExtensions:       []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}},
		BasicConstraintsValid: true,
	}
	if edit != nil {
		edit(leafTmpl)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, key.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("timestamp: test authority: tsa certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, fmt.Errorf("timestamp: test authority: tsa certificate: %w", err)
	}
	return &TestAuthority{root: root, cert: cert, key: key}, nil
}

// ServeHTTP answers a POST of a DER TimeStampReq (Content-Type
// application/timestamp-query) with a granted TimeStampResp over the
// request's message imprint and nonce, embedding the TSA certificate when
// the request asks for it (certReq), as RFC 3161 requires. A request that
// does not parse gets a rejection TimeStampResp.
func (a *TestAuthority) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/timestamp-query" {
		http.Error(w, "want application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	query, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	der, err := a.respond(query, time.Now())
	if err != nil {
		if der, err = rfc3161.CreateErrorResponse(rfc3161.Rejection, rfc3161.BadDataFormat); err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(der)
}

// respond returns a granted TimeStampResp for query with genTime now.
func (a *TestAuthority) respond(query []byte, now time.Time) ([]byte, error) {
	req, err := rfc3161.ParseRequest(query)
	if err != nil {
		return nil, err
	}
	ts := rfc3161.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              now.UTC().Truncate(time.Second),
		Accuracy:          time.Second,
		Nonce:             req.Nonce,
		Policy:            testPolicy,
		AddTSACertificate: req.Certificates,
	}
	return ts.CreateResponseWithOpts(a.cert, a.key, crypto.SHA256)
}

// RootPEM returns the root certificate in PEM form, as given to
// `openssl ts -verify -CAfile`.
func (a *TestAuthority) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.root.Raw})
}

// Roots returns a pool holding only the root certificate, for [Verify].
func (a *TestAuthority) Roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.root)
	return p
}

// CertPEM returns the TSA (signing) certificate in PEM form.
func (a *TestAuthority) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.cert.Raw})
}
