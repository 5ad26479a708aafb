// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"groundtruth/internal/record"
)

// ErrBadQuery is returned (wrapped) for a search query with no words.
var ErrBadQuery = errors.New("store: empty search")

// index replaces a record's entry in the search index with its text:
// every string in its public form (a victim's name and notes are left
// out, so that no search can be used to learn them).
func (t *Tx) index(r record.Record, retired bool) error {
	// The index entry shares the record row's rowid, so that replacing it
	// is a lookup, not a scan of the index (FTS5 cannot index kind and slug).
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM search WHERE rowid = (SELECT rowid FROM records WHERE kind = $1 AND slug = $2)`, string(r.Kind()), r.Key()); err != nil {
		return fmt.Errorf("store: index %s %s: %w", r.Kind(), r.Key(), err)
	}
	if retired {
		return nil
	}
	if v, ok := r.(*record.Victim); ok {
		pub := v.Public()
		r = &pub
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: index %s %s: %w", r.Kind(), r.Key(), err)
	}
	var doc any
	json.Unmarshal(b, &doc)
	var words []string
	var collect func(v any)
	collect = func(v any) {
		switch v := v.(type) {
		case string:
			words = append(words, v)
		case []any:
			for _, x := range v {
				collect(x)
			}
		case map[string]any:
			for _, x := range v {
				collect(x)
			}
		}
	}
	collect(doc)
	_, err = t.tx.ExecContext(t.ctx, `INSERT INTO search (rowid, kind, slug, body)
		VALUES ((SELECT rowid FROM records WHERE kind = $1 AND slug = $2), $1, $2, $3)`,
		string(r.Kind()), r.Key(), strings.Join(words, " \n"))
	if err != nil {
		return fmt.Errorf("store: index %s %s: %w", r.Kind(), r.Key(), err)
	}
	return nil
}

// Hit is a search result.
type Hit struct {
	Kind    record.Kind `json:"kind"`
	Slug    string      `json:"slug"`
	Snippet string      `json:"snippet"`
}

// Search finds records whose text holds every word of q (each word also as
// a prefix), best match first.
func (s *Store) Search(ctx context.Context, q string, limit int) ([]Hit, error) {
	var terms []string
	for _, w := range strings.Fields(q) {
		w = strings.Map(func(r rune) rune {
			if r == '"' || r == '*' || r == '^' {
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
	rows, err := s.db.QueryContext(ctx, `
		SELECT kind, slug, snippet(search, 2, '[', ']', '…', 12) FROM search
		WHERE search MATCH $1 ORDER BY rank LIMIT $2`, strings.Join(terms, " "), limit)
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
