// SPDX-License-Identifier: Apache-2.0

package web

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/store"
)

const anaPassword = "ana's long sign-in password"

// newAuthServer returns the web handler over a fresh store holding one
// viewer, ana.
func newAuthServer(t *testing.T, cfg Config) (http.Handler, *store.Store) {
	t.Helper()
	st, err := store.Create(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hash, err := account.HashPassword(anaPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(t.Context(), store.User{Name: "ana", Role: string(account.Viewer), PasswordHash: hash}, "test"); err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Log = st, slog.New(slog.DiscardHandler)
	return New(cfg), st
}

// signIn posts the sign-in form to h as a request from remote (host:port),
// with the given cookies, and returns the answer.
func signIn(h http.Handler, remote, name, password, next string, cookies ...*http.Cookie) *http.Response {
	form := url.Values{"name": {name}, "password": {password}, "next": {next}}.Encode()
	req := httptest.NewRequest("POST", "http://groundtruth.example/login", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = remote
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// residentGoMemory is the memory the Go runtime holds from the system
// and has not returned to it: what the operating system counts against
// the process, less C and stacks of other threads.
func residentGoMemory() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// TestSignInMemoryCeiling sends 200 wrong sign-ins at once, from one
// address and from 200 addresses, to a real loopback server: the server
// must stay up, hold at most the documented memory, and answer every
// attempt it did not check with 429 and Retry-After.
func TestSignInMemoryCeiling(t *testing.T) {
	for _, spread := range []bool{false, true} {
		t.Run(fmt.Sprintf("many addresses %v", spread), func(t *testing.T) {
			var proxies []string
			if spread {
				proxies = []string{"127.0.0.0/8"}
			}
			h, _ := newAuthServer(t, Config{TrustedProxies: mustPrefixes(t, proxies...)})
			srv := httptest.NewServer(h)
			defer srv.Close()
			debug.FreeOSMemory()
			baseline := residentGoMemory()
			ceiling := 2*baseline + signInMemory(defaultPasswordChecks())

			stop, peakc := make(chan struct{}), make(chan uint64)
			go func() {
				var peak uint64
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				for {
					peak = max(peak, residentGoMemory())
					select {
					case <-stop:
						peakc <- peak
						return
					case <-tick.C:
					}
				}
			}()
			const n = 200
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				counts = map[int]int{}
				bad    []string
			)
			client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}}
			for i := range n {
				wg.Go(func() {
					form := url.Values{"name": {fmt.Sprintf("user%d", i%7)}, "password": {"a wrong password, long enough"}}.Encode()
					req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(form))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					if spread {
						req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
					}
					resp, err := client.Do(req)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						bad = append(bad, err.Error())
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					counts[resp.StatusCode]++
					if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
						bad = append(bad, "429 without Retry-After")
					}
					if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusUnauthorized {
						bad = append(bad, fmt.Sprintf("status %d", resp.StatusCode))
					}
				})
			}
			wg.Wait()
			close(stop)
			peak := <-peakc
			t.Logf("200 parallel wrong sign-ins: %v; peak Go memory %d MiB (baseline %d MiB, ceiling %d MiB)",
				counts, peak>>20, baseline>>20, ceiling>>20)
			if len(bad) > 0 {
				t.Errorf("answers: %d bad, first %s", len(bad), bad[0])
			}
			if counts[http.StatusTooManyRequests] == 0 {
				t.Errorf("no attempt was throttled: %v", counts)
			}
			if peak > ceiling {
				t.Errorf("peak memory %d MiB, want at most %d MiB", peak>>20, ceiling>>20)
			}
			// The server is still up and still checks passwords.
			resp, err := http.Get(srv.URL + "/healthz")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET /healthz after the burst: %v %v", resp, err)
			}
			resp.Body.Close()
		})
	}
}

// TestThrottleCountsBeforeChecking: from one address, only the first few
// of many concurrent wrong attempts are checked; the rest are refused
// before any hashing.
func TestThrottleCountsBeforeChecking(t *testing.T) {
	h, _ := newAuthServer(t, Config{})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		checked int
	)
	for range 40 {
		wg.Go(func() {
			resp := signIn(h, "192.0.2.7:4000", "ana", "a wrong password, long enough", "")
			mu.Lock()
			defer mu.Unlock()
			if resp.StatusCode == http.StatusUnauthorized {
				checked++
			}
		})
	}
	wg.Wait()
	if checked > failuresBeforeDelay {
		t.Errorf("%d of 40 concurrent wrong passwords from one address were checked, want at most %d", checked, failuresBeforeDelay)
	}
}

// TestThirdPartyCannotLockOut: someone failing sign-ins as ana from
// many addresses must not stop ana signing in from her browser.
func TestThirdPartyCannotLockOut(t *testing.T) {
	// The throttle's clock stands still: on a loaded machine the attempts
	// below can take longer than the first delays, which would run out.
	stopped := time.Now()
	h, _ := newAuthServer(t, Config{Now: func() time.Time { return stopped }})
	const home = "203.0.113.5" // ana's address, shared (a NAT) with the attacker
	first := signIn(h, home+":1000", "ana", anaPassword, "")
	if first.StatusCode != http.StatusSeeOther {
		t.Fatalf("ana's first sign-in: %d, want 303", first.StatusCode)
	}
	var device *http.Cookie
	for _, c := range first.Cookies() {
		if c.Name == deviceCookie {
			device = c
		}
	}
	if device == nil {
		t.Fatalf("ana's sign-in set no %s cookie", deviceCookie)
	}
	// An attacker fails as ana from ana's address, then from 25 others.
	// (Only the first few are checked: the rest are refused unhashed.)
	for i := range failuresBeforeDelay {
		signIn(h, fmt.Sprintf("%s:%d", home, 2000+i), "ana", "guess number one two three", "")
	}
	for i := range 25 {
		if resp := signIn(h, fmt.Sprintf("198.51.100.%d:2000", i), "ana", "guess number one two three", ""); i == 24 && resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("guess as ana from a new address: %d, want 429 (an unknown browser is throttled by name)", resp.StatusCode)
		}
	}
	if resp := signIn(h, home+":3000", "dan", "guess number one two three", ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("guess as dan from the attacker's address: %d, want 429", resp.StatusCode)
	}
	t.Run("known browser", func(t *testing.T) {
		if resp := signIn(h, home+":1001", "ana", anaPassword, "", device); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("ana from her browser, at the attacker's address, during the attack: %d, want 303", resp.StatusCode)
		}
	})
	t.Run("cookie of another name or forged", func(t *testing.T) {
		// A device cookie passes the name's and the address's counts only
		// for the name it was issued to, and only as issued.
		tail := "AA"
		if strings.HasSuffix(device.Value, tail) {
			tail = "BB"
		}
		forged := &http.Cookie{Name: deviceCookie, Value: device.Value[:len(device.Value)-2] + tail}
		for _, tt := range []struct {
			name   string
			cookie *http.Cookie
		}{{"dan", device}, {"ana", forged}} {
			if resp := signIn(h, home+":4000", tt.name, "guess number one two three", "", tt.cookie); resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("guess as %s with cookie %q: %d, want 429", tt.name, tt.cookie.Value, resp.StatusCode)
			}
		}
	})
	t.Run("guessing with a known browser", func(t *testing.T) {
		// The device's own count: a stolen laptop guesses no faster
		// than anyone else.
		var resp *http.Response
		for i := range failuresBeforeDelay + 1 {
			resp = signIn(h, fmt.Sprintf("192.0.2.%d:1000", i), "ana", "guess number one two three", "", device)
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("guess %d with ana's device cookie: %d, want 429", failuresBeforeDelay+1, resp.StatusCode)
		}
	})
}

// TestSignInRedirect: whatever next= holds, the redirect after sign-in is
// a path on this site, also once a browser has stripped tabs and newlines
// and read backslashes as slashes.
func TestSignInRedirect(t *testing.T) {
	tests := []struct {
		next, want string
	}{
		{"", "/"},
		{"/incidents/x", "/incidents/x"},
		{"/incidents/x?after=a&b=c", "/incidents/x?after=a&b=c"},
		{"/\t/evil.example", ""},
		{"/%09/evil.example", ""},
		{"//evil.example", ""},
		{"/\\evil.example", ""},
		{"\\\\evil.example", ""},
		{"https://evil.example", ""},
		{"https:evil.example", ""},
		{"/%2F/evil.example", ""},
		{"/%5Cevil.example", ""},
		{"/\n/evil.example", ""},
		{"/\r\n/evil.example", ""},
		{" //evil.example", ""},
		{"javascript:alert(1)", ""},
		{"JavaScript:alert(1)", ""},
		{"/../..//evil.example", ""},
		{"/./\t/evil.example", ""},
		{"/@evil.example", ""},
		{"%2F%2Fevil.example", ""},
		{"/a\x00b", ""},
		{"/ok#frag", ""},
	}
	base, _ := url.Parse("https://groundtruth.example/login")
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.next), func(t *testing.T) {
			got := safeNext(tt.next)
			if tt.want != "" && got != tt.want {
				t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
			}
			// As a browser reads a Location: tabs and newlines removed,
			// backslashes as slashes.
			seen := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
			u, err := base.Parse(seen)
			if err != nil || u.Host != base.Host || u.Scheme != base.Scheme || !strings.HasPrefix(got, "/") || strings.HasPrefix(seen, "//") {
				t.Errorf("safeNext(%q) = %q, which a browser reads as %v (%v)", tt.next, got, u, err)
			}
		})
	}
	t.Run("after sign-in", func(t *testing.T) {
		h, _ := newAuthServer(t, Config{})
		resp := signIn(h, "192.0.2.1:1000", "ana", anaPassword, "/\t/evil.example")
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("sign-in with next=/%%09/evil.example: %d Location %q, want 303 to /", resp.StatusCode, loc)
		}
	})
}

func mustPrefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}
