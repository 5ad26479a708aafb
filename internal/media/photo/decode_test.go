// SPDX-License-Identifier: Apache-2.0

package photo

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// rotCW and flipH are the two primitive moves; the expected result of
// each orientation is composed from them as CIPA DC-008 words it, which
// checks the index arithmetic in orient independently.
func rotCW(m image.Image) image.Image {
	b := m.Bounds()
	d := image.NewNRGBA64(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := range b.Dx() {
		for x := range b.Dy() {
			// The stored left column becomes the top row.
			d.Set(x, y, m.At(b.Min.X+y, b.Max.Y-1-x))
		}
	}
	return d
}

func flipH(m image.Image) image.Image {
	b := m.Bounds()
	d := image.NewNRGBA64(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			d.Set(x, y, m.At(b.Max.X-1-x, b.Min.Y+y))
		}
	}
	return d
}

func upright(m image.Image, o int) image.Image {
	rot := func(m image.Image, n int) image.Image {
		for range n {
			m = rotCW(m)
		}
		return m
	}
	switch o {
	case 2:
		return flipH(m)
	case 3:
		return rot(m, 2)
	case 4:
		return flipH(rot(m, 2)) // mirror top-bottom
	case 5:
		return rot(flipH(m), 3) // mirror, then 270° clockwise
	case 6:
		return rot(m, 1)
	case 7:
		return rot(flipH(m), 1) // mirror, then 90° clockwise
	case 8:
		return rot(m, 3)
	}
	return m
}

// diff returns the largest difference of any channel (16-bit scale)
// between two images of the same size, or an error if the sizes differ.
func diff(a, b image.Image) (int, error) {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 0, fmt.Errorf("size %v, want %v", a.Bounds().Size(), b.Bounds().Size())
	}
	worst := 0
	ab, bb := a.Bounds(), b.Bounds()
	for y := range ab.Dy() {
		for x := range ab.Dx() {
			r1, g1, b1, a1 := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, a2 := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			for _, d := range []int{int(r1) - int(r2), int(g1) - int(g2), int(b1) - int(b2), int(a1) - int(a2)} {
				worst = max(worst, d, -d)
			}
		}
	}
	return worst, nil
}

func TestDecodeOrientation(t *testing.T) {
	orig := blocky(64, 48)
	jpg := encodeJPEG(t, orig)
	deepImg := deep(13, 7)
	deepPNG := encodePNG(t, deepImg)
	cmyk := image.NewCMYK(image.Rect(0, 0, 24, 16))
	for i := range cmyk.Pix {
		p := i / 4
		cmyk.Pix[i] = uint8(((p%24)/8*3 + (p/24)/8*7 + i%4*40) * 5)
	}
	cmykJPG := cmykJPEG(cmyk)
	cmykBase, _, err := Decode(cmykJPG, 0)
	if err != nil {
		t.Fatalf("Decode(CMYK JPEG) error: %v", err)
	}
	if _, ok := cmykBase.(*image.CMYK); !ok {
		t.Fatalf("Decode(CMYK JPEG) = %T, want *image.CMYK", cmykBase)
	}

	for o := 1; o <= 8; o++ {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			exif := orientationTIFF(order, o)
			cases := []struct {
				name      string
				data      []byte
				want      image.Image
				tolerance int // per channel, 16-bit scale
			}{
				// Quality 100 JPEG of flat 16 × 16 blocks: only rounding
				// differs.
				{"jpeg", withJPEGEXIF(jpg, exif), upright(orig, o), 3 << 8},
				{"png16", withPNGEXIF(deepPNG, exif), upright(deepImg, o), 0},
				{"cmyk-jpeg", withJPEGEXIF(cmykJPG, exif), upright(cmykBase, o), 0},
			}
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s/%d/%v", c.name, o, order), func(t *testing.T) {
					img, info, err := Decode(c.data, 0)
					if err != nil {
						t.Fatalf("Decode error: %v", err)
					}
					if info.Orientation != o {
						t.Errorf("Orientation = %d, want %d", info.Orientation, o)
					}
					d, err := diff(img, c.want)
					if err != nil {
						t.Fatal(err)
					}
					if d > c.tolerance {
						t.Errorf("decoded image differs from the expected rotation by %d, want ≤ %d", d, c.tolerance)
					}
				})
			}
		}
	}
}

func TestDecodeWebPOrientation(t *testing.T) {
	// The lossy file decodes to *image.YCbCr, whose At converts to RGB at
	// 16-bit precision, while orient converts at 8 bits, as image/draw does.
	for _, name := range []string{"blue-purple-pink.lossless.webp", "yellow_rose.lossy.webp"} {
		tolerance := 0
		if strings.Contains(name, "lossy") {
			tolerance = 0x101
		}
		data, err := os.ReadFile(xImageFile(t, filepath.Join("testdata", name)))
		if err != nil {
			t.Fatal(err)
		}
		base, info, err := Decode(data, 0)
		if err != nil {
			t.Fatalf("Decode(%s) error: %v", name, err)
		}
		if info.Format != FormatWebP || info.Orientation != 1 {
			t.Fatalf("Decode(%s) info = %+v, want webp, orientation 1", name, info)
		}
		for _, o := range []int{3, 6, 7} {
			t.Run(fmt.Sprintf("%s/%d", name, o), func(t *testing.T) {
				ext := withWebPEXIF(t, data, orientationTIFF(binary.BigEndian, o), info.Width, info.Height)
				img, got, err := Decode(ext, 0)
				if err != nil {
					t.Fatalf("Decode error: %v", err)
				}
				if got.Orientation != o || got.Width != info.Width {
					t.Errorf("info = %+v, want orientation %d, width %d", got, o, info.Width)
				}
				if d, err := diff(img, upright(base, o)); err != nil || d > tolerance {
					t.Errorf("rotated WebP differs from the expected rotation by %d (%v), want ≤ %d", d, err, tolerance)
				}
			})
		}
	}
}

// TestDecodeRealOrientation decodes camera files with orientation tags:
// the PDQ regression pair (two different 4032 × 3024 photos, one tagged
// 1, one tagged 6 and shown portrait) and goexif's eight "F" samples,
// which all show the same upright letter once oriented.
func TestDecodeRealOrientation(t *testing.T) {
	t.Run("pdq-exif-rotn", func(t *testing.T) {
		dir := filepath.Join("..", "..", "..", "testdata", "pdq", "images", "reg-test-input", "exif-rotn")
		for _, tt := range []struct {
			file string
			o    int
		}{{"exif-rotn-1.jpg", 1}, {"exif-rotn-6.jpg", 6}} {
			data, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Skipf("PDQ test images missing: %v", err)
			}
			img, info, err := Decode(data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if info != (Info{Format: FormatJPEG, Width: 4032, Height: 3024, Orientation: tt.o}) {
				t.Errorf("%s: Info = %+v, want 4032×3024 jpeg, orientation %d", tt.file, info, tt.o)
			}
			stored := img
			if tt.o != 1 {
				if stored, err = jpeg.Decode(bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
			}
			// Sample pixels: upright (x, y) shows stored pixel (y, H−1−x)
			// when turned clockwise (the stored left column, read bottom
			// up, becomes the top row).
			rng := rand.New(rand.NewPCG(3, 4))
			for range 10000 {
				x, y := rng.IntN(img.Bounds().Dx()), rng.IntN(img.Bounds().Dy())
				sx, sy := x, y
				if tt.o == 6 {
					sx, sy = y, info.Height-1-x
				}
				if d, _ := diff(subImage(img, x, y), subImage(stored, sx, sy)); d > 0x101 {
					t.Fatalf("%s: upright pixel (%d,%d) = %v, stored (%d,%d) = %v", tt.file, x, y, img.At(x, y), sx, sy, stored.At(sx, sy))
				}
			}
		}
	})
	t.Run("goexif-F", func(t *testing.T) {
		dir := filepath.Dir(moduleFile(t, goexif, goexifVersion, "exif/samples/f1-exif.jpg"))
		var first image.Image
		for o := 1; o <= 8; o++ {
			data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("f%d-exif.jpg", o)))
			if err != nil {
				t.Fatal(err)
			}
			img, info, err := Decode(data, 0)
			if err != nil {
				t.Fatalf("f%d: %v", o, err)
			}
			if info.Orientation != o {
				t.Errorf("f%d: Orientation = %d", o, info.Orientation)
			}
			if first == nil {
				first = img
				continue
			}
			if img.Bounds().Size() != first.Bounds().Size() {
				t.Errorf("f%d: upright size %v, want %v", o, img.Bounds().Size(), first.Bounds().Size())
				continue
			}
			if d, _ := diff(thumbnail(img, 4), thumbnail(first, 4)); d > 12<<8 {
				t.Errorf("f%d: differs from f1 by %d/65535 in 4-pixel cell means, want ≤ %d", o, d, 12<<8)
			}
		}
	})
}

// subImage returns the single pixel (x, y) of m as an image.
func subImage(m image.Image, x, y int) image.Image {
	d := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	d.Set(0, 0, m.At(x, y))
	return d
}

// thumbnail returns the mean grey of each cell × cell square of m,
// sampling every fourth pixel of every fourth row.
func thumbnail(m image.Image, cell int) *image.Gray {
	b := m.Bounds()
	d := image.NewGray(image.Rect(0, 0, b.Dx()/cell, b.Dy()/cell))
	for cy := range d.Rect.Dy() {
		for cx := range d.Rect.Dx() {
			var sum, n int
			for y := cy * cell; y < (cy+1)*cell; y += 4 {
				for x := cx * cell; x < (cx+1)*cell; x += 4 {
					sum += int(color.GrayModel.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y)
					n++
				}
			}
			d.SetGray(cx, cy, color.Gray{uint8((sum + n/2) / n)})
		}
	}
	return d
}

func TestDecodeFormats(t *testing.T) {
	pal := image.NewPaletted(image.Rect(0, 0, 20, 10), color.Palette{color.Black, color.White, color.RGBA{255, 0, 0, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, pal, nil); err != nil {
		t.Fatal(err)
	}
	// An animated GIF whose first frame covers only part of the screen.
	var partial bytes.Buffer
	frame := image.NewPaletted(image.Rect(5, 2, 10, 6), pal.Palette)
	for i := range frame.Pix {
		frame.Pix[i] = 2
	}
	if err := gif.EncodeAll(&partial, &gif.GIF{
		Image: []*image.Paletted{frame, pal}, Delay: []int{0, 0},
		Config: image.Config{ColorModel: pal.Palette, Width: 20, Height: 10},
	}); err != nil {
		t.Fatal(err)
	}
	gray16 := image.NewGray16(image.Rect(0, 0, 9, 5))
	for i := range gray16.Pix {
		gray16.Pix[i] = uint8(i * 37)
	}
	pngBytes := encodePNG(t, blocky(32, 16))
	cmyk := image.NewCMYK(image.Rect(0, 0, 16, 16))
	for i := range cmyk.Pix {
		cmyk.Pix[i] = uint8(i)
	}

	tests := []struct {
		name   string
		data   []byte
		format string
		w, h   int
		typ    string
		want   image.Image // compared exactly when not nil
	}{
		{"jpeg", encodeJPEG(t, blocky(32, 16)), FormatJPEG, 32, 16, "*image.YCbCr", nil},
		{"cmyk jpeg", cmykJPEG(cmyk), FormatJPEG, 16, 16, "*image.CMYK", nil},
		{"png 16-bit rgba", encodePNG(t, deep(5, 3)), FormatPNG, 5, 3, "*image.RGBA64", deep(5, 3)},
		{"png 16-bit gray", encodePNG(t, gray16), FormatPNG, 9, 5, "*image.Gray16", gray16},
		{"png named .jpg", pngBytes, FormatPNG, 32, 16, "*image.RGBA", blocky(32, 16)},
		{"gif paletted", gifBuf.Bytes(), FormatGIF, 20, 10, "*image.Paletted", pal},
		{"gif partial first frame", partial.Bytes(), FormatGIF, 20, 10, "*image.NRGBA", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data
			if tt.name == "png named .jpg" {
				// The name plays no part: only the bytes are passed.
				p := filepath.Join(t.TempDir(), "photo.jpg")
				if err := os.WriteFile(p, data, 0o600); err != nil {
					t.Fatal(err)
				}
				var err error
				if data, err = os.ReadFile(p); err != nil {
					t.Fatal(err)
				}
			}
			img, info, err := Decode(data, 0)
			if err != nil {
				t.Fatalf("Decode error: %v", err)
			}
			if info != (Info{Format: tt.format, Width: tt.w, Height: tt.h, Orientation: 1}) {
				t.Errorf("Info = %+v, want %s %dx%d orientation 1", info, tt.format, tt.w, tt.h)
			}
			if got := fmt.Sprintf("%T", img); got != tt.typ {
				t.Errorf("image type %s, want %s", got, tt.typ)
			}
			if img.Bounds() != image.Rect(0, 0, tt.w, tt.h) {
				t.Errorf("Bounds = %v, want %dx%d at the origin", img.Bounds(), tt.w, tt.h)
			}
			if tt.want != nil {
				if d, err := diff(img, tt.want); err != nil || d != 0 {
					t.Errorf("pixels differ from the encoded image by %d (%v)", d, err)
				}
			}
		})
	}
	t.Run("gif partial frame placement", func(t *testing.T) {
		img, _, err := Decode(partial.Bytes(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
			t.Errorf("outside the first frame alpha = %d, want transparent", a)
		}
		if r, g, _, _ := img.At(7, 3).RGBA(); r != 0xFFFF || g != 0 {
			t.Errorf("inside the first frame = %v, want red", img.At(7, 3))
		}
	})
}

// hugePNG is a valid 112-byte PNG whose IHDR declares w × h RGBA pixels,
// followed by a few bytes of IDAT: what a decompression-bomb upload looks
// like.
func hugePNG(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 64))
	zw.Close()
	out := append([]byte(nil), pngSignature...)
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// setJPEGSize rewrites the dimensions in a JPEG's SOF0 segment.
func setJPEGSize(t *testing.T, jpg []byte, w, h uint16) []byte {
	t.Helper()
	out := bytes.Clone(jpg)
	i := bytes.Index(out, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

func TestDecodeBadInput(t *testing.T) {
	jpg := encodeJPEG(t, blocky(64, 64))
	pngBytes := encodePNG(t, deep(40, 40))
	var gifBuf bytes.Buffer
	gif.Encode(&gifBuf, blocky(32, 32), nil)
	hugeGIF := bytes.Clone(gifBuf.Bytes())
	binary.LittleEndian.PutUint16(hugeGIF[6:], 65535)
	binary.LittleEndian.PutUint16(hugeGIF[8:], 65535)
	noisy := image.NewGray(image.Rect(0, 0, 256, 256))
	for i := range noisy.Pix {
		noisy.Pix[i] = uint8(i * 7919 >> 3)
	}
	bigJPEG := encodeJPEG(t, noisy) // mostly scan data
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	lossless, _ := os.ReadFile(xImageFile(t, "testdata/blue-purple-pink.lossless.webp"))

	tests := []struct {
		name      string
		data      []byte
		maxPixels int
		want      error
	}{
		{"empty", nil, 0, ErrEmpty},
		{"zero bytes", []byte{}, 0, ErrEmpty},
		{"random", random, 0, ErrUnsupported},
		{"text", []byte("<html>not an image</html>"), 0, ErrUnsupported},
		{"jpeg cut in half", jpg[:len(jpg)/2], 0, ErrTruncated},
		{"jpeg header only", jpg[:20], 0, ErrTruncated},
		{"jpeg cut in the scan", bigJPEG[:len(bigJPEG)*3/4], 0, ErrTruncated},
		{"jpeg without EOI", bigJPEG[:len(bigJPEG)-2], 0, ErrTruncated},
		{"png cut in half", pngBytes[:len(pngBytes)/2], 0, ErrTruncated},
		{"gif cut in half", gifBuf.Bytes()[:gifBuf.Len()/2], 0, ErrTruncated},
		{"webp cut in half", lossless[:len(lossless)/2], 0, ErrTruncated},
		{"png 50000x50000", hugePNG(50000, 50000), 0, ErrTooLarge},
		{"png 2^31-1 square", hugePNG(1<<31-1, 1<<31-1), 0, ErrTooLarge},
		{"jpeg 65535x65535", setJPEGSize(t, jpg, 65535, 65535), 0, ErrTooLarge},
		{"gif 65535x65535", hugeGIF, 0, ErrTooLarge},
		{"webp canvas 16384x16384", withWebPEXIF(t, lossless, orientationTIFF(binary.LittleEndian, 1), 16384, 16384), 0, ErrTooLarge},
		{"over caller's budget", jpg, 64*64 - 1, ErrTooLarge},
		{"png zero width", hugePNG(0, 10), 0, ErrCorrupt},
		{"webp canvas disagrees with frame", withWebPEXIF(t, lossless, orientationTIFF(binary.LittleEndian, 1), 10, 10), 0, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, _, err := Decode(tt.data, tt.maxPixels)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode error = %v, want %v", err, tt.want)
			}
			if img != nil {
				t.Errorf("Decode returned an image with error %v", err)
			}
			t.Logf("%v", err)
		})
	}
}

// TestDecodeTooLargeCheap checks that refusing a 50 000 × 50 000 PNG (10
// GB of pixels) costs almost nothing.
func TestDecodeTooLargeCheap(t *testing.T) {
	data := hugePNG(50000, 50000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 10
	for range runs {
		if _, _, err := Decode(data, 0); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Decode error = %v, want ErrTooLarge", err)
		}
	}
	runtime.ReadMemStats(&after)
	if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 10<<20 {
		t.Errorf("refusing the PNG allocated %d bytes per call, want < 10 MB", perRun)
	} else {
		t.Logf("refusing a %d-byte 50000×50000 PNG allocates %d bytes", len(data), perRun)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		data string
		want string
	}{
		{"\xFF\xD8\xFF\xE0", FormatJPEG},
		{"\x89PNG\r\n\x1a\n", FormatPNG},
		{"GIF87a", FormatGIF},
		{"GIF89a", FormatGIF},
		{"RIFF\x00\x00\x00\x00WEBP", FormatWebP},
		{"RIFF\x00\x00\x00\x00WAVE", ""},
		{"\xFF\xD8", ""},
		{"II*\x00", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.data)); got != tt.want {
			t.Errorf("Sniff(%q) = %q, want %q", tt.data, got, tt.want)
		}
	}
}

// BenchmarkDecodeOrient measures orienting a 12-megapixel JPEG, the size
// of a current phone photo.
func BenchmarkDecodeOrient(b *testing.B) {
	jpg := withJPEGEXIF(encodeJPEG(b, blocky(4000, 3000)), orientationTIFF(binary.LittleEndian, 6))
	b.SetBytes(int64(len(jpg)))
	for b.Loop() {
		if _, _, err := Decode(jpg, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeUpright(b *testing.B) {
	jpg := encodeJPEG(b, blocky(4000, 3000))
	b.SetBytes(int64(len(jpg)))
	for b.Loop() {
		if _, _, err := Decode(jpg, 0); err != nil {
			b.Fatal(err)
		}
	}
}
