// SPDX-License-Identifier: Apache-2.0

// Package warc writes captures as [WARC 1.1] files and packs them into
// [WACZ 1.1.1] files, with a CDXJ index, so that what we received, and when, can be
// replayed and re-checked by other tools.
//
// Records are built and serialised by [github.com/nlnwa/gowarc/v3]; this
// package decides what goes into them and frames the file.
//
// # WARC files
//
// A [Writer] writes one .warc.gz file with one gzip member per record, so a
// record can be read by seeking to its offset (the CDXJ offsets and lengths
// address whole members). Every record has a urn:uuid WARC-Record-ID, a
// WARC-Date in UTC (W3C date-time with up to nine fractional digits), a
// Content-Length and a WARC-Block-Digest. The first record is a warcinfo
// record (application/warc-fields: software, operator, hostname,
// http-header-user-agent, format, conformsTo) carrying WARC-Filename; every
// other record carries WARC-Warcinfo-ID pointing to it. All records of one
// capture event carry that event's date.
//
// [Writer.Exchange] writes a response then a request record
// (application/http;msgtype=response|request) with WARC-Target-URI,
// WARC-IP-Address and WARC-Concurrent-To naming each other, and, for HTTPS,
// a resource record with the server's certificate chain as PEM
// (application/x-pem-file), WARC-Concurrent-To the response. The HTTP
// messages are stored byte for byte as they crossed the wire. Target URIs
// are written as given when ASCII and otherwise in their WHATWG ASCII form
// (punycode host, percent-encoded path), because WARC-Target-URI is an RFC
// 3986 URI and readers such as warcio decode WARC headers as Latin-1.
//
// # Digests
//
// Digests are sha256 in lowercase base16 ("sha256:9f86d0…"), the encoding
// gowarc recommends and exact-string verifiers expect. Response, request and
// resource records also carry WARC-Payload-Digest: for resource records over
// the whole block; for HTTP records over the message body after the head.
//
// The body is digested as it was transmitted: content-encoded bodies (gzip,
// br) are digested compressed, which is the WARC definition, and chunked
// bodies are digested with their chunk framing. WARC 1.1 section 6.3.2 says
// the payload of an http(s) response has any transfer-encoding removed, but
// gowarc (which we use to validate) and Python warcio's `check` recompute
// the digest over the raw body, as most writers have done (see
// iipc/warc-specifications#22 and webrecorder/warcio#74), so a spec-exact
// digest would make those validators report every chunked response as
// damaged. We choose agreement with the validators; the consequence is that
// the same
// content fetched once chunked and once not gets different payload digests,
// so payload-digest deduplication misses it. CDXJ digests are copied from
// the WARC-Payload-Digest header by us and by warcio, so the indexes agree
// either way.
//
// # CDXJ
//
// [Index] builds the CDXJ index WriteWACZ stores, matching warcio.js
// `cdx-index --format cdxj` (checked by this package's tests) record for
// record, with one exception: the certificate-chain resource records are not
// indexed, because they share the response's URL and timestamp and would
// otherwise sort before it (application/x-pem-file < text/html) and could be
// served by a replay tool instead of the page. Keys are SURTs as
// computed by [SURT].
//
// # WACZ
//
// [WriteWACZ] writes a deterministic WACZ 1.1.1 file and [VerifyWACZ]
// re-checks one as py-wacz `wacz validate` does. Signing datapackage.json
// and time-stamping it are done elsewhere.
//
// [WARC 1.1]: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/
// [WACZ 1.1.1]: https://specs.webrecorder.net/wacz/1.1.1/
package warc
