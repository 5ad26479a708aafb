// SPDX-License-Identifier: Apache-2.0

package pdq

import (
	"bufio"
	"image"
	"image/draw"
	"image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// testdata is the PDQ conformance data (Meta's ThreatExchange
// reference images and hashes), beside the repository.
var testdata = filepath.Join("..", "..", "..", "testdata", "pdq")

func load(t *testing.T, rel string) image.Image {
	t.Helper()
	f, err := os.Open(filepath.Join(testdata, "images", rel))
	if err != nil {
		t.Fatalf("conformance data not found: %v", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", rel, err)
	}
	return img
}

// TestConformance checks every row of expected.tsv within its tolerance.
func TestConformance(t *testing.T) {
	f, err := os.Open(filepath.Join(testdata, "expected.tsv"))
	if err != nil {
		t.Fatalf("conformance data not found: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	rows := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "path\t") || line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		want, err := Parse(cols[1])
		if err != nil {
			t.Fatal(err)
		}
		maxBits, _ := strconv.Atoi(cols[3])
		rows++
		t.Run(cols[0]+"/"+cols[2], func(t *testing.T) {
			got, q := FromImage(load(t, cols[0]))
			if d := Distance(got, want); d > maxBits {
				t.Errorf("hash %s (quality %d) is %d bits from %s, want at most %d", got, q, d, want, maxBits)
			}
		})
	}
	if rows < 30 {
		t.Errorf("read %d rows of expected.tsv", rows)
	}
}

// The bridge modifications all match the original.
func TestBridgeMods(t *testing.T) {
	orig, _ := FromImage(load(t, "bridge-mods/aaa-orig.jpg"))
	mods, _ := filepath.Glob(filepath.Join(testdata, "images", "bridge-mods", "*.jpg"))
	if len(mods) < 10 {
		t.Fatal("bridge-mods not found")
	}
	for _, m := range mods {
		h, _ := FromImage(load(t, filepath.Join("bridge-mods", filepath.Base(m))))
		if d := Distance(h, orig); d > MatchThreshold {
			t.Errorf("%s is %d bits from the original, want at most %d", filepath.Base(m), d, MatchThreshold)
		}
	}
}

// Each rotation or flip of the bridge is found through the dihedral
// hashes of the original.
func TestDihedral(t *testing.T) {
	variants, _ := Dihedral(load(t, "reg-test-input/dih/bridge-1-original.jpg"))
	for _, name := range []string{"bridge-2-rotate-90", "bridge-3-rotate-180", "bridge-4-rotate-270",
		"bridge-5-flipx", "bridge-6-flipy", "bridge-7-flip-plus-1", "bridge-8-flip-minus-1"} {
		h, _ := FromImage(load(t, "reg-test-input/dih/"+name+".jpg"))
		best := 256
		for _, v := range variants {
			best = min(best, Distance(h, v))
		}
		if best > MatchThreshold {
			t.Errorf("%s: nearest dihedral hash %d bits away, want at most %d", name, best, MatchThreshold)
		}
	}
}

func TestSmallAndParse(t *testing.T) {
	h, q := FromImage(image.NewGray(image.Rect(0, 0, 4, 100)))
	if h != (Hash{}) || q != 0 {
		t.Errorf("a 4-pixel-wide image: %s %d, want zero hash, quality 0", h, q)
	}
	if _, err := Parse("xyz"); err == nil {
		t.Error("Parse accepted bad hex")
	}
	a, _ := Parse(strings.Repeat("f", 64))
	if Distance(a, Hash{}) != 256 {
		t.Error("Distance of all-ones from zero is not 256")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(strings.Repeat("ab", 32))
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s)
		if err == nil && h.String() != strings.ToLower(s) {
			t.Errorf("Parse(%q).String() = %q", s, h)
		}
	})
}

// The fast paths of luminance agree exactly with the generic conversion
// of every pixel through color.NRGBAModel.
func TestLuminanceFastPaths(t *testing.T) {
	f, err := os.Open(filepath.Join(testdata, "images", "bridge-mods", "aaa-orig.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	sub := src.(*image.YCbCr).SubImage(image.Rect(7, 5, 407, 305))
	b := sub.Bounds()
	nrgba, rgba, gray := image.NewNRGBA(b), image.NewRGBA(b), image.NewGray(b)
	draw.Draw(nrgba, b, sub, b.Min, draw.Src)
	draw.Draw(rgba, b, sub, b.Min, draw.Src)
	draw.Draw(gray, b, sub, b.Min, draw.Src)
	for i := 0; i < len(rgba.Pix); i += 4 * 97 { // some translucent pixels
		rgba.Pix[i+3] = uint8(i)
		rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2] = min(rgba.Pix[i], uint8(i)), min(rgba.Pix[i+1], uint8(i)), min(rgba.Pix[i+2], uint8(i))
	}
	for name, img := range map[string]image.Image{"ycbcr": sub, "nrgba": nrgba, "rgba": rgba, "gray": gray} {
		t.Run(name, func(t *testing.T) {
			got, rows, cols := luminance(img)
			want, _, _ := luminance(generic{img})
			if rows != b.Dy() || cols != b.Dx() {
				t.Fatalf("size %d×%d, want %d×%d", cols, rows, b.Dx(), b.Dy())
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("pixel %d: %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// generic hides an image's concrete type, forcing the generic path.
type generic struct{ image.Image }
