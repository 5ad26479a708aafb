// SPDX-License-Identifier: Apache-2.0

package web

import (
	"io"
	"mime"
	"net/http"
	"time"
)

// Transport limits. A connection that sends nothing useful must not hold
// one of the process's file descriptors for long, whoever opens it:
//
//   - a request's headers must arrive within ServerLimits.HeaderTimeout,
//     and its headers and body within ServerLimits.ReadTimeout;
//   - a signed-in user's write (an upload of gigabytes) is instead cut
//     only once no byte of its body has arrived for stallTimeout;
//   - a response is cut once the client has taken no byte of it for
//     stallTimeout, however long the whole download lasts;
//   - an idle keep-alive connection is closed after ServerLimits.IdleTimeout;
//   - a request body is at most maxBody bytes, except multipart uploads,
//     which only routes that need a signed-in writer read, under their
//     own limit (maxUpload).
const (
	maxBody        = 1 << 20
	maxHeaderBytes = 64 << 10
	stallTimeout   = time.Minute
	hstsMaxAge     = "max-age=31536000" // one year
)

// ServerLimits are an http.Server's timeouts. Zero fields take defaults.
type ServerLimits struct {
	HeaderTimeout time.Duration // default 10s
	ReadTimeout   time.Duration // default 60s
	IdleTimeout   time.Duration // default 2m
}

// NewServer returns an http.Server serving h with groundtruth's
// transport limits.
func NewServer(h http.Handler, l ServerLimits) *http.Server {
	def := func(d, v time.Duration) time.Duration {
		if d <= 0 {
			return v
		}
		return d
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: def(l.HeaderTimeout, 10*time.Second),
		ReadTimeout:       def(l.ReadTimeout, time.Minute),
		IdleTimeout:       def(l.IdleTimeout, 2*time.Minute),
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// transport applies the per-request limits: bounded bodies, write
// deadlines that move with progress, and HSTS when the client reached us
// over HTTPS.
func (s *server) transport(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.secure(r) {
			w.Header().Set("Strict-Transport-Security", hstsMaxAge)
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		h.ServeHTTP(&progressWriter{ResponseWriter: w, rc: http.NewResponseController(w)}, r)
	})
}

// secure reports whether the client reached this server, or the trusted
// proxy in front of it, over HTTPS, or the operator said it always does.
func (s *server) secure(r *http.Request) bool {
	_, https := s.client(r)
	return s.secureCookies || https
}

// progressWriter moves the connection's write deadline stallTimeout ahead
// of each write, so that a large download to a slow client lasts as long
// as it keeps reading, and a client that stops reading is cut.
type progressWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	next time.Time // when the deadline is next moved (at most once a second)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	if now := time.Now(); !now.Before(p.next) {
		p.rc.SetWriteDeadline(now.Add(stallTimeout)) // an error means no deadline is supported: nothing to move
		p.next = now.Add(time.Second)
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// progressReader moves the connection's read deadline stallTimeout ahead
// of each read of a body, for uploads that may take longer than the
// server's ReadTimeout.
type progressReader struct {
	io.ReadCloser
	rc   *http.ResponseController
	next time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	if now := time.Now(); !now.Before(p.next) {
		p.rc.SetReadDeadline(now.Add(stallTimeout))
		p.next = now.Add(time.Second)
	}
	return p.ReadCloser.Read(b)
}

// readWhileProgressing lifts the ReadTimeout from r's body: it is read as
// long as bytes keep coming. Only for signed-in writers.
func readWhileProgressing(w http.ResponseWriter, r *http.Request) {
	r.Body = &progressReader{ReadCloser: r.Body, rc: http.NewResponseController(w)}
}
