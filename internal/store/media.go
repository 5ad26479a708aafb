// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Media is the outcome of analysing one original: what kind of media it
// is, whether the analysis worked, and the metadata the file carries.
type Media struct {
	SHA256   string
	Kind     string // image, video or other
	Status   string // analysed or failed
	Error    string // why the analysis failed, one line
	Metadata []byte // JSON
	Probe    []byte // ffprobe's output, verbatim (video only)
	Tools    string // versions of the tools that ran
	// Thumb is a small picture of an image kept to find cropped copies
	// (match.Thumb's encoding); nil for other media.
	Thumb      []byte
	AnalysedAt time.Time
}

// Media statuses.
const (
	MediaAnalysed = "analysed"
	MediaFailed   = "failed"
)

// MediaHash is one perceptual hash of an original or of one of its video
// frames.
type MediaHash struct {
	ID      int64
	SHA256  string
	Kind    string
	Frame   bool    // a video frame, at Seconds
	Seconds float64 // meaningful only for frames
	Hash    [32]byte
	Quality int
}

// MediaFile is a file derived from an original and kept in the locker.
type MediaFile struct {
	SHA256  string // the original
	Role    string // keyframe
	File    string // the derived file's digest in the locker
	Seconds float64
}

// MediaLink records that original A, when analysed, matched original B.
// Percentages are set for video pairs: the share of A's frames found in B
// and of B's in A.
type MediaLink struct {
	A, B      string
	Distance  int
	Transform string
	APercent  *float64
	BPercent  *float64
	FoundAt   time.Time
}

// PutMedia records an analysis, replacing any earlier analysis of the same
// original together with its hashes and derived files. Links found
// earlier are kept: they were true of the bytes, which cannot change.
func (s *Store) PutMedia(ctx context.Context, m Media, hashes []MediaHash, files []MediaFile) error {
	if len(m.Metadata) == 0 {
		m.Metadata = []byte("{}")
	}
	return s.Update(ctx, func(t *Tx) error {
		q := t.tx
		if _, err := q.ExecContext(ctx, `DELETE FROM media_hashes WHERE sha256 = $1`, m.SHA256); err != nil {
			return fmt.Errorf("store: put media %s: %w", m.SHA256, err)
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM media_files WHERE sha256 = $1`, m.SHA256); err != nil {
			return fmt.Errorf("store: put media %s: %w", m.SHA256, err)
		}
		if _, err := q.ExecContext(ctx, `
			INSERT INTO media (sha256, kind, status, error, metadata, probe, tools, thumb, analysed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (sha256) DO UPDATE SET kind = excluded.kind, status = excluded.status,
				error = excluded.error, metadata = excluded.metadata, probe = excluded.probe,
				tools = excluded.tools, thumb = excluded.thumb, analysed_at = excluded.analysed_at`,
			m.SHA256, m.Kind, m.Status, m.Error, string(m.Metadata), string(m.Probe), m.Tools, m.Thumb, formatTime(m.AnalysedAt)); err != nil {
			return fmt.Errorf("store: put media %s: %w", m.SHA256, err)
		}
		ins, err := q.PrepareContext(ctx, `INSERT INTO media_hashes (sha256, kind, seconds, hash, quality) VALUES ($1, $2, $3, $4, $5)`)
		if err != nil {
			return fmt.Errorf("store: put media %s: %w", m.SHA256, err)
		}
		defer ins.Close()
		for _, h := range hashes {
			var sec sql.NullFloat64
			if h.Frame {
				sec = sql.NullFloat64{Float64: h.Seconds, Valid: true}
			}
			if _, err := ins.ExecContext(ctx, m.SHA256, h.Kind, sec, h.Hash[:], h.Quality); err != nil {
				return fmt.Errorf("store: put media hash of %s: %w", m.SHA256, err)
			}
		}
		for _, f := range files {
			if _, err := q.ExecContext(ctx, `
				INSERT INTO media_files (sha256, role, file, seconds) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, m.SHA256, f.Role, f.File, f.Seconds); err != nil {
				return fmt.Errorf("store: put media file of %s: %w", m.SHA256, err)
			}
		}
		return nil
	})
}

// Media returns the analysis of an original, or ErrNotFound.
func (s *Store) Media(ctx context.Context, sha string) (*Media, error) {
	var (
		m           Media
		meta, probe string
		analysedAt  string
	)
	err := s.db.QueryRowContext(ctx, `
		SELECT sha256, kind, status, error, metadata, probe, tools, thumb, analysed_at
		FROM media WHERE sha256 = $1`, sha).
		Scan(&m.SHA256, &m.Kind, &m.Status, &m.Error, &meta, &probe, &m.Tools, &m.Thumb, &analysedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no media analysis of %s", ErrNotFound, sha)
	}
	if err != nil {
		return nil, fmt.Errorf("store: media %s: %w", sha, err)
	}
	m.Metadata, m.Probe, m.AnalysedAt = []byte(meta), []byte(probe), parseTime(analysedAt)
	return &m, nil
}

// EachThumb calls each with the digest and thumbnail of every analysed
// original that has one, in digest order.
func (s *Store) EachThumb(ctx context.Context, each func(sha string, thumb []byte) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT sha256, thumb FROM media WHERE thumb IS NOT NULL AND status = $1 ORDER BY sha256`, MediaAnalysed)
	if err != nil {
		return fmt.Errorf("store: thumbnails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			sum   string
			thumb []byte
		)
		if err := rows.Scan(&sum, &thumb); err != nil {
			return fmt.Errorf("store: thumbnails: %w", err)
		}
		if err := each(sum, thumb); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: thumbnails: %w", err)
	}
	return nil
}

// Unanalysed returns the digests of originals that have no analysis yet,
// oldest first.
func (s *Store) Unanalysed(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT b.sha256 FROM blobs b LEFT JOIN media m ON m.sha256 = b.sha256
		WHERE m.sha256 IS NULL ORDER BY b.stored_at, b.sha256`)
	if err != nil {
		return nil, fmt.Errorf("store: unanalysed media: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sum string
		if err := rows.Scan(&sum); err != nil {
			return nil, fmt.Errorf("store: unanalysed media: %w", err)
		}
		out = append(out, sum)
	}
	return out, rows.Err()
}

const mediaHashColumns = `id, sha256, kind, seconds, hash, quality`

func scanMediaHashes(rows *sql.Rows, err error, each func(MediaHash) error) error {
	if err != nil {
		return fmt.Errorf("store: media hashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			h   MediaHash
			sec sql.NullFloat64
			raw []byte
		)
		if err := rows.Scan(&h.ID, &h.SHA256, &h.Kind, &sec, &raw, &h.Quality); err != nil {
			return fmt.Errorf("store: media hashes: %w", err)
		}
		if len(raw) != len(h.Hash) {
			return fmt.Errorf("store: media hash %d has %d bytes, want %d: re-run groundtruth analyse", h.ID, len(raw), len(h.Hash))
		}
		copy(h.Hash[:], raw)
		h.Frame, h.Seconds = sec.Valid, sec.Float64
		if err := each(h); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: media hashes: %w", err)
	}
	return nil
}

// MediaHashes returns the hashes of one original, frames in time order.
func (s *Store) MediaHashes(ctx context.Context, sha string) ([]MediaHash, error) {
	var out []MediaHash
	rows, err := s.db.QueryContext(ctx, `SELECT `+mediaHashColumns+` FROM media_hashes
		WHERE sha256 = $1 ORDER BY id`, sha)
	err = scanMediaHashes(rows, err, func(h MediaHash) error {
		out = append(out, h)
		return nil
	})
	return out, err
}

// EachMediaHash calls each for every stored hash whose id is above after,
// in id order, so that an index can be built, and later caught up, without
// holding every row in memory twice.
func (s *Store) EachMediaHash(ctx context.Context, after int64, each func(MediaHash) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+mediaHashColumns+` FROM media_hashes
		WHERE id > $1 ORDER BY id`, after)
	return scanMediaHashes(rows, err, each)
}

// MediaFiles returns the derived files of an original, in time order.
func (s *Store) MediaFiles(ctx context.Context, sha string) ([]MediaFile, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sha256, role, file, seconds FROM media_files
		WHERE sha256 = $1 ORDER BY role, seconds, file`, sha)
	if err != nil {
		return nil, fmt.Errorf("store: media files of %s: %w", sha, err)
	}
	defer rows.Close()
	var out []MediaFile
	for rows.Next() {
		var f MediaFile
		if err := rows.Scan(&f.SHA256, &f.Role, &f.File, &f.Seconds); err != nil {
			return nil, fmt.Errorf("store: media files of %s: %w", sha, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// PutMediaLinks records near-duplicate links. A link found again keeps its
// first finding time and takes the newer figures.
func (s *Store) PutMediaLinks(ctx context.Context, links []MediaLink) error {
	if len(links) == 0 {
		return nil
	}
	return s.Update(ctx, func(t *Tx) error {
		for _, l := range links {
			if _, err := t.tx.ExecContext(ctx, `
				INSERT INTO media_links (a, b, distance, transform, a_percent, b_percent, found_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (a, b) DO UPDATE SET distance = excluded.distance,
					transform = excluded.transform, a_percent = excluded.a_percent,
					b_percent = excluded.b_percent`,
				l.A, l.B, l.Distance, l.Transform, l.APercent, l.BPercent, formatTime(l.FoundAt)); err != nil {
				return fmt.Errorf("store: link %s to %s: %w", l.A, l.B, err)
			}
		}
		return nil
	})
}

// MediaLinks returns every link touching one of the given originals.
func (s *Store) MediaLinks(ctx context.Context, sha string) ([]MediaLink, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT a, b, distance, transform, a_percent, b_percent, found_at FROM media_links
		WHERE a = $1 OR b = $1 ORDER BY found_at, a, b`, sha)
	if err != nil {
		return nil, fmt.Errorf("store: media links of %s: %w", sha, err)
	}
	defer rows.Close()
	var out []MediaLink
	for rows.Next() {
		var (
			l      MediaLink
			ap, bp sql.NullFloat64
			at     string
		)
		if err := rows.Scan(&l.A, &l.B, &l.Distance, &l.Transform, &ap, &bp, &at); err != nil {
			return nil, fmt.Errorf("store: media links of %s: %w", sha, err)
		}
		if ap.Valid {
			l.APercent = &ap.Float64
		}
		if bp.Valid {
			l.BPercent = &bp.Float64
		}
		l.FoundAt = parseTime(at)
		out = append(out, l)
	}
	return out, rows.Err()
}

// MediaGroup returns the originals linked to sha directly or through other
// originals (sha included), sorted, and every link among them.
func (s *Store) MediaGroup(ctx context.Context, sha string) ([]string, []MediaLink, error) {
	seen := map[string]bool{sha: true}
	queue := []string{sha}
	var links []MediaLink
	have := map[[2]string]bool{}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		ls, err := s.MediaLinks(ctx, cur)
		if err != nil {
			return nil, nil, err
		}
		for _, l := range ls {
			if !have[[2]string{l.A, l.B}] {
				have[[2]string{l.A, l.B}] = true
				links = append(links, l)
			}
			for _, o := range []string{l.A, l.B} {
				if !seen[o] {
					seen[o] = true
					queue = append(queue, o)
				}
			}
		}
	}
	members := make([]string, 0, len(seen))
	for m := range seen {
		members = append(members, m)
	}
	slices.Sort(members)
	return members, links, nil
}
