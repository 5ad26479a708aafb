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
