// SPDX-License-Identifier: Apache-2.0

package web

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTricklingConnectionsAreCut opens 300 connections that send a
// request's headers, or a sign-in's body, one byte at a time: the server
// must close every one within its read timeouts, and still answer a
// normal request meanwhile.
func TestTricklingConnectionsAreCut(t *testing.T) {
	h, _ := newAuthServer(t, Config{})
	srv := NewServer(h, ServerLimits{HeaderTimeout: 2 * time.Second, ReadTimeout: 3 * time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()

	const n = 300
	headers := "GET /healthz HTTP/1.1\r\nHost: groundtruth.example\r\nUser-Agent: trickle\r\n"
	body := "POST /login HTTP/1.1\r\nHost: groundtruth.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
	stop := make(chan struct{})
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }) }
	defer halt()
	var wg sync.WaitGroup
	cut := make(chan error, n)
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer c.Close()
		trickle := headers
		if i%2 == 1 {
			// The headers at once, then the body byte by byte.
			if _, err := io.WriteString(c, body); err != nil {
				t.Fatal(err)
			}
			trickle = strings.Repeat("a", 100000)
		}
		wg.Go(func() {
			for j := 0; ; j++ {
				if _, err := c.Write([]byte{trickle[j%len(trickle)]}); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		})
		go func() {
			// The server closes the connection, after an error answer or none.
			_, err := io.Copy(io.Discard, c)
			cut <- err
		}()
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz beside %d trickling connections: %v %v", n, resp, err)
	}
	resp.Body.Close()
	timeout := time.After(2 * time.Minute)
	for i := range n {
		select {
		case <-cut:
		case <-timeout:
			t.Fatalf("after 2 minutes, %d of %d trickling connections are still open (the server's read timeouts are 2s and 3s)", n-i, n)
		}
	}
	halt()
	wg.Wait()
	resp, err = http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz after the trickling connections: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestBodyLimits: a form body beyond maxBody is refused with 413, while
// a multipart upload is left to its route's own limit.
func TestBodyLimits(t *testing.T) {
	h, _ := newAuthServer(t, Config{})
	srv := NewServer(h, ServerLimits{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	big := "name=ana&password=" + strings.Repeat("x", maxBody)
	resp, err := http.Post("http://"+ln.Addr().String()+"/login", "application/x-www-form-urlencoded", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /login with a %d-byte form: %d, want 413", len(big), resp.StatusCode)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("plain HTTP answer has Strict-Transport-Security %q", got)
	}
}
