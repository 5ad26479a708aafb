// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Kinds under which leaves about accounts and the access log are kept,
// beside record kinds and BlobKind.
const (
	AccountKind = "account" // ref: the user name; version: the account's change count
	TokenKind   = "token"   // ref: the token id; version: the token's change count
	AccessKind  = "access"  // ref and version: the access-log entry's seq
)

// ErrLastAdmin is returned (wrapped) when a change would leave no live
// admin: nobody could then manage accounts from the web.
var ErrLastAdmin = errors.New("store: the last admin")

// User is an account.
type User struct {
	Name         string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
	Disabled     bool
}

// AccountState returns the bytes an account leaf commits to: the role, the
// state and the password hash, so that any of them changed behind
// groundtruth's back no longer matches the account's latest leaf.
func AccountState(role string, disabled bool, passwordHash string) []byte {
	return fmt.Appendf(nil, "role %s\x00disabled %t\x00password %s", role, disabled, passwordHash)
}

// TokenState returns the bytes a token leaf commits to.
func TokenState(user, scope, tokenHash string, revoked bool) []byte {
	return fmt.Appendf(nil, "user %s\x00scope %s\x00hash %s\x00revoked %t", user, scope, tokenHash, revoked)
}

// accessEntry returns the bytes an access leaf commits to, from the
// entry's columns as stored.
func accessEntry(at, user, action, subject, reason string) []byte {
	return fmt.Appendf(nil, "at %s\x00user %s\x00action %s\x00subject %s\x00reason %s", at, user, action, subject, reason)
}

// CreateUser adds a user. A name already taken is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u User, by string) error {
	c := Change{By: by, At: time.Now(), Reason: "account created with role " + u.Role}
	return s.Update(ctx, func(t *Tx) error {
		_, err := t.tx.ExecContext(t.ctx, `
			INSERT INTO users (name, role, password_hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5)`,
			u.Name, u.Role, u.PasswordHash, c.at(), by)
		if err != nil {
			return fmt.Errorf("store: create user %s: %w", u.Name, uniqueErr(err))
		}
		return t.accountChanged(u.Name, Created, "create_user", c)
	})
}

// SetPassword replaces a user's password hash and ends every session and
// API token of theirs: a password is changed when it may be known to
// someone else, who may have made a token with it.
func (s *Store) SetPassword(ctx context.Context, name, hash string, c Change) error {
	return s.Update(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(t.ctx, `UPDATE users SET password_hash = $2 WHERE name = $1`, name, hash)
		if err != nil {
			return fmt.Errorf("store: set password %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("store: set password %s: %w", name, ErrNotFound)
		}
		if err := t.endCredentials(name, c); err != nil {
			return err
		}
		return t.accountChanged(name, Updated, "set_password", c)
	})
}

// SetRole changes a user's role; it takes effect at their next request.
// Demoting the last live admin is ErrLastAdmin.
func (s *Store) SetRole(ctx context.Context, name, role string, c Change) error {
	return s.Update(ctx, func(t *Tx) error {
		u, err := t.user(name)
		if err != nil {
			return err
		}
		if u.Role == role {
			return fmt.Errorf("store: user %s already has role %s: %w", name, role, ErrConflict)
		}
		if role != "admin" {
			if err := t.keepAnAdmin(u); err != nil {
				return err
			}
		}
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE users SET role = $2 WHERE name = $1`, name, role); err != nil {
			return fmt.Errorf("store: set role %s: %w", name, err)
		}
		c.Reason = u.Role + " to " + role + ": " + c.Reason
		return t.accountChanged(name, Updated, "set_role", c)
	})
}

// DisableUser disables an account and, in the same transaction, ends
// every session and revokes every API token of it, so that none works for
// a single further request. Disabling the last live admin is ErrLastAdmin.
func (s *Store) DisableUser(ctx context.Context, name string, c Change) error {
	return s.Update(ctx, func(t *Tx) error {
		u, err := t.user(name)
		if err != nil {
			return err
		}
		if u.Disabled {
			return fmt.Errorf("store: user %s is already disabled: %w", name, ErrConflict)
		}
		if err := t.keepAnAdmin(u); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE users SET disabled_at = $2 WHERE name = $1`, name, c.at()); err != nil {
			return fmt.Errorf("store: disable %s: %w", name, err)
		}
		if err := t.endCredentials(name, c); err != nil {
			return err
		}
		return t.accountChanged(name, Updated, "disable_user", c)
	})
}

// EnableUser enables a disabled account. Its old sessions and tokens stay
// revoked: its owner signs in again.
func (s *Store) EnableUser(ctx context.Context, name string, c Change) error {
	return s.Update(ctx, func(t *Tx) error {
		u, err := t.user(name)
		if err != nil {
			return err
		}
		if !u.Disabled {
			return fmt.Errorf("store: user %s is not disabled: %w", name, ErrConflict)
		}
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE users SET disabled_at = NULL WHERE name = $1`, name); err != nil {
			return fmt.Errorf("store: enable %s: %w", name, err)
		}
		return t.accountChanged(name, Updated, "enable_user", c)
	})
}

// user reads a user inside the transaction.
func (t *Tx) user(name string) (*User, error) {
	var (
		u        User
		disabled sql.NullString
	)
	err := t.tx.QueryRowContext(t.ctx, `SELECT name, role, password_hash, disabled_at FROM users WHERE name = $1`, name).
		Scan(&u.Name, &u.Role, &u.PasswordHash, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: user %s: %w", name, err)
	}
	u.Disabled = disabled.Valid
	return &u, nil
}

// keepAnAdmin refuses to take u out of the live admins if u is the last.
func (t *Tx) keepAnAdmin(u *User) error {
	if u.Role != "admin" || u.Disabled {
		return nil
	}
	var others int
	err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND name <> $1`, u.Name).Scan(&others)
	if err != nil {
		return fmt.Errorf("store: count admins: %w", err)
	}
	if others == 0 {
		return fmt.Errorf("store: %s is the only live admin: %w", u.Name, ErrLastAdmin)
	}
	return nil
}

// accountChanged writes the account's leaf for its state as it now is,
// and the access-log entry for the change.
func (t *Tx) accountChanged(name string, op Op, action string, c Change) error {
	u, err := t.user(name)
	if err != nil {
		return err
	}
	v, err := t.nextVersion(AccountKind, name)
	if err != nil {
		return err
	}
	if err := t.journal(Event{Kind: AccountKind, Ref: name, Version: v, Op: op, Body: AccountState(u.Role, u.Disabled, u.PasswordHash),
		At: c.At, By: c.By, Reason: c.Reason}); err != nil {
		return err
	}
	return t.logAccess(Access{At: c.At, User: c.By, Action: action, Subject: name, Reason: c.Reason})
}

// tokenChanged writes the token's leaf for its state as it now is.
func (t *Tx) tokenChanged(id string, op Op, c Change) error {
	var (
		user, scope, hash string
		revoked           sql.NullString
	)
	err := t.tx.QueryRowContext(t.ctx, `SELECT user_name, scope, token_hash, revoked_at FROM api_tokens WHERE id = $1`, id).
		Scan(&user, &scope, &hash, &revoked)
	if err != nil {
		return fmt.Errorf("store: token %s: %w", id, err)
	}
	v, err := t.nextVersion(TokenKind, id)
	if err != nil {
		return err
	}
	return t.journal(Event{Kind: TokenKind, Ref: id, Version: v, Op: op, Body: TokenState(user, scope, hash, revoked.Valid),
		At: c.At, By: c.By, Reason: c.Reason})
}

// nextVersion returns one more than the highest version of the leaves
// about kind and ref.
func (t *Tx) nextVersion(kind, ref string) (int, error) {
	var v sql.NullInt64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT MAX(version) FROM ledger_leaves WHERE kind = $1 AND ref = $2`, kind, ref).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: journal %s %s: %w", kind, ref, err)
	}
	return int(v.Int64) + 1, nil
}

// endCredentials ends a user's sessions and revokes their live API
// tokens. Each token revoked writes its leaf and an access-log entry.
func (t *Tx) endCredentials(name string, c Change) error {
	if _, err := t.revokeTokens(name, "", c); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(t.ctx, `UPDATE sessions SET revoked_at = $2 WHERE user_name = $1 AND revoked_at IS NULL`, name, c.at())
	if err != nil {
		return fmt.Errorf("store: end sessions of %s: %w", name, err)
	}
	return nil
}

func (t *Tx) revokeTokens(owner, id string, c Change) (int, error) {
	rows, err := t.tx.QueryContext(t.ctx, `
		SELECT id FROM api_tokens WHERE user_name = $1 AND revoked_at IS NULL AND ($2 = '' OR id = $2) ORDER BY created_at, id`, owner, id)
	if err != nil {
		return 0, fmt.Errorf("store: revoke tokens of %s: %w", owner, err)
	}
	var ids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: revoke tokens of %s: %w", owner, err)
		}
		ids = append(ids, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: revoke tokens of %s: %w", owner, err)
	}
	for _, tid := range ids {
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1`, tid, c.at()); err != nil {
			return 0, fmt.Errorf("store: revoke token %s: %w", tid, err)
		}
		if err := t.tokenChanged(tid, Updated, c); err != nil {
			return 0, err
		}
		if err := t.logAccess(Access{At: c.At, User: c.By, Action: "revoke_token", Subject: owner + " " + tid, Reason: c.Reason}); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// GetUser returns a user by name.
func (s *Store) GetUser(ctx context.Context, name string) (*User, error) {
	var (
		u        User
		at       string
		disabled sql.NullString
	)
	err := s.db.QueryRowContext(ctx, `SELECT name, role, password_hash, created_at, disabled_at FROM users WHERE name = $1`, name).
		Scan(&u.Name, &u.Role, &u.PasswordHash, &at, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: user %s: %w", name, err)
	}
	u.CreatedAt, u.Disabled = parseTime(at), disabled.Valid
	return &u, nil
}

// UserSummary is a user as the account list shows it.
type UserSummary struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	Sessions  int       `json:"live_sessions"`
	Tokens    int       `json:"live_tokens"`
}

// Users lists every user by name, with their live sessions and tokens.
func (s *Store) Users(ctx context.Context, now time.Time) ([]UserSummary, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT u.name, u.role, u.disabled_at IS NOT NULL, u.created_at,
			(SELECT COUNT(*) FROM sessions s WHERE s.user_name = u.name AND s.revoked_at IS NULL AND s.expires_at > $1),
			(SELECT COUNT(*) FROM api_tokens k WHERE k.user_name = u.name AND k.revoked_at IS NULL)
		FROM users u ORDER BY u.name`, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	out := []UserSummary{}
	for rows.Next() {
		var (
			u  UserSummary
			at string
		)
		if err := rows.Scan(&u.Name, &u.Role, &u.Disabled, &at, &u.Sessions, &u.Tokens); err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		u.CreatedAt = parseTime(at)
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateSession stores a session by the hash of its secret.
func (s *Store) CreateSession(ctx context.Context, tokenHash, user string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		tokenHash, user, formatTime(time.Now()), formatTime(expires))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionUser returns the user of a live session: not revoked, not
// expired, user not disabled. The user is read afresh, so that a role
// changed or an account disabled counts from the next request.
func (s *Store) SessionUser(ctx context.Context, tokenHash string, now time.Time) (*User, error) {
	var name, expires string
	err := s.db.QueryRowContext(ctx, `SELECT user_name, expires_at FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL`, tokenHash).Scan(&name, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !parseTime(expires).After(now)) {
		return nil, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: session: %w", err)
	}
	return s.liveUser(ctx, name)
}

func (s *Store) liveUser(ctx context.Context, name string) (*User, error) {
	u, err := s.GetUser(ctx, name)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, fmt.Errorf("store: user %s is disabled: %w", name, ErrNotFound)
	}
	return u, nil
}

// RevokeSession ends a session.
func (s *Store) RevokeSession(ctx context.Context, tokenHash string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL`, tokenHash, formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store: revoke session: %w", err)
	}
	return nil
}

// Token is an API token's public description.
type Token struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Scope     string    `json:"scope"`
	Label     string    `json:"label"`
	CreatedAt time.Time `json:"created_at"`
	Revoked   bool      `json:"revoked"`
}

// CreateToken stores an API token by the hash of its secret.
func (s *Store) CreateToken(ctx context.Context, tk Token, tokenHash string) error {
	c := Change{By: tk.User, At: time.Now(), Reason: tk.Scope + " token created"}
	return s.Update(ctx, func(t *Tx) error {
		_, err := t.tx.ExecContext(t.ctx, `INSERT INTO api_tokens (id, token_hash, user_name, scope, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			tk.ID, tokenHash, tk.User, tk.Scope, tk.Label, c.at())
		if err != nil {
			return fmt.Errorf("store: create token: %w", uniqueErr(err))
		}
		if err := t.tokenChanged(tk.ID, Created, c); err != nil {
			return err
		}
		return t.logAccess(Access{At: c.At, User: tk.User, Action: "create_token", Subject: tk.User + " " + tk.ID, Reason: c.Reason})
	})
}

// TokenUser returns the user and scope of a live API token.
func (s *Store) TokenUser(ctx context.Context, tokenHash string) (*User, string, error) {
	var name, scope string
	err := s.db.QueryRowContext(ctx, `SELECT user_name, scope FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, tokenHash).Scan(&name, &scope)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("store: token: %w", ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: token: %w", err)
	}
	u, err := s.liveUser(ctx, name)
	return u, scope, err
}

// Tokens lists a user's API tokens.
func (s *Store) Tokens(ctx context.Context, user string) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_name, scope, label, created_at, revoked_at FROM api_tokens WHERE user_name = $1 ORDER BY created_at`, user)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var (
			t       Token
			at      string
			revoked sql.NullString
		)
		if err := rows.Scan(&t.ID, &t.User, &t.Scope, &t.Label, &at, &revoked); err != nil {
			return nil, fmt.Errorf("store: tokens: %w", err)
		}
		t.CreatedAt, t.Revoked = parseTime(at), revoked.Valid
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes one of a user's tokens, by the user.
func (s *Store) RevokeToken(ctx context.Context, user, id string) error {
	_, err := s.RevokeTokens(ctx, user, id, Change{By: user, At: time.Now(), Reason: "revoked by its owner"})
	return err
}

// RevokeTokens revokes owner's live API token id, or every live token of
// owner when id is "", and returns how many it revoked. Naming a token
// that is not a live token of owner is ErrNotFound.
func (s *Store) RevokeTokens(ctx context.Context, owner, id string, c Change) (int, error) {
	n := 0
	err := s.Update(ctx, func(t *Tx) error {
		if _, err := t.user(owner); err != nil {
			return err
		}
		var err error
		n, err = t.revokeTokens(owner, id, c)
		if err == nil && id != "" && n == 0 {
			err = fmt.Errorf("store: revoke token %s: %w", id, ErrNotFound)
		}
		return err
	})
	return n, err
}

// Access is one entry of the access log: who (User) did what (Action) to
// whom or what (Subject), when, and why.
type Access struct {
	At      time.Time `json:"at"`
	User    string    `json:"user"`
	Action  string    `json:"action"`
	Subject string    `json:"subject"`
	Reason  string    `json:"reason,omitempty"`
}

// LogAccess records a sensitive view. Its time is written with a fixed
// nine-digit fraction, because AccessedSince compares times as text.
func (s *Store) LogAccess(ctx context.Context, a Access) error {
	return s.Update(ctx, func(t *Tx) error { return t.logAccess(a) })
}

// logAccess writes an access-log entry and its leaf. The entry's seq is
// one past both the table's and the ledger's highest, so that entries
// deleted from the end of the table are never numbered again: the ledger
// keeps naming them as missing.
func (t *Tx) logAccess(a Access) error {
	if a.At.IsZero() {
		a.At = time.Now()
	}
	var rowMax, leafMax sql.NullInt64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT MAX(seq) FROM access_log`).Scan(&rowMax); err != nil {
		return fmt.Errorf("store: access log: %w", err)
	}
	if j := t.store.journal; j != nil {
		// Access leaves share one subject and are written in order, so
		// the subject's latest leaf has the highest entry number.
		err := t.tx.QueryRowContext(t.ctx, `SELECT version FROM ledger_leaves WHERE subject = $1 ORDER BY seq DESC LIMIT 1`,
			j.Subject(Event{Kind: AccessKind})).Scan(&leafMax)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: access log: %w", err)
		}
	}
	seq := max(rowMax.Int64, leafMax.Int64) + 1
	at := formatSortable(a.At)
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO access_log (seq, at, user_name, action, subject, reason) VALUES ($1, $2, $3, $4, $5, $6)`,
		seq, at, a.User, a.Action, a.Subject, a.Reason)
	if err != nil {
		return fmt.Errorf("store: access log: %w", err)
	}
	return t.journal(Event{Kind: AccessKind, Ref: strconv.FormatInt(seq, 10), Version: int(seq), Op: Created,
		Body: accessEntry(at, a.User, a.Action, a.Subject, a.Reason), At: a.At})
}

// AccessLog returns the access log, newest first, at most limit entries.
func (s *Store) AccessLog(ctx context.Context, limit int) ([]Access, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, user_name, action, subject, reason FROM access_log ORDER BY seq DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: access log: %w", err)
	}
	defer rows.Close()
	out := []Access{}
	for rows.Next() {
		var a Access
		var at string
		if err := rows.Scan(&at, &a.User, &a.Action, &a.Subject, &a.Reason); err != nil {
			return nil, fmt.Errorf("store: access log: %w", err)
		}
		a.At = parseTime(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AccessedSince reports whether user did action on subject at or after
// since.
func (s *Store) AccessedSince(ctx context.Context, user, action, subject string, since time.Time) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_log WHERE user_name = $1 AND action = $2 AND subject = $3 AND at >= $4`,
		user, action, subject, formatSortable(since)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: access log: %w", err)
	}
	return n > 0, nil
}
