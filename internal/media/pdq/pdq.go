// SPDX-License-Identifier: Apache-2.0

// Package pdq computes PDQ perceptual hashes of images, following Meta's
// reference algorithm (ThreatExchange pdq/README.md), so that the hashes
// interoperate with other PDQ users: luminance, a two-pass Jarosz (tent)
// filter, decimation to 64×64, a 16×16 DCT of it without the DC terms, and
// one bit per coefficient above the median. A quality score (0 to 100)
// says how much detail the image has; hashes of quality below 50 are too
// unreliable to match on.
//
// Images larger than 512 pixels on a side are first reduced proportionally
// with an area filter, as the Python reference does; implementations differ
// here by a few bits, which the match threshold (31) absorbs.
package pdq

import (
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/bits"
	"slices"
)

// Hash is a 256-bit PDQ hash. Byte 0 holds the most significant bits of
// the hexadecimal form; bit k (k = 16·i + j for DCT coefficient (i, j))
// is bit k%8 of byte 31 − k/8.
type Hash [32]byte

// String returns the 64 hex digits used by every PDQ implementation.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Parse reads a hash from 64 hex digits.
func Parse(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("pdq: %q is not 64 hexadecimal digits", s)
	}
	copy(h[:], b)
	return h, nil
}

// Distance returns the Hamming distance between two hashes, 0 to 256.
func Distance(a, b Hash) int {
	n := 0
	for i := range a {
		n += bits.OnesCount8(a[i] ^ b[i])
	}
	return n
}

// MatchThreshold is the largest distance at which two hashes are taken to
// be of the same picture.
const MatchThreshold = 31

// MinQuality is the least quality at which a hash may be matched on.
const MinQuality = 50

const (
	side       = 64  // the decimated buffer is side × side
	maxDim     = 512 // larger images are reduced first
	minDim     = 5   // smaller images get an all-zero hash
	dctSide    = 16
	jaroszPass = 2
)

// dct holds D[i][j] = sqrt(2/64)·cos(π/128·(i+1)·(2j+1)), i < 16, j < 64.
var dct = func() (d [dctSide][side]float32) {
	for i := range dctSide {
		for j := range side {
			d[i][j] = float32(math.Sqrt(2.0/side) * math.Cos(math.Pi/128*float64(i+1)*float64(2*j+1)))
		}
	}
	return
}()

// FromImage returns the PDQ hash of img and its quality.
func FromImage(img image.Image) (Hash, int) {
	dct, q := coefficients(img)
	if q < 0 {
		return Hash{}, 0
	}
	return threshold(dct), q
}

// Dihedral returns the hashes of img's eight rotations and reflections, in
// the order Original, Rotate90, Rotate180, Rotate270, FlipX, FlipY,
// FlipPlus1, FlipMinus1: all from one DCT, as the reference computes them.
// Query with all eight to find mirrored or rotated copies.
func Dihedral(img image.Image) ([8]Hash, int) {
	var out [8]Hash
	a, q := coefficients(img)
	if q < 0 {
		return out, 0
	}
	for k := range out {
		var b [dctSide][dctSide]float32
		for i := range dctSide {
			for j := range dctSide {
				v, odd := a[i][j], func(n int) bool { return n%2 == 1 }
				sign := func(ok bool) float32 {
					if ok {
						return v
					}
					return -v
				}
				switch k {
				case 0:
					b[i][j] = v
				case 1: // Rotate90
					b[j][i] = sign(odd(j))
				case 2: // Rotate180
					b[i][j] = sign((i+j)%2 == 0)
				case 3: // Rotate270
					b[j][i] = sign(odd(i))
				case 4: // FlipX
					b[i][j] = sign(odd(i))
				case 5: // FlipY
					b[i][j] = sign(odd(j))
				case 6: // FlipPlus1
					b[j][i] = v
				case 7: // FlipMinus1
					b[j][i] = sign((i+j)%2 == 0)
				}
			}
		}
		out[k] = threshold(b)
	}
	return out, q
}

// coefficients returns the 16×16 DCT of the image's decimated luminance
// and the quality, or quality −1 for an image too small to hash.
func coefficients(img image.Image) ([dctSide][dctSide]float32, int) {
	var out [dctSide][dctSide]float32
	luma, rows, cols := luminance(img)
	if rows < minDim || cols < minDim {
		return out, -1
	}
	if rows > maxDim || cols > maxDim {
		luma, rows, cols = shrink(luma, rows, cols)
	}
	var buf [side][side]float32
	if rows == side && cols == side {
		for i := range side {
			copy(buf[i][:], luma[i*side:(i+1)*side])
		}
	} else {
		jarosz(luma, rows, cols)
		for i := range side {
			for j := range side {
				buf[i][j] = luma[int((float64(i)+0.5)*float64(rows)/side)*cols+int((float64(j)+0.5)*float64(cols)/side)]
			}
		}
	}
	// B = D·A·Dᵀ, with one accumulator in ascending order as the reference.
	var t [dctSide][side]float32
	for i := range dctSide {
		for j := range side {
			var sum float32
			for k := range side {
				sum += dct[i][k] * buf[k][j]
			}
			t[i][j] = sum
		}
	}
	for i := range dctSide {
		for j := range dctSide {
			var sum float32
			for k := range side {
				sum += t[i][k] * dct[j][k]
			}
			out[i][j] = sum
		}
	}
	return out, quality(&buf)
}

// quality sums the truncated, scaled differences of neighbouring cells.
func quality(buf *[side][side]float32) int {
	sum := 0
	abs := func(d int) int {
		if d < 0 {
			return -d
		}
		return d
	}
	for i := range side {
		for j := range side - 1 {
			sum += abs(int((buf[i][j] - buf[i][j+1]) * 100 / 255))
		}
	}
	for i := range side - 1 {
		for j := range side {
			sum += abs(int((buf[i][j] - buf[i+1][j]) * 100 / 255))
		}
	}
	return min(100, sum/90)
}

// threshold sets the bit of every coefficient above the median (the lower
// median of the 256).
func threshold(b [dctSide][dctSide]float32) Hash {
	vals := make([]float32, 0, dctSide*dctSide)
	for i := range dctSide {
		vals = append(vals, b[i][:]...)
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	median := sorted[len(sorted)/2-1]
	var h Hash
	for k, v := range vals {
		if v > median {
			h[31-k/8] |= 1 << (k % 8)
		}
	}
	return h
}

// luminance returns BT.601 luma of img, row-major, from straight (not
// premultiplied) RGB; alpha is ignored, as in the reference. The common
// decoded types are read directly; every path gives the same values as
// converting each pixel through color.NRGBAModel, which the generic path
// does.
func luminance(img image.Image) ([]float32, int, int) {
	r := img.Bounds()
	rows, cols := r.Dy(), r.Dx()
	out := make([]float32, rows*cols)
	luma := func(R, G, B uint8) float32 { return 0.299*float32(R) + 0.587*float32(G) + 0.114*float32(B) }
	switch m := img.(type) {
	case *image.YCbCr: // JPEG
		for y := range rows {
			yRow := m.Y[m.YOffset(r.Min.X, r.Min.Y+y):]
			for x := range cols {
				var ci int
				if m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
					// COffset's formula for 4:2:0, without its per-pixel switch.
					ci = ((r.Min.Y+y)/2-m.Rect.Min.Y/2)*m.CStride + ((r.Min.X+x)/2 - m.Rect.Min.X/2)
				} else {
					ci = m.COffset(r.Min.X+x, r.Min.Y+y)
				}
				R, G, B, _ := color.YCbCr{Y: yRow[x], Cb: m.Cb[ci], Cr: m.Cr[ci]}.RGBA()
				out[y*cols+x] = luma(uint8(R>>8), uint8(G>>8), uint8(B>>8))
			}
		}
	case *image.Gray:
		for y := range rows {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := range cols {
				out[y*cols+x] = luma(row[x], row[x], row[x])
			}
		}
	case *image.NRGBA:
		for y := range rows {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := range cols {
				p := row[4*x : 4*x+3 : 4*x+3]
				out[y*cols+x] = luma(p[0], p[1], p[2])
			}
		}
	case *image.RGBA:
		for y := range rows {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := range cols {
				p := row[4*x : 4*x+4 : 4*x+4]
				if p[3] == 0xff { // opaque: premultiplied and straight agree
					out[y*cols+x] = luma(p[0], p[1], p[2])
					continue
				}
				c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
				out[y*cols+x] = luma(c.R, c.G, c.B)
			}
		}
	default:
		for y := range rows {
			for x := range cols {
				c := color.NRGBAModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.NRGBA)
				out[y*cols+x] = luma(c.R, c.G, c.B)
			}
		}
	}
	return out, rows, cols
}

// shrink reduces the luma buffer proportionally so that neither side
// exceeds maxDim, averaging the source cells each target cell covers.
func shrink(in []float32, rows, cols int) ([]float32, int, int) {
	scale := float64(maxDim) / float64(max(rows, cols))
	nr, nc := max(1, int(math.Round(float64(rows)*scale))), max(1, int(math.Round(float64(cols)*scale)))
	out := make([]float32, nr*nc)
	for i := range nr {
		y0, y1 := i*rows/nr, max((i+1)*rows/nr, i*rows/nr+1)
		for j := range nc {
			x0, x1 := j*cols/nc, max((j+1)*cols/nc, j*cols/nc+1)
			var sum float32
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					sum += in[y*cols+x]
				}
			}
			out[i*nc+j] = sum / float32((y1-y0)*(x1-x0))
		}
	}
	return out, nr, nc
}

// jarosz applies the two-pass tent filter in place: box filters along the
// rows, then along the columns, twice, with windows sized so that 64
// samples cover the image.
func jarosz(buf []float32, rows, cols int) {
	wRow := (cols + 2*side - 1) / (2 * side)
	wCol := (rows + 2*side - 1) / (2 * side)
	tmp := make([]float32, len(buf))
	for range jaroszPass {
		for i := range rows {
			box(buf[i*cols:], tmp[i*cols:], cols, 1, wRow)
		}
		for j := range cols {
			box(tmp[j:], buf[j:], rows, cols, wCol)
		}
	}
}

// box is a one-dimensional running-mean filter of window w over n values
// spaced stride apart. At the edges it averages the part of the window
// that lies inside the vector.
func box(in, out []float32, n, stride, w int) {
	half := (w + 2) / 2
	var sum float32
	count := 0
	ri, li, oi := 0, 0, 0
	for range half - 1 { // fill the window's leading half, no output
		sum += in[ri]
		count++
		ri += stride
	}
	for range w - half + 1 { // growing window
		if ri >= n*stride {
			break
		}
		sum += in[ri]
		count++
		out[oi] = sum / float32(count)
		ri += stride
		oi += stride
	}
	for range n - w { // full window
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / float32(count)
		li += stride
		ri += stride
		oi += stride
	}
	for range half - 1 { // shrinking window
		if oi >= n*stride {
			break
		}
		sum -= in[li]
		count--
		out[oi] = sum / float32(count)
		li += stride
		oi += stride
	}
}
