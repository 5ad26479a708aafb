// SPDX-License-Identifier: Apache-2.0

package timestamp

import (
	"bytes"
	"crypto"
	"crypto/sha1" // ESSCertID (SigningCertificate v1) names certificates by SHA-1.
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/digitorus/pkcs7"
	rfc3161 "github.com/digitorus/timestamp"
)

// ErrMismatch reports a time-stamp token that is valid but was issued for
// other data: its message imprint is not SHA-256 of the data given.
var ErrMismatch = errors.New("timestamp: response is for another message")

// Response is a verified RFC 3161 time-stamp response.
type Response struct {
	// DER is the full TimeStampResp (status and token) exactly as the TSA
	// sent it: the .tsr file that `openssl ts -verify -in` reads. Verify
	// returns the slice it was given, not a copy.
	DER []byte
	// Time is the token's genTime, when the TSA says it signed, in UTC.
	Time time.Time
	// Accuracy is the TSA's stated accuracy of Time, or zero when the token
	// does not state one.
	Accuracy time.Duration
	// Serial is the token's serial number, unique per TSA, in the form
	// `openssl ts -reply -text` prints it: "0x" and upper-case hexadecimal
	// of whole bytes, such as "0x02".
	Serial string
	// Policy is the TSA policy OID under which the token was issued, in
	// dotted decimal form.
	Policy string
	// TSA is the URL the token was requested from, with any password
	// redacted. Verify leaves it empty.
	TSA string
}

var (
	oidTSTInfo              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidSigningCertificate   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidExtKeyUsage          = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidSHA256               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// Verify checks der, a full RFC 3161 TimeStampResp, as a time-stamp over
// SHA-256(data) and returns its contents. A nil nonce skips the nonce check;
// a nil roots skips the chain check, so that the result says nothing about
// who issued the token (see the package documentation for every check).
//
// A token that passes every check but covers other data gives an error
// wrapping [ErrMismatch].
func Verify(der, data []byte, nonce *big.Int, roots *x509.CertPool) (*Response, error) {
	ts, p7, signer, err := parse(der)
	if err != nil {
		return nil, err
	}
	var attrs []attribute
	for _, a := range p7.Signers[0].AuthenticatedAttributes {
		attrs = append(attrs, attribute{Type: a.Type, Value: a.Value})
	}
	if err := checkSignedAttributes(attrs, signer); err != nil {
		return nil, err
	}
	if err := checkSigner(signer, ts.Time); err != nil {
		return nil, err
	}
	if roots != nil {
		intermediates := x509.NewCertPool()
		for _, c := range p7.Certificates {
			intermediates.AddCert(c)
		}
		_, err := signer.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: intermediates,
			CurrentTime:   ts.Time,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		})
		if err != nil {
			return nil, fmt.Errorf("timestamp: tsa certificate %q at %s: %w",
				signer.Subject, ts.Time.UTC().Format(time.RFC3339), err)
		}
	}
	if nonce != nil {
		if ts.Nonce == nil {
			return nil, errors.New("timestamp: response has no nonce")
		}
		if ts.Nonce.Cmp(nonce) != 0 {
			return nil, fmt.Errorf("timestamp: response nonce %s does not match request nonce %s", ts.Nonce, nonce)
		}
	}
	if ts.HashAlgorithm != crypto.SHA256 {
		return nil, fmt.Errorf("timestamp: message imprint uses %v, want SHA-256", ts.HashAlgorithm)
	}
	sum := sha256.Sum256(data)
	if !bytes.Equal(ts.HashedMessage, sum[:]) {
		return nil, fmt.Errorf("%w: token covers sha256 %x, data has sha256 %x", ErrMismatch, ts.HashedMessage, sum[:])
	}
	return &Response{
		DER:      der,
		Time:     ts.Time.UTC(),
		Accuracy: ts.Accuracy,
		Serial:   serialText(ts.SerialNumber),
		Policy:   ts.Policy.String(),
	}, nil
}

// parse parses der and checks the CMS signature of its token with the
// signer certificate, which must be embedded. It returns the signer's
// certificate.
//
// The digitorus parsers panic on some malformed input (pkcs7 ber2der reads
// past the end of truncated tags, found by FuzzVerify; fixed upstream in
// mozilla-services/pkcs7#94 and in digitorus/pkcs7 versions that need a newer
// Go). A stored response is untrusted input, so a panic here becomes an
// error instead of taking down the process.
func parse(der []byte) (ts *rfc3161.Timestamp, p7 *pkcs7.PKCS7, signer *x509.Certificate, err error) {
	defer func() {
		if r := recover(); r != nil {
			ts, p7, signer = nil, nil, nil
			err = fmt.Errorf("timestamp: malformed response: parser panicked: %v", r)
		}
	}()
	// ParseResponse refuses a non-granted status and trailing data, and checks
	// the signature against the embedded certificates if there are any.
	ts, err = rfc3161.ParseResponse(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("timestamp: parse response: %w", err)
	}
	p7, err = pkcs7.Parse(ts.RawToken)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("timestamp: parse token: %w", err)
	}
	if n := len(p7.Signers); n != 1 {
		return nil, nil, nil, fmt.Errorf("timestamp: token has %d signers, want 1", n)
	}
	// The signer is the certificate the SignerInfo names, not any embedded
	// certificate: an attacker may add certificates that chain.
	signer = p7.GetOnlySigner()
	if signer == nil {
		return nil, nil, nil, errors.New("timestamp: token does not embed the signer certificate")
	}
	// ParseResponse skips the signature check when no certificate is
	// embedded; with the signer found, check it here whatever the library does.
	if err := p7.Verify(); err != nil {
		return nil, nil, nil, fmt.Errorf("timestamp: token signature: %w", err)
	}
	// crypto/x509 CheckSignature, which pkcs7 uses, still accepts SHA-1.
	si := p7.Signers[0]
	if d := si.DigestAlgorithm.Algorithm; !d.Equal(oidSHA256) && !d.Equal(oidSHA384) && !d.Equal(oidSHA512) {
		return nil, nil, nil, fmt.Errorf("timestamp: token signed with digest %s, want SHA-2", d)
	}
	for _, weak := range []asn1.ObjectIdentifier{pkcs7.OIDDigestAlgorithmECDSASHA1, pkcs7.OIDEncryptionAlgorithmRSASHA1, pkcs7.OIDDigestAlgorithmDSASHA1} {
		if si.DigestEncryptionAlgorithm.Algorithm.Equal(weak) {
			return nil, nil, nil, fmt.Errorf("timestamp: token signed with %s, which uses SHA-1", weak)
		}
	}
	return ts, p7, signer, nil
}

// serialText formats a serial number as openssl's TS_ASN1_INTEGER_print_bio
// does, so that the two can be compared by eye: "0x", then BN_bn2hex, which
// is upper-case hexadecimal of whole bytes ("0" for zero, "-" if negative).
func serialText(n *big.Int) string {
	switch {
	case n == nil:
		return ""
	case n.Sign() == 0:
		return "0x0"
	case n.Sign() < 0:
		return fmt.Sprintf("0x-%X", new(big.Int).Neg(n).Bytes())
	}
	return fmt.Sprintf("0x%X", n.Bytes())
}

// checkSigner applies the rules of RFC 3161 section 2.3 for a TSA
// certificate, as openssl's timestamp purpose check does: an end entity
// whose only extended key usage is a critical id-kp-timeStamping, and whose
// key usage, if present, is digitalSignature or nonRepudiation only. It also
// checks that the certificate was valid at genTime, which the chain check
// does only when roots are given.
func checkSigner(cert *x509.Certificate, genTime time.Time) error {
	if cert.IsCA {
		return fmt.Errorf("timestamp: tsa certificate %q is a ca certificate", cert.Subject)
	}
	critical := false
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidExtKeyUsage) {
			critical = ext.Critical
			break
		}
	}
	if !critical {
		return fmt.Errorf("timestamp: tsa certificate %q has no critical extended key usage", cert.Subject)
	}
	if len(cert.UnknownExtKeyUsage) != 0 || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping {
		return fmt.Errorf("timestamp: tsa certificate %q extended key usage is not timeStamping only", cert.Subject)
	}
	const signing = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	if ku := cert.KeyUsage; ku != 0 && (ku&signing == 0 || ku&^signing != 0) {
		return fmt.Errorf("timestamp: tsa certificate %q key usage %#x is not for signing only", cert.Subject, ku)
	}
	if genTime.Before(cert.NotBefore) || genTime.After(cert.NotAfter) {
		return fmt.Errorf("timestamp: genTime %s is outside tsa certificate %q validity %s to %s",
			genTime.UTC().Format(time.RFC3339), cert.Subject,
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// essCertID is ESSCertID from RFC 2634 section 5.4.1 (SigningCertificate).
type essCertID struct {
	CertHash     []byte        // SHA-1 of the DER certificate
	IssuerSerial asn1.RawValue `asn1:"optional"`
}

// essCertIDv2 is ESSCertIDv2 from RFC 5035 section 4 (SigningCertificateV2).
type essCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"` // DEFAULT id-sha256
	CertHash      []byte
	IssuerSerial  asn1.RawValue `asn1:"optional"`
}

type signingCertificate struct {
	Certs    []essCertID
	Policies asn1.RawValue `asn1:"optional"`
}

type signingCertificateV2 struct {
	Certs    []essCertIDv2
	Policies asn1.RawValue `asn1:"optional"`
}

// checkSignedAttributes checks that the signature covers an id-ct-TSTInfo
// content type and an ESS signing-certificate attribute whose first entry is
// the hash of the signer certificate (RFC 3161 section 2.4.1, RFC 5816). The
// ESS attribute binds the certificate into the signature, so a certificate
// with the same issuer, serial number and key cannot be substituted.
func checkSignedAttributes(attrs []attribute, signer *x509.Certificate) error {
	var contentType asn1.ObjectIdentifier
	found, err := unmarshalAttribute(attrs, pkcs7.OIDAttributeContentType, &contentType)
	if err != nil {
		return err
	}
	if !found {
		return errors.New("timestamp: token has no signed content-type attribute")
	}
	if !contentType.Equal(oidTSTInfo) {
		return fmt.Errorf("timestamp: token content type %s, want id-ct-TSTInfo", contentType)
	}

	var v1 signingCertificate
	foundV1, err := unmarshalAttribute(attrs, oidSigningCertificate, &v1)
	if err != nil {
		return err
	}
	var v2 signingCertificateV2
	foundV2, err := unmarshalAttribute(attrs, oidSigningCertificateV2, &v2)
	if err != nil {
		return err
	}
	if !foundV1 && !foundV2 {
		return errors.New("timestamp: token has no signing-certificate attribute")
	}
	if foundV1 {
		if len(v1.Certs) == 0 {
			return errors.New("timestamp: signing-certificate attribute is empty")
		}
		if err := matchCertHash(crypto.SHA1, v1.Certs[0].CertHash, signer); err != nil {
			return err
		}
	}
	if foundV2 {
		if len(v2.Certs) == 0 {
			return errors.New("timestamp: signing-certificate-v2 attribute is empty")
		}
		id := v2.Certs[0]
		var h crypto.Hash
		switch alg := id.HashAlgorithm.Algorithm; {
		case len(alg) == 0, alg.Equal(oidSHA256):
			h = crypto.SHA256
		case alg.Equal(oidSHA384):
			h = crypto.SHA384
		case alg.Equal(oidSHA512):
			h = crypto.SHA512
		default:
			return fmt.Errorf("timestamp: signing-certificate-v2 uses unsupported hash %s", alg)
		}
		if err := matchCertHash(h, id.CertHash, signer); err != nil {
			return err
		}
	}
	return nil
}

func matchCertHash(h crypto.Hash, want []byte, cert *x509.Certificate) error {
	var got []byte
	switch h {
	case crypto.SHA1:
		s := sha1.Sum(cert.Raw)
		got = s[:]
	case crypto.SHA256:
		s := sha256.Sum256(cert.Raw)
		got = s[:]
	case crypto.SHA384:
		s := sha512.Sum384(cert.Raw)
		got = s[:]
	case crypto.SHA512:
		s := sha512.Sum512(cert.Raw)
		got = s[:]
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("timestamp: signing-certificate attribute does not name the signer certificate %q", cert.Subject)
	}
	return nil
}

// attribute is a CMS signed attribute: a type and the SET of its values.
// It copies pkcs7's unexported type of the same name.
type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// unmarshalAttribute decodes the first value of the first attribute of type
// oid into out and reports whether there was one. Unlike pkcs7's own helper
// it tells an absent attribute from a malformed one.
func unmarshalAttribute(attrs []attribute, oid asn1.ObjectIdentifier, out any) (bool, error) {
	for _, a := range attrs {
		if !a.Type.Equal(oid) {
			continue
		}
		if _, err := asn1.Unmarshal(a.Value.Bytes, out); err != nil {
			return true, fmt.Errorf("timestamp: signed attribute %s: %w", oid, err)
		}
		return true, nil
	}
	return false, nil
}
