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
// allocated; larger images fail with ErrTooLarge, as do images whose
// decoder would need more than MaxDecodeBytes. Other failures wrap
// ErrEmpty, ErrUnsupported, ErrTruncated or ErrCorrupt. Info is filled in
// as far as the file was read, also on error.
//
// The returned image does not refer to data. It is one of the
// image package's concrete types, usually *image.YCbCr (JPEG, orientation
// 1), *image.RGBA, *image.NRGBA, *image.Gray, *image.CMYK or
// *image.Paletted.
func Decode(data []byte, maxPixels int) (image.Image, Info, error) {
	info, cfg, err := header(data, maxPixels)
	if err != nil {
		return nil, info, err
	}
	img, err := decodeWhole(data, info, cfg)
	if err != nil {
		return nil, info, err
	}
	info.Orientation = orientation(data, info.Format)
	return orient(img, info.Orientation), info, nil
}

// DecodeReduced decodes like Decode, and returns the upright picture
// reduced with Reduce's area filter so that neither side exceeds maxSide
// (WorkSide when ≤ 0): what analysis needs, in memory bounded by the
// limits rather than by what the file declares.
//
// A non-interlaced PNG is decoded a row at a time into the reduction, so
// it costs a few rows whatever its size. JPEG, GIF, WebP and interlaced
// PNG have no such path in their decoders: they are decoded whole and
// reduced at once, and refused with ErrTooLarge when the memory their
// decoder needs for that size and kind of image, estimated from the
// header, exceeds MaxDecodeBytes. The reduction happens before the
// orientation is applied, so that only the small copy is turned.
func DecodeReduced(data []byte, maxPixels, maxSide int) (*image.NRGBA, Info, error) {
	if maxSide <= 0 {
		maxSide = WorkSide
	}
	info, cfg, err := header(data, maxPixels)
	if err != nil {
		return nil, info, err
	}
	var small *image.NRGBA
	ok := false
	if info.Format == FormatPNG {
		small, ok, err = reducePNG(data, maxSide)
		if err != nil {
			return nil, info, decodeError(info.Format, "pixels", data, err)
		}
	}
	if !ok {
		img, err := decodeWhole(data, info, cfg)
		if err != nil {
			return nil, info, err
		}
		small = Reduce(img, maxSide)
	}
	info.Orientation = orientation(data, info.Format)
	return orient(small, info.Orientation).(*image.NRGBA), info, nil
}

// MaxDecodeBytes bounds the memory a decoder that cannot work row by row
// may take for one image, as estimated by decodeCost: 256 MiB, enough for
// any baseline JPEG within DefaultMaxPixels and for a progressive 4:2:0
// JPEG of 35 megapixels.
const MaxDecodeBytes = 256 << 20

// header sniffs the format and checks the declared size against
// maxPixels (DefaultMaxPixels when ≤ 0) without decoding any pixel.
func header(data []byte, maxPixels int) (Info, image.Config, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if len(data) == 0 {
		return Info{}, image.Config{}, fmt.Errorf("photo: decode: %w; fetch or upload the file again", ErrEmpty)
	}
	info := Info{Format: Sniff(data), Orientation: 1}
	if info.Format == "" {
		n := min(len(data), 8)
		return info, image.Config{}, fmt.Errorf("photo: decode %d bytes starting % x: %w (want JPEG, PNG, GIF or WebP); keep it as an opaque file", len(data), data[:n], ErrUnsupported)
	}
	if w, h, ok := pngSize(data); ok && w*h > uint64(maxPixels) {
		// image/png refuses sizes whose byte count overflows an int as
		// corrupt; they are merely too large.
		return info, image.Config{}, tooLarge(info.Format, int64(w), int64(h), maxPixels)
	}
	cfg, err := codecs[info.Format].config(bytes.NewReader(data))
	if err != nil {
		return info, cfg, decodeError(info.Format, "header", data, err)
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return info, cfg, fmt.Errorf("photo: decode %s header: %d×%d pixels: %w; keep the original, it cannot be hashed", info.Format, cfg.Width, cfg.Height, ErrCorrupt)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return info, cfg, tooLarge(info.Format, int64(cfg.Width), int64(cfg.Height), maxPixels)
	}
	return info, cfg, nil
}

// decodeWhole runs the format's standard decoder, after checking that the
// memory it needs fits in MaxDecodeBytes.
func decodeWhole(data []byte, info Info, cfg image.Config) (image.Image, error) {
	if cost := decodeCost(data, info.Format, cfg); cost > MaxDecodeBytes {
		return nil, fmt.Errorf("photo: decode %s: %d×%d pixels of this kind need about %d MiB to decode, over the limit of %d MiB: %w; keep the original unhashed, or a copy re-encoded smaller can be analysed", info.Format, cfg.Width, cfg.Height, cost>>20, MaxDecodeBytes>>20, ErrTooLarge)
	}
	img, err := codecs[info.Format].decode(bytes.NewReader(data))
	if err != nil {
		return nil, decodeError(info.Format, "pixels", data, err)
	}
	full := image.Rect(0, 0, cfg.Width, cfg.Height)
	if b := img.Bounds(); b != full {
		// A GIF's first frame may cover part of the logical screen (the
		// decoder guarantees it lies inside); show it on a transparent
		// canvas as a browser would. Any other mismatch is a decoder
		// disagreeing with its own header.
		if info.Format != FormatGIF || !b.In(full) {
			return nil, fmt.Errorf("photo: decode %s: header says %v, pixels cover %v: %w; keep the original, it cannot be hashed", info.Format, full, b, ErrCorrupt)
		}
		canvas := image.NewNRGBA(full)
		draw.Draw(canvas, b, img, b.Min, draw.Src)
		img = canvas
	}
	return img, nil
}

// orientation returns the file's EXIF orientation, 1 when it has none.
// Damaged EXIF does not stop decoding: the pixels are what is hashed, and
// ReadEXIF reports the damage.
func orientation(data []byte, format string) int {
	if block := exifBlock(data, format); block != nil {
		if x, err := parseEXIF(block); err == nil && x.Orientation != 0 {
			return x.Orientation
		}
	}
	return 1
}

// decodeCost estimates, in bytes, the memory the standard decoder of
// format allocates for an image of cfg's size: the pixels in the type it
// returns, and for a progressive JPEG the coefficients it keeps (4 bytes
// per sample) between scans. Unknown details count as the worst case.
func decodeCost(data []byte, format string, cfg image.Config) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	switch format {
	case FormatPNG:
		return 8 * px // at most 16-bit RGBA
	case FormatGIF:
		return 5 * px // the frame, and the canvas it may be drawn on
	case FormatWebP:
		return 8 * px // lossless: the NRGBA image and the decoder's ARGB words
	}
	samples, progressive, comps := jpegSamples(data, px)
	cost := samples
	if progressive {
		cost += 4 * samples
	}
	if comps == 4 {
		cost += 4 * px // CMYK is converted to a 4-byte-per-pixel image
	}
	return cost
}

// jpegSamples reads a JPEG's frame header: the samples of all components
// for px pixels (subsampled chroma counts for less), whether the frame is
// progressive, and the number of components. Without a readable frame
// header it answers the worst case, four full-size progressive planes.
func jpegSamples(data []byte, px int64) (samples int64, progressive bool, comps int) {
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			break
		}
		m := data[i+1]
		if m == 0xFF {
			i++
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
			sof := data[i+4:]
			if n < 8 || len(sof) < n-2 || int(sof[5]) == 0 || len(sof) < 6+3*int(sof[5]) {
				break
			}
			comps = int(sof[5])
			hmax, vmax := 1, 1
			for c := range comps {
				f := sof[6+3*c+1]
				hmax, vmax = max(hmax, int(f>>4)), max(vmax, int(f&15))
			}
			for c := range comps {
				f := sof[6+3*c+1]
				samples += px * int64(max(1, int(f>>4))*max(1, int(f&15))) / int64(hmax*vmax)
			}
			return samples, m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE, comps
		}
		i += 2 + n
	}
	return 4 * px, true, 4
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
