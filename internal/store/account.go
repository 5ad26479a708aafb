// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User is an account.
type User struct {
	Name         string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
	Disabled     bool
}

// CreateUser adds a user. A name already taken is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u User, by string) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO users (name, role, password_hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5)`,
		u.Name, u.Role, u.PasswordHash, formatTime(time.Now()), by)
	if err != nil {
		return fmt.Errorf("store: create user %s: %w", u.Name, uniqueErr(err))
	}
	return nil
}

// SetPassword replaces a user's password hash and revokes their sessions.
func (s *Store) SetPassword(ctx context.Context, name, hash string) error {
	return s.Update(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(t.ctx, `UPDATE users SET password_hash = $2 WHERE name = $1`, name, hash)
		if err != nil {
			return fmt.Errorf("store: set password %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("store: set password %s: %w", name, ErrNotFound)
		}
		_, err = t.tx.ExecContext(t.ctx, `UPDATE sessions SET revoked_at = $2 WHERE user_name = $1 AND revoked_at IS NULL`, name, formatTime(time.Now()))
		return err
	})
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
// expired, user not disabled.
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
func (s *Store) CreateToken(ctx context.Context, t Token, tokenHash string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens (id, token_hash, user_name, scope, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, tokenHash, t.User, t.Scope, t.Label, formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store: create token: %w", uniqueErr(err))
	}
	return nil
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

// RevokeToken revokes one of a user's tokens.
func (s *Store) RevokeToken(ctx context.Context, user, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_name = $2 AND revoked_at IS NULL`, id, user, formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store: revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("store: revoke token %s: %w", id, ErrNotFound)
	}
	return nil
}

// Access is one entry of the access log.
type Access struct {
	At      time.Time `json:"at"`
	User    string    `json:"user"`
	Action  string    `json:"action"`
	Subject string    `json:"subject"`
}

// LogAccess records a sensitive view. Its time is written with a fixed
// nine-digit fraction, because AccessedSince compares times as text.
func (s *Store) LogAccess(ctx context.Context, a Access) error {
	if a.At.IsZero() {
		a.At = time.Now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO access_log (at, user_name, action, subject) VALUES ($1, $2, $3, $4)`,
		formatSortable(a.At), a.User, a.Action, a.Subject)
	if err != nil {
		return fmt.Errorf("store: access log: %w", err)
	}
	return nil
}

// AccessLog returns the access log, newest first, at most limit entries.
func (s *Store) AccessLog(ctx context.Context, limit int) ([]Access, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, user_name, action, subject FROM access_log ORDER BY seq DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: access log: %w", err)
	}
	defer rows.Close()
	out := []Access{}
	for rows.Next() {
		var a Access
		var at string
		if err := rows.Scan(&at, &a.User, &a.Action, &a.Subject); err != nil {
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
