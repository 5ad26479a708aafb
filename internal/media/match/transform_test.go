// SPDX-License-Identifier: Apache-2.0

package match

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"strings"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The re-upload edits of the evaluation, in the order of the report. Each
// takes the original and a random source seeded from the photograph's name,
// so the set is the same on every run and edits vary between photographs.
var transforms = []struct {
	name    string
	quality int // JPEG quality of the re-upload
	apply   func(img image.Image, rng *rand.Rand) image.Image
}{
	{"half size", 85, func(img image.Image, _ *rand.Rand) image.Image {
		b := img.Bounds()
		return reduce(img, max(b.Dx(), b.Dy())/2)
	}},
	{"JPEG quality 25", 25, func(img image.Image, _ *rand.Rand) image.Image { return img }},
	{"crop 10 %", 85, crop10},
	{"mirror", 85, mirror},
	{"rotate 90°", 85, rotate90},
	{"greyscale", 85, greyscale},
	{"brightness +25 %", 85, brighten},
	{"letterbox", 85, letterbox},
	{"screenshot frame", 85, screenshot},
	{"corner logo", 85, logo},
}

// seeded returns a random source fixed by name.
func seeded(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(h.Sum64(), 0x6772_6f75_6e64))
}

// reupload encodes img as JPEG at quality q and decodes it again.
func reupload(img image.Image, q int) (image.Image, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("jpeg encode: %w", err)
	}
	out, err := jpeg.Decode(&buf)
	if err != nil {
		return nil, fmt.Errorf("jpeg decode: %w", err)
	}
	return out, nil
}

// toNRGBA copies img into a fresh NRGBA anchored at (0, 0).
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}

// crop10 removes 10 % of the width and of the height, split between the
// two sides at random.
func crop10(img image.Image, rng *rand.Rand) image.Image {
	src := toNRGBA(img)
	b := src.Bounds()
	dw, dh := int(math.Round(0.1*float64(b.Dx()))), int(math.Round(0.1*float64(b.Dy())))
	x0, y0 := rng.IntN(dw+1), rng.IntN(dh+1)
	return src.SubImage(image.Rect(x0, y0, x0+b.Dx()-dw, y0+b.Dy()-dh))
}

func mirror(img image.Image, _ *rand.Rand) image.Image {
	src := toNRGBA(img)
	b := src.Bounds()
	out := image.NewNRGBA(b)
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.SetNRGBA(b.Dx()-1-x, y, src.NRGBAAt(x, y))
		}
	}
	return out
}

// rotate90 turns the picture a quarter turn clockwise.
func rotate90(img image.Image, _ *rand.Rand) image.Image {
	src := toNRGBA(img)
	b := src.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.SetNRGBA(b.Dy()-1-y, x, src.NRGBAAt(x, y))
		}
	}
	return out
}

func greyscale(img image.Image, _ *rand.Rand) image.Image {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}

func brighten(img image.Image, _ *rand.Rand) image.Image {
	out := toNRGBA(img)
	for i, v := range out.Pix {
		if i%4 != 3 {
			out.Pix[i] = uint8(min(255, math.Round(float64(v)*1.25)))
		}
	}
	return out
}

// letterbox puts the picture into a taller canvas (square, 4:5 or 9:16,
// and at least 30 % taller than the picture) with black bars above and
// below, as when a photograph is posted as a square post or a story.
func letterbox(img image.Image, rng *rand.Rand) image.Image {
	b := img.Bounds()
	aspect := []float64{1, 5.0 / 4, 16.0 / 9}[rng.IntN(3)] // height / width
	h := max(int(float64(b.Dx())*aspect), b.Dy()*13/10)
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), h))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.Black), image.Point{}, draw.Src)
	top := (h - b.Dy()) / 2
	draw.Draw(out, image.Rect(0, top, b.Dx(), top+b.Dy()), img, b.Min, draw.Src)
	return out
}

var (
	channels = []string{"Frontline Daily", "Kherson Now", "Eyewitness 24", "OSINT Watch", "City News Live", "Voices from the East", "Daily Report"}
	words    = strings.Fields("the this morning after shelling near central district residents report damage video photo shared by our subscriber confirmed local sources please share breaking update more details soon")
)

// text draws s with its top-left corner at (x, y), scale times the size of
// the 7×13 basic font, and returns the width drawn.
func text(dst draw.Image, x, y int, s string, c color.Color, scale int) int {
	face := basicfont.Face7x13
	w := font.MeasureString(face, s).Ceil()
	mask := image.NewAlpha(image.Rect(0, 0, w, 13))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, 10)}
	d.DrawString(s)
	u := image.NewUniform(c)
	for my := range 13 {
		for mx := range w {
			if a := mask.AlphaAt(mx, my).A; a > 0 {
				r := image.Rect(x+mx*scale, y+my*scale, x+(mx+1)*scale, y+(my+1)*scale)
				draw.DrawMask(dst, r, u, image.Point{}, image.NewUniform(color.Alpha{a}), image.Point{}, draw.Over)
			}
		}
	}
	return w * scale
}

// disc fills a circle of radius r centred at (cx, cy).
func disc(dst *image.NRGBA, cx, cy, r int, c color.NRGBA) {
	for y := cy - r; y <= cy+r; y++ {
		for x := cx - r; x <= cx+r; x++ {
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r && image.Pt(x, y).In(dst.Bounds()) {
				dst.SetNRGBA(x, y, c)
			}
		}
	}
}

// roundRect fills a rectangle with corners rounded by radius rad.
func roundRect(dst *image.NRGBA, r image.Rectangle, rad int, c color.NRGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			dx := max(r.Min.X+rad-x, x-(r.Max.X-1-rad), 0)
			dy := max(r.Min.Y+rad-y, y-(r.Max.Y-1-rad), 0)
			if dx*dx+dy*dy <= rad*rad {
				dst.SetNRGBA(x, y, c)
			}
		}
	}
}

func sentence(rng *rand.Rand, n int) string {
	var ws []string
	for range n {
		ws = append(ws, words[rng.IntN(len(words))])
	}
	return strings.Join(ws, " ")
}

// screenshot draws a phone screenshot of a messenger post: status bar,
// channel header, the picture (full width or with margins), caption lines
// and reaction buttons, on a dark or light background.
func screenshot(img image.Image, rng *rand.Rand) image.Image {
	themes := []struct{ bg, bar, fg, dim, button color.NRGBA }{
		{color.NRGBA{0x17, 0x21, 0x2b, 255}, color.NRGBA{0x24, 0x2f, 0x3d, 255}, color.NRGBA{0xf5, 0xf5, 0xf5, 255}, color.NRGBA{0x8b, 0x98, 0xa5, 255}, color.NRGBA{0x2b, 0x52, 0x78, 255}},
		{color.NRGBA{0xff, 0xff, 0xff, 255}, color.NRGBA{0xff, 0xff, 0xff, 255}, color.NRGBA{0x10, 0x10, 0x10, 255}, color.NRGBA{0x70, 0x70, 0x70, 255}, color.NRGBA{0xe8, 0xf0, 0xfe, 255}},
		{color.NRGBA{0x00, 0x00, 0x00, 255}, color.NRGBA{0x00, 0x00, 0x00, 255}, color.NRGBA{0xe7, 0xe9, 0xea, 255}, color.NRGBA{0x71, 0x76, 0x7b, 255}, color.NRGBA{0x20, 0x23, 0x27, 255}},
		{color.NRGBA{0xf0, 0xf2, 0xf5, 255}, color.NRGBA{0x51, 0x7d, 0xa2, 255}, color.NRGBA{0x05, 0x05, 0x05, 255}, color.NRGBA{0x65, 0x67, 0x6b, 255}, color.NRGBA{0xd8, 0xe4, 0xf0, 255}},
	}
	th := themes[rng.IntN(len(themes))]
	const W = 720
	margin := []int{0, 0, 16, 24}[rng.IntN(4)]
	b := img.Bounds()
	pw := W - 2*margin
	ph := b.Dy() * pw / b.Dx()
	pic := image.NewNRGBA(image.Rect(0, 0, pw, ph))
	xdraw.ApproxBiLinear.Scale(pic, pic.Bounds(), img, b, draw.Src, nil)

	status, header := 48, 120
	lines := 1 + rng.IntN(4)
	top := status + header
	capY := top + ph + 20
	btnY := capY + lines*30 + 16
	H := max(1520, btnY+80)
	out := image.NewNRGBA(image.Rect(0, 0, W, H))
	draw.Draw(out, out.Bounds(), image.NewUniform(th.bg), image.Point{}, draw.Src)

	// Status bar: clock, icons, battery.
	draw.Draw(out, image.Rect(0, 0, W, status), image.NewUniform(th.bar), image.Point{}, draw.Src)
	barText := th.fg
	if th.bar != th.bg && th.bg.R > 0x80 {
		barText = color.NRGBA{255, 255, 255, 255}
	}
	text(out, 24, 11, fmt.Sprintf("%d:%02d", 8+rng.IntN(14), rng.IntN(60)), barText, 2)
	for i := range 3 {
		draw.Draw(out, image.Rect(W-150+i*26, 16, W-134+i*26, 32), image.NewUniform(barText), image.Point{}, draw.Src)
	}
	text(out, W-70, 11, fmt.Sprintf("%d%%", 10+rng.IntN(90)), barText, 2)

	// Header: back arrow, avatar, channel name, subscriber count.
	draw.Draw(out, image.Rect(0, status, W, top), image.NewUniform(th.bar), image.Point{}, draw.Src)
	text(out, 16, status+40, "<", barText, 3)
	disc(out, 100, status+60, 36, color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255})
	text(out, 150, status+30, channels[rng.IntN(len(channels))], barText, 3)
	text(out, 150, status+74, fmt.Sprintf("%d subscribers", 1000+rng.IntN(900000)), th.dim, 2)

	draw.Draw(out, image.Rect(margin, top, margin+pw, top+ph), pic, image.Point{}, draw.Src)

	for i := range lines {
		text(out, 20, capY+i*30, sentence(rng, 5+rng.IntN(3)), th.fg, 2)
	}
	x := 20
	for range 2 + rng.IntN(3) {
		r := image.Rect(x, btnY, x+110, btnY+52)
		roundRect(out, r, 26, th.button)
		disc(out, x+30, btnY+26, 14, color.NRGBA{0xff, uint8(120 + rng.IntN(120)), 0x20, 255})
		text(out, x+52, btnY+13, fmt.Sprint(rng.IntN(999)), th.fg, 2)
		x += 124
	}
	text(out, W-160, btnY+13, fmt.Sprintf("%dK views", 1+rng.IntN(99)), th.dim, 2)
	return out
}

// logo stamps a channel name in a semi-opaque box into a random corner,
// about 15 % of the picture's width.
func logo(img image.Image, rng *rand.Rand) image.Image {
	out := toNRGBA(img)
	b := out.Bounds()
	name := channels[rng.IntN(len(channels))]
	scale := max(1, int(0.15*float64(b.Dx()))/(7*len(name)))
	w, h := 7*len(name)*scale+8*scale, 13*scale+6*scale
	pad := b.Dx() / 40
	x := []int{pad, b.Dx() - pad - w}[rng.IntN(2)]
	y := []int{pad, b.Dy() - pad - h}[rng.IntN(2)]
	r := image.Rect(x, y, x+w, y+h)
	draw.Draw(out, r, image.NewUniform(color.NRGBA{0, 0, 0, 150}), image.Point{}, draw.Over)
	text(out, x+4*scale, y+3*scale, name, color.NRGBA{255, 255, 255, 230}, scale)
	return out
}
