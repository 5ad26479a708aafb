// SPDX-License-Identifier: Apache-2.0

package photo

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// This file builds test inputs: images, TIFF/EXIF blocks and the
// containers that carry them, so that every case is generated here and
// its expected values are known exactly.

// blocky returns a w × h image of 16 × 16 flat blocks, each a different
// colour, so every rotation and mirror of it is distinct and JPEG (whose
// chroma blocks are 16 × 16 at 4:2:0) reproduces it almost exactly.
func blocky(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			bx, by := x/16, y/16
			m.SetNRGBA(x, y, color.NRGBA{uint8(30 + 50*bx), uint8(20 + 70*by), uint8(200 - 40*bx + 25*by), 255})
		}
	}
	return m
}

// deep returns a 16-bit image whose every pixel differs, for exact
// comparisons.
func deep(w, h int) *image.NRGBA64 {
	m := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA64(x, y, color.NRGBA64{uint16(x*997 + y), uint16(y*1231 + x), uint16((x + 1) * (y + 1) * 61), 0xFFFF})
		}
	}
	return m
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tag is one IFD entry to build. val is a string (ASCII, NUL added),
// []byte (BYTE, or UNDEFINED when typ is 7), []uint16 (SHORT), []uint32
// (LONG) or [][2]uint32 (RATIONAL numerator, denominator). count and off,
// when non-zero, replace the real count and value offset to build damaged
// entries.
type tag struct {
	id    uint16
	val   any
	typ   uint16
	count uint32
	off   uint32
}

func (tg tag) encode(order binary.ByteOrder) (typ uint16, count uint32, b []byte) {
	switch v := tg.val.(type) {
	case string:
		return typeASCII, uint32(len(v) + 1), append([]byte(v), 0)
	case []byte:
		typ := tg.typ
		if typ == 0 {
			typ = typeByte
		}
		return typ, uint32(len(v)), v
	case []uint16:
		b = make([]byte, 2*len(v))
		for i, x := range v {
			order.PutUint16(b[2*i:], x)
		}
		return typeShort, uint32(len(v)), b
	case []uint32:
		b = make([]byte, 4*len(v))
		for i, x := range v {
			order.PutUint32(b[4*i:], x)
		}
		return typeLong, uint32(len(v)), b
	case [][2]uint32:
		b = make([]byte, 8*len(v))
		for i, x := range v {
			order.PutUint32(b[8*i:], x[0])
			order.PutUint32(b[8*i+4:], x[1])
		}
		return typeRational, uint32(len(v)), b
	}
	panic("tag: unsupported value type")
}

// buildTIFF lays out a TIFF-structured EXIF block: the header, IFD0, the
// Exif IFD and the GPS IFD (each omitted when nil, and then not pointed
// to), then the values that do not fit in an entry.
func buildTIFF(order binary.ByteOrder, ifd0, exif, gps []tag) []byte {
	ifd0 = slices.Clone(ifd0)
	const header = 8
	ifdLen := func(n int) int { return 2 + 12*n + 4 }
	n0 := len(ifd0)
	if exif != nil {
		n0++
	}
	if gps != nil {
		n0++
	}
	exifOff := header + ifdLen(n0)
	gpsOff := exifOff
	if exif != nil {
		gpsOff += ifdLen(len(exif))
	}
	dataOff := gpsOff
	if gps != nil {
		dataOff += ifdLen(len(gps))
	}
	if exif != nil {
		ifd0 = append(ifd0, tag{id: tagExifIFD, val: []uint32{uint32(exifOff)}})
	}
	if gps != nil {
		ifd0 = append(ifd0, tag{id: tagGPSIFD, val: []uint32{uint32(gpsOff)}})
	}

	out := make([]byte, dataOff)
	if order == binary.LittleEndian {
		copy(out, tiffLE)
	} else {
		copy(out, tiffBE)
	}
	order.PutUint32(out[4:], header)
	writeIFD := func(at int, tags []tag) {
		slices.SortStableFunc(tags, func(a, b tag) int { return int(a.id) - int(b.id) })
		order.PutUint16(out[at:], uint16(len(tags)))
		for i, tg := range tags {
			p := out[at+2+12*i:]
			typ, count, val := tg.encode(order)
			if tg.count != 0 {
				count = tg.count
			}
			order.PutUint16(p, tg.id)
			order.PutUint16(p[2:], typ)
			order.PutUint32(p[4:], count)
			switch {
			case tg.off != 0:
				order.PutUint32(p[8:], tg.off)
			case len(val) <= 4:
				copy(p[8:12], val)
			default:
				order.PutUint32(p[8:], uint32(len(out)))
				out = append(out, val...)
				if len(out)%2 == 1 {
					out = append(out, 0) // TIFF values start on word boundaries
				}
			}
		}
		// The next-IFD offset stays 0: no IFD1.
	}
	writeIFD(header, ifd0)
	if exif != nil {
		writeIFD(exifOff, slices.Clone(exif))
	}
	if gps != nil {
		writeIFD(gpsOff, slices.Clone(gps))
	}
	return out
}

// orientationTIFF is a minimal block holding only an Orientation tag.
func orientationTIFF(order binary.ByteOrder, o int) []byte {
	return buildTIFF(order, []tag{{id: tagOrientation, val: []uint16{uint16(o)}}}, nil, nil)
}

// withJPEGEXIF inserts an APP1 Exif segment right after the SOI marker.
func withJPEGEXIF(jpg, tiff []byte) []byte {
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+6+len(tiff)))
	seg = append(seg, "Exif\x00\x00"...)
	seg = append(seg, tiff...)
	return slices.Concat(jpg[:2], seg, jpg[2:])
}

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// withPNGEXIF inserts an eXIf chunk after IHDR (8-byte signature plus the
// 25-byte IHDR chunk), where PNG 3 wants it: before IDAT.
func withPNGEXIF(p, tiff []byte) []byte {
	return slices.Concat(p[:33], pngChunk("eXIf", tiff), p[33:])
}

// withWebPEXIF turns a simple WebP (RIFF, WEBP, one VP8 or VP8L chunk)
// into the extended form with a VP8X header and an EXIF chunk after the
// image data, as libwebp writes it.
func withWebPEXIF(t testing.TB, simple, tiff []byte, w, h int) []byte {
	t.Helper()
	if Sniff(simple) != FormatWebP {
		t.Fatal("withWebPEXIF: not a WebP file")
	}
	vp8x := make([]byte, 10)
	vp8x[0] = 0x08 // EXIF present
	vp8x[4], vp8x[5], vp8x[6] = byte(w-1), byte((w-1)>>8), byte((w-1)>>16)
	vp8x[7], vp8x[8], vp8x[9] = byte(h-1), byte((h-1)>>8), byte((h-1)>>16)
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", vp8x)...)
	body = append(body, simple[12:]...)
	body = append(body, riffChunk("EXIF", tiff)...)
	return slices.Concat([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body))), body)
}

func riffChunk(typ string, data []byte) []byte {
	c := append([]byte(typ), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// cmykJPEG encodes m as a baseline four-component (CMYK) JPEG with an
// Adobe APP14 marker, the form print workflows and some phones' editors
// produce and image/jpeg cannot write. Each 8 × 8 block is stored as its
// average (DC coefficient only, quantiser 1), which is exact for images
// made of flat 8 × 8 blocks. The channel bytes are stored as given; image/jpeg
// reads Adobe CMYK as inverted, as Photoshop writes it.
func cmykJPEG(m *image.CMYK) []byte {
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	var out []byte
	seg := func(marker byte, data ...byte) {
		out = append(out, 0xFF, marker, byte((len(data)+2)>>8), byte(len(data)+2))
		out = append(out, data...)
	}
	out = append(out, 0xFF, 0xD8)
	seg(0xEE, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0) // transform 0: no colour conversion
	dqt := make([]byte, 65)
	for i := 1; i < 65; i++ {
		dqt[i] = 1
	}
	seg(0xDB, dqt...)
	seg(0xC0, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 4,
		1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0)
	// DC table: categories 0..11, all with 4-bit codes 0000..1011. AC
	// table: only end-of-block, code "0".
	dht := append([]byte{0x00, 0, 0, 0, 12}, make([]byte, 12)...)
	for i := range 12 {
		dht = append(dht, byte(i))
	}
	seg(0xC4, dht...)
	seg(0xC4, append(append([]byte{0x10, 1}, make([]byte, 15)...), 0)...)
	seg(0xDA, 4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0)

	var acc uint64 // bit accumulator, MSB first
	var n uint
	put := func(v uint64, size uint) {
		acc = acc<<size | v&(1<<size-1)
		n += size
		for n >= 8 {
			b := byte(acc >> (n - 8))
			out = append(out, b)
			if b == 0xFF {
				out = append(out, 0) // byte stuffing
			}
			n -= 8
		}
	}
	var pred [4]int
	for by := 0; by < h; by += 8 {
		for bx := 0; bx < w; bx += 8 {
			for c := range 4 {
				sum := 0
				for y := by; y < by+8; y++ {
					for x := bx; x < bx+8; x++ {
						sum += int(m.Pix[m.PixOffset(min(x, w-1), min(y, h-1))+c]) - 128
					}
				}
				dc := sum / 8 // F(0,0) of the DCT with quantiser 1
				diff := dc - pred[c]
				pred[c] = dc
				mag := diff
				if mag < 0 {
					mag = -mag
				}
				cat := uint(bits.Len(uint(mag)))
				put(uint64(cat), 4)
				if diff < 0 {
					diff += 1<<cat - 1
				}
				put(uint64(diff), cat)
				put(0, 1) // end of block
			}
		}
	}
	if n > 0 {
		put(1<<(8-n)-1, 8-n) // pad with 1 bits
	}
	return append(out, 0xFF, 0xD9)
}

// moduleFile returns a file from a module in the Go module cache, or
// skips the test when the module is not there (offline machine, no
// download). Nothing is copied into the repository.
func moduleFile(t *testing.T, module, version string, rel string) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	// Module paths are case-encoded in the cache; these are lower case.
	p := filepath.Join(strings.TrimSpace(string(out)), module+"@"+version, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not in the module cache (run go mod download %s@%s): %v", rel, module, version, err)
	}
	return p
}

const (
	goexif        = "github.com/rwcarlsen/goexif"
	goexifVersion = "v0.0.0-20190401172101-9e8deecbddbd"
)

// xImageFile returns a file of the golang.org/x/image module this
// repository requires (its testdata holds WebP samples), or skips.
func xImageFile(t *testing.T, rel string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/image").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Skipf("go list golang.org/x/image: %v", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%v", err)
	}
	return p
}
