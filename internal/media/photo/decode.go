// SPDX-License-Identifier: Apache-2.0

package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/webp"
)

// DefaultMaxPixels is the pixel budget Decode uses when given maxPixels ≤ 0:
// 50 megapixels, above any phone camera's output. Decoding costs up to 8
// bytes per pixel (16-bit PNG), and a progressive JPEG about as much again
// for its coefficients, so the budget bounds memory at roughly 1 GB.
const DefaultMaxPixels = 50_000_000

// Errors that callers branch on. Decode and ReadEXIF wrap them in messages
// that say which file part failed and what to do; test with errors.Is.
var (
	// ErrEmpty: the input has no bytes.
	ErrEmpty = errors.New("empty file")
	// ErrUnsupported: the bytes are not a JPEG, PNG, GIF or WebP image.
	ErrUnsupported = errors.New("unsupported image format")
	// ErrTooLarge: the header declares more pixels than allowed.
	ErrTooLarge = errors.New("image too large")
	// ErrTruncated: the file ends before the image does.
	ErrTruncated = errors.New("truncated image")
	// ErrCorrupt: the file is in a supported format but malformed.
	ErrCorrupt = errors.New("corrupt image")
)

// Info describes a decoded image as stored in the file.
type Info struct {
	Format string // FormatJPEG, FormatPNG, FormatGIF or FormatWebP, sniffed from the bytes
	// Width and Height are as stored, before Orientation is applied; the
	// returned image is Height × Width when Orientation is 5 to 8.
	Width, Height int
	// Orientation is the EXIF orientation that was applied, 1 to 8; 1 when
	// the file has no (valid) orientation tag.
	Orientation int
}

// codec is one format's pair of standard decoders.
type codec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var codecs = map[string]codec{
	FormatJPEG: {jpeg.DecodeConfig, jpeg.Decode},
	FormatPNG:  {png.DecodeConfig, png.Decode},
	FormatGIF:  {gif.DecodeConfig, gif.Decode},
	FormatWebP: {webp.DecodeConfig, webp.Decode},
}

// Decode decodes a JPEG, PNG, GIF (first frame) or WebP image and returns
// it upright, with its EXIF orientation applied.
//
// The format is sniffed from data; no file name or media type is consulted
// (see the package documentation). The dimensions in the header are checked
// against maxPixels (DefaultMaxPixels when ≤ 0) before any pixel memory is
// allocated; larger images fail with ErrTooLarge. Other failures wrap
// ErrEmpty, ErrUnsupported, ErrTruncated or ErrCorrupt. Info is filled in
// as far as the file was read, also on error.
//
// The returned image does not refer to data. It is one of the
// image package's concrete types, usually *image.YCbCr (JPEG, orientation
// 1), *image.RGBA, *image.NRGBA, *image.Gray, *image.CMYK or
// *image.Paletted.
func Decode(data []byte, maxPixels int) (image.Image, Info, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if len(data) == 0 {
		return nil, Info{}, fmt.Errorf("photo: decode: %w; fetch or upload the file again", ErrEmpty)
	}
	info := Info{Format: Sniff(data), Orientation: 1}
	if info.Format == "" {
		n := min(len(data), 8)
		return nil, info, fmt.Errorf("photo: decode %d bytes starting % x: %w (want JPEG, PNG, GIF or WebP); keep it as an opaque file", len(data), data[:n], ErrUnsupported)
	}
	c := codecs[info.Format]
	if w, h, ok := pngSize(data); ok && w*h > uint64(maxPixels) {
		// image/png refuses sizes whose byte count overflows an int as
		// corrupt; they are merely too large.
		return nil, info, tooLarge(info.Format, int64(w), int64(h), maxPixels)
	}
	cfg, err := c.config(bytes.NewReader(data))
	if err != nil {
		return nil, info, decodeError(info.Format, "header", data, err)
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, info, fmt.Errorf("photo: decode %s header: %d×%d pixels: %w; keep the original, it cannot be hashed", info.Format, cfg.Width, cfg.Height, ErrCorrupt)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, info, tooLarge(info.Format, int64(cfg.Width), int64(cfg.Height), maxPixels)
	}
	img, err := c.decode(bytes.NewReader(data))
	if err != nil {
		return nil, info, decodeError(info.Format, "pixels", data, err)
	}
	full := image.Rect(0, 0, cfg.Width, cfg.Height)
	if b := img.Bounds(); b != full {
		// A GIF's first frame may cover part of the logical screen (the
		// decoder guarantees it lies inside); show it on a transparent
		// canvas as a browser would. Any other mismatch is a decoder
		// disagreeing with its own header.
		if info.Format != FormatGIF || !b.In(full) {
			return nil, info, fmt.Errorf("photo: decode %s: header says %v, pixels cover %v: %w; keep the original, it cannot be hashed", info.Format, full, b, ErrCorrupt)
		}
		canvas := image.NewNRGBA(full)
		draw.Draw(canvas, b, img, b.Min, draw.Src)
		img = canvas
	}
	if block := exifBlock(data, info.Format); block != nil {
		// Damaged EXIF does not stop decoding: the pixels are what is
		// hashed, and ReadEXIF reports the damage.
		if x, err := parseEXIF(block); err == nil && x.Orientation != 0 {
			info.Orientation = x.Orientation
		}
	}
	return orient(img, info.Orientation), info, nil
}

func tooLarge(format string, w, h int64, maxPixels int) error {
	return fmt.Errorf("photo: decode %s: %d×%d pixels is over the limit of %d: %w; keep the original unhashed or raise the limit if memory allows", format, w, h, maxPixels, ErrTooLarge)
}

// pngSize reads the dimensions from a PNG's IHDR chunk, which the format
// requires to come first.
func pngSize(data []byte) (w, h uint64, ok bool) {
	if len(data) < 24 || !bytes.HasPrefix(data, pngSignature) || string(data[12:16]) != "IHDR" {
		return 0, 0, false
	}
	return uint64(binary.BigEndian.Uint32(data[16:])), uint64(binary.BigEndian.Uint32(data[20:])), true
}

// decodeError classifies a standard decoder's error as ErrTruncated or
// ErrCorrupt. The decoders do not say consistently when the data ran out
// (image/png reports a short zlib stream as "not enough pixel data",
// image/gif formats io.ErrUnexpectedEOF with %v, image/jpeg says "short
// Huffman data"), so a failure is also called truncation when the file
// visibly lacks its end: the JPEG EOI marker, the PNG IEND chunk, the GIF
// trailer or the bytes the RIFF header announces.
func decodeError(format, part string, data []byte, err error) error {
	msg := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.Contains(msg, "unexpected EOF") || !complete(format, data) {
		return fmt.Errorf("photo: decode %s %s: file ends after %d bytes (%v): %w; fetch the complete file again", format, part, len(data), err, ErrTruncated)
	}
	return fmt.Errorf("photo: decode %s %s: %v: %w; keep the original, it cannot be hashed", format, part, err, ErrCorrupt)
}

// complete reports whether data ends the way a whole file of the format
// does. Trailing garbage after the end marker is not checked for.
func complete(format string, data []byte) bool {
	switch format {
	case FormatJPEG:
		return bytes.HasSuffix(bytes.TrimRight(data, "\x00"), []byte{0xFF, 0xD9})
	case FormatPNG:
		return bytes.HasSuffix(data, []byte("\x00\x00\x00\x00IEND\xAE\x42\x60\x82"))
	case FormatGIF:
		return bytes.HasSuffix(data, []byte{0x3B})
	case FormatWebP:
		return len(data) >= 8 && uint64(binary.LittleEndian.Uint32(data[4:]))+8 <= uint64(len(data))
	}
	return true
}
