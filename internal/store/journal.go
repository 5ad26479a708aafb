// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// BlobKind is the kind under which leaves about originals are kept.
const BlobKind = "blob"

// Event is a change the store asks its journal to record.
type Event struct {
	Kind    string // a record kind, or BlobKind
	Ref     string // the record's slug, or the original's sha256
	Version int    // the record's new version; 0 for an original
	Op      Op     // create, update, retire; "" for an original
	Body    []byte // the record version's canonical JSON
	Blob    *Blob  // the original, for BlobKind
	At      time.Time
	By      string // who made the change
	Reason  string // why
	Prev    string // hash of the previous leaf about the same subject, "" for the first
}

// Journal turns changes into leaves of the tamper-evident log. The store
// writes each leaf in the transaction of the change it records, so that a
// change is never committed without its leaf.
type Journal interface {
	// Subject returns the commitment that names what e is about.
	Subject(e Event) string
	// Leaf returns the leaf for e and its hash (hex).
	Leaf(e Event) (leaf []byte, hash string, err error)
}

// SetJournal makes every later write record a leaf through j.
func (s *Store) SetJournal(j Journal) { s.journal = j }

// journal writes the leaf for e, if the store has a journal.
func (t *Tx) journal(e Event) error {
	j := t.store.journal
	if j == nil {
		return nil
	}
	subject := j.Subject(e)
	err := t.tx.QueryRowContext(t.ctx, `
		SELECT leaf_hash FROM ledger_leaves WHERE subject = $1 ORDER BY seq DESC LIMIT 1`, subject).Scan(&e.Prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: journal %s %s: %w", e.Kind, e.Ref, err)
	}
	leaf, hash, err := j.Leaf(e)
	if err != nil {
		return fmt.Errorf("store: journal %s %s: %w", e.Kind, e.Ref, err)
	}
	_, err = t.tx.ExecContext(t.ctx, `
		INSERT INTO ledger_leaves (subject, leaf, leaf_hash, kind, ref, version, written_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		subject, string(leaf), hash, e.Kind, e.Ref, e.Version, formatTime(e.At))
	if err != nil {
		return fmt.Errorf("store: journal %s %s: %w", e.Kind, e.Ref, err)
	}
	return nil
}

// LeafRow is a leaf as the store keeps it.
type LeafRow struct {
	Seq       int64
	Subject   string
	Leaf      []byte
	Hash      string
	Index     int64 // -1 while the log does not hold it
	Kind      string
	Ref       string
	Version   int
	WrittenAt time.Time
}

const leafColumns = `seq, subject, leaf, leaf_hash, COALESCE(log_index, -1), kind, ref, version, written_at`

func scanLeaves(rows *sql.Rows, err error) ([]LeafRow, error) {
	if err != nil {
		return nil, fmt.Errorf("store: leaves: %w", err)
	}
	defer rows.Close()
	var out []LeafRow
	for rows.Next() {
		var (
			l        LeafRow
			leaf, at string
		)
		if err := rows.Scan(&l.Seq, &l.Subject, &leaf, &l.Hash, &l.Index, &l.Kind, &l.Ref, &l.Version, &at); err != nil {
			return nil, fmt.Errorf("store: leaves: %w", err)
		}
		l.Leaf, l.WrittenAt = []byte(leaf), parseTime(at)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: leaves: %w", err)
	}
	return out, nil
}

// PendingLeaves returns the leaves the log does not hold yet, oldest first.
func (s *Store) PendingLeaves(ctx context.Context) ([]LeafRow, error) {
	return scanLeaves(s.db.QueryContext(ctx, `SELECT `+leafColumns+` FROM ledger_leaves WHERE log_index IS NULL ORDER BY seq`))
}

// Leaves returns every leaf, oldest first.
func (s *Store) Leaves(ctx context.Context) ([]LeafRow, error) {
	return scanLeaves(s.db.QueryContext(ctx, `SELECT `+leafColumns+` FROM ledger_leaves ORDER BY seq`))
}

// LeavesOf returns the leaves about a record or an original, oldest first.
func (s *Store) LeavesOf(ctx context.Context, kind, ref string) ([]LeafRow, error) {
	return scanLeaves(s.db.QueryContext(ctx, `SELECT `+leafColumns+` FROM ledger_leaves WHERE kind = $1 AND ref = $2 ORDER BY seq`, kind, ref))
}

// NextLogIndex returns one more than the highest log index recorded, or 0.
func (s *Store) NextLogIndex(ctx context.Context) (uint64, error) {
	var n sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(log_index) FROM ledger_leaves`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: next log index: %w", err)
	}
	if !n.Valid {
		return 0, nil
	}
	return uint64(n.Int64) + 1, nil
}

// SetLogIndexes records where the log holds leaves, by leaf hash.
func (s *Store) SetLogIndexes(ctx context.Context, idx map[string]uint64) error {
	if len(idx) == 0 {
		return nil
	}
	return s.Update(ctx, func(t *Tx) error {
		for hash, i := range idx {
			res, err := t.tx.ExecContext(t.ctx, `UPDATE ledger_leaves SET log_index = $1 WHERE leaf_hash = $2 AND log_index IS NULL`, int64(i), hash)
			if err != nil {
				return fmt.Errorf("store: set log index %d: %w", i, err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("store: set log index %d: leaf %s is not pending", i, hash)
			}
		}
		return nil
	})
}

// JournalMissing writes leaves for the originals, records, accounts, API
// tokens and access-log entries that have none: data written before the
// ledger committed to it. Each such leaf is an honest late entry (op
// "backfill"), not a claim about when the data was first written.
func (s *Store) JournalMissing(ctx context.Context, at time.Time) (int, error) {
	if s.journal == nil {
		return 0, nil
	}
	n := 0
	err := s.Update(ctx, func(t *Tx) error {
		blobs, err := s.Blobs(ctx)
		if err != nil {
			return err
		}
		for _, b := range blobs {
			if ok, err := t.hasLeaf(BlobKind, b.SHA256); err != nil || ok {
				if err != nil {
					return err
				}
				continue
			}
			if err := t.journal(Event{Kind: BlobKind, Ref: b.SHA256, Blob: &b, Op: Backfilled, At: at}); err != nil {
				return err
			}
			n++
		}
		rows, err := t.tx.QueryContext(t.ctx, `
			SELECT r.kind, r.slug, r.version, r.body FROM records r
			WHERE NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.kind = r.kind AND l.ref = r.slug)
			ORDER BY r.kind, r.slug`)
		if err != nil {
			return fmt.Errorf("store: journal missing: %w", err)
		}
		var missing []Event
		for rows.Next() {
			var e Event
			var body string
			if err := rows.Scan(&e.Kind, &e.Ref, &e.Version, &body); err != nil {
				rows.Close()
				return fmt.Errorf("store: journal missing: %w", err)
			}
			e.Body, e.Op, e.At = []byte(body), Backfilled, at
			missing = append(missing, e)
		}
		rows.Close()
		for _, e := range missing {
			if err := t.journal(e); err != nil {
				return err
			}
			n++
		}
		m, err := t.journalMissingAccounts(at)
		n += m
		return err
	})
	return n, err
}

func (t *Tx) hasLeaf(kind, ref string) (bool, error) {
	var one int
	err := t.tx.QueryRowContext(t.ctx, `SELECT 1 FROM ledger_leaves WHERE kind = $1 AND ref = $2 LIMIT 1`, kind, ref).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// RawRecord is a record's current version as stored, retired or not.
type RawRecord struct {
	Kind    string
	Slug    string
	Version int
	Body    []byte
	Retired bool
}

// RawRecords returns the current version of every record, as stored.
func (s *Store) RawRecords(ctx context.Context) ([]RawRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, slug, version, body, retired_at IS NOT NULL FROM records ORDER BY kind, slug`)
	if err != nil {
		return nil, fmt.Errorf("store: raw records: %w", err)
	}
	defer rows.Close()
	var out []RawRecord
	for rows.Next() {
		var r RawRecord
		var body string
		if err := rows.Scan(&r.Kind, &r.Slug, &r.Version, &body, &r.Retired); err != nil {
			return nil, fmt.Errorf("store: raw records: %w", err)
		}
		r.Body = []byte(body)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RawVersion is one history row as stored.
type RawVersion struct {
	Kind, Slug, Op, By, Reason string
	Version                    int
	Body                       []byte
}

// RawHistory returns every history row, as stored.
func (s *Store) RawHistory(ctx context.Context) ([]RawVersion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, slug, version, op, body, changed_by, reason FROM record_history ORDER BY kind, slug, version`)
	if err != nil {
		return nil, fmt.Errorf("store: raw history: %w", err)
	}
	defer rows.Close()
	var out []RawVersion
	for rows.Next() {
		var v RawVersion
		var body string
		if err := rows.Scan(&v.Kind, &v.Slug, &v.Version, &v.Op, &body, &v.By, &v.Reason); err != nil {
			return nil, fmt.Errorf("store: raw history: %w", err)
		}
		v.Body = []byte(body)
		out = append(out, v)
	}
	return out, rows.Err()
}

// MaxLeafSeq returns the highest leaf sequence number, or 0.
func (s *Store) MaxLeafSeq(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(seq) FROM ledger_leaves`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: max leaf: %w", err)
	}
	return n.Int64, nil
}
