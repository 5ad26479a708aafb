// SPDX-License-Identifier: Apache-2.0

package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/store"
)

// adminRoutes are the account pages. Every change asks for a reason, is
// written to the access log with it and to the ledger, and is answered
// once the ledger holds it.
func (s *server) adminRoutes() []route {
	return []route{
		{"GET", "/admin/users", account.ManageAccounts, s.adminUsers},
		{"GET", "/admin/users/{name}", account.ManageAccounts, s.adminUser},
		{"POST", "/admin/users/{name}/role", account.ManageAccounts, s.adminChange},
		{"POST", "/admin/users/{name}/disable", account.ManageAccounts, s.adminChange},
		{"POST", "/admin/users/{name}/enable", account.ManageAccounts, s.adminChange},
		{"POST", "/admin/users/{name}/revoke", account.ManageAccounts, s.adminChange},
	}
}

func (s *server) adminUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.st.Users(r.Context(), time.Now())
	if err != nil {
		s.fail(w, r, "users", err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_users.html", map[string]any{"Users": users, "Roles": account.Roles[1:]})
}

// doneText is what the account page says after each change.
var doneText = map[string]string{
	"role":    "Role changed: it counts from the account's next request.",
	"disable": "Account disabled: every session and API token of it has ended.",
	"enable":  "Account enabled: its owner signs in again.",
	"revoke":  "Token revoked.",
}

func (s *server) adminUser(w http.ResponseWriter, r *http.Request) {
	s.adminUserPage(w, r, http.StatusOK, doneText[r.URL.Query().Get("done")], "")
}

// adminUserPage shows one account with its tokens and the forms that
// change it, with the outcome of the last change (done) or an error.
func (s *server) adminUserPage(w http.ResponseWriter, r *http.Request, code int, done, msg string) {
	ctx := r.Context()
	name := r.PathValue("name")
	u, err := s.st.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, "user", err)
		return
	}
	tokens, err := s.st.Tokens(ctx, name)
	if err != nil {
		s.fail(w, r, "tokens", err)
		return
	}
	s.render(w, r, code, "admin_user.html", map[string]any{"U": u, "Tokens": tokens, "Roles": account.Roles[1:],
		"Done": done, "Error": msg})
}

// adminChange applies one of the account forms: role, disable, enable or
// revoke (one token, or all with token=all).
func (s *server) adminChange(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("name")
	verb := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if _, err := s.st.GetUser(ctx, name); errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if reason == "" {
		s.adminUserPage(w, r, http.StatusBadRequest, "", "Give a reason: it is written to the access log.")
		return
	}
	c := store.Change{By: who(r).user, At: time.Now(), Reason: reason}
	var err error
	switch verb {
	case "role":
		role := r.PostFormValue("role")
		if !account.Role(role).Valid() {
			s.adminUserPage(w, r, http.StatusBadRequest, "", "Choose a role: admin, editor, analyst or viewer.")
			return
		}
		err = s.st.SetRole(ctx, name, role, c)
	case "disable":
		err = s.st.DisableUser(ctx, name, c)
	case "enable":
		err = s.st.EnableUser(ctx, name, c)
	case "revoke":
		id := r.PostFormValue("token")
		if id == "" {
			s.adminUserPage(w, r, http.StatusBadRequest, "", "Choose a token to revoke, or all.")
			return
		}
		if id == "all" {
			id = ""
		}
		_, err = s.st.RevokeTokens(ctx, name, id, c)
	}
	switch {
	case errors.Is(err, store.ErrLastAdmin):
		s.adminUserPage(w, r, http.StatusConflict, "", name+" is the last admin with a live account: make another admin first.")
		return
	case errors.Is(err, store.ErrNotFound):
		s.adminUserPage(w, r, http.StatusNotFound, "", "No such live token of "+name+".")
		return
	case errors.Is(err, store.ErrConflict):
		s.adminUserPage(w, r, http.StatusConflict, "", "Nothing to change: "+name+" is already so.")
		return
	case err != nil:
		s.fail(w, r, "change account", err)
		return
	}
	if s.lg != nil {
		if _, err := s.lg.Sync(ctx, s.st); err != nil {
			s.fail(w, r, "ledger", err)
			return
		}
	}
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(name)+"?done="+verb, http.StatusSeeOther)
}
