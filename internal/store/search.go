// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"groundtruth/internal/disclosure"
	"groundtruth/internal/record"
)

// ErrBadQuery is returned (wrapped) for a search query with no words.
var ErrBadQuery = errors.New("store: empty search")

// index replaces a record's entry in the search index with its text in
// the two tiers of [disclosure.SearchText]: what the public may match and
// read, and what signed-in staff may. Whether a reader may see the record
// at all is decided when it is found, not here: an incident's status
// changes without its records being indexed again.
func (t *Tx) index(r record.Record, retired bool) error {
	// The index entry shares the record row's rowid, so that replacing it
	// is a lookup, not a scan of the index (FTS5 cannot index kind and slug).
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM search WHERE rowid = (SELECT rowid FROM records WHERE kind = $1 AND slug = $2)`, string(r.Kind()), r.Key()); err != nil {
		return fmt.Errorf("store: index %s %s: %w", r.Kind(), r.Key(), err)
	}
	if retired {
		return nil
	}
	public, staff := disclosure.SearchText(r)
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO search (rowid, kind, slug, public_text, staff_text)
		VALUES ((SELECT rowid FROM records WHERE kind = $1 AND slug = $2), $1, $2, $3, $4)`,
		string(r.Kind()), r.Key(), strings.Join(public, " \n"), strings.Join(staff, " \n"))
	if err != nil {
		return fmt.Errorf("store: index %s %s: %w", r.Kind(), r.Key(), err)
	}
	return nil
}

// Hit is a search result. Link is the page that shows the record, set by
// the caller that decides who may open it.
type Hit struct {
	Kind    record.Kind `json:"kind"`
	Slug    string      `json:"slug"`
	Snippet string      `json:"snippet"`
	Link    string      `json:"link"`
}

// Tier says which text of the records a search matches and quotes.
type Tier int

// The tiers of search text (see [disclosure.SearchText]).
const (
	PublicText Tier = iota // what the public may read
	StaffText              // what signed-in staff may read
)

// Search finds records whose text in tier holds every word of q (each word
// also as a prefix), best match first. Snippets are cut from that tier's
// text only.
func (s *Store) Search(ctx context.Context, q string, tier Tier, limit int) ([]Hit, error) {
	// Each word becomes one quoted FTS5 prefix phrase: quotes, operators
	// and control characters (a NUL ends the query string in SQLite) are
	// dropped, so a query is always words, never FTS5 syntax.
	var terms []string
	for _, w := range strings.Fields(strings.ToValidUTF8(q, " ")) {
		w = strings.Map(func(r rune) rune {
			if r == '"' || r == '*' || r == '^' || unicode.IsControl(r) {
				return -1
			}
			return r
		}, w)
		if w != "" {
			terms = append(terms, `"`+w+`"*`)
		}
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("%w: give at least one word", ErrBadQuery)
	}
	// The column filter confines the match to one tier; the snippet's
	// column number (2 or 3) is that tier's column.
	column, col := "public_text", 2
	if tier == StaffText {
		column, col = "staff_text", 3
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT kind, slug, snippet(search, $1, '[', ']', '…', 12) FROM search
		WHERE search MATCH $2 ORDER BY rank LIMIT $3`, col, column+" : ("+strings.Join(terms, " ")+")", limit)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	defer rows.Close()
	out := []Hit{}
	for rows.Next() {
		var h Hit
		var kind string
		if err := rows.Scan(&kind, &h.Slug, &h.Snippet); err != nil {
			return nil, fmt.Errorf("store: search: %w", err)
		}
		h.Kind = record.Kind(kind)
		out = append(out, h)
	}
	return out, rows.Err()
}

// Reindex rebuilds the search index from the current records. Index
// entries share their record's rowid, which a VACUUM may renumber: run
// groundtruth migrate, which calls Reindex, after one.
func (s *Store) Reindex(ctx context.Context) error {
	return s.Update(ctx, func(t *Tx) error {
		if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM search`); err != nil {
			return fmt.Errorf("store: reindex: %w", err)
		}
		for _, k := range record.Kinds {
			list, err := s.list(ctx, `SELECT `+recordColumns+` FROM records WHERE kind = $1`, string(k))
			if err != nil {
				return err
			}
			for _, st := range list {
				if err := t.index(st.Record, st.Retired); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
