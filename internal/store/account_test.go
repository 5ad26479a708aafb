// SPDX-License-Identifier: Apache-2.0

package store_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/store"
)

func newAccounts(t *testing.T, users map[string]string) *store.Store {
	t.Helper()
	s, err := store.Create(t.Context(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for name, role := range users {
		if err := s.CreateUser(t.Context(), store.User{Name: name, Role: role, PasswordHash: "h"}, "setup"); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// credentials gives name a live session and a live token.
func credentials(t *testing.T, s *store.Store, name string) (session, token string) {
	t.Helper()
	session, token = "session-of-"+name, "token-of-"+name
	if err := s.CreateSession(t.Context(), session, name, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(t.Context(), store.Token{ID: "tok_" + name, User: name, Scope: "write", Label: "l"}, token); err != nil {
		t.Fatal(err)
	}
	return session, token
}

func TestCredentialsEnd(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *store.Store, c store.Change) error
		action string
	}{
		{"disable", func(s *store.Store, c store.Change) error { return s.DisableUser(t.Context(), "bo", c) }, "disable_user"},
		{"password change", func(s *store.Store, c store.Change) error { return s.SetPassword(t.Context(), "bo", "h2", c) }, "set_password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newAccounts(t, map[string]string{"ada": "admin", "bo": "viewer"})
			session, token := credentials(t, s, "bo")
			if err := tc.change(s, store.Change{By: "ada", At: time.Now(), Reason: "laptop stolen"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SessionUser(t.Context(), session, time.Now()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("SessionUser after %s = %v, want ErrNotFound", tc.name, err)
			}
			if _, _, err := s.TokenUser(t.Context(), token); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("TokenUser after %s = %v, want ErrNotFound", tc.name, err)
			}
			log, _ := s.AccessLog(t.Context(), 10)
			got := map[string]bool{}
			for _, a := range log {
				if a.User == "ada" && strings.HasPrefix(a.Subject, "bo") && a.Reason == "laptop stolen" {
					got[a.Action] = true
				}
			}
			if !got[tc.action] || !got["revoke_token"] {
				t.Errorf("access log after %s = %+v, want %s and revoke_token by ada with the reason", tc.name, log, tc.action)
			}
		})
	}
}

func TestLastAdmin(t *testing.T) {
	c := store.Change{By: "ops", At: time.Now(), Reason: "test"}
	s := newAccounts(t, map[string]string{"ada": "admin", "cy": "admin", "bo": "viewer"})
	if err := s.DisableUser(t.Context(), "cy", c); err != nil {
		t.Fatal(err)
	}
	if err := s.DisableUser(t.Context(), "ada", c); !errors.Is(err, store.ErrLastAdmin) {
		t.Errorf("DisableUser(last live admin) = %v, want ErrLastAdmin", err)
	}
	if err := s.SetRole(t.Context(), "ada", "editor", c); !errors.Is(err, store.ErrLastAdmin) {
		t.Errorf("SetRole(last live admin, editor) = %v, want ErrLastAdmin", err)
	}
	if err := s.SetRole(t.Context(), "bo", "admin", c); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRole(t.Context(), "ada", "editor", c); err != nil {
		t.Errorf("SetRole(ada, editor) with bo admin = %v, want nil", err)
	}
	if u, _ := s.GetUser(t.Context(), "ada"); u.Role != "editor" {
		t.Errorf("role of ada = %s, want editor", u.Role)
	}
}

func TestRevokeTokens(t *testing.T) {
	c := store.Change{By: "ada", At: time.Now(), Reason: "rotation"}
	s := newAccounts(t, map[string]string{"ada": "admin", "bo": "viewer"})
	_, token := credentials(t, s, "bo")
	if _, err := s.RevokeTokens(t.Context(), "ada", "tok_bo", c); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeTokens(another's token under ada) = %v, want ErrNotFound", err)
	}
	if n, err := s.RevokeTokens(t.Context(), "bo", "", c); n != 1 || err != nil {
		t.Errorf("RevokeTokens(bo, all) = %d, %v, want 1, nil", n, err)
	}
	if _, _, err := s.TokenUser(t.Context(), token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenUser after revoking = %v, want ErrNotFound", err)
	}
	if n, err := s.RevokeTokens(t.Context(), "bo", "", c); n != 0 || err != nil {
		t.Errorf("RevokeTokens(bo, all) again = %d, %v, want 0, nil", n, err)
	}
}
