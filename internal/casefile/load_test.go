// SPDX-License-Identifier: Apache-2.0

package casefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/demo"
	"groundtruth/internal/evidence"
	"groundtruth/internal/locker"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

type fixture struct {
	dir string
	st  *store.Store
	lk  *locker.Locker
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Create(t.Context(), filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lk, err := locker.Open(filepath.Join(dir, "locker"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{dir, st, lk}
}

func (fx *fixture) load(t *testing.T, name, doc string) (*Summary, error) {
	t.Helper()
	path := filepath.Join(fx.dir, name)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(path, []byte(doc))
	if err != nil {
		return nil, err
	}
	return Load(t.Context(), fx.st, fx.lk, f, store.Change{By: "tester", Reason: "load " + name, At: time.Now()})
}

func (fx *fixture) lockerFiles(t *testing.T) int {
	n := 0
	fx.lk.Walk(func(string) error { n++; return nil })
	return n
}

const withEvidence = base + `evidence:
  - slug: clip
    file: clip.mp4
    title: Clip of the shelling
    incidents: [shelling]
    sightings:
      - url: https://t.me/chan/7
        platform: telegram
        channel: chan
        posted_at: 2020-10-04T09:00:00Z
`

func TestLoadIdempotent(t *testing.T) {
	fx := newFixture(t)
	os.WriteFile(filepath.Join(fx.dir, "clip.mp4"), []byte("\x00\x00\x00\x18ftypisom shelling clip"), 0o600)
	sum, err := fx.load(t, "case.yaml", withEvidence)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Created != 5 || sum.Updated != 0 {
		t.Errorf("first load = %+v, want 5 created", sum)
	}
	sum, err = fx.load(t, "case.yaml", withEvidence)
	if err != nil || sum.Created != 0 || sum.Updated != 0 || sum.Unchanged != 5 {
		t.Errorf("second load = %+v, %v; want 5 unchanged", sum, err)
	}
	if n := fx.lockerFiles(t); n != 1 {
		t.Errorf("locker holds %d files, want 1", n)
	}
	got, err := fx.st.Get(t.Context(), record.KindEvidence, "clip")
	if err != nil {
		t.Fatal(err)
	}
	ev := got.Record.(*record.Evidence)
	if ev.MediaType != "video/mp4" || ev.Filename != "clip.mp4" || ev.AddedBy != "tester" || len(ev.Sightings) != 1 {
		t.Errorf("evidence = %+v", ev)
	}
}

func TestLoadKeepsWhatIngestAdded(t *testing.T) {
	fx := newFixture(t)
	clip := filepath.Join(fx.dir, "clip.mp4")
	os.WriteFile(clip, []byte("\x00\x00\x00\x18ftypisom shelling clip"), 0o600)
	if _, err := fx.load(t, "case.yaml", withEvidence); err != nil {
		t.Fatal(err)
	}
	_, err := evidence.Ingest(t.Context(), fx.st, fx.lk, evidence.Input{Path: clip,
		Sighting: &record.Sighting{URL: "https://x.com/someone/status/9", Platform: "x"}, PersonalData: true},
		store.Change{By: "ana", Reason: "seen again", At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.load(t, "case.yaml", withEvidence); err != nil {
		t.Fatal(err)
	}
	got, _ := fx.st.Get(t.Context(), record.KindEvidence, "clip")
	ev := got.Record.(*record.Evidence)
	if n := len(ev.Sightings); n != 2 {
		t.Errorf("after reload the item has %d sightings, want 2 (the ingested one kept)", n)
	}
	if !ev.PersonalData {
		t.Error("reloading the case file cleared the personal-data flag set by ingest")
	}
}

func TestLoadAllOrNothing(t *testing.T) {
	tests := []struct {
		name, doc string
		want      string
	}{
		{"missing reference", strings.Replace(base, "    organisation: desk", "    organisation: nobody", 1), "assessments[0].organisation"},
		{"missing evidence file", strings.Replace(withEvidence, "file: clip.mp4", "file: gone.mp4", 1), "evidence[0].file"},
		{"wrong sha256", strings.Replace(withEvidence, "    title: Clip", "    sha256: "+strings.Repeat("a", 64)+"\n    title: Clip", 1), "evidence[0].sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			os.WriteFile(filepath.Join(fx.dir, "clip.mp4"), []byte("\x00\x00\x00\x18ftypisom shelling clip"), 0o600)
			_, err := fx.load(t, "bad.yaml", tt.doc)
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) || ce.Line == 0 {
				t.Fatalf("Load = %v, want a case-file error with a line on %s", err, tt.want)
			}
			for _, k := range record.Kinds {
				if list, _ := fx.st.List(t.Context(), k); len(list) != 0 {
					t.Errorf("%d %s records written by a failed load", len(list), k)
				}
			}
			if n := fx.lockerFiles(t); n != 0 {
				t.Errorf("a failed load wrote %d files to the locker", n)
			}
		})
	}
}

func TestLoadRefusesNewBytesForAnItem(t *testing.T) {
	fx := newFixture(t)
	clip := filepath.Join(fx.dir, "clip.mp4")
	os.WriteFile(clip, []byte("first original"), 0o600)
	if _, err := fx.load(t, "case.yaml", withEvidence); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(clip, []byte("different bytes"), 0o600)
	_, err := fx.load(t, "case.yaml", withEvidence)
	if err == nil || !strings.Contains(err.Error(), "already holds original") {
		t.Errorf("Load with changed bytes = %v, want a refusal", err)
	}
}

func TestLoadDemo(t *testing.T) {
	fx := newFixture(t)
	f, err := Parse(demo.Name, demo.CaseFile())
	if err != nil {
		t.Fatal(err)
	}
	c := store.Change{By: "tester", Reason: "demo", At: time.Now()}
	first, err := Load(t.Context(), fx.st, fx.lk, f, c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Load(t.Context(), fx.st, fx.lk, f, c)
	if err != nil || again.Created+again.Updated != 0 || again.Unchanged != first.Created {
		t.Errorf("reloading the demo = %+v, %v; first load %+v", again, err, first)
	}
}
