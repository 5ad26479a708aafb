// SPDX-License-Identifier: Apache-2.0

package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// execSQLAny runs one statement on the data directory's database and
// requires it to change at least one row.
func execSQLAny(t *testing.T, data, stmt string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "groundtruth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(stmt, args...)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	if n, err := res.RowsAffected(); err != nil || n < 1 {
		t.Fatalf("%s: got %d rows changed (%v), want at least 1", stmt, n, err)
	}
}

// accountsData returns the demo's data directory with accounts made and
// changed through the command line, so that the users table, the access
// log and the history all hold rows the ledger commits to.
func accountsData(t *testing.T) string {
	t.Helper()
	data, _ := demoData(t)
	mustRun(t, data, "user", "add", "ada", "--role", "admin")
	mustRun(t, data, "user", "add", "vic", "--role", "viewer")
	mustRun(t, data, "user", "add", "ed", "--role", "editor")
	mustRun(t, data, "user", "role", "vic", "analyst", "--reason", "joined the geolocation desk")
	mustRun(t, data, "user", "disable", "ed", "--reason", "laptop stolen")
	if res := run(t, data, "verify"); res.code != 0 || !strings.HasPrefix(res.stdout, "verify: ok") {
		t.Fatalf("verify before tampering: got exit status %d and %q, want 0 and \"verify: ok ...\"", res.code, res.stdout)
	}
	return data
}

func TestAccountAndHistoryTamper(t *testing.T) {
	template := accountsData(t)
	tests := []struct {
		name   string
		tamper func(t *testing.T, data string)
		want   [][]string // some PROBLEM line holds every string of one of these
	}{
		{"history row deleted", func(t *testing.T, data string) {
			execSQL(t, data, `DELETE FROM record_history WHERE kind = 'actor' AND slug = 'bellingcat'`)
		}, [][]string{{"actor bellingcat", "history version 1", "deleted outside groundtruth"}}},
		{"history row added", func(t *testing.T, data string) {
			execSQL(t, data, `INSERT INTO record_history (kind, slug, version, op, body, changed_at, changed_by, reason)
				SELECT kind, slug, version + 1, 'update', body, changed_at, 'mallory', 'backdated' FROM record_history WHERE kind = 'actor' AND slug = 'bellingcat'`)
		}, [][]string{{"actor bellingcat", "history version 2", "added outside groundtruth"}}},
		{"history operation altered", func(t *testing.T, data string) {
			execSQL(t, data, `UPDATE record_history SET op = 'retire' WHERE kind = 'actor' AND slug = 'bellingcat'`)
		}, [][]string{{"actor bellingcat", "history version 1", "changed outside groundtruth"}}},
		{"access log wiped", func(t *testing.T, data string) {
			execSQLAny(t, data, `DELETE FROM access_log`)
		}, [][]string{{"access log", "wiped or truncated"}}},
		{"access log truncated", func(t *testing.T, data string) {
			execSQL(t, data, `DELETE FROM access_log WHERE seq = (SELECT MAX(seq) FROM access_log)`)
		}, [][]string{{"access log", "wiped or truncated"}}},
		{"access log entry altered", func(t *testing.T, data string) {
			execSQL(t, data, `UPDATE access_log SET user_name = 'someone-else' WHERE seq = (SELECT MIN(seq) FROM access_log)`)
		}, [][]string{{"access log entry", "changed outside groundtruth"}}},
		{"role raised in the users table", func(t *testing.T, data string) {
			execSQL(t, data, `UPDATE users SET role = 'admin' WHERE name = 'vic'`)
		}, [][]string{{"user vic", "role admin", "analyst", "changed outside groundtruth"}}},
		{"account enabled in the users table", func(t *testing.T, data string) {
			execSQL(t, data, `UPDATE users SET disabled_at = NULL WHERE name = 'ed'`)
		}, [][]string{{"user ed", "disabled", "changed outside groundtruth"}}},
		{"password hash replaced in the users table", func(t *testing.T, data string) {
			execSQL(t, data, `UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE name = 'vic') WHERE name = 'ada'`)
		}, [][]string{{"user ada", "password", "changed outside groundtruth"}}},
		{"user row added without a leaf", func(t *testing.T, data string) {
			execSQL(t, data, `INSERT INTO users (name, role, password_hash, created_at, created_by)
				SELECT 'mallory', 'admin', password_hash, created_at, 'ada' FROM users WHERE name = 'ada'`)
		}, [][]string{{"user mallory", "no ledger leaf", "added outside groundtruth"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			copyDir(t, template, data)
			tc.tamper(t, data)
			res := run(t, data, "verify")
			if res.code != 1 {
				t.Errorf("verify: got exit status %d, want 1 (stdout %q, stderr %q)", res.code, res.stdout, res.stderr)
			}
			var problems []string
			for _, l := range strings.Split(res.stdout, "\n") {
				if strings.HasPrefix(l, "PROBLEM ") {
					problems = append(problems, l)
				}
			}
			found := false
			for _, l := range problems {
				for _, alt := range tc.want {
					all := true
					for _, w := range alt {
						all = all && strings.Contains(l, w)
					}
					found = found || all
				}
			}
			if !found {
				t.Errorf("verify: got problem lines %q, want one holding all of one of %q", problems, tc.want)
			}
		})
	}
}

func TestUserLifecycle(t *testing.T) {
	data, _ := demoData(t)
	mustRun(t, data, "user", "add", "ada", "--role", "admin")
	mustRun(t, data, "user", "add", "vic", "--role", "viewer")

	bad := []struct {
		name string
		args []string
		want string // in the one-line error
	}{
		{"role without reason", []string{"user", "role", "vic", "editor"}, "--reason"},
		{"unknown role", []string{"user", "role", "vic", "boss", "--reason", "r"}, "admin, editor, analyst or viewer"},
		{"unknown user", []string{"user", "disable", "nobody", "--reason", "r"}, "no user nobody"},
		{"last admin disabled", []string{"user", "disable", "ada", "--reason", "r"}, "last admin"},
		{"last admin demoted", []string{"user", "role", "ada", "viewer", "--reason", "r"}, "last admin"},
		{"revoke without token", []string{"user", "revoke", "vic", "--reason", "r"}, "TOKEN-ID or --all"},
		{"revoke unknown token", []string{"user", "revoke", "vic", "tok_none", "--reason", "r"}, "no live token tok_none"},
		{"enable a live account", []string{"user", "enable", "vic", "--reason", "r"}, "not disabled"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, data, tc.args...)
			if res.code != 2 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("groundtruth %s: got exit status %d and %q, want 2 and an error holding %q", strings.Join(tc.args, " "), res.code, res.stderr, tc.want)
			}
			checkOneLine(t, res.stderr)
		})
	}

	mustRun(t, data, "user", "role", "vic", "admin", "--reason", "second admin for the night shift")
	mustRun(t, data, "user", "disable", "ada", "--reason", "on leave")
	if res := run(t, data, "user", "disable", "vic", "--reason", "r"); res.code != 2 || !strings.Contains(res.stderr, "last admin") {
		t.Errorf("disabling the only admin left: got exit status %d and %q, want 2 and \"last admin\"", res.code, res.stderr)
	}
	mustRun(t, data, "user", "enable", "ada", "--reason", "back from leave")
	mustRun(t, data, "user", "revoke", "vic", "--all", "--reason", "rotation")
	if out := mustRun(t, data, "user", "tokens", "vic"); !strings.Contains(out, "no API tokens") {
		t.Errorf("user tokens vic: got %q, want \"no API tokens\"", out)
	}
	out := mustRun(t, data, "user", "list")
	for _, want := range []string{"ada", "admin", "vic"} {
		if !strings.Contains(out, want) {
			t.Errorf("user list: got %q, want it to hold %q", out, want)
		}
	}
	if res := run(t, data, "verify"); res.code != 0 {
		t.Errorf("verify after the changes: got exit status %d and %q, want 0", res.code, res.stdout)
	}
}

// TestMigrateBackfillsAccounts stands for a data directory whose users
// and access log were written before the ledger committed to them:
// verify names them, migrate enters them as backfill leaves, and verify is
// then clean.
func TestMigrateBackfillsAccounts(t *testing.T) {
	data, _ := demoData(t)
	execSQL(t, data, `INSERT INTO users (name, role, password_hash, created_at, created_by) VALUES ('old', 'admin', 'x', '2025-01-01T00:00:00Z', 'ops')`)
	execSQL(t, data, `INSERT INTO access_log (at, user_name, action, subject) VALUES ('2025-01-02T00:00:00.000000000Z', 'old', 'reveal_graphic', 'hadrut-capture-video')`)
	res := run(t, data, "verify")
	if res.code != 1 || !strings.Contains(res.stdout, "user old: no ledger leaf") || !strings.Contains(res.stdout, "access log entry 1") {
		t.Fatalf("verify before migrate: got exit status %d and %q, want 1 naming user old and access log entry 1", res.code, res.stdout)
	}
	mustRun(t, data, "migrate")
	if res := run(t, data, "verify"); res.code != 0 {
		t.Errorf("verify after migrate: got exit status %d and %q, want 0", res.code, res.stdout)
	}
	mustRun(t, data, "user", "add", "new", "--role", "admin")
	mustRun(t, data, "user", "role", "old", "viewer", "--reason", "no longer runs the server")
	if res := run(t, data, "verify"); res.code != 0 {
		t.Errorf("verify after changes to a backfilled account: got exit status %d and %q, want 0", res.code, res.stdout)
	}
}
