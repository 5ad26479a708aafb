// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// guardProxy is a forward HTTP proxy on a loopback port that connects only
// where the guard allows. yt-dlp does its own networking (extractor pages,
// redirects, CDN hops), so it is started with --proxy pointing here: every
// connection it makes, including redirects we never see, passes the same
// address check as our own fetches. HTTPS goes through CONNECT as an
// opaque tunnel, so those bytes are not recorded in the WARC; the
// downloaded file and yt-dlp's info JSON are recorded instead.
type guardProxy struct {
	g    *guard
	ln   net.Listener
	srv  *http.Server
	idle time.Duration // bound on each read and write of an upstream connection
}

// idleConn puts a deadline on every read and write, so that a server
// that goes silent mid-download cannot hold a tunnel, or yt-dlp, open.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c idleConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func startGuardProxy(g *guard, idle time.Duration) (*guardProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("capture: start guard proxy: %w", err)
	}
	p := &guardProxy{g: g, ln: ln, idle: idle}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *guardProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *guardProxy) Close() error { return p.srv.Close() }

func (p *guardProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "guard proxy: only absolute http:// requests and CONNECT", http.StatusBadRequest)
		return
	}
	target := r.URL.String()
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			c, _, err := p.g.dial(ctx, addr, target)
			if err != nil {
				return nil, err
			}
			return idleConn{c, p.idle}, nil
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Connection")
	out.Header.Del("Proxy-Authorization")
	resp, err := tr.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func (p *guardProxy) tunnel(w http.ResponseWriter, r *http.Request) {
	conn, _, err := p.g.dial(r.Context(), r.Host, "https://"+r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	upstream := idleConn{conn, p.idle}
	hj, ok := w.(http.Hijacker)
	if !ok {
		upstream.Close()
		http.Error(w, "guard proxy: cannot hijack", http.StatusInternalServerError)
		return
	}
	client, buf, err := hj.Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	done := make(chan struct{}, 2)
	go func() { io.Copy(upstream, buf); done <- struct{}{} }()
	go func() { io.Copy(client, upstream); done <- struct{}{} }()
	<-done
	client.Close()
	upstream.Close()
	<-done
}
