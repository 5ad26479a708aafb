// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Blob is the store's entry for an original held in the locker.
type Blob struct {
	SHA256    string
	Size      int64
	MediaType string
	StoredAt  time.Time
}

// PutBlob records an original, and its leaf. Recording the same digest
// again is a no-op.
func (t *Tx) PutBlob(b Blob) error {
	res, err := t.tx.ExecContext(t.ctx, `
		INSERT INTO blobs (sha256, size, media_type, stored_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (sha256) DO NOTHING`,
		b.SHA256, b.Size, b.MediaType, formatTime(b.StoredAt))
	if err != nil {
		return fmt.Errorf("store: put blob %s: %w", b.SHA256, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // already recorded: its leaf was written then
	}
	return t.journal(Event{Kind: BlobKind, Ref: b.SHA256, Blob: &b, At: b.StoredAt})
}

// Blobs returns every recorded original, by digest.
func (s *Store) Blobs(ctx context.Context) ([]Blob, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sha256, size, media_type, stored_at FROM blobs ORDER BY sha256`)
	if err != nil {
		return nil, fmt.Errorf("store: blobs: %w", err)
	}
	defer rows.Close()
	var out []Blob
	for rows.Next() {
		var (
			b  Blob
			at string
		)
		if err := rows.Scan(&b.SHA256, &b.Size, &b.MediaType, &at); err != nil {
			return nil, fmt.Errorf("store: blobs: %w", err)
		}
		b.StoredAt = parseTime(at)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: blobs: %w", err)
	}
	return out, nil
}

// uniqueErr maps a driver's unique-constraint error to ErrConflict.
func uniqueErr(err error) error {
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return fmt.Errorf("%w: %v", ErrConflict, err)
	}
	return err
}
