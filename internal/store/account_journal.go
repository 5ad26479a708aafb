// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// RawUser is a users row as stored, with the bytes its leaf commits to.
type RawUser struct {
	Name, Role, PasswordHash string
	Disabled                 bool
	State                    []byte // AccountState of the row
}

// RawUsers returns every users row, as stored.
func (s *Store) RawUsers(ctx context.Context) ([]RawUser, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, role, password_hash, disabled_at IS NOT NULL FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: raw users: %w", err)
	}
	defer rows.Close()
	var out []RawUser
	for rows.Next() {
		var u RawUser
		if err := rows.Scan(&u.Name, &u.Role, &u.PasswordHash, &u.Disabled); err != nil {
			return nil, fmt.Errorf("store: raw users: %w", err)
		}
		u.State = AccountState(u.Role, u.Disabled, u.PasswordHash)
		out = append(out, u)
	}
	return out, rows.Err()
}

// RawToken is an api_tokens row as stored, with the bytes its leaf
// commits to.
type RawToken struct {
	ID, User, Scope, Hash string
	Revoked               bool
	State                 []byte // TokenState of the row
}

// RawTokens returns every api_tokens row, as stored.
func (s *Store) RawTokens(ctx context.Context) ([]RawToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_name, scope, token_hash, revoked_at IS NOT NULL FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: raw tokens: %w", err)
	}
	defer rows.Close()
	var out []RawToken
	for rows.Next() {
		var k RawToken
		if err := rows.Scan(&k.ID, &k.User, &k.Scope, &k.Hash, &k.Revoked); err != nil {
			return nil, fmt.Errorf("store: raw tokens: %w", err)
		}
		k.State = TokenState(k.User, k.Scope, k.Hash, k.Revoked)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RawAccess is an access_log row as stored, with the bytes its leaf
// commits to.
type RawAccess struct {
	Seq   int64
	At    string
	Entry []byte
}

// RawAccessLog returns every access_log row, oldest first, as stored.
func (s *Store) RawAccessLog(ctx context.Context) ([]RawAccess, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, user_name, action, subject, reason FROM access_log ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("store: raw access log: %w", err)
	}
	defer rows.Close()
	var out []RawAccess
	for rows.Next() {
		var (
			a                             RawAccess
			user, action, subject, reason string
		)
		if err := rows.Scan(&a.Seq, &a.At, &user, &action, &subject, &reason); err != nil {
			return nil, fmt.Errorf("store: raw access log: %w", err)
		}
		a.Entry = accessEntry(a.At, user, action, subject, reason)
		out = append(out, a)
	}
	return out, rows.Err()
}

// journalMissingAccounts writes backfill leaves for the users, tokens and
// access-log entries that have none: written before the ledger committed
// to them. It returns how many leaves it wrote.
func (t *Tx) journalMissingAccounts(at time.Time) (int, error) {
	var events []Event
	collect := func(query string, scan func(*sql.Rows) (Event, error)) error {
		rows, err := t.tx.QueryContext(t.ctx, query)
		if err != nil {
			return fmt.Errorf("store: journal missing accounts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scan(rows)
			if err != nil {
				return fmt.Errorf("store: journal missing accounts: %w", err)
			}
			e.Op, e.At = Backfilled, at
			events = append(events, e)
		}
		return rows.Err()
	}
	err := collect(`
		SELECT name, role, password_hash, disabled_at IS NOT NULL FROM users u
		WHERE NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.kind = 'account' AND l.ref = u.name) ORDER BY name`,
		func(rows *sql.Rows) (Event, error) {
			var name, role, hash string
			var disabled bool
			err := rows.Scan(&name, &role, &hash, &disabled)
			return Event{Kind: AccountKind, Ref: name, Version: 1, Body: AccountState(role, disabled, hash)}, err
		})
	if err != nil {
		return 0, err
	}
	err = collect(`
		SELECT id, user_name, scope, token_hash, revoked_at IS NOT NULL FROM api_tokens k
		WHERE NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.kind = 'token' AND l.ref = k.id) ORDER BY id`,
		func(rows *sql.Rows) (Event, error) {
			var id, user, scope, hash string
			var revoked bool
			err := rows.Scan(&id, &user, &scope, &hash, &revoked)
			return Event{Kind: TokenKind, Ref: id, Version: 1, Body: TokenState(user, scope, hash, revoked)}, err
		})
	if err != nil {
		return 0, err
	}
	err = collect(`
		SELECT seq, at, user_name, action, subject, reason FROM access_log a
		WHERE NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.kind = 'access' AND l.version = a.seq) ORDER BY seq`,
		func(rows *sql.Rows) (Event, error) {
			var seq int64
			var at, user, action, subject, reason string
			err := rows.Scan(&seq, &at, &user, &action, &subject, &reason)
			return Event{Kind: AccessKind, Ref: strconv.FormatInt(seq, 10), Version: int(seq), Body: accessEntry(at, user, action, subject, reason)}, err
		})
	if err != nil {
		return 0, err
	}
	for _, e := range events {
		if err := t.journal(e); err != nil {
			return 0, err
		}
	}
	return len(events), nil
}
