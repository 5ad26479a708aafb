// SPDX-License-Identifier: Apache-2.0

package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"groundtruth/internal/account"
)

// Sessions: a random secret in an HttpOnly, SameSite=Strict cookie, stored
// only as its hash; a new secret at every sign-in (no fixation), revoked at
// sign-out.
const (
	sessionCookie = "gt_session"
	sessionTTL    = 12 * time.Hour
)

// principal is who makes a request.
type principal struct {
	user  string       // "" for the public
	role  account.Role // public when not signed in
	token bool         // authenticated by an API token
	write bool         // the token's scope allows writes (sessions always do)
}

type ctxKey struct{}

func who(r *http.Request) principal {
	if p, ok := r.Context().Value(ctxKey{}).(principal); ok {
		return p
	}
	return principal{role: account.Public}
}

// identify finds the principal of a request: a bearer token, a session
// cookie, or the public. A presented credential that does not verify is an
// error, not the public: a client that meant to sign in must learn it did
// not.
func (s *server) identify(r *http.Request) (principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return principal{}, errors.New("the Authorization header must be 'Bearer TOKEN'")
		}
		u, scope, err := s.st.TokenUser(ctx, account.HashSecret(strings.TrimSpace(secret)))
		if err != nil {
			return principal{}, errors.New("the API token is unknown or revoked")
		}
		return principal{user: u.Name, role: account.Role(u.Role), token: true, write: scope == "write"}, nil
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		u, err := s.st.SessionUser(ctx, account.HashSecret(c.Value), time.Now())
		if err == nil {
			return principal{user: u.Name, role: account.Role(u.Role), write: true}, nil
		}
		// An expired or revoked session: treat as the public, the cookie
		// is cleared on the next sign-in.
	}
	return principal{role: account.Public}, nil
}

// throttle slows down password guessing: after 5 failures for one name or
// one address, each further attempt waits an exponentially growing time
// (capped at 15 minutes) before it is even checked.
type throttle struct {
	mu       sync.Mutex
	failures map[string]int
	until    map[string]time.Time
}

func newThrottle() *throttle {
	return &throttle{failures: map[string]int{}, until: map[string]time.Time{}}
}

func (t *throttle) keys(name string, r *http.Request) []string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return []string{"user:" + name, "addr:" + host}
}

// blocked returns how long a new attempt must wait.
func (t *throttle) blocked(keys []string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if d := t.until[k].Sub(now); d > wait {
			wait = d
		}
	}
	return wait
}

func (t *throttle) fail(keys []string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		t.failures[k]++
		if n := t.failures[k]; n >= 5 {
			d := time.Second << min(n-5, 10)
			t.until[k] = now.Add(min(d, 15*time.Minute))
		}
	}
}

func (t *throttle) succeed(keys []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys[:1] { // the address keeps its record: it may be guessing many names
		delete(t.failures, k)
		delete(t.until, k)
	}
}

func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login.html", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name, password := r.PostFormValue("name"), r.PostFormValue("password")
	keys := s.throttle.keys(name, r)
	if wait := s.throttle.blocked(keys, time.Now()); wait > 0 {
		w.Header().Set("Retry-After", strings.TrimSuffix((wait.Round(time.Second)+time.Second).String(), "s"))
		s.render(w, r, http.StatusTooManyRequests, "login.html", map[string]any{"Error": "Too many failed attempts: wait and try again.", "Next": safeNext(r.PostFormValue("next"))})
		return
	}
	u, err := s.st.GetUser(ctx, name)
	// Check a password even for an unknown name, so that timing does not
	// tell which names exist.
	hash := dummyHash
	if err == nil && !u.Disabled {
		hash = u.PasswordHash
	}
	if !account.CheckPassword(hash, password) || err != nil || u.Disabled {
		s.throttle.fail(keys, time.Now())
		s.log.InfoContext(ctx, "failed sign-in") // no name: it may be a password typed in the wrong field
		s.render(w, r, http.StatusUnauthorized, "login.html", map[string]any{"Error": "Wrong name or password.", "Next": safeNext(r.PostFormValue("next"))})
		return
	}
	s.throttle.succeed(keys)
	secret, hashed, err := account.NewSecret("gts_")
	if err == nil {
		err = s.st.CreateSession(ctx, hashed, u.Name, time.Now().Add(sessionTTL))
	}
	if err != nil {
		s.fail(w, r, "create session", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true,
		Secure: s.secureCookies || r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

var dummyHash, _ = account.HashPassword("not a password of anyone")

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.st.RevokeSession(r.Context(), account.HashSecret(c.Value)); err != nil {
			s.fail(w, r, "revoke session", err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// safeNext keeps redirects on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// fail answers an internal error without its details.
func (s *server) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.ErrorContext(r.Context(), what, slog.String("error", err.Error()))
	http.Error(w, "internal error: "+what, http.StatusInternalServerError)
}
