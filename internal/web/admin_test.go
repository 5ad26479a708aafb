// SPDX-License-Identifier: Apache-2.0

package web

import (
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/account"
)

// session signs name in directly and returns a cookie header that stays
// the same across requests, as a browser's would.
func (s *site) session(t *testing.T, name string) map[string]string {
	t.Helper()
	secret, hashed, _ := account.NewSecret("gts_")
	if err := s.st.CreateSession(t.Context(), hashed, name, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"Cookie": sessionCookie + "=" + secret}
}

// token creates an API token through the API, from a session of name.
func (s *site) token(t *testing.T, cookie map[string]string) (id, bearer string) {
	t.Helper()
	resp := s.do(t, account.Public, "POST", "/api/v1/tokens", `{"label":"script","scope":"write"}`, cookie)
	var created struct{ ID, Token string }
	jsonDecode(t, resp, &created)
	if resp.StatusCode != 201 {
		t.Fatalf("create token: %d", resp.StatusCode)
	}
	return created.ID, "Bearer " + created.Token
}

func (s *site) status(t *testing.T, method, path, body string, hdr map[string]string) int {
	t.Helper()
	resp := s.do(t, account.Public, method, path, body, hdr)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// logged reports whether the access log holds an entry by user of action
// on subject with reason.
func (s *site) logged(t *testing.T, user, action, subject, reason string) bool {
	t.Helper()
	log, err := s.st.AccessLog(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range log {
		if a.User == user && a.Action == action && strings.HasPrefix(a.Subject, subject) && strings.Contains(a.Reason, reason) {
			return true
		}
	}
	return false
}

func TestAccountLifecycle(t *testing.T) {
	s := newSite(t)
	admin := s.users[account.Admin]
	// s.do with role Admin adds a fresh admin session to each request.
	adminPost := func(t *testing.T, path string, form url.Values) int {
		t.Helper()
		resp := s.do(t, account.Admin, "POST", path, form.Encode(), nil)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("disabling ends the session and the token at once", func(t *testing.T) {
		name := s.users[account.Analyst]
		cookie := s.session(t, name)
		_, bearer := s.token(t, cookie)
		if got := s.status(t, "GET", "/api/v1/tokens", "", cookie); got != 200 {
			t.Fatalf("session before disabling: %d, want 200", got)
		}
		if got := adminPost(t, "/admin/users/"+name+"/disable", url.Values{"reason": {"laptop stolen"}}); got != 303 {
			t.Fatalf("disable: %d, want 303", got)
		}
		if got := s.status(t, "GET", "/api/v1/tokens", "", cookie); got != 401 {
			t.Errorf("session after disabling: GET /api/v1/tokens = %d, want 401", got)
		}
		if got := s.status(t, "GET", "/api/v1/incidents", "", map[string]string{"Authorization": bearer}); got != 401 {
			t.Errorf("token after disabling: GET /api/v1/incidents = %d, want 401", got)
		}
		if !s.logged(t, admin, "disable_user", name, "laptop stolen") || !s.logged(t, admin, "revoke_token", name, "laptop stolen") {
			t.Errorf("the access log does not hold the disabling and the revoked token, by %s with the reason", admin)
		}
		// Signing in is refused exactly as for a wrong password.
		right := s.do(t, account.Public, "POST", "/login", url.Values{"name": {name}, "password": {"a long test password"}}.Encode(), nil)
		rightBody, _ := io.ReadAll(right.Body)
		right.Body.Close()
		wrong := s.do(t, account.Public, "POST", "/login", url.Values{"name": {s.users[account.Viewer]}, "password": {"not the password at all"}}.Encode(), nil)
		wrongBody, _ := io.ReadAll(wrong.Body)
		wrong.Body.Close()
		if right.StatusCode != wrong.StatusCode || string(rightBody) != string(wrongBody) {
			t.Errorf("sign-in of a disabled account: %d, want the wrong-password answer %d with the same page", right.StatusCode, wrong.StatusCode)
		}
		if got := adminPost(t, "/admin/users/"+name+"/enable", url.Values{"reason": {"laptop found"}}); got != 303 {
			t.Fatalf("enable: %d, want 303", got)
		}
		if got := s.status(t, "GET", "/api/v1/tokens", "", cookie); got != 401 {
			t.Errorf("old session after enabling: %d, want 401 (sessions stay ended)", got)
		}
	})

	t.Run("a role change counts from the next request", func(t *testing.T) {
		name := s.users[account.Viewer]
		cookie := s.session(t, name)
		body := `{"assessment":{},"reason":"x"}`
		if got := s.status(t, "POST", "/api/v1/assessments", body, cookie); got != 403 {
			t.Fatalf("viewer writing an assessment: %d, want 403", got)
		}
		if got := adminPost(t, "/admin/users/"+name+"/role", url.Values{"role": {"analyst"}, "reason": {"joined the desk"}}); got != 303 {
			t.Fatalf("role: %d, want 303", got)
		}
		if got := s.status(t, "POST", "/api/v1/assessments", body, cookie); got == 403 || got == 401 {
			t.Errorf("analyst writing an assessment with the same session: %d, want access", got)
		}
		if !s.logged(t, admin, "set_role", name, "joined the desk") {
			t.Errorf("the access log does not hold the role change")
		}
		adminPost(t, "/admin/users/"+name+"/role", url.Values{"role": {"viewer"}, "reason": {"back"}})
	})

	t.Run("an admin revokes another's token", func(t *testing.T) {
		name := s.users[account.Editor]
		id, bearer := s.token(t, s.session(t, name))
		page := s.do(t, account.Admin, "GET", "/admin/users/"+name, "", nil)
		b, _ := io.ReadAll(page.Body)
		page.Body.Close()
		if page.StatusCode != 200 || !strings.Contains(string(b), id) {
			t.Errorf("account page: %d, want 200 listing token %s", page.StatusCode, id)
		}
		if got := adminPost(t, "/admin/users/"+name+"/revoke", url.Values{"token": {id}}); got != 400 {
			t.Errorf("revoke without a reason: %d, want 400", got)
		}
		if got := adminPost(t, "/admin/users/"+name+"/revoke", url.Values{"token": {id}, "reason": {"leaked in a chat"}}); got != 303 {
			t.Fatalf("revoke: %d, want 303", got)
		}
		if got := s.status(t, "GET", "/api/v1/incidents", "", map[string]string{"Authorization": bearer}); got != 401 {
			t.Errorf("revoked token: %d, want 401", got)
		}
		if !s.logged(t, admin, "revoke_token", name+" "+id, "leaked in a chat") {
			t.Errorf("the access log does not hold the revocation")
		}
	})

	t.Run("the last admin can be neither disabled nor demoted", func(t *testing.T) {
		if got := adminPost(t, "/admin/users/"+admin+"/disable", url.Values{"reason": {"r"}}); got != 409 {
			t.Errorf("disable the last admin: %d, want 409", got)
		}
		if got := adminPost(t, "/admin/users/"+admin+"/role", url.Values{"role": {"viewer"}, "reason": {"r"}}); got != 409 {
			t.Errorf("demote the last admin: %d, want 409", got)
		}
	})

	t.Run("account list", func(t *testing.T) {
		resp := s.do(t, account.Admin, "GET", "/admin/users", "", nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), s.users[account.Analyst]) {
			t.Errorf("GET /admin/users: %d, want 200 listing every account", resp.StatusCode)
		}
		if got := s.status(t, "GET", "/admin/users", "", s.session(t, s.users[account.Editor])); got != 403 {
			t.Errorf("GET /admin/users as an editor: %d, want 403", got)
		}
	})
}
