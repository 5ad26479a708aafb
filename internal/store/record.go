// SPDX-License-Identifier: Apache-2.0

package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"groundtruth/internal/record"
)

// Stored is a record with its bookkeeping.
type Stored struct {
	Record    record.Record
	Version   int
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
	Retired   bool
}

// Op says what a Put did.
type Op string

// What a Put can do.
const (
	Created   Op = "create"
	Updated   Op = "update"
	Unchanged Op = "unchanged"
	Retired   Op = "retire"
	// Backfilled marks a leaf written for data that predates the ledger.
	Backfilled Op = "backfill"
)

// Put writes r as the current version of its record. It validates r and
// writes a history row unless r equals the current version. Writing a
// retired record brings it back. References are not checked here, so that a
// transaction may write records that refer to each other in any order;
// call CheckRefs for each record before committing.
func (t *Tx) Put(r record.Record, c Change) (Op, error) {
	kind, slug := r.Kind(), r.Key()
	if err := r.Validate(); err != nil {
		return "", fmt.Errorf("store: put %s %s: %w", kind, slug, err)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("store: put %s %s: encode: %w", kind, slug, err)
	}
	var sum sql.NullString
	if e, ok := r.(*record.Evidence); ok {
		sum = sql.NullString{String: e.SHA256, Valid: e.SHA256 != ""}
	}

	var (
		version int
		old     string
		retired sql.NullString
	)
	err = t.tx.QueryRowContext(t.ctx, `
		SELECT version, body, retired_at FROM records WHERE kind = $1 AND slug = $2`,
		string(kind), slug).Scan(&version, &old, &retired)
	op := Updated
	switch {
	case errors.Is(err, sql.ErrNoRows):
		op = Created
		_, err = t.tx.ExecContext(t.ctx, `
			INSERT INTO records (kind, slug, version, body, sha256, created_at, created_by, updated_at, updated_by)
			VALUES ($1, $2, 1, $3, $4, $5, $6, $5, $6)`,
			string(kind), slug, string(body), sum, c.at(), c.By)
		version = 1
	case err != nil:
		return "", fmt.Errorf("store: put %s %s: %w", kind, slug, err)
	case old == string(body) && !retired.Valid:
		return Unchanged, nil
	default:
		version++
		_, err = t.tx.ExecContext(t.ctx, `
			UPDATE records SET version = $3, body = $4, sha256 = $5, updated_at = $6, updated_by = $7, retired_at = NULL
			WHERE kind = $1 AND slug = $2`,
			string(kind), slug, version, string(body), sum, c.at(), c.By)
	}
	if err != nil {
		return "", fmt.Errorf("store: put %s %s: %w", kind, slug, uniqueErr(err))
	}
	if err := t.history(kind, slug, version, op, string(body), c); err != nil {
		return "", err
	}
	if err := t.journal(Event{Kind: string(kind), Ref: slug, Version: version, Op: op, Body: body, At: c.At, By: c.By, Reason: c.Reason}); err != nil {
		return "", err
	}
	if err := t.index(r, false); err != nil {
		return "", err
	}
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM record_refs WHERE kind = $1 AND slug = $2`, string(kind), slug); err != nil {
		return "", fmt.Errorf("store: put %s %s: refs: %w", kind, slug, err)
	}
	for _, ref := range r.Refs() {
		if _, err := t.tx.ExecContext(t.ctx, `
			INSERT INTO record_refs (kind, slug, ref_kind, ref_slug) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`,
			string(kind), slug, string(ref.Kind), ref.Slug); err != nil {
			return "", fmt.Errorf("store: put %s %s: refs: %w", kind, slug, err)
		}
	}
	return op, nil
}

func (t *Tx) history(kind record.Kind, slug string, version int, op Op, body string, c Change) error {
	if c.By == "" || c.Reason == "" {
		return fmt.Errorf("store: %s %s %s: a change needs who and why", op, kind, slug)
	}
	_, err := t.tx.ExecContext(t.ctx, `
		INSERT INTO record_history (kind, slug, version, op, body, changed_at, changed_by, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		string(kind), slug, version, string(op), body, c.at(), c.By, c.Reason)
	if err != nil {
		return fmt.Errorf("store: history %s %s: %w", kind, slug, err)
	}
	return nil
}

// Retire marks a record as withdrawn. It stays readable, with its history;
// nothing is deleted.
func (t *Tx) Retire(kind record.Kind, slug string, c Change) error {
	var (
		version int
		body    string
		retired sql.NullString
	)
	err := t.tx.QueryRowContext(t.ctx, `SELECT version, body, retired_at FROM records WHERE kind = $1 AND slug = $2`,
		string(kind), slug).Scan(&version, &body, &retired)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: retire %s %s: %w", kind, slug, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: retire %s %s: %w", kind, slug, err)
	}
	if retired.Valid {
		return nil
	}
	version++
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE records SET version = $3, retired_at = $4, updated_at = $4, updated_by = $5 WHERE kind = $1 AND slug = $2`,
		string(kind), slug, version, c.at(), c.By); err != nil {
		return fmt.Errorf("store: retire %s %s: %w", kind, slug, err)
	}
	if err := t.history(kind, slug, version, Retired, body, c); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM search WHERE rowid = (SELECT rowid FROM records WHERE kind = $1 AND slug = $2)`, string(kind), slug); err != nil {
		return fmt.Errorf("store: retire %s %s: %w", kind, slug, err)
	}
	return t.journal(Event{Kind: string(kind), Ref: slug, Version: version, Op: Retired, Body: []byte(body), At: c.At, By: c.By, Reason: c.Reason})
}

// MissingRefError reports a reference to a record that does not exist.
type MissingRefError struct{ Ref record.Ref }

func (e *MissingRefError) Error() string {
	return fmt.Sprintf("%s: no %s with slug %q: add it or correct the slug", e.Ref.Field, e.Ref.Kind, e.Ref.Slug)
}

// CheckRefs returns a *MissingRefError (wrapped) for the first reference of
// r that does not resolve.
func (t *Tx) CheckRefs(r record.Record) error {
	for _, ref := range r.Refs() {
		ok, err := exists(t.ctx, t.tx, ref.Kind, ref.Slug)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("store: %s %s: %w", r.Kind(), r.Key(), &MissingRefError{Ref: ref})
		}
	}
	return nil
}

// Exists reports whether a record exists (retired records count: they may
// still be referred to).
func (s *Store) Exists(ctx context.Context, kind record.Kind, slug string) (bool, error) {
	return exists(ctx, s.db, kind, slug)
}

func exists(ctx context.Context, q querier, kind record.Kind, slug string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM records WHERE kind = $1 AND slug = $2`, string(kind), slug).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: exists %s %s: %w", kind, slug, err)
	}
	return true, nil
}

// Get returns a record within the transaction.
func (t *Tx) Get(kind record.Kind, slug string) (*Stored, error) {
	return get(t.ctx, t.tx, kind, slug)
}

// Get returns the current version of a record.
func (s *Store) Get(ctx context.Context, kind record.Kind, slug string) (*Stored, error) {
	return get(ctx, s.db, kind, slug)
}

const recordColumns = `kind, slug, version, body, created_at, created_by, updated_at, updated_by, retired_at`

func scanRecord(sc interface{ Scan(...any) error }) (*Stored, error) {
	var (
		kind, slug, body, ca, ua string
		st                       Stored
		retired                  sql.NullString
	)
	if err := sc.Scan(&kind, &slug, &st.Version, &body, &ca, &st.CreatedBy, &ua, &st.UpdatedBy, &retired); err != nil {
		return nil, err
	}
	r, err := decode(record.Kind(kind), []byte(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, slug, err)
	}
	st.Record, st.CreatedAt, st.UpdatedAt, st.Retired = r, parseTime(ca), parseTime(ua), retired.Valid
	return &st, nil
}

func decode(kind record.Kind, body []byte) (record.Record, error) {
	r := record.New(kind)
	if r == nil {
		return nil, fmt.Errorf("unknown kind %q", kind)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(r); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return r, nil
}

func get(ctx context.Context, q querier, kind record.Kind, slug string) (*Stored, error) {
	st, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM records WHERE kind = $1 AND slug = $2`, string(kind), slug))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: get %s %s: %w", kind, slug, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get %s %s: %w", kind, slug, err)
	}
	return st, nil
}

// List returns the current, unretired records of a kind, by slug.
func (s *Store) List(ctx context.Context, kind record.Kind) ([]*Stored, error) {
	return s.list(ctx, `SELECT `+recordColumns+` FROM records WHERE kind = $1 AND retired_at IS NULL ORDER BY slug`, string(kind))
}

// Referring returns the current, unretired records of a kind that refer to
// the record (refKind, refSlug), by slug: e.g. the assessments of an incident.
func (s *Store) Referring(ctx context.Context, kind, refKind record.Kind, refSlug string) ([]*Stored, error) {
	return s.list(ctx, `
		SELECT `+recordColumns+` FROM records r
		WHERE r.kind = $1 AND r.retired_at IS NULL AND EXISTS (
			SELECT 1 FROM record_refs f
			WHERE f.kind = r.kind AND f.slug = r.slug AND f.ref_kind = $2 AND f.ref_slug = $3)
		ORDER BY r.slug`, string(kind), string(refKind), refSlug)
}

func (s *Store) list(ctx context.Context, query string, args ...any) ([]*Stored, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	defer rows.Close()
	var out []*Stored
	for rows.Next() {
		st, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	return out, nil
}

// EvidenceBySHA256 returns the evidence record of an original, if any.
func (t *Tx) EvidenceBySHA256(sum string) (*record.Evidence, error) {
	return evidenceBySHA256(t.ctx, t.tx, sum)
}

// EvidenceBySHA256 returns the evidence record of an original, if any.
func (s *Store) EvidenceBySHA256(ctx context.Context, sum string) (*record.Evidence, error) {
	return evidenceBySHA256(ctx, s.db, sum)
}

func evidenceBySHA256(ctx context.Context, q querier, sum string) (*record.Evidence, error) {
	st, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM records WHERE kind = $1 AND sha256 = $2`,
		string(record.KindEvidence), sum))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: evidence %s: %w", sum, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: evidence %s: %w", sum, err)
	}
	return st.Record.(*record.Evidence), nil
}

// Version is one entry of a record's history.
type Version struct {
	Version int           `json:"version"`
	Op      Op            `json:"op"`
	At      time.Time     `json:"at"`
	By      string        `json:"by"`
	Reason  string        `json:"reason"`
	Record  record.Record `json:"record"`
}

// History returns every version of a record, oldest first.
func (s *Store) History(ctx context.Context, kind record.Kind, slug string) ([]Version, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT version, op, body, changed_at, changed_by, reason
		FROM record_history WHERE kind = $1 AND slug = $2 ORDER BY version`, string(kind), slug)
	if err != nil {
		return nil, fmt.Errorf("store: history %s %s: %w", kind, slug, err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var (
			v        Version
			op, body string
			at       string
		)
		if err := rows.Scan(&v.Version, &op, &body, &at, &v.By, &v.Reason); err != nil {
			return nil, fmt.Errorf("store: history %s %s: %w", kind, slug, err)
		}
		v.Op, v.At = Op(op), parseTime(at)
		if v.Record, err = decode(kind, []byte(body)); err != nil {
			return nil, fmt.Errorf("store: history %s %s: %w", kind, slug, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: history %s %s: %w", kind, slug, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("store: history %s %s: %w", kind, slug, ErrNotFound)
	}
	return out, nil
}

// Generation returns a value that changes whenever any record is written:
// a cheap key for caches of derived data. Every write appends a history
// row, so the history's highest row id is such a value. (SQLite's rowid;
// the PostgreSQL seam will use a sequence.)
func (s *Store) Generation(ctx context.Context) (string, error) {
	var last sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(rowid) FROM record_history`).Scan(&last); err != nil {
		return "", fmt.Errorf("store: generation: %w", err)
	}
	return fmt.Sprint(last.Int64), nil
}

// Count returns how many current, unretired records of a kind there are.
func (s *Store) Count(ctx context.Context, kind record.Kind) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM records WHERE kind = $1 AND retired_at IS NULL`, string(kind)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", kind, err)
	}
	return n, nil
}

// Current returns every current, unretired record, kind by kind in load
// order: what the verification engine reasons over.
func (s *Store) Current(ctx context.Context) ([]record.Record, error) {
	var out []record.Record
	for _, k := range record.Kinds {
		list, err := s.List(ctx, k)
		if err != nil {
			return nil, err
		}
		for _, st := range list {
			out = append(out, st.Record)
		}
	}
	return out, nil
}
