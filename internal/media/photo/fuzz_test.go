// SPDX-License-Identifier: Apache-2.0

package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/gif"
	"testing"
)

// exifSeeds are valid and damaged EXIF blocks and containers.
func exifSeeds(t testing.TB) [][]byte {
	le := binary.LittleEndian
	jpg := encodeJPEG(t, blocky(16, 16))
	loop := buildTIFF(le, []tag{{id: tagMake, val: "Nikon"}}, []tag{{id: tagLensModel, val: "50mm"}}, nil)
	le.PutUint32(loop[30:], 8)
	return [][]byte{
		cameraTIFF(binary.LittleEndian),
		cameraTIFF(binary.BigEndian),
		withJPEGEXIF(jpg, cameraTIFF(binary.BigEndian)),
		withPNGEXIF(encodePNG(t, blocky(16, 16)), cameraTIFF(le)),
		orientationTIFF(binary.BigEndian, 8),
		loop,
		buildTIFF(le, []tag{{id: tagMake, val: "x", count: 0xFFFFFFFF}}, nil, nil),
		[]byte("II*\x00\xff\xff\xff\xff"),
		[]byte("MM\x00*\x00\x00\x00\x08\xff\xff"),
	}
}

func FuzzReadEXIF(f *testing.F) {
	for _, s := range exifSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ReadEXIF(data)
		if err != nil {
			if x != nil {
				t.Fatalf("ReadEXIF returned a result with error %v", err)
			}
			return
		}
		if x == nil {
			return
		}
		if len(x.Problems) > maxProblems || len(x.Tags) > 32 {
			t.Fatalf("unbounded result: %d problems, %d tags", len(x.Problems), len(x.Tags))
		}
		for _, s := range []string{x.Make, x.Model, x.Software, x.LensModel, x.ImageDescription, x.DateTimeOriginal} {
			if len(s) > maxString {
				t.Fatalf("string of %d bytes, want ≤ %d", len(s), maxString)
			}
		}
		if x.Orientation < 0 || x.Orientation > 8 {
			t.Fatalf("Orientation = %d", x.Orientation)
		}
		if g := x.GPS; g != nil && (g.Latitude < -90 || g.Latitude > 90 || g.Longitude < -180 || g.Longitude > 180) {
			t.Fatalf("GPS out of range: %+v", *g)
		}
	})
}

func FuzzDecode(f *testing.F) {
	var g bytes.Buffer
	gif.Encode(&g, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	seeds := [][]byte{
		withJPEGEXIF(encodeJPEG(f, blocky(32, 16)), orientationTIFF(binary.LittleEndian, 6)),
		withPNGEXIF(encodePNG(f, deep(5, 3)), orientationTIFF(binary.BigEndian, 7)),
		cmykJPEG(image.NewCMYK(image.Rect(0, 0, 8, 8))),
		g.Bytes(),
		hugePNG(50000, 50000),
		hugePNG(1, 1),
		[]byte("RIFF\x10\x00\x00\x00WEBPVP8L\x04\x00\x00\x00\x2f\x00\x00\x00"),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	const maxPixels = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		img, info, err := Decode(data, maxPixels)
		if err != nil {
			if img != nil {
				t.Fatalf("Decode returned an image with error %v", err)
			}
			for _, want := range []error{ErrEmpty, ErrUnsupported, ErrTooLarge, ErrTruncated, ErrCorrupt} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("Decode error %v wraps no sentinel", err)
		}
		if info.Width*info.Height > maxPixels {
			t.Fatalf("decoded %dx%d, over the %d-pixel budget", info.Width, info.Height, maxPixels)
		}
		w, h := info.Width, info.Height
		if info.Orientation >= 5 {
			w, h = h, w
		}
		if img.Bounds() != image.Rect(0, 0, w, h) {
			t.Fatalf("Bounds = %v, want %dx%d for %+v", img.Bounds(), w, h, info)
		}
	})
}

// FuzzDecodeReduced checks the working-copy decoder on hostile input: it
// never panics, wraps a sentinel on failure, stays within the side it was
// given, and for a PNG gives exactly what image/png and Reduce give
// whenever both accept the file.
func FuzzDecodeReduced(f *testing.F) {
	noise := func(x, y, c int) int { return x*131 + y*71 + c*53 + x*y }
	f.Add(rawPNG(f, 9, 7, 6, 16, nil, nil, noise))
	f.Add(rawPNG(f, 9, 7, 3, 2, []byte{1, 2, 3, 4, 5, 6}, []byte{9}, noise))
	f.Add(rawPNG(f, 13, 3, 0, 1, nil, nil, noise))
	f.Add(withPNGEXIF(encodePNG(f, deep(5, 3)), orientationTIFF(binary.BigEndian, 7)))
	f.Add(encodeJPEG(f, blocky(32, 16)))
	f.Add(hugePNG(50000, 50000))
	const maxPixels, side = 1 << 16, 16
	f.Fuzz(func(t *testing.T, data []byte) {
		img, info, err := DecodeReduced(data, maxPixels, side)
		if err != nil {
			for _, want := range []error{ErrEmpty, ErrUnsupported, ErrTooLarge, ErrTruncated, ErrCorrupt} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("DecodeReduced error %v wraps no sentinel", err)
		}
		if b := img.Bounds(); b.Dx() > side || b.Dy() > side || b.Dx() < 1 || b.Dy() < 1 {
			t.Fatalf("Bounds = %v, want within %d for %+v", b, side, info)
		}
		if info.Format != FormatPNG {
			return
		}
		_, cfg, _ := header(data, maxPixels)
		whole, err := decodeWhole(data, info, cfg)
		if err != nil {
			return // image/png is stricter about chunk order
		}
		want := orient(Reduce(whole, side), info.Orientation).(*image.NRGBA)
		if !bytes.Equal(img.Pix, want.Pix) {
			t.Fatalf("DecodeReduced differs from image/png and Reduce for %+v", info)
		}
	})
}
