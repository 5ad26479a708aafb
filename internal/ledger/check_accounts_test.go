// SPDX-License-Identifier: Apache-2.0

package ledger

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/store"
)

// TestCheckTokens edits api_tokens rows behind the store's back and wants
// Check to name each edit; the command-line tests cover users, history
// and the access log the same way.
func TestCheckTokens(t *testing.T) {
	tests := []struct {
		name, stmt, want string
	}{
		{"revoked token revived", `UPDATE api_tokens SET revoked_at = NULL WHERE id = 'tok_old'`, "token tok_old of user bo: live in the database, revoked in the ledger"},
		{"token rescoped", `UPDATE api_tokens SET scope = 'write' WHERE id = 'tok_new'`, "token tok_new of user bo: its owner, scope or hash"},
		{"token moved to another owner", `UPDATE api_tokens SET user_name = 'ada' WHERE id = 'tok_new'`, "token tok_new of user ada: its owner, scope or hash"},
		{"token added", `INSERT INTO api_tokens (id, token_hash, user_name, scope, label, created_at) VALUES ('tok_evil', 'x', 'ada', 'write', 'l', '2026-01-01T00:00:00Z')`, "token tok_evil of user ada: no ledger leaf: added outside groundtruth"},
		{"token deleted", `DELETE FROM api_tokens WHERE id = 'tok_old'`, "token tok_old: it has ledger leaves but no database row: deleted outside groundtruth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			file := filepath.Join(t.TempDir(), "db")
			st, err := store.Create(ctx, file)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			l := newLedger(t)
			st.SetJournal(l)
			for name, role := range map[string]string{"ada": "admin", "bo": "viewer"} {
				if err := st.CreateUser(ctx, store.User{Name: name, Role: role, PasswordHash: "h"}, "setup"); err != nil {
					t.Fatal(err)
				}
			}
			for _, id := range []string{"tok_old", "tok_new"} {
				if err := st.CreateToken(ctx, store.Token{ID: id, User: "bo", Scope: "read", Label: "l"}, "hash-"+id); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.RevokeTokens(ctx, "bo", "tok_old", store.Change{By: "ada", At: time.Now(), Reason: "rotation"}); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Sync(ctx, st); err != nil {
				t.Fatal(err)
			}
			if problems, err := l.Check(ctx, st); err != nil || len(problems) != 0 {
				t.Fatalf("Check before the edit = %q, %v, want no problem", problems, err)
			}
			db, err := sql.Open("sqlite", "file:"+file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tc.stmt); err != nil {
				t.Fatal(err)
			}
			db.Close()
			problems, err := l.Check(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, tc.want)
			}
			if !found {
				t.Errorf("Check after %s = %q, want a problem holding %q", tc.name, problems, tc.want)
			}
		})
	}
}
