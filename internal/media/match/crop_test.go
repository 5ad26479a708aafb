// SPDX-License-Identifier: Apache-2.0

package match

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"testing"

	"groundtruth/internal/media/pdq"
)

func TestThumbnail(t *testing.T) {
	pic := picture(480, 320, 7)
	th := Thumbnail(pic)
	if th.Width != ThumbSide || th.Height != 43 || len(th.Pix) != th.Width*th.Height {
		t.Fatalf("thumbnail of 480×320 is %d×%d with %d pixels, want 64×43", th.Width, th.Height, len(th.Pix))
	}
	// Black bars are trimmed: the letterboxed picture has the picture's thumbnail.
	boxed := canvas(480, 480, color.Black)
	place(boxed, pic, image.Pt(0, 80))
	tb := Thumbnail(jpegged(t, boxed, 90))
	if tb.Width != th.Width || abs(tb.Height-th.Height) > 1 {
		t.Fatalf("thumbnail of the letterboxed picture is %d×%d, want about %d×%d", tb.Width, tb.Height, th.Width, th.Height)
	}
	// A picture smaller than ThumbSide keeps its size.
	if s := Thumbnail(picture(40, 30, 1)); s.Width != 40 || s.Height != 30 {
		t.Errorf("thumbnail of 40×30 is %d×%d", s.Width, s.Height)
	}
}

func TestThumbEncoding(t *testing.T) {
	th := Thumbnail(picture(300, 200, 3))
	b, err := th.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 3+th.Width*th.Height {
		t.Fatalf("encoded %d bytes, want %d", len(b), 3+th.Width*th.Height)
	}
	var got Thumb
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.Width != th.Width || got.Height != th.Height || !bytes.Equal(got.Pix, th.Pix) {
		t.Fatal("decoded thumbnail differs from the encoded one")
	}

	bad := []struct {
		name    string
		b       []byte
		version bool // whether the error is ErrThumbVersion
	}{
		{"empty", nil, false},
		{"header only short", []byte{thumbVersion, 1}, false},
		{"other version", append([]byte{thumbVersion + 1}, b[1:]...), true},
		{"version zero", append([]byte{0}, b[1:]...), true},
		{"one pixel short", b[:len(b)-1], false},
		{"one byte long", append(bytes.Clone(b), 0), false},
		{"zero width", []byte{thumbVersion, 0, 1}, false},
		{"too wide", append([]byte{thumbVersion, ThumbSide + 1, 1}, make([]byte, ThumbSide+1)...), false},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			var d Thumb
			err := d.UnmarshalBinary(c.b)
			if err == nil {
				t.Fatal("decoded without error")
			}
			if errors.Is(err, ErrThumbVersion) != c.version {
				t.Errorf("errors.Is(%v, ErrThumbVersion) = %v, want %v", err, !c.version, c.version)
			}
		})
	}
	if _, err := (Thumb{Width: 2, Height: 2, Pix: []uint8{1, 2, 3}}).MarshalBinary(); err == nil {
		t.Error("encoded a thumbnail with the wrong number of pixels")
	}
}

func FuzzThumbUnmarshal(f *testing.F) {
	good, err := Thumbnail(picture(120, 90, 5)).MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{thumbVersion, 1, 1, 7})
	f.Add([]byte{thumbVersion, 255, 255})
	f.Add([]byte{2, 1, 1, 7})
	f.Fuzz(func(t *testing.T, b []byte) {
		var th Thumb
		if th.UnmarshalBinary(b) != nil {
			return
		}
		again, err := th.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded thumbnail does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatal("decoding then encoding changed the bytes")
		}
		NewCropQuery(picture(32, 32, 1)).Score(th) // must not panic on any valid thumbnail
	})
}

// cut returns the w×h window of img at (x, y), re-encoded as an upload.
func cut(t *testing.T, img *image.NRGBA, x, y, w, h int) *image.NRGBA {
	t.Helper()
	return jpegged(t, img.SubImage(image.Rect(x, y, x+w, y+h)), 85)
}

func TestVerifyCrop(t *testing.T) {
	orig := picture(480, 360, 11)
	other := picture(480, 360, 12)
	boxed := canvas(480, 640, color.Black)
	place(boxed, orig.SubImage(image.Rect(30, 20, 462, 344)), image.Pt(24, 158))
	tests := []struct {
		name    string
		query   image.Image
		found   bool
		variant int
	}{
		{"10 % off, top left", cut(t, orig, 0, 0, 432, 324), true, 0},
		{"10 % off, bottom right", cut(t, orig, 48, 36, 432, 324), true, 0},
		{"10 % off, uneven", cut(t, orig, 13, 29, 432, 324), true, 0},
		{"25 % off each side", cut(t, orig, 60, 45, 360, 270), true, 0},
		{"width only", cut(t, orig, 40, 0, 400, 360), true, 0},
		{"cropped and halved", jpegged(t, reduce(orig.SubImage(image.Rect(20, 10, 452, 334)), 216), 85), true, 0},
		{"cropped and mirrored", jpegged(t, mirror(orig.SubImage(image.Rect(25, 15, 457, 339)), nil), 85), true, 5},
		{"cropped and letterboxed", jpegged(t, boxed, 85), true, 0},
		{"whole", jpegged(t, orig, 85), true, 0},
		{"another picture", cut(t, other, 20, 20, 432, 324), false, 0},
		{"half the picture", cut(t, orig, 100, 80, 240, 180), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := VerifyCrop(tt.query, orig)
			if ok != tt.found {
				t.Fatalf("VerifyCrop = %+v, %v; want found %v", m, ok, tt.found)
			}
			if !ok {
				return
			}
			if m.Distance > pdq.MatchThreshold || m.Stored != KindCropped || m.Variant != tt.variant {
				t.Errorf("VerifyCrop = %+v, want distance ≤ %d, stored %q, variant %d", m, pdq.MatchThreshold, KindCropped, tt.variant)
			}
		})
	}
}

func TestCropCandidates(t *testing.T) {
	var origs []*image.NRGBA
	var thumbs []Thumb
	for k := range 6 {
		o := picture(360, 240, uint64(20+k))
		origs = append(origs, o)
		thumbs = append(thumbs, Thumbnail(o))
	}
	thumbs = append(thumbs, Thumb{}, Thumbnail(canvas(360, 240, color.Gray{128}))) // invalid and flat: never candidates
	for k, o := range origs {
		q := NewCropQuery(cut(t, o, 9+3*k, 20-2*k, 324, 216))
		c := q.Candidates(thumbs)
		if len(c) == 0 || c[0] != k {
			t.Errorf("crop of picture %d: candidates %v, want %d first", k, c, k)
		}
		if len(c) > CropTopK {
			t.Errorf("crop of picture %d: %d candidates, more than CropTopK", k, len(c))
		}
		for _, i := range c {
			if i >= len(origs) {
				t.Errorf("crop of picture %d: candidate %d is the invalid or flat thumbnail", k, i)
			}
			if s := q.Score(thumbs[i]); s < CropFloor {
				t.Errorf("crop of picture %d: candidate %d scores %.2f, below CropFloor", k, i, s)
			}
		}
	}
}

// BenchmarkCropScore measures the pre-filter's cost per stored thumbnail
// once the query is prepared.
func BenchmarkCropScore(b *testing.B) {
	orig := picture(640, 427, 3)
	q, err := reupload(orig.SubImage(image.Rect(30, 20, 606, 404)), 85)
	if err != nil {
		b.Fatal(err)
	}
	cq := NewCropQuery(q)
	var ts []Thumb
	for k := range 16 {
		ts = append(ts, Thumbnail(picture(320, 213, uint64(k))))
	}
	cq.Score(ts[0]) // the query's signatures for this thumbnail size
	for b.Loop() {
		for _, t := range ts {
			cq.Score(t)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ts)), "ns/thumb")
}

// BenchmarkVerifyCrop measures the verification of one candidate: a
// 1024×683 original and a 10 % crop of it, prepared once.
func BenchmarkVerifyCrop(b *testing.B) {
	orig := picture(1024, 683, 3)
	q, err := reupload(orig.SubImage(image.Rect(40, 30, 962, 645)), 85)
	if err != nil {
		b.Fatal(err)
	}
	cq := NewCropQuery(q)
	for b.Loop() {
		if _, ok := cq.Verify(orig); !ok {
			b.Fatal("crop not found")
		}
	}
}

// BenchmarkNewCropQuery measures preparing a 922×615 query.
func BenchmarkNewCropQuery(b *testing.B) {
	q, err := reupload(picture(922, 615, 3), 85)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		NewCropQuery(q)
	}
}
