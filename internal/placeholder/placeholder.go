// SPDX-License-Identifier: Apache-2.0

// Package placeholder draws stand-in images for media whose bytes are not
// held, such as the footage described in the built-in case. Each image says
// on its face that it is a placeholder and not evidence, and the same label
// always gives the same bytes, so that reloading a case adds nothing.
package placeholder

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

const (
	width, height = 640, 360
	scale         = 2 // text is drawn at 7x13 and enlarged, for legibility
)

// PNG returns a placeholder image labelled with title and, below it, note.
// Text outside printable ASCII is replaced by '?', since the built-in face
// has no other glyphs.
func PNG(title, note string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	bg := color.RGBA{0xe8, 0xe4, 0xdc, 0xff}
	stripe := color.RGBA{0xd6, 0xcf, 0xc2, 0xff}
	draw.Draw(img, img.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			if (x+y)/24%2 == 0 {
				img.Set(x, y, stripe)
			}
		}
	}
	lines := []string{"PLACEHOLDER - NOT EVIDENCE", ""}
	lines = append(lines, wrap(title, 40)...)
	if note != "" {
		lines = append(lines, "")
		lines = append(lines, wrap(note, 40)...)
	}
	y := 40
	for i, l := range lines {
		ink := color.RGBA{0x33, 0x33, 0x33, 0xff}
		if i == 0 {
			ink = color.RGBA{0xa0, 0x10, 0x10, 0xff}
		}
		text(img, l, 24, y, ink)
		y += 15 * scale
		if y > height-20 {
			break
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding to memory cannot fail
	}
	return b.Bytes()
}

// text draws s at (x, y) enlarged by scale.
func text(dst *image.RGBA, s string, x, y int, ink color.Color) {
	s = ascii(s)
	small := image.NewAlpha(image.Rect(0, 0, 7*len(s)+2, 16))
	d := font.Drawer{Dst: small, Src: image.Opaque, Face: basicfont.Face7x13, Dot: fixed.P(1, 12)}
	d.DrawString(s)
	b := small.Bounds()
	for sy := 0; sy < b.Dy(); sy++ {
		for sx := 0; sx < b.Dx(); sx++ {
			if small.AlphaAt(sx, sy).A < 128 {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					px, py := x+sx*scale+dx, y+sy*scale+dy
					if image.Pt(px, py).In(dst.Bounds()) {
						dst.Set(px, py, ink)
					}
				}
			}
		}
	}
}

func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '’' || r == '‘':
			return '\''
		case r == '–' || r == '—':
			return '-'
		case r < 32 || r > 126:
			return '?'
		}
		return r
	}, s)
}

// wrap breaks s into lines of at most n characters at spaces.
func wrap(s string, n int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		if cur != "" && len(cur)+1+len(w) > n {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
