// SPDX-License-Identifier: Apache-2.0

package match

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"
	"testing"

	"groundtruth/internal/media/pdq"
)

// picture draws a photograph-like image: overlapping soft blobs of random
// colours over a gradient, plus fine grain, so that every row and column
// varies and PDQ quality is high.
func picture(w, h int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	type blob struct{ x, y, r, cr, cg, cb float64 }
	var blobs []blob
	for range 60 {
		blobs = append(blobs, blob{rng.Float64() * float64(w), rng.Float64() * float64(h),
			(0.03 + 0.15*rng.Float64()) * float64(max(w, h)), rng.Float64()*255 - 128, rng.Float64()*255 - 128, rng.Float64()*255 - 128})
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := [3]float64{60 + 120*float64(x)/float64(w), 90, 160 - 100*float64(y)/float64(h)}
			for _, b := range blobs {
				d := ((float64(x)-b.x)*(float64(x)-b.x) + (float64(y)-b.y)*(float64(y)-b.y)) / (b.r * b.r)
				g := math.Exp(-d)
				c[0] += g * b.cr
				c[1] += g * b.cg
				c[2] += g * b.cb
			}
			grain := rng.Float64()*24 - 12
			out.SetNRGBA(x, y, color.NRGBA{clamp(c[0] + grain), clamp(c[1] + grain), clamp(c[2] + grain), 255})
		}
	}
	return out
}

func clamp(v float64) uint8 { return uint8(max(0, min(255, math.Round(v)))) }

// canvas returns a w×h image filled with c.
func canvas(w, h int, c color.Color) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	return out
}

// place draws pic onto dst with its top-left corner at p and returns the
// rectangle it covers.
func place(dst draw.Image, pic image.Image, p image.Point) image.Rectangle {
	r := image.Rectangle{Min: p, Max: p.Add(pic.Bounds().Size())}
	draw.Draw(dst, r, pic, pic.Bounds().Min, draw.Src)
	return r
}

// jpegged re-encodes img at quality q, as an upload would, for tests.
func jpegged(t *testing.T, img image.Image, q int) *image.NRGBA {
	t.Helper()
	out, err := reupload(img, q)
	if err != nil {
		t.Fatal(err)
	}
	return toNRGBA(out)
}

// closeTo reports whether every edge of got is within tol pixels of want.
func closeTo(got, want image.Rectangle, tol int) bool {
	d := func(a, b int) bool { return a-b <= tol && b-a <= tol }
	return d(got.Min.X, want.Min.X) && d(got.Min.Y, want.Min.Y) && d(got.Max.X, want.Max.X) && d(got.Max.Y, want.Max.Y)
}

func TestTrim(t *testing.T) {
	pic := picture(300, 200, 1)
	tests := []struct {
		name   string
		size   image.Point
		at     image.Point
		colour color.Color
	}{
		{"black letterbox", image.Pt(300, 320), image.Pt(0, 60), color.Black},
		{"white letterbox", image.Pt(300, 300), image.Pt(0, 50), color.White},
		{"grey pillarbox", image.Pt(420, 200), image.Pt(60, 0), color.NRGBA{128, 128, 128, 255}},
		{"coloured margin on all sides", image.Pt(360, 260), image.Pt(20, 35), color.NRGBA{200, 30, 90, 255}},
		{"uneven bars", image.Pt(300, 330), image.Pt(0, 100), color.Black},
		{"no border", image.Pt(300, 200), image.Pt(0, 0), color.Black},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := canvas(tt.size.X, tt.size.Y, tt.colour)
			want := place(img, pic, tt.at)
			if got := trim(img); got != want {
				t.Errorf("trim = %v, want %v", got, want)
			}
			// After JPEG, ringing at the picture's edge may keep a line or two
			// of bar; at quality 25 it spreads over the JPEG blocks (8 pixels,
			// 16 for subsampled chroma) that straddle the edge.
			if got := trim(jpegged(t, img, 85)); !closeTo(got, want, 2) {
				t.Errorf("trim after JPEG q85 = %v, want within 2 px of %v", got, want)
			}
			if got := trim(jpegged(t, img, 25)); !closeTo(got, want, 16) {
				t.Errorf("trim after JPEG q25 = %v, want within 16 px of %v", got, want)
			}
		})
	}
}

// phone draws a screenshot around pic: status bar and header of colour
// bar (text on both), the picture at (margin, 70), caption lines and
// buttons, on background bg. It returns the image and the picture's place.
func phone(pic image.Image, bg, bar, fg color.NRGBA, margin int) (*image.NRGBA, image.Rectangle) {
	const w = 360
	img := canvas(w, 640, bg)
	draw.Draw(img, image.Rect(0, 0, w, 70), image.NewUniform(bar), image.Point{}, draw.Src)
	text(img, 10, 4, "12:34", fg, 1)
	text(img, w-40, 4, "88%", fg, 1)
	disc(img, 30, 45, 15, color.NRGBA{250, 200, 0, 255})
	text(img, 55, 30, "Channel name", fg, 2)
	r := place(img, pic, image.Pt(margin, 70))
	for i := range 3 {
		text(img, 10, r.Max.Y+12+i*16, "caption text of the post goes here", fg, 1)
	}
	for i := range 3 {
		roundRect(img, image.Rect(10+i*70, r.Max.Y+70, 70+i*70, r.Max.Y+96), 12, color.NRGBA{60, 90, 140, 255})
	}
	return img, r
}

func TestContent(t *testing.T) {
	dark := color.NRGBA{0x17, 0x21, 0x2b, 255}
	light := color.NRGBA{0xf0, 0xf2, 0xf5, 255}
	blue := color.NRGBA{0x51, 0x7d, 0xa2, 255}
	white := color.NRGBA{255, 255, 255, 255}
	black := color.NRGBA{0, 0, 0, 255}
	tests := []struct {
		name          string
		bg, bar, fg   color.NRGBA
		margin        int
		plainFindsPic bool // whether content without bar peeling finds the picture too
	}{
		{"dark, header in frame colour, full width", dark, dark, white, 0, true},
		{"white, header in frame colour, margins", white, white, black, 12, true},
		{"light, blue header", light, blue, white, 0, false},
		{"light, blue header, margins", light, blue, white, 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pic := picture(360-2*tt.margin, 220, 2)
			img, want := phone(pic, tt.bg, tt.bar, tt.fg, tt.margin)
			img = jpegged(t, img, 85)
			if got := content(img, true); !closeTo(got, want, 2) {
				t.Errorf("content(bars) = %v, want within 2 px of %v", got, want)
			}
			if got := content(img, false); tt.plainFindsPic && !closeTo(got, want, 2) {
				t.Errorf("content(no bars) = %v, want within 2 px of %v", got, want)
			}
		})
	}
}

// TestContentKeepsSkyBand checks that a uniform band inside the picture,
// of a colour other than the frame's, does not split it.
func TestContentKeepsSkyBand(t *testing.T) {
	sky := color.NRGBA{150, 190, 235, 255}
	pic := picture(300, 240, 3)
	draw.Draw(pic, image.Rect(0, 90, 300, 150), image.NewUniform(sky), image.Point{}, draw.Src)
	unframed := jpegged(t, pic, 85)
	framed := canvas(340, 400, color.NRGBA{20, 20, 20, 255})
	want := place(framed, pic, image.Pt(20, 60))
	framed = jpegged(t, framed, 85)
	for _, bars := range []bool{false, true} {
		if got := content(unframed, bars); got != unframed.Bounds() {
			t.Errorf("unframed: content(bars=%v) = %v, want the whole %v", bars, got, unframed.Bounds())
		}
		if got := content(framed, bars); !closeTo(got, want, 2) {
			t.Errorf("framed: content(bars=%v) = %v, want within 2 px of %v", bars, got, want)
		}
		if got := trim(unframed); got != unframed.Bounds() {
			t.Errorf("unframed: trim = %v, want the whole %v", got, unframed.Bounds())
		}
	}

	// A uniform strip at the picture's lower edge, just above the caption,
	// is not a bar: bars are only peeled from the image's own edges.
	lawn := picture(360, 220, 8)
	draw.Draw(lawn, image.Rect(0, 150, 360, 220), image.NewUniform(color.NRGBA{70, 150, 60, 255}), image.Point{}, draw.Src)
	white := color.NRGBA{255, 255, 255, 255}
	img, want := phone(lawn, color.NRGBA{0xf0, 0xf2, 0xf5, 255}, color.NRGBA{0x51, 0x7d, 0xa2, 255}, white, 0)
	if got := content(jpegged(t, img, 85), true); !closeTo(got, want, 2) {
		t.Errorf("strip at the lower edge: content(bars) = %v, want within 2 px of %v", got, want)
	}
}

func TestLongest(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi int
	}{
		{"", 0, 0},
		{"....", 0, 0},
		{"xx.xxx.x", 3, 6},
		{"xxx.xxx", 0, 3},
		{"xxxx", 0, 4},
		{".x", 1, 2},
	}
	for _, tt := range tests {
		lo, hi := longest(0, len(tt.in), func(i int) bool { return tt.in[i] == 'x' })
		if lo != tt.lo || hi != tt.hi {
			t.Errorf("longest(%q) = [%d, %d), want [%d, %d)", tt.in, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestStoredFirstIsPlain(t *testing.T) {
	img := canvas(400, 400, color.Black)
	place(img, picture(400, 260, 4), image.Pt(0, 70))
	s := Stored(img)
	h, q := pdq.FromImage(img)
	if len(s) == 0 || s[0].Kind != KindPDQ || s[0].Hash != h || s[0].Quality != q {
		t.Fatalf("Stored()[0] = %+v, want plain PDQ %v quality %d", s, h, q)
	}
	if len(s) != 2 || s[1].Kind != KindTrimmed {
		t.Errorf("Stored() kinds = %v, want pdq and trimmed", s)
	}
	for _, x := range s[1:] {
		if x.Quality < pdq.MinQuality {
			t.Errorf("derived hash %s has quality %d, below the gate", x.Kind, x.Quality)
		}
	}
}

// TestEndToEnd matches edits of a synthetic picture and checks that the
// words say what was done, including the direction of rotation.
func TestEndToEnd(t *testing.T) {
	orig := picture(320, 240, 5)
	other := picture(320, 240, 6)
	stored := Stored(orig)
	rng := rand.New(rand.NewPCG(7, 7))
	tests := []struct {
		name string
		edit func(image.Image, *rand.Rand) image.Image
		want string
	}{
		{"same", func(img image.Image, _ *rand.Rand) image.Image { return img }, "same picture"},
		{"mirror", mirror, "mirrored"},
		{"rotate clockwise", rotate90, "rotated 90° clockwise"},
		{"rotate anticlockwise", func(img image.Image, r *rand.Rand) image.Image { return rotate90(rotate90(rotate90(img, r), r), r) }, "rotated 90° anticlockwise"},
		{"letterbox", letterbox, "borders removed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := Query(jpegged(t, tt.edit(orig, rng), 85))
			m, ok := Compare(q, stored)
			if !ok {
				t.Fatalf("Compare found no match for %s", tt.name)
			}
			if m.Transform != tt.want {
				t.Errorf("Transform = %q, want %q (match %+v)", m.Transform, tt.want, m)
			}
			if m, ok := Compare(q, Stored(other)); ok {
				t.Errorf("%s matches an unrelated picture: %+v", tt.name, m)
			}
		})
	}
}

func TestCompareGates(t *testing.T) {
	var a, b pdq.Hash
	for i := range 31 { // b differs from a in 31 bits
		b[i/8] |= 1 << (i % 8)
	}
	c := b
	c[4] |= 1 << 7 // 32 bits
	tests := []struct {
		name   string
		q      []Probe
		s      []Hash
		want   bool
		stored string
	}{
		{"at threshold", []Probe{{Kind: KindPDQ, Hash: a, Quality: 90}}, []Hash{{Kind: KindPDQ, Hash: b, Quality: 90}}, true, KindPDQ},
		{"over threshold", []Probe{{Kind: KindPDQ, Hash: a, Quality: 90}}, []Hash{{Kind: KindPDQ, Hash: c, Quality: 90}}, false, ""},
		{"low-quality probe", []Probe{{Kind: KindPDQ, Hash: a, Quality: 49}}, []Hash{{Kind: KindPDQ, Hash: a, Quality: 90}}, false, ""},
		{"low-quality stored", []Probe{{Kind: KindPDQ, Hash: a, Quality: 90}}, []Hash{{Kind: KindPDQ, Hash: a, Quality: 49}}, false, ""},
		{"tie prefers plain", []Probe{{Kind: KindPDQ, Hash: a, Quality: 90}}, []Hash{{Kind: KindTrimmed, Hash: a, Quality: 90}, {Kind: KindPDQ, Hash: a, Quality: 90}}, true, KindPDQ},
		{"nearest wins", []Probe{{Kind: KindPDQ, Hash: a, Quality: 90}}, []Hash{{Kind: KindPDQ, Hash: b, Quality: 90}, {Kind: KindTrimmed, Hash: a, Quality: 90}}, true, KindTrimmed},
		{"nothing stored", []Probe{{Kind: KindPDQ, Hash: a, Quality: 90}}, nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := Compare(tt.q, tt.s)
			if ok != tt.want || ok && m.Stored != tt.stored {
				t.Errorf("Compare = %+v, %v; want ok %v with stored kind %q", m, ok, tt.want, tt.stored)
			}
		})
	}
}

// FuzzRegions checks on arbitrary small images that the region finders
// neither panic nor leave the image, and that Query and Stored cope.
func FuzzRegions(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 3, 0, 0, 0})
	f.Add([]byte{40, 30, 255, 0, 0, 12, 200, 7, 0, 0, 0})
	f.Add([]byte{1, 60, 9, 9, 9})
	f.Add([]byte{64, 64, 0, 0, 0, 0, 0, 0, 255, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h := 1, 1
		if len(data) >= 2 {
			w, h = 1+int(data[0])%80, 1+int(data[1])%80
			data = data[2:]
		}
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			if i%4 == 3 {
				img.Pix[i] = 255
			} else if len(data) > 0 {
				img.Pix[i] = data[i%len(data)] ^ uint8(i/len(data))
			}
		}
		b := img.Bounds()
		for _, r := range []image.Rectangle{trim(img), content(img, false), content(img, true)} {
			if !r.In(b) || r.Empty() {
				t.Fatalf("region %v of a %dx%d image is empty or outside it", r, w, h)
			}
		}
		q := Query(img)
		if len(q) < 8 {
			t.Fatalf("Query returned %d probes, want at least the 8 plain ones", len(q))
		}
		if s := Stored(img); len(s) == 0 || s[0].Kind != KindPDQ {
			t.Fatalf("Stored = %+v, want the plain hash first", s)
		}
	})
}
