// SPDX-License-Identifier: Apache-2.0

package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"groundtruth/internal/account"
)

// Password guessing is slowed per key: the name tried and the client's
// address (an IPv6 client's /64), or, from a browser that signed in as that
// name before, that browser's device cookie alone. After
// failuresBeforeDelay attempts on a key that did not succeed, each further
// attempt must wait a delay that doubles up to maxDelay before it is even
// checked.
//
// An attempt is counted before its password is hashed, so concurrent
// attempts cannot all slip past the count; an attempt that is right takes
// its count back, and one refused before hashing (the server was busy) is
// not counted.
//
// The device cookie is what keeps a third party from locking a user out:
// whoever fails as "ana", from anywhere or from ana's own address, delays
// every browser that has not signed in as ana, but not ana's own browsers,
// which carry a cookie only a successful sign-in as ana issues. Each such
// cookie has its own count, so a stolen laptop guesses no faster than
// anyone else.
const (
	failuresBeforeDelay = 5
	maxDelay            = 15 * time.Minute
	// forgetAfter is how long a key's count is kept after its last
	// attempt. Sweeping forgotten keys bounds the memory an attacker
	// spraying names or addresses can make the throttle hold.
	forgetAfter = 24 * time.Hour
	sweepEvery  = time.Minute

	deviceCookie = "gt_device"
	deviceTTL    = 365 * 24 * time.Hour
)

// delay is how long must pass after the last of n attempts on one key
// before the next is checked.
func delay(n int) time.Duration {
	if n < failuresBeforeDelay {
		return 0
	}
	return min(time.Second<<min(n-failuresBeforeDelay, 10), maxDelay)
}

type attempts struct {
	n    int       // attempts that did not succeed (counted before checking)
	last time.Time // the latest of them
}

type throttle struct {
	mu    sync.Mutex
	keys  map[string]attempts
	swept time.Time
	now   func() time.Time // the clock: time.Now, or a test's
}

func newThrottle() *throttle { return &throttle{keys: map[string]attempts{}, now: time.Now} }

// begin counts an attempt on every key and returns 0, or, if any key must
// still wait, counts nothing and returns how long.
func (t *throttle) begin(keys []string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		a := t.keys[k]
		wait = max(wait, a.last.Add(delay(a.n)).Sub(now))
	}
	if wait > 0 {
		return wait
	}
	for _, k := range keys {
		a := t.keys[k]
		t.keys[k] = attempts{n: a.n + 1, last: now}
	}
	if now.Sub(t.swept) > sweepEvery {
		t.swept = now
		for k, a := range t.keys {
			if now.Sub(a.last) > forgetAfter {
				delete(t.keys, k)
			}
		}
	}
	return 0
}

// fail records that the attempt counted on keys was wrong: the delay
// runs from now, the end of its check, not from its start.
func (t *throttle) fail(keys []string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if a, ok := t.keys[k]; ok && now.After(a.last) {
			t.keys[k] = attempts{n: a.n, last: now}
		}
	}
}

// undo takes back an attempt counted by begin on keys.
func (t *throttle) undo(keys []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if a := t.keys[k]; a.n > 1 {
			t.keys[k] = attempts{n: a.n - 1, last: a.last}
		} else {
			delete(t.keys, k)
		}
	}
}

// succeed records that the attempt counted on keys was right: the first
// key (the name, or the device) starts afresh; the others only take back
// this attempt, since an address may be guessing many names.
func (t *throttle) succeed(keys []string) {
	t.mu.Lock()
	delete(t.keys, keys[0])
	t.mu.Unlock()
	t.undo(keys[1:])
}

// attemptKeys returns the throttle's keys for an attempt to sign in as
// name: the name and the address, or, from a browser known for name, its
// device alone. Such a cookie comes only from a right password for name,
// and its own count bounds its guesses, so neither the name's count nor
// the address's (shared with whoever else is behind it) can stop it.
func (s *server) attemptKeys(name string, r *http.Request) []string {
	if c, err := r.Cookie(deviceCookie); err == nil {
		if id, ok := s.devices.verify(c.Value, name); ok {
			return []string{"device:" + id}
		}
	}
	first := "user:" + name
	a := s.clientAddr(r)
	if a.Is6() && !a.Is4In6() {
		// One client usually holds a whole /64.
		p, _ := a.Prefix(64)
		return []string{first, "addr:" + p.String()}
	}
	return []string{first, "addr:" + a.String()}
}

// devices issues and checks device cookies:
//
//	name ":" id ":" base64url(HMAC-SHA256(key, "groundtruth device\x00" name "\x00" id)[:16])
//
// where id is 96 random bits in base64url. Names cannot hold ':'.
type devices struct{ key []byte }

func (d devices) mac(name, id string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte("groundtruth device\x00" + name + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func (d devices) issue(name string) string {
	b := make([]byte, 12)
	rand.Read(b) // never fails (crypto/rand)
	id := base64.RawURLEncoding.EncodeToString(b)
	return name + ":" + id + ":" + d.mac(name, id)
}

// verify returns the device id of a cookie value issued for name.
func (d devices) verify(value, name string) (id string, ok bool) {
	parts := strings.Split(value, ":")
	if len(parts) != 3 || parts[0] != name || len(parts[1]) != 16 {
		return "", false
	}
	return parts[1], hmac.Equal([]byte(parts[2]), []byte(d.mac(name, parts[1])))
}

// Password checks are bounded: each argon2id check holds
// account.HashMemory, so at most checkSlots run at once and a few more
// wait, each for at most checkWait; the rest are refused at once (429).
const (
	checkWait     = 3 * time.Second
	waitingPerRun = 4 // attempts that may wait for a slot, per slot
)

// defaultPasswordChecks is how many password checks run at once: each
// uses two threads, so half the processors keep them all busy.
func defaultPasswordChecks() int { return min(max(runtime.GOMAXPROCS(0)/2, 1), 4) }

// signInMemory is the most memory n concurrent password checks take,
// beside twice the server's baseline heap: each check's hash memory
// three times. A check's memory is garbage only once it ends, the garbage
// collector lets the heap grow to twice what was live when it last ran
// (baseline included), and it collects concurrently, so the next check
// may allocate its memory while a cycle is still marking. Plus 32 MiB for
// the connections and requests of waiting and refused attempts.
func signInMemory(n int) uint64 { return 3*uint64(n)*account.HashMemory + 32<<20 }

type checkSlots struct {
	run      chan struct{}
	waiting  atomic.Int64
	maxWait  int64
	waitTime time.Duration
}

func newCheckSlots(n int) *checkSlots {
	if n <= 0 {
		n = defaultPasswordChecks()
	}
	return &checkSlots{run: make(chan struct{}, n), maxWait: int64(n * waitingPerRun), waitTime: checkWait}
}

// acquire takes a slot, waiting briefly if there is room in the queue; it
// reports whether it got one. The caller releases a slot it got.
func (c *checkSlots) acquire(ctx context.Context) bool {
	select {
	case c.run <- struct{}{}:
		return true
	default:
	}
	if c.waiting.Add(1) > c.maxWait {
		c.waiting.Add(-1)
		return false
	}
	defer c.waiting.Add(-1)
	timer := time.NewTimer(c.waitTime)
	defer timer.Stop()
	select {
	case c.run <- struct{}{}:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (c *checkSlots) release() { <-c.run }

// hostAddr is a peer's address, or the unspecified address if RemoteAddr
// is not an address (as in some tests).
func hostAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return a.Unmap()
	}
	return netip.IPv6Unspecified()
}
