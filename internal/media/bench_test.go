// SPDX-License-Identifier: Apache-2.0

package media

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"

	"groundtruth/internal/media/match"
	"groundtruth/internal/media/pdq"
	"groundtruth/internal/media/photo"
)

// megapixelJPEG is a real photograph (the PDQ bridge test image) scaled to
// one megapixel and encoded as a JPEG of quality 90.
func megapixelJPEG(b *testing.B) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pdq", "images", "bridge-mods", "aaa-orig.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	src, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 1264, 791)) // 1.0 MP, the source's aspect
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkHashJPEG measures images hashed per second from 1 MP JPEG
// bytes: decoding included, since decoding dominates. "pdq" is the plain
// hash, "dihedral" all eight variants from one transform, "stored" every
// hash groundtruth keeps for an image (the plain hash and its own extra
// hashes), "query" every hash it looks up for one. Images are hashed on
// every core at once, as a bulk analysis does, so images/s is the
// machine's throughput.
func BenchmarkHashJPEG(b *testing.B) {
	data := megapixelJPEG(b)
	for _, c := range []struct {
		name string
		hash func(image.Image)
	}{
		{"pdq", func(img image.Image) { pdq.FromImage(img) }},
		{"dihedral", func(img image.Image) { pdq.Dihedral(img) }},
		{"stored", func(img image.Image) { match.Stored(img) }},
		{"query", func(img image.Image) { match.Query(img) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					img, _, err := photo.Decode(data, 0)
					if err != nil {
						b.Error(err)
						return
					}
					c.hash(img)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
