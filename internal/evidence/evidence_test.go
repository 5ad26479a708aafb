// SPDX-License-Identifier: Apache-2.0

package evidence

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"groundtruth/internal/locker"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

func TestSniff(t *testing.T) {
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 2, 2)))
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"png", pngBuf.Bytes(), "image/png"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg"},
		{"mp4", []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), "video/mp4"},
		{"quicktime", []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00"), "video/quicktime"},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), "image/heic"},
		{"webm", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"), "video/webm"},
		{"mkv", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska"), "video/x-matroska"},
		{"warc", []byte("WARC/1.1\r\nWARC-Type: warcinfo\r\n"), "application/warc"},
		{"pdf", []byte("%PDF-1.7\n"), "application/pdf"},
		{"text", []byte("plain words"), "text/plain; charset=utf-8"},
		{"empty", nil, "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff(tt.head); got != tt.want {
				t.Errorf("Sniff = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzSniff(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x18ftypisom"))
	f.Add([]byte("\x1a\x45\xdf\xa3webm"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if Sniff(b) == "" {
			t.Errorf("Sniff(%q) is empty", b)
		}
	})
}

func TestPlatformOf(t *testing.T) {
	tests := []struct{ url, platform, channel string }{
		{"https://t.me/somechannel/123", "telegram", "somechannel"},
		{"https://t.me/s/somechannel/123", "telegram", "somechannel"},
		{"https://x.com/someone/status/1", "x", "someone"},
		{"https://twitter.com/someone/status/1", "x", "someone"},
		{"https://www.youtube.com/@chan/videos", "youtube", "@chan"},
		{"https://youtu.be/abc", "youtube", ""},
		{"https://example.org/news/1", "web", ""},
		{"ftp://example.org/x", "", ""},
		{"not a url", "", ""},
	}
	for _, tt := range tests {
		p, c := PlatformOf(tt.url)
		if p != tt.platform || c != tt.channel {
			t.Errorf("PlatformOf(%q) = %q, %q; want %q, %q", tt.url, p, c, tt.platform, tt.channel)
		}
	}
}

func FuzzPlatformOf(f *testing.F) {
	f.Add("https://t.me/s/chan/1")
	f.Add("http://[::1]:80/%zz")
	f.Fuzz(func(t *testing.T, s string) {
		p, c := PlatformOf(s)
		if p == "" && c != "" {
			t.Errorf("PlatformOf(%q) = no platform but channel %q", s, c)
		}
	})
}

func TestIngestMerges(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := store.Create(ctx, filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lk, _ := locker.Open(filepath.Join(dir, "locker"))
	file := filepath.Join(dir, "clip.bin")
	os.WriteFile(file, []byte("\x00\x00\x00\x18ftypisom some video"), 0o600)
	c := store.Change{By: "ana", Reason: "ingest", At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}

	s1 := &record.Sighting{URL: "https://t.me/a/1", Platform: "telegram", Channel: "a", PostedAt: record.Date(2020, 10, 15)}
	r1, err := Ingest(ctx, st, lk, Input{Path: file, Sighting: s1}, c)
	if err != nil {
		t.Fatal(err)
	}
	if !r1.Stored || r1.Op != store.Created || r1.Evidence.MediaType != "video/mp4" || r1.Evidence.Filename != "clip.bin" {
		t.Fatalf("first ingest = %+v %+v", r1, r1.Evidence)
	}
	// Same bytes, same sighting: nothing new.
	r2, err := Ingest(ctx, st, lk, Input{Path: file, Sighting: s1}, c)
	if err != nil || r2.Stored || r2.Op != store.Unchanged {
		t.Fatalf("repeat ingest = %+v, %v; want not stored, unchanged", r2, err)
	}
	// Same bytes seen elsewhere, now flagged graphic: merged, flag kept.
	s2 := &record.Sighting{URL: "https://x.com/b/status/2", Platform: "x", Channel: "b"}
	r3, err := Ingest(ctx, st, lk, Input{Path: file, Sighting: s2, Graphic: true}, c)
	if err != nil || r3.Op != store.Updated {
		t.Fatalf("ingest with new sighting = %+v, %v", r3, err)
	}
	if len(r3.Evidence.Sightings) != 2 || !r3.Evidence.Graphic {
		t.Errorf("merged record = %+v", r3.Evidence)
	}
	// A later ingest without the flag does not clear it.
	r4, _ := Ingest(ctx, st, lk, Input{Path: file}, c)
	if !r4.Evidence.Graphic || len(r4.Evidence.Sightings) != 2 {
		t.Errorf("flags or sightings dropped: %+v", r4.Evidence)
	}
	// Unknown incident: refused, nothing recorded.
	if _, err := Ingest(ctx, st, lk, Input{Path: file, Incidents: []string{"nope"}}, c); err == nil {
		t.Error("ingest into a missing incident succeeded")
	}
	hist, _ := st.History(ctx, record.KindEvidence, r1.Evidence.Slug)
	if len(hist) != 2 {
		t.Errorf("history has %d versions, want 2", len(hist))
	}
}
