// SPDX-License-Identifier: Apache-2.0

package photo

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"
	"testing"
)

// rawPNG encodes rows of raw samples (w × h, ctype at depth bits) as a
// PNG, filtering row y with filter y%5 so that every filter is exercised;
// plte and trns are written when given.
func rawPNG(t testing.TB, w, h, ctype, depth int, plte, trns []byte, sample func(x, y, c int) int) []byte {
	t.Helper()
	channels := map[int]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
	bitsPP := channels * depth
	rowSize := (bitsPP*w + 7) / 8
	bpp := max(1, bitsPP/8)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	prev := make([]byte, rowSize)
	for y := range h {
		row := make([]byte, rowSize)
		for x := range w {
			for c := range channels {
				v := sample(x, y, c) & (1<<depth - 1)
				bit := (x*channels + c) * depth
				switch depth {
				case 16:
					binary.BigEndian.PutUint16(row[bit/8:], uint16(v))
				default:
					row[bit/8] |= byte(v << (8 - depth - bit%8))
				}
			}
		}
		f := byte(y % 5)
		out := make([]byte, rowSize)
		for i := range row {
			var a, b, c byte
			if i >= bpp {
				a, c = row[i-bpp], prev[i-bpp]
			}
			b = prev[i]
			switch f {
			case 0:
				out[i] = row[i]
			case 1:
				out[i] = row[i] - a
			case 2:
				out[i] = row[i] - b
			case 3:
				out[i] = row[i] - byte((int(a)+int(b))/2)
			case 4:
				out[i] = row[i] - paeth(a, b, c)
			}
		}
		zw.Write([]byte{f})
		zw.Write(out)
		prev = row
	}
	zw.Close()
	var buf bytes.Buffer
	buf.Write(pngSignature)
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = byte(depth), byte(ctype)
	buf.Write(pngChunk("IHDR", ihdr))
	if plte != nil {
		buf.Write(pngChunk("PLTE", plte))
	}
	if trns != nil {
		buf.Write(pngChunk("tRNS", trns))
	}
	// Two IDAT chunks, as encoders split long streams.
	zb := z.Bytes()
	buf.Write(pngChunk("IDAT", zb[:len(zb)/2]))
	buf.Write(pngChunk("IDAT", zb[len(zb)/2:]))
	buf.Write(pngChunk("IEND", nil))
	return buf.Bytes()
}

// TestReducePNGMatchesImagePNG checks the row-by-row PNG path against
// image/png followed by Reduce, byte for byte, for every colour type and
// bit depth, with transparency, reduced and not.
func TestReducePNGMatchesImagePNG(t *testing.T) {
	noise := func(x, y, c int) int { return (x*7919 + y*104729 + c*31337) ^ (x * y) ^ (x << 9) }
	plte := make([]byte, 3*200)
	for i := range plte {
		plte[i] = byte(i * 37)
	}
	cases := []struct {
		name         string
		ctype, depth int
		plte, trns   []byte
	}{
		{"gray1", 0, 1, nil, nil},
		{"gray2", 0, 2, nil, nil},
		{"gray4 with tRNS", 0, 4, nil, []byte{0, 5}},
		{"gray8", 0, 8, nil, nil},
		{"gray16", 0, 16, nil, nil},
		{"gray16 with tRNS", 0, 16, nil, []byte{0x12, 0x34}},
		{"rgb8", 2, 8, nil, nil},
		{"rgb8 with tRNS", 2, 8, nil, []byte{0, 1, 0, 2, 0, 3}},
		{"rgb16", 2, 16, nil, nil},
		{"rgb16 with tRNS", 2, 16, nil, []byte{0, 1, 0, 2, 0, 3}},
		{"palette1", 3, 1, plte[:6], nil},
		{"palette4 with tRNS", 3, 4, plte[:3*16], []byte{0, 128, 255}},
		{"palette8, indices past the palette", 3, 8, plte, nil},
		{"gray alpha8", 4, 8, nil, nil},
		{"gray alpha16", 4, 16, nil, nil},
		{"rgba8", 6, 8, nil, nil},
		{"rgba16", 6, 16, nil, nil},
	}
	for _, c := range cases {
		for _, size := range []image.Point{{37, 23}, {5, 61}, {1, 1}} {
			data := rawPNG(t, size.X, size.Y, c.ctype, c.depth, c.plte, c.trns, noise)
			if c.ctype == 0 && c.depth == 16 && c.trns != nil {
				// Make some pixels the transparent colour.
				data = rawPNG(t, size.X, size.Y, c.ctype, c.depth, c.plte, c.trns, func(x, y, ch int) int {
					if (x+y)%3 == 0 {
						return 0x1234
					}
					return noise(x, y, ch)
				})
			}
			for _, side := range []int{1 << 20, 16, 3} {
				t.Run(fmt.Sprintf("%s/%v/side%d", c.name, size, side), func(t *testing.T) {
					std, err := png.Decode(bytes.NewReader(data))
					if err != nil {
						t.Fatalf("image/png: %v", err)
					}
					want := Reduce(std, side)
					got, ok, err := reducePNG(data, side)
					if err != nil || !ok {
						t.Fatalf("reducePNG = %v, %v", ok, err)
					}
					if got.Bounds() != want.Bounds() || !bytes.Equal(got.Pix, want.Pix) {
						t.Errorf("reducePNG differs from Reduce(png.Decode): bounds %v, want %v", got.Bounds(), want.Bounds())
					}
				})
			}
		}
	}
}

// TestDecodeReducedFormats checks that every format's working copy is its
// full decode reduced, upright, and no larger than asked.
func TestDecodeReducedFormats(t *testing.T) {
	src := blocky(300, 120)
	cases := []struct {
		name string
		data []byte
	}{
		{"png", encodePNG(t, src)},
		{"png, rotated", withPNGEXIF(encodePNG(t, src), orientationTIFF(binary.BigEndian, 6))},
		{"jpeg", encodeJPEG(t, src)},
		{"jpeg, mirrored", withJPEGEXIF(encodeJPEG(t, src), orientationTIFF(binary.LittleEndian, 2))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			full, info, err := Decode(c.data, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, ginfo, err := DecodeReduced(c.data, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if ginfo != info {
				t.Errorf("DecodeReduced info = %+v, want %+v", ginfo, info)
			}
			if b := got.Bounds(); max(b.Dx(), b.Dy()) != 100 || (b.Dx() > b.Dy()) != (full.Bounds().Dx() > full.Bounds().Dy()) {
				t.Errorf("DecodeReduced bounds = %v for a full image of %v, want 100 on the long side", b, full.Bounds())
			}
			if n, err := diff(thumbnail(got, 10), thumbnail(Reduce(full, 100), 10)); err != nil || n > 24*257 {
				t.Errorf("DecodeReduced differs from Reduce(Decode) by %d (%v)", n, err)
			}
		})
	}
}

// TestDecodeCostRefuses checks that a progressive JPEG too large for the
// decoder's budget is refused from its header.
func TestDecodeCostRefuses(t *testing.T) {
	cfg := image.Config{Width: 8000, Height: 6000}
	baseline := encodeJPEG(t, blocky(16, 16))
	if c := decodeCost(baseline, FormatJPEG, cfg); c > MaxDecodeBytes {
		t.Errorf("decodeCost(48 MP baseline 4:2:0 JPEG) = %d MiB, want within %d MiB", c>>20, MaxDecodeBytes>>20)
	}
	progressive := bytes.Replace(baseline, []byte{0xFF, 0xC0}, []byte{0xFF, 0xC2}, 1)
	if c := decodeCost(progressive, FormatJPEG, cfg); c <= MaxDecodeBytes {
		t.Errorf("decodeCost(48 MP progressive JPEG) = %d MiB, want over %d MiB", c>>20, MaxDecodeBytes>>20)
	}
	// The same header in a file: refused before the decoder allocates.
	big := bytes.Replace(setJPEGSize(t, baseline, 8000, 6000), []byte{0xFF, 0xC0}, []byte{0xFF, 0xC2}, 1)
	if _, _, err := DecodeReduced(big, 0, 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("DecodeReduced(48 MP progressive JPEG) error = %v, want ErrTooLarge", err)
	}
}

// TestDecodeReducedSecondIHDR: a second IHDR must not replace the size
// the header check accepted (it would make the row decoder allocate for
// 50 000 × 50 000 pixels).
func TestDecodeReducedSecondIHDR(t *testing.T) {
	data := rawPNG(t, 4, 4, 6, 8, nil, nil, func(x, y, c int) int { return x + y + c })
	huge := make([]byte, 13)
	binary.BigEndian.PutUint32(huge, 50000)
	binary.BigEndian.PutUint32(huge[4:], 50000)
	huge[8], huge[9] = 16, 6
	at := len(pngSignature) + 25 // after the first IHDR
	bad := append(append(append([]byte{}, data[:at]...), pngChunk("IHDR", huge)...), data[at:]...)
	if _, _, err := DecodeReduced(bad, 0, 0); !errors.Is(err, ErrCorrupt) {
		t.Errorf("DecodeReduced(PNG with a second IHDR) error = %v, want ErrCorrupt", err)
	}
}
