// SPDX-License-Identifier: Apache-2.0

// Package store keeps case records, their history and the index of the
// locker's originals in a SQL database (SQLite for one investigator;
// the same SQL is meant to run on PostgreSQL).
//
// # Invariants
//
//   - Nothing is hard-deleted. A change to a record writes its new version
//     and a history row naming who, when and why, in one transaction;
//     retiring a record marks it and writes a history row.
//   - Writing a record whose content equals its current version changes
//     nothing, so loading the same case file twice creates nothing new.
//   - A record's references are stored beside it and must resolve when it
//     is written.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned (wrapped) when a record or blob does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned (wrapped) when a write would break a uniqueness
// rule, such as two evidence records for one original.
var ErrConflict = errors.New("store: conflict")

// Store is a database of case records.
type Store struct {
	db      *sql.DB
	journal Journal
}

func openSQLite(ctx context.Context, file string) (*sql.DB, error) {
	// WAL with synchronous=FULL: a commit is on disk when it returns, which
	// is what lets an ingest be acknowledged. Transactions take the write
	// lock at BEGIN, so concurrent writers wait instead of failing.
	dsn := "file:" + file + "?_txlock=immediate" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", file, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", file, err)
	}
	return db, nil
}

// Create opens the SQLite database at file, creating it if needed, and
// applies every migration it lacks.
func Create(ctx context.Context, file string) (*Store, error) {
	db, err := openSQLite(ctx, file)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, "sqlite"); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

// Open opens an existing SQLite database and refuses it unless its schema
// is exactly the version this build knows.
func Open(ctx context.Context, file string) (*Store, error) {
	db, err := openSQLite(ctx, file)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Change says who makes a change, when and why. Every write carries one.
type Change struct {
	By     string
	At     time.Time
	Reason string
}

func (c Change) at() string { return formatTime(c.At) }

func formatTime(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a read-write transaction.
type Tx struct {
	tx    *sql.Tx
	ctx   context.Context
	store *Store
}

// Update runs f in a transaction and commits it when f returns nil. Any
// error rolls everything back, so a failed load or ingest changes nothing.
func (s *Store) Update(ctx context.Context, f func(*Tx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := f(&Tx{tx: sqlTx, ctx: ctx, store: s}); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
