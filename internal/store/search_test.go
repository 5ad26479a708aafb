// SPDX-License-Identifier: Apache-2.0

package store_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// FuzzSearch sends any query to both tiers of the index: a query is
// answered or refused as empty, never an SQL error, and the public tier
// never finds an item marked personal data, whose text is staff text only.
func FuzzSearch(f *testing.F) {
	for _, q := range []string{"witness", "0123", "ev-0123456789ab", `"`, "*", "a OR b", "public_text : x", "staff_text:witness",
		"NEAR(a b)", ") OR (", "{staff_text}: witness", "-", "^", "witness.jpg", "Գանձակ"} {
		f.Add(q)
	}
	s, err := store.Create(f.Context(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	c := store.Change{By: "ana", Reason: "fuzz", At: time.Now()}
	err = s.Update(f.Context(), func(tx *store.Tx) error {
		_, err := tx.Put(&record.Evidence{Slug: "ev-0123456789ab", SHA256: strings.Repeat("0123456789abcdef", 4),
			Filename: "witness.jpg", Title: "witness statement", AddedBy: "ana", PersonalData: true}, c)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, tier := range []store.Tier{store.PublicText, store.StaffText} {
			hits, err := s.Search(t.Context(), q, tier, 10)
			if err != nil && !errors.Is(err, store.ErrBadQuery) {
				t.Fatalf("Search(%q, %d): %v", q, tier, err)
			}
			if tier == store.PublicText && len(hits) > 0 {
				t.Errorf("Search(%q, public) = %+v: a personal-data item found by the public tier", q, hits)
			}
		}
	})
}
