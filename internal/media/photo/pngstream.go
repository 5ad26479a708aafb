// SPDX-License-Identifier: Apache-2.0

package photo

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"io"
)

// reducePNG decodes a non-interlaced PNG row by row straight into a
// reducer, so that memory is a few rows and one target row whatever the
// image's size: a small, compressible file may declare 50 megapixels of
// 16-bit RGBA, 400 MB for image/png. It gives the same pixels as
// Reduce(png.Decode(data), maxSide): every colour type and bit depth is
// converted to 8-bit straight RGB as image/png's types read through
// color.NRGBAModel (see reader) would be, and the rows are unfiltered as
// PNG specifies. Interlaced files are left to image/png (ok is false).
//
// Chunks are checked as image/png checks them: CRCs, a palette before
// the pixel data of a palette image, and the zlib stream's own checksum
// by reading it to its end.
func reducePNG(data []byte, maxSide int) (img *image.NRGBA, ok bool, err error) {
	var (
		w, h           int
		depth, ctype   int
		palette        [][3]uint8
		trns           []byte
		idat           []io.Reader
		seenIEND       bool
		interlaced     bool
		pngFormatError = func(msg string) error { return fmt.Errorf("png: invalid format: %s", msg) }
	)
	for p := data[len(pngSignature):]; len(p) > 0 && !seenIEND; {
		if len(p) < 12 {
			return nil, true, io.ErrUnexpectedEOF
		}
		n := binary.BigEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-12) {
			return nil, true, io.ErrUnexpectedEOF
		}
		typ, body := string(p[4:8]), p[8:8+n]
		if crc32.ChecksumIEEE(p[4:8+n]) != binary.BigEndian.Uint32(p[8+n:]) {
			return nil, true, pngFormatError("invalid checksum")
		}
		p = p[12+n:]
		// IHDR comes first and once: the size it declares is the one
		// Decode's header check accepted, and a second one must not
		// replace it.
		if (typ == "IHDR") != (w == 0) {
			return nil, true, pngFormatError("chunk out of order")
		}
		switch typ {
		case "IHDR":
			if n != 13 {
				return nil, true, pngFormatError("bad IHDR length")
			}
			w, h = int(binary.BigEndian.Uint32(body)), int(binary.BigEndian.Uint32(body[4:]))
			if w <= 0 || h <= 0 {
				return nil, true, pngFormatError("invalid dimensions")
			}
			depth, ctype = int(body[8]), int(body[9])
			if body[12] != 0 {
				interlaced = true
			}
		case "PLTE":
			if n%3 != 0 || n == 0 || n > 256*3 {
				return nil, true, pngFormatError("bad PLTE length")
			}
			palette = make([][3]uint8, n/3)
			for i := range palette {
				copy(palette[i][:], body[3*i:])
			}
		case "tRNS":
			trns = body
		case "IDAT":
			if ctype == 3 && palette == nil {
				return nil, true, pngFormatError("chunk out of order")
			}
			idat = append(idat, bytes.NewReader(body))
		case "IEND":
			seenIEND = true
		}
	}
	if interlaced {
		return nil, false, nil
	}
	if len(idat) == 0 {
		return nil, true, io.ErrUnexpectedEOF
	}
	channels := map[int]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
	bitsPP := channels * depth
	rowSize := 1 + (bitsPP*w+7)/8
	bpp := max(1, bitsPP/8) // bytes per complete pixel, for the filters
	conv, err := converter(ctype, depth, palette, trns)
	if err != nil {
		return nil, true, err
	}

	z, err := zlib.NewReader(io.MultiReader(idat...))
	if err != nil {
		return nil, true, err
	}
	defer z.Close()
	r := newReducer(w, h, maxSide)
	cr, pr := make([]uint8, rowSize), make([]uint8, rowSize)
	rgb := make([]uint8, 3*w)
	for y := range h {
		if _, err := io.ReadFull(z, cr); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, true, pngFormatError("not enough pixel data")
			}
			return nil, true, err
		}
		if err := unfilter(cr[0], cr[1:], pr[1:], bpp); err != nil {
			return nil, true, err
		}
		conv(cr[1:], rgb)
		r.add(y, rgb)
		cr, pr = pr, cr
	}
	// Reading past the last row checks the zlib checksum, as image/png does.
	n, err := 0, error(nil)
	for i := 0; n == 0 && err == nil; i++ {
		if i == 100 {
			return nil, true, io.ErrNoProgress
		}
		n, err = z.Read(cr[:1])
	}
	if err != nil && err != io.EOF {
		return nil, true, pngFormatError(err.Error())
	}
	if n != 0 {
		return nil, true, pngFormatError("too much pixel data")
	}
	return r.finish(), true, nil
}

// unfilter undoes a row's PNG filter in place; prev is the previous row,
// already unfiltered (zero for the first).
func unfilter(filter uint8, cur, prev []uint8, bpp int) error {
	switch filter {
	case 0:
	case 1:
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2:
		for i, p := range prev {
			cur[i] += p
		}
	case 3:
		for i := range bpp {
			cur[i] += prev[i] / 2
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += uint8((int(cur[i-bpp]) + int(prev[i])) / 2)
		}
	case 4:
		for i := range bpp {
			cur[i] += prev[i]
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += paeth(cur[i-bpp], prev[i], prev[i-bpp])
		}
	default:
		return fmt.Errorf("png: invalid format: bad filter type")
	}
	return nil
}

func paeth(a, b, c uint8) uint8 {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// converter returns the function turning one unfiltered row into 8-bit
// straight RGB, matching what reader gives for the image type image/png
// decodes that colour type and depth to. The cases that differ from
// taking the high byte: a 16-bit pixel equal to the tRNS colour (image/png
// makes it transparent, and transparent NRGBA64 reads as black) and
// 16-bit alpha (premultiplied by At, then divided out again, with
// rounding).
func converter(ctype, depth int, palette [][3]uint8, trns []byte) (func(row, rgb []uint8), error) {
	bad := fmt.Errorf("png: unsupported feature: colour type %d at bit depth %d", ctype, depth)
	switch ctype {
	case 0:
		switch depth {
		case 1, 2, 4:
			scale := uint8(map[int]int{1: 0xff, 2: 0x55, 4: 0x11}[depth])
			perByte, mask := 8/depth, uint8(1<<depth-1)
			return func(row, rgb []uint8) {
				for x := range len(rgb) / 3 {
					shift := uint(8 - depth - (x%perByte)*depth)
					v := (row[x/perByte] >> shift & mask) * scale
					rgb[3*x], rgb[3*x+1], rgb[3*x+2] = v, v, v
				}
			}, nil
		case 8:
			return func(row, rgb []uint8) {
				for x := range len(rgb) / 3 {
					v := row[x]
					rgb[3*x], rgb[3*x+1], rgb[3*x+2] = v, v, v
				}
			}, nil
		case 16:
			key, keyed := -1, len(trns) >= 2
			if keyed {
				key = int(binary.BigEndian.Uint16(trns))
			}
			return func(row, rgb []uint8) {
				for x := range len(rgb) / 3 {
					v := row[2*x]
					if keyed && int(binary.BigEndian.Uint16(row[2*x:])) == key {
						v = 0
					}
					rgb[3*x], rgb[3*x+1], rgb[3*x+2] = v, v, v
				}
			}, nil
		}
	case 2:
		switch depth {
		case 8:
			return func(row, rgb []uint8) { copy(rgb, row) }, nil
		case 16:
			keyed := len(trns) >= 6
			return func(row, rgb []uint8) {
				for x := range len(rgb) / 3 {
					p := row[6*x : 6*x+6]
					if keyed && bytes.Equal(p, trns[:6]) {
						rgb[3*x], rgb[3*x+1], rgb[3*x+2] = 0, 0, 0
						continue
					}
					rgb[3*x], rgb[3*x+1], rgb[3*x+2] = p[0], p[2], p[4]
				}
			}, nil
		}
	case 3:
		if depth != 1 && depth != 2 && depth != 4 && depth != 8 {
			break
		}
		var lut [256][3]uint8 // indices past the palette are opaque black, as in image/png
		copy(lut[:], palette)
		perByte, mask := 8/depth, uint8(1<<depth-1)
		return func(row, rgb []uint8) {
			for x := range len(rgb) / 3 {
				i := row[x/perByte] >> uint(8-depth-(x%perByte)*depth) & mask
				c := lut[i]
				rgb[3*x], rgb[3*x+1], rgb[3*x+2] = c[0], c[1], c[2]
			}
		}, nil
	case 4:
		switch depth {
		case 8:
			return func(row, rgb []uint8) {
				for x := range len(rgb) / 3 {
					v := row[2*x]
					rgb[3*x], rgb[3*x+1], rgb[3*x+2] = v, v, v
				}
			}, nil
		case 16:
			return func(row, rgb []uint8) {
				for x := range len(rgb) / 3 {
					a := uint32(binary.BigEndian.Uint16(row[4*x+2:]))
					v := straight(uint32(binary.BigEndian.Uint16(row[4*x:])), a)
					rgb[3*x], rgb[3*x+1], rgb[3*x+2] = v, v, v
				}
			}, nil
		}
	case 6:
		switch depth {
		case 8:
			return func(row, rgb []uint8) {
				for x := range len(rgb) / 3 {
					rgb[3*x], rgb[3*x+1], rgb[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
				}
			}, nil
		case 16:
			return func(row, rgb []uint8) {
				for x := range len(rgb) / 3 {
					p := row[8*x : 8*x+8]
					a := uint32(binary.BigEndian.Uint16(p[6:]))
					rgb[3*x] = straight(uint32(binary.BigEndian.Uint16(p)), a)
					rgb[3*x+1] = straight(uint32(binary.BigEndian.Uint16(p[2:])), a)
					rgb[3*x+2] = straight(uint32(binary.BigEndian.Uint16(p[4:])), a)
				}
			}, nil
		}
	}
	return nil, bad
}

// straight is one channel of a color.NRGBA64 converted by
// color.NRGBAModel: premultiplied by RGBA, then divided out again.
func straight(v, a uint32) uint8 {
	switch a {
	case 0xffff:
		return uint8(v >> 8)
	case 0:
		return 0
	}
	v = v * a / 0xffff
	return uint8(v * 0xffff / a >> 8)
}
