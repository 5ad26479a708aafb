// SPDX-License-Identifier: Apache-2.0

package photo

import (
	"image"
	"image/color"
	"image/draw"
)

// orient returns img transformed for display according to the EXIF
// Orientation value o (CIPA DC-008, Orientation tag), which says where the
// stored rows and columns belong:
//
//	1 as stored               5 transposed (mirror, then 90° counter-clockwise)
//	2 mirrored left-right     6 rotated 90° clockwise
//	3 rotated 180°            7 transverse (mirror, then 90° clockwise)
//	4 mirrored top-bottom     8 rotated 90° counter-clockwise
//
// For 1 and unknown values img itself is returned. Otherwise the result is
// a new image with its origin at (0, 0), of the same concrete type for the
// pixel-slice types, so no precision is lost; *image.YCbCr becomes
// *image.RGBA (its subsampled chroma planes do not rotate), and any other
// type is first converted to *image.RGBA.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	r := image.Rect(0, 0, w, h)
	if o >= 5 {
		r = image.Rect(0, 0, h, w)
	}
	// pix transforms one pixel-slice image into d and returns d.
	pix := func(d image.Image, dpix []byte, dstride int, spix []byte, sstride, bpp int) image.Image {
		transform(dpix, dstride, spix, sstride, bpp, w, h, o)
		return d
	}
	switch s := img.(type) {
	case *image.Gray:
		d := image.NewGray(r)
		return pix(d, d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 1)
	case *image.Gray16:
		d := image.NewGray16(r)
		return pix(d, d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 2)
	case *image.Alpha:
		d := image.NewAlpha(r)
		return pix(d, d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 1)
	case *image.Paletted:
		d := image.NewPaletted(r, s.Palette)
		return pix(d, d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 1)
	case *image.RGBA:
		d := image.NewRGBA(r)
		return pix(d, d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 4)
	case *image.NRGBA:
		d := image.NewNRGBA(r)
		return pix(d, d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 4)
	case *image.CMYK:
		d := image.NewCMYK(r)
		return pix(d, d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 4)
	case *image.RGBA64:
		d := image.NewRGBA64(r)
		return pix(d, d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 8)
	case *image.NRGBA64:
		d := image.NewNRGBA64(r)
		return pix(d, d.Pix, d.Stride, s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 8)
	case *image.YCbCr:
		return orientYCbCr(s, r, o)
	}
	c := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(c, c.Bounds(), img, b.Min, draw.Src)
	d := image.NewRGBA(r)
	return pix(d, d.Pix, d.Stride, c.Pix, c.Stride, 4)
}

// source returns the stored pixel (sx, sy) shown at (x, y) of the upright
// image, for a stored image of w × h pixels and orientation o.
func source(x, y, w, h, o int) (sx, sy int) {
	switch o {
	case 2:
		return w - 1 - x, y
	case 3:
		return w - 1 - x, h - 1 - y
	case 4:
		return x, h - 1 - y
	case 5:
		return y, x
	case 6:
		return y, h - 1 - x
	case 7:
		return w - 1 - y, h - 1 - x
	case 8:
		return w - 1 - y, x
	}
	return x, y
}

// transform fills dst (the upright image) from src (stored w × h pixels of
// bpp bytes each, rows stride bytes apart). For orientations 5 to 8 dst is
// h pixels wide and w high.
func transform(dst []byte, dstride int, src []byte, sstride, bpp, w, h, o int) {
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	for y := range dh {
		row := dst[y*dstride : y*dstride+dw*bpp]
		for x := range dw {
			sx, sy := source(x, y, w, h, o)
			si := sy*sstride + sx*bpp
			copy(row[x*bpp:x*bpp+bpp], src[si:si+bpp])
		}
	}
}

// orientYCbCr converts and transforms in one pass, so the common JPEG case
// allocates one RGBA image rather than two.
func orientYCbCr(s *image.YCbCr, r image.Rectangle, o int) image.Image {
	b := s.Bounds()
	w, h := b.Dx(), b.Dy()
	d := image.NewRGBA(r)
	for y := range r.Dy() {
		row := d.Pix[y*d.Stride : y*d.Stride+4*r.Dx()]
		for x := range r.Dx() {
			sx, sy := source(x, y, w, h, o)
			sx, sy = sx+b.Min.X, sy+b.Min.Y
			yi, ci := s.YOffset(sx, sy), s.COffset(sx, sy)
			cr, cg, cb := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
			p := row[4*x : 4*x+4]
			p[0], p[1], p[2], p[3] = cr, cg, cb, 0xFF
		}
	}
	return d
}
