// SPDX-License-Identifier: Apache-2.0

// Package timestamp obtains and verifies RFC 3161 time-stamp tokens over
// transparency-log checkpoints.
//
// A token from a Time-Stamping Authority (TSA) proves that a checkpoint body
// existed at the token's genTime. [Request] sends a TimeStampReq with a
// SHA-256 digest and a fresh nonce to one TSA and returns the full
// TimeStampResp exactly as received, so that it can be stored beside the
// checkpoint and checked later by anyone, with our code or with
// `openssl ts -verify`. [Verify] re-checks a stored response.
//
// Parsing is done by [github.com/digitorus/timestamp], which checks the CMS
// signature only against the certificates embedded in the token (and not at
// all when none are embedded). This package closes the gaps listed in
// the ledger design (ledger.md section 7), following the checks of
// sigstore/timestamp-authority pkg/verification without importing that
// module.
//
// # What is checked
//
//   - The TimeStampResp status is granted (grantedWithMods is refused).
//   - The token has exactly one signer, whose certificate is embedded in the
//     token, and the CMS signature verifies with that certificate using
//     SHA-2 (crypto/x509 alone would accept SHA-1). The signer is the
//     certificate named by the SignerInfo, never merely some embedded
//     certificate (GHSA-xm5m-wgh2-rrg3).
//   - The signed content-type attribute is id-ct-TSTInfo, and the signed
//     SigningCertificate or SigningCertificateV2 attribute (ESSCertID) names
//     the signer certificate by hash, so the certificate cannot be swapped.
//   - The signer certificate is an end entity whose only extended key usage is
//     id-kp-timeStamping and is marked critical (RFC 3161 section 2.3; openssl
//     requires the same), and it was valid at genTime.
//   - When roots are given, the signer certificate chains to one of them at
//     genTime, every certificate on the chain permitting timeStamping, using
//     the other embedded certificates as intermediates. Checking at genTime
//     rather than now keeps old tokens verifiable after the TSA certificate
//     expires (`openssl ts -verify` checks at the current time unless given
//     -attime).
//   - The message imprint uses SHA-256 (other algorithms are refused) and
//     equals SHA-256 of the data; a token for other data gives [ErrMismatch].
//   - When a nonce is given, the token carries the same nonce, which shows the
//     response was made for our request and not replayed.
//
// # What is not checked
//
//   - Revocation (CRL or OCSP) of the TSA certificates: a court or auditor
//     checking a token years later has to decide about revocation with the
//     TSA's published status at that time.
//   - The TSA policy OID and the TSA name field: the policy is returned for
//     the caller to compare with the TSA's published policy.
//   - Accuracy and ordering: genTime is reported as is, with its accuracy.
//   - Signers identified by subject key identifier rather than issuer and
//     serial number are not supported; such tokens are refused.
//
// Responses are untrusted input: malformed ones give errors, never panics,
// even where the underlying parsers would panic (see FuzzVerify).
//
// Without roots, [Verify] proves only that the response is internally
// consistent and covers the data. It says nothing about who issued it, so
// stored tokens must be verified against the published TSA roots before they
// are relied on.
package timestamp
