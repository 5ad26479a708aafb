// SPDX-License-Identifier: Apache-2.0

package timestamp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	neturl "net/url"
	"time"

	rfc3161 "github.com/digitorus/timestamp"
)

const (
	// maxResponse bounds a TimeStampResp. Real responses, with a certificate
	// chain embedded, are a few KiB.
	maxResponse = 1 << 20
	// defaultTimeout applies when ctx has no deadline, so that a silent TSA
	// cannot hold a publisher forever.
	defaultTimeout = 30 * time.Second
)

// Request asks the TSA at url for a time-stamp token over SHA-256(data) and
// returns the full response after [Verify] with the request's nonce.
//
// The request is a DER TimeStampReq (RFC 3161 section 3.4) for a SHA-256
// message imprint, with a random 64-bit nonce and certReq set so that the
// token embeds the TSA certificate. A nil client means
// [http.DefaultClient]; without a ctx deadline a 30-second one applies.
//
// Request cannot check the TSA certificate chain, because it is not given
// roots: callers must verify Response.DER against the TSA roots with
// [Verify] before relying on it.
func Request(ctx context.Context, client *http.Client, url string, data []byte) (*Response, error) {
	u, err := neturl.Parse(url)
	if err != nil {
		// The parse error would quote the URL, and with it any password.
		return nil, errors.New("timestamp: request: invalid tsa url")
	}
	tsa := u.Redacted()
	if client == nil {
		client = http.DefaultClient
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}

	nonce, err := newNonce()
	if err != nil {
		return nil, fmt.Errorf("timestamp: request %s: %w", tsa, err)
	}
	digest := sha256.Sum256(data)
	req := rfc3161.Request{
		HashAlgorithm: crypto.SHA256,
		HashedMessage: digest[:],
		Nonce:         nonce,
		Certificates:  true,
	}
	query, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("timestamp: request %s: marshal: %w", tsa, err)
	}

	der, err := post(ctx, client, url, query)
	if err != nil {
		return nil, fmt.Errorf("timestamp: request %s: %w", tsa, err)
	}
	resp, err := Verify(der, data, nonce, nil)
	if err != nil {
		return nil, fmt.Errorf("timestamp: request %s: %w", tsa, err)
	}
	resp.TSA = tsa
	return resp, nil
}

// post sends a TimeStampReq and returns the body of a successful reply.
func post(ctx context.Context, client *http.Client, url string, query []byte) ([]byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(query))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/timestamp-query")
	hreq.Header.Set("Accept", "application/timestamp-reply")
	hresp, err := client.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer hresp.Body.Close()

	if hresp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("http status %s", hresp.Status)
	}
	if err := checkContentType(hresp.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("response larger than %d bytes", maxResponse)
	}
	return body, nil
}

// checkContentType accepts the RFC 3161 media type, the older
// application/timestamp-response some TSAs still send, a generic binary type
// and a missing header. The DER parse is the real check; this one only turns
// an HTML error page into a clear error.
func checkContentType(header string) error {
	if header == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return fmt.Errorf("content type %q: %w", header, err)
	}
	switch mt {
	case "application/timestamp-reply", "application/timestamp-response", "application/octet-stream":
		return nil
	}
	return fmt.Errorf("content type %q, want application/timestamp-reply", mt)
}

// newNonce returns a random non-negative 64-bit nonce.
func newNonce() (*big.Int, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return new(big.Int).SetBytes(b[:]), nil
}
