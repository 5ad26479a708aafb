// SPDX-License-Identifier: Apache-2.0

package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestClientAddr: forwarding headers give the client's address and scheme
// only from a trusted proxy, and then the rightmost hop that is not one.
func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:1::/48")}
	tests := []struct {
		name, header, remote string
		values               map[string]string
		wantAddr             string
		wantSecure           bool
	}{
		{"no proxy", HeaderXForwardedFor, "192.0.2.1:1000", nil, "192.0.2.1", false},
		{"untrusted peer's header ignored", HeaderXForwardedFor, "192.0.2.1:1000",
			map[string]string{"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"}, "192.0.2.1", false},
		{"trusted proxy", HeaderXForwardedFor, "10.0.0.2:1000",
			map[string]string{"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"}, "198.51.100.9", true},
		{"client-written hops to the left", HeaderXForwardedFor, "10.0.0.2:1000",
			map[string]string{"X-Forwarded-For": "1.1.1.1, 203.0.113.4, 198.51.100.9"}, "198.51.100.9", false},
		{"chain of trusted proxies", HeaderXForwardedFor, "10.0.0.2:1000",
			map[string]string{"X-Forwarded-For": "1.1.1.1, 198.51.100.9, 10.0.0.7, 10.0.0.3"}, "198.51.100.9", false},
		{"all trusted", HeaderXForwardedFor, "10.0.0.2:1000",
			map[string]string{"X-Forwarded-For": "10.0.0.9, 10.0.0.3"}, "10.0.0.9", false},
		{"port and brackets", HeaderXForwardedFor, "10.0.0.2:1000",
			map[string]string{"X-Forwarded-For": "[2001:db8:9::1]:4711"}, "2001:db8:9::1", false},
		{"from the proxy itself", HeaderXForwardedFor, "10.0.0.2:1000", nil, "10.0.0.2", false},
		{"Forwarded ignored when X-Forwarded-For is read", HeaderXForwardedFor, "10.0.0.2:1000",
			map[string]string{"Forwarded": "for=198.51.100.9;proto=https"}, "10.0.0.2", false},
		{"Forwarded", HeaderForwarded, "[2001:db8:1::5]:1000",
			map[string]string{"Forwarded": `for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.3;proto=http`},
			"2001:db8:cafe::17", true},
		{"Forwarded quoted separators", HeaderForwarded, "10.0.0.2:1000",
			map[string]string{"Forwarded": `for="198.51.100.9";by="a,b;c";proto=HTTPS`}, "198.51.100.9", true},
		{"Forwarded obfuscated hop", HeaderForwarded, "10.0.0.2:1000",
			map[string]string{"Forwarded": `for=198.51.100.9, for=_hidden`}, "10.0.0.2", false},
		{"X-Forwarded-For ignored when Forwarded is read", HeaderForwarded, "10.0.0.2:1000",
			map[string]string{"X-Forwarded-For": "198.51.100.9"}, "10.0.0.2", false},
		{"IPv4-mapped peer", HeaderXForwardedFor, "[::ffff:10.0.0.2]:1000",
			map[string]string{"X-Forwarded-For": "198.51.100.9"}, "198.51.100.9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &server{proxies: proxies, proxyHeader: tt.header}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for k, v := range tt.values {
				r.Header.Set(k, v)
			}
			addr, secure := s.client(r)
			if addr.String() != tt.wantAddr || secure != tt.wantSecure {
				t.Errorf("client(%s, %v) = %s, %v; want %s, %v", tt.remote, tt.values, addr, secure, tt.wantAddr, tt.wantSecure)
			}
		})
	}
}

// TestForwardedScheme: behind a trusted proxy that says the client used
// HTTPS, the session cookie is Secure and HSTS is sent; from an untrusted
// peer the same header changes nothing.
func TestForwardedScheme(t *testing.T) {
	h, _ := newAuthServer(t, Config{TrustedProxies: mustPrefixes(t, "10.0.0.0/8")})
	for _, tt := range []struct {
		remote string
		secure bool
	}{{"10.0.0.2:1000", true}, {"192.0.2.1:1000", false}} {
		req := httptest.NewRequest("POST", "http://groundtruth.example/login",
			strings.NewReader(url.Values{"name": {"ana"}, "password": {anaPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "198.51.100.9")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.RemoteAddr = tt.remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := rec.Result()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in from %s: %d", tt.remote, resp.StatusCode)
		}
		for _, c := range resp.Cookies() {
			if c.Secure != tt.secure {
				t.Errorf("from %s: cookie %s Secure = %v, want %v", tt.remote, c.Name, c.Secure, tt.secure)
			}
		}
		if got := resp.Header.Get("Strict-Transport-Security") != ""; got != tt.secure {
			t.Errorf("from %s: Strict-Transport-Security sent = %v, want %v", tt.remote, got, tt.secure)
		}
	}
	t.Run("--secure-cookies", func(t *testing.T) {
		h, _ := newAuthServer(t, Config{SecureCookies: true})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Header().Get("Strict-Transport-Security") == "" {
			t.Error("with SecureCookies, no Strict-Transport-Security")
		}
	})
}

// TestProxyThrottlesByClient: behind a trusted proxy, failures from one
// client do not delay another.
func TestProxyThrottlesByClient(t *testing.T) {
	h, _ := newAuthServer(t, Config{TrustedProxies: mustPrefixes(t, "10.0.0.0/8")})
	attempt := func(client, name string) int {
		req := httptest.NewRequest("POST", "http://groundtruth.example/login", strings.NewReader("name="+name+"&password=wrong-wrong-wrong"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", client)
		req.RemoteAddr = "10.0.0.2:1000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	var last int
	for i := range failuresBeforeDelay + 1 {
		last = attempt("198.51.100.9", "name"+string(rune('a'+i)))
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("guess %d from one client: %d, want 429", failuresBeforeDelay+1, last)
	}
	if got := attempt("203.0.113.4", "other"); got != http.StatusUnauthorized {
		t.Errorf("first guess from another client behind the same proxy: %d, want 401", got)
	}
}

func FuzzParseForwarded(f *testing.F) {
	for _, s := range []string{`for=192.0.2.60;proto=http;by=203.0.113.43`, `for="[2001:db8:cafe::17]:4711"`,
		`for=_hidden, for=unknown`, `for="\"", proto="a\\b"`, `;;,,=`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, h := range append(parseForwarded([]string{s}), parseXForwardedFor([]string{s}, []string{s})...) {
			if h.addr.IsValid() && h.addr.Is4In6() {
				t.Errorf("hop address %s is IPv4-mapped", h.addr)
			}
			if h.proto != strings.ToLower(h.proto) {
				t.Errorf("hop scheme %q not lower case", h.proto)
			}
		}
	})
}
