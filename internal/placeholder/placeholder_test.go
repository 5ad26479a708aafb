// SPDX-License-Identifier: Apache-2.0

package placeholder

import (
	"bytes"
	"image/png"
	"testing"
)

func TestPNG(t *testing.T) {
	a := PNG("Video of the strike", "note")
	if !bytes.Equal(a, PNG("Video of the strike", "note")) {
		t.Error("the same label gave different bytes: reloading a case would add copies")
	}
	if bytes.Equal(a, PNG("Another video", "note")) {
		t.Error("different labels gave the same bytes")
	}
	img, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		t.Errorf("size %v, want %dx%d", b, width, height)
	}
	// The warning line is drawn in red ink at the top: check that some
	// pixels there are red, so the label is really on the image.
	red := 0
	for y := 40; y < 40+15*scale; y++ {
		for x := 24; x < 400; x++ {
			r, g, _, _ := img.At(x, y).RGBA()
			if r>>8 == 0xa0 && g>>8 == 0x10 {
				red++
			}
		}
	}
	if red < 200 {
		t.Errorf("only %d red pixels in the warning line", red)
	}
}

func TestWrap(t *testing.T) {
	got := wrap("one two three four five", 9)
	want := []string{"one two", "three", "four five"}
	if len(got) != len(want) {
		t.Fatalf("wrap = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("wrap[%d] = %q, want %q", i, got[i], want[i])
		}
	}
}
