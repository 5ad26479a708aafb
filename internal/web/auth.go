// SPDX-License-Identifier: Apache-2.0

package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

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

func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login.html", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

// login checks a name and password. The attempt is counted by the
// throttle before the password is hashed, and hashing waits for one of a
// bounded number of slots (see throttle.go): together they bound both the
// guesses per second and the memory sign-in can take.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		code := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			code = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "sign-in: the form could not be read: send name and password as a form", code)
		return
	}
	name, password, next := r.PostFormValue("name"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	refuse := func(wait time.Duration, msg string) {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
		s.render(w, r, http.StatusTooManyRequests, "login.html", map[string]any{"Error": msg, "Next": next})
	}
	keys := s.attemptKeys(name, r)
	if wait := s.throttle.begin(keys, s.throttle.now()); wait > 0 {
		refuse(wait, "Too many failed attempts: wait and try again.")
		return
	}
	if !s.checks.acquire(ctx) {
		s.throttle.undo(keys) // not checked: not a guess
		refuse(checkWait, "The server is busy checking other sign-ins: try again in a few seconds.")
		return
	}
	u, err := s.st.GetUser(ctx, name)
	// Check a password even for an unknown name, so that timing does not
	// tell which names exist.
	var hash string
	if err == nil && !u.Disabled {
		hash = u.PasswordHash
	} else {
		hash = dummyHash()
	}
	ok := account.CheckPassword(hash, password) && err == nil && !u.Disabled
	s.checks.release()
	if !ok {
		s.throttle.fail(keys, s.throttle.now())
		s.log.InfoContext(ctx, "failed sign-in") // no name: it may be a password typed in the wrong field
		s.render(w, r, http.StatusUnauthorized, "login.html", map[string]any{"Error": "Wrong name or password.", "Next": next})
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
	secure := s.secure(r)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	// This browser is now known for this name: its attempts as this name
	// are no longer delayed by other people's failures.
	if !strings.HasPrefix(keys[0], "device:") {
		http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: s.devices.issue(u.Name), Path: "/login", HttpOnly: true,
			Secure: secure, SameSite: http.SameSiteStrictMode, MaxAge: int(deviceTTL.Seconds())})
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// dummyHash is the hash checked for a name that has no password, computed
// at the first such sign-in rather than when the package loads: it costs
// as much as any password check, and every command of the binary would
// pay for it.
var dummyHash = sync.OnceValue(func() string {
	h, err := account.HashPassword("not a password of anyone")
	if err != nil {
		panic("web: hash the dummy password: " + err.Error()) // only a broken random source
	}
	return h
})

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

// safeNext returns where to send a browser after sign-in: next if it is a
// path on this site, else "/". Browsers drop tabs and newlines from a
// Location and read a backslash as a slash, so "/\t/evil.example" or
// "/\\evil.example" would leave the site: next is parsed, refused if it
// names a scheme or host or holds a control character or backslash (raw
// or percent-encoded), and what is returned is rebuilt from its cleaned
// path and query, so it always starts with exactly one slash.
func safeNext(next string) string {
	const home = "/"
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || !clean(next) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !clean(u.Path) || !clean(u.RawQuery) {
		return home
	}
	q, err := url.QueryUnescape(u.RawQuery)
	if err != nil || !clean(q) {
		return home
	}
	p := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && p != "/" {
		p += "/"
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return home
	}
	out := (&url.URL{Path: p, RawQuery: u.RawQuery}).RequestURI()
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || !clean(out) {
		return home
	}
	return out
}

// clean reports whether s holds no control character and no backslash.
func clean(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' || unicode.IsControl(r) })
}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// fail answers an internal error without its details.
func (s *server) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.ErrorContext(r.Context(), what, slog.String("error", err.Error()))
	http.Error(w, "internal error: "+what, http.StatusInternalServerError)
}
