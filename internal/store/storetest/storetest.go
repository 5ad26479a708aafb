// SPDX-License-Identifier: Apache-2.0

// Package storetest is the contract suite every store backend must pass.
// A backend's test calls Run with a function that opens a fresh, empty,
// migrated store.
package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// Run runs the contract suite.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, ctx context.Context, s *store.Store)
	}{
		{"PutVersionsAndHistory", testPutVersionsAndHistory},
		{"RetireKeepsEverything", testRetire},
		{"References", testReferences},
		{"RollbackChangesNothing", testRollback},
		{"EvidenceAndBlobs", testEvidenceAndBlobs},
		{"ChangeNeedsWhoAndWhy", testChangeNeedsWhoAndWhy},
		{"SearchIsUnicodeAndPrivate", testSearch},
		{"MediaAnalysesAndGroups", testMedia},
		{"AccessLogTimesInOrder", testAccessLogTimes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			tt.f(t, t.Context(), s)
		})
	}
	t.Run("Jobs", func(t *testing.T) { Jobs(t, open) })
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func change(by, why string, minutes int) store.Change {
	return store.Change{By: by, Reason: why, At: t0.Add(time.Duration(minutes) * time.Minute)}
}

func actor(slug, name string) *record.Actor {
	return &record.Actor{Slug: slug, Name: name, Type: "ngo"}
}

func put(t *testing.T, ctx context.Context, s *store.Store, c store.Change, recs ...record.Record) []store.Op {
	t.Helper()
	var ops []store.Op
	err := s.Update(ctx, func(tx *store.Tx) error {
		for _, r := range recs {
			op, err := tx.Put(r, c)
			if err != nil {
				return err
			}
			ops = append(ops, op)
		}
		for _, r := range recs {
			if err := tx.CheckRefs(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	return ops
}

func testPutVersionsAndHistory(t *testing.T, ctx context.Context, s *store.Store) {
	ops := put(t, ctx, s, change("ana", "first", 0), actor("bellingcat", "Bellingcat"))
	if ops[0] != store.Created {
		t.Errorf("first Put = %s, want create", ops[0])
	}
	ops = put(t, ctx, s, change("ana", "again", 1), actor("bellingcat", "Bellingcat"))
	if ops[0] != store.Unchanged {
		t.Errorf("identical Put = %s, want unchanged", ops[0])
	}
	ops = put(t, ctx, s, change("ben", "fix name", 2), actor("bellingcat", "Bellingcat Productions"))
	if ops[0] != store.Updated {
		t.Errorf("changed Put = %s, want update", ops[0])
	}
	got, err := s.Get(ctx, record.KindActor, "bellingcat")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.Record.(*record.Actor).Name != "Bellingcat Productions" ||
		got.CreatedBy != "ana" || got.UpdatedBy != "ben" || !got.CreatedAt.Equal(t0) {
		t.Errorf("Get = v%d %+v by %s/%s at %v", got.Version, got.Record, got.CreatedBy, got.UpdatedBy, got.CreatedAt)
	}
	hist, err := s.History(ctx, record.KindActor, "bellingcat")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 {
		t.Fatalf("History has %d versions, want 2", len(hist))
	}
	if hist[0].Op != store.Created || hist[0].By != "ana" || hist[0].Reason != "first" ||
		hist[0].Record.(*record.Actor).Name != "Bellingcat" {
		t.Errorf("History[0] = %+v", hist[0])
	}
	if hist[1].Op != store.Updated || hist[1].By != "ben" || hist[1].Reason != "fix name" || !hist[1].At.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("History[1] = %+v", hist[1])
	}
	if _, err := s.Get(ctx, record.KindActor, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of missing record = %v, want ErrNotFound", err)
	}
	if _, err := s.History(ctx, record.KindActor, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("History of missing record = %v, want ErrNotFound", err)
	}
}

func testRetire(t *testing.T, ctx context.Context, s *store.Store) {
	put(t, ctx, s, change("ana", "add", 0), actor("dfrlab", "DFRLab"), actor("amnesty", "Amnesty"))
	err := s.Update(ctx, func(tx *store.Tx) error { return tx.Retire(record.KindActor, "dfrlab", change("ana", "duplicate", 1)) })
	if err != nil {
		t.Fatal(err)
	}
	list, _ := s.List(ctx, record.KindActor)
	if len(list) != 1 || list[0].Record.Key() != "amnesty" {
		t.Errorf("List after retire has %d records", len(list))
	}
	got, err := s.Get(ctx, record.KindActor, "dfrlab")
	if err != nil || !got.Retired {
		t.Fatalf("Get of retired record = %+v, %v; want it, marked retired", got, err)
	}
	hist, _ := s.History(ctx, record.KindActor, "dfrlab")
	if len(hist) != 2 || hist[1].Op != store.Retired || hist[1].Reason != "duplicate" {
		t.Errorf("History after retire = %+v", hist)
	}
	ops := put(t, ctx, s, change("ana", "restore", 2), actor("dfrlab", "DFRLab"))
	if ops[0] != store.Updated {
		t.Errorf("Put of retired record = %s, want update", ops[0])
	}
	if got, _ := s.Get(ctx, record.KindActor, "dfrlab"); got.Retired || got.Version != 3 {
		t.Errorf("after restore: retired %v, version %d", got.Retired, got.Version)
	}
	err = s.Update(ctx, func(tx *store.Tx) error { return tx.Retire(record.KindActor, "nobody", change("ana", "x", 3)) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Retire of missing record = %v, want ErrNotFound", err)
	}
}

func incident(slug string) *record.Incident {
	return &record.Incident{Slug: slug, Title: "T", DisorderType: "Political violence", EventType: "Battles",
		SubEventType: "Armed clash", Start: record.Date(2020, 10, 1), TimePrecision: "day",
		Location: &record.Location{Lat: 40, Lon: 46, Precision: "town"}, Status: "draft"}
}

func testReferences(t *testing.T, ctx context.Context, s *store.Store) {
	a := &record.Assessment{Slug: "geo-1", IncidentSlug: "clash", Type: record.Geolocation, Finding: "here",
		Organisation: "bellingcat", Date: record.Date(2020, 10, 15), Location: &record.Location{Lat: 40, Lon: 46, RadiusM: 100}}
	// Records may be written in any order within a transaction.
	put(t, ctx, s, change("ana", "add", 0), a, incident("clash"), actor("bellingcat", "Bellingcat"))
	got, err := s.Referring(ctx, record.KindAssessment, record.KindIncident, "clash")
	if err != nil || len(got) != 1 || got[0].Record.Key() != "geo-1" {
		t.Fatalf("Referring = %v, %v", got, err)
	}
	if got, _ := s.Referring(ctx, record.KindAssessment, record.KindIncident, "other"); len(got) != 0 {
		t.Errorf("Referring(other) = %d records, want 0", len(got))
	}
	// A changed reference moves the record.
	b := *a
	b.IncidentSlug = "clash-2"
	put(t, ctx, s, change("ana", "move", 1), incident("clash-2"), &b)
	if got, _ := s.Referring(ctx, record.KindAssessment, record.KindIncident, "clash"); len(got) != 0 {
		t.Errorf("old reference still found: %d records", len(got))
	}
	// A missing reference is an error naming the field.
	c := *a
	c.Slug, c.Organisation = "geo-2", "nobody"
	err = s.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.Put(&c, change("ana", "add", 2)); err != nil {
			return err
		}
		return tx.CheckRefs(&c)
	})
	var me *store.MissingRefError
	if !errors.As(err, &me) || me.Ref.Field != "organisation" || me.Ref.Slug != "nobody" {
		t.Errorf("CheckRefs = %v, want a MissingRefError on organisation", err)
	}
	if ok, _ := s.Exists(ctx, record.KindAssessment, "geo-2"); ok {
		t.Error("record with a missing reference was committed")
	}
}

func testRollback(t *testing.T, ctx context.Context, s *store.Store) {
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.Put(actor("a", "A"), change("ana", "add", 0)); err != nil {
			return err
		}
		if err := tx.PutBlob(store.Blob{SHA256: strings.Repeat("ab", 32), Size: 1, MediaType: "text/plain"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if ok, _ := s.Exists(ctx, record.KindActor, "a"); ok {
		t.Error("record survived a rolled-back transaction")
	}
	if b, _ := s.Blobs(ctx); len(b) != 0 {
		t.Error("blob survived a rolled-back transaction")
	}
}

func testEvidenceAndBlobs(t *testing.T, ctx context.Context, s *store.Store) {
	sum := strings.Repeat("0f", 32)
	err := s.Update(ctx, func(tx *store.Tx) error {
		for range 2 { // idempotent
			if err := tx.PutBlob(store.Blob{SHA256: sum, Size: 42, MediaType: "image/png", StoredAt: t0}); err != nil {
				return err
			}
		}
		if _, err := tx.EvidenceBySHA256(sum); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("EvidenceBySHA256 before put = %v, want ErrNotFound", err)
		}
		_, err := tx.Put(&record.Evidence{Slug: "clip", SHA256: sum}, change("ana", "ingest", 0))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	blobs, _ := s.Blobs(ctx)
	if len(blobs) != 1 || blobs[0].Size != 42 || blobs[0].MediaType != "image/png" || !blobs[0].StoredAt.Equal(t0) {
		t.Errorf("Blobs = %+v", blobs)
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		ev, err := tx.EvidenceBySHA256(sum)
		if err != nil || ev.Slug != "clip" {
			t.Errorf("EvidenceBySHA256 = %v, %v", ev, err)
		}
		// A second record for the same original is refused.
		_, err = tx.Put(&record.Evidence{Slug: "clip-copy", SHA256: sum}, change("ana", "ingest", 1))
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("second evidence record for one original: %v, want ErrConflict", err)
	}
}

func testChangeNeedsWhoAndWhy(t *testing.T, ctx context.Context, s *store.Store) {
	for _, c := range []store.Change{{Reason: "no one"}, {By: "ana"}} {
		err := s.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.Put(actor("x", "X"), c)
			return err
		})
		if err == nil {
			t.Errorf("Put with change %+v succeeded", c)
		}
	}
}

func testSearch(t *testing.T, ctx context.Context, s *store.Store) {
	place := &record.Place{Slug: "hadrut", Name: "Hadrut", Names: []record.PlaceName{
		{Name: "Հադրութ", Lang: "hy"}, {Name: "Гадрут", Lang: "ru"}, {Name: "Xankəndi", Lang: "az"}}}
	inc := incident("clash")
	inc.Description = "Shelling near the market"
	victim := &record.Victim{Slug: "v1", IncidentSlug: "clash", Name: "Boris Secretname", Notes: "lives by the well", Role: "killed"}
	put(t, ctx, s, change("ana", "add", 0), place, inc, victim)
	tests := []struct {
		q    string
		want string // kind/slug of the first hit, "" for none
	}{
		{"Հադրութ", "place/hadrut"},
		{"гадрут", "place/hadrut"}, // case folded
		{"Гадрут", "place/hadrut"},
		{"XANKƏNDI", "place/hadrut"}, // Azerbaijani Latin, case folded
		{"mark", "incident/clash"},   // prefix
		{"shelling market", "incident/clash"},
		{"Secretname", ""}, // a victim's name is never indexed
		{"well", ""},
		{"B.H.", ""},
	}
	for _, tier := range []store.Tier{store.PublicText, store.StaffText} {
		for _, tt := range tests {
			hits, err := s.Search(ctx, tt.q, tier, 10)
			if err != nil {
				t.Fatalf("Search(%q, %d): %v", tt.q, tier, err)
			}
			got := ""
			if len(hits) > 0 {
				got = string(hits[0].Kind) + "/" + hits[0].Slug
			}
			if got != tt.want {
				t.Errorf("Search(%q, %d) = %q (%d hits), want %q", tt.q, tier, got, len(hits), tt.want)
			}
		}
	}
	// Digests, file names and account names are staff text: the public
	// tier neither matches nor quotes them.
	sum := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	put(t, ctx, s, change("ana", "add", 0), &record.Evidence{Slug: "roof-photo", SHA256: sum, Filename: "roofline.jpg",
		Title: "Roof", AddedBy: "ana", Incidents: []string{"clash"}})
	for _, tt := range []struct {
		q            string
		tier         store.Tier
		want         int
		snippetLacks string
	}{
		{"0123456789", store.StaffText, 1, ""},
		{"0123456789", store.PublicText, 0, ""},
		{"roofline", store.StaffText, 1, ""},
		{"roofline", store.PublicText, 0, ""},
		{"roof", store.PublicText, 1, "roofline"},
		{"roof", store.StaffText, 1, ""},
	} {
		hits, err := s.Search(ctx, tt.q, tt.tier, 10)
		if err != nil {
			t.Fatalf("Search(%q, %d): %v", tt.q, tt.tier, err)
		}
		if len(hits) != tt.want || tt.snippetLacks != "" && strings.Contains(hits[0].Snippet, tt.snippetLacks) {
			t.Errorf("Search(%q, %d) = %+v, want %d hit(s) without %q", tt.q, tt.tier, hits, tt.want, tt.snippetLacks)
		}
	}
	if _, err := s.Search(ctx, ` "* `, store.PublicText, 10); !errors.Is(err, store.ErrBadQuery) {
		t.Errorf("Search of nothing = %v, want ErrBadQuery", err)
	}
	if err := s.Update(ctx, func(tx *store.Tx) error { return tx.Retire(record.KindPlace, "hadrut", change("ana", "gone", 1)) }); err != nil {
		t.Fatal(err)
	}
	if hits, _ := s.Search(ctx, "Հադրութ", store.StaffText, 10); len(hits) != 0 {
		t.Errorf("a retired record is still found: %v", hits)
	}
}
