// SPDX-License-Identifier: Apache-2.0

package video

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

const refHash = "e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54"

func TestParseReference(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int    // frames, when wantErr is ""
		wantErr string // substring of the error
	}{
		{"empty", "", 0, ""},
		{"one", "0,100," + refHash + ",0.000\n", 1, ""},
		{"no final newline", "0,100," + refHash + ",0.000", 1, ""},
		{"crlf", "0,100," + refHash + ",0.000\r\n1,99," + refHash + ",0.033\r\n", 2, ""},
		{"upper-case hash", "0,100," + strings.ToUpper(refHash) + ",0", 1, ""},
		{"three fields", "0,100," + refHash + "\n", 0, "line 1: 3 comma-separated fields"},
		{"five fields", "0,100," + refHash + ",0.000,x\n", 0, "line 1: 5 comma-separated fields"},
		{"blank line", "0,100," + refHash + ",0.000\n\n", 0, "line 2:"},
		{"header", "frame,quality,hash,seconds\n", 0, "line 1: frame number"},
		{"negative frame", "-1,100," + refHash + ",0.000\n", 0, "frame number"},
		{"plus frame", "+1,100," + refHash + ",0.000\n", 0, "frame number"},
		{"quality 101", "0,101," + refHash + ",0.000\n", 0, "quality"},
		{"quality space", "0, 100," + refHash + ",0.000\n", 0, "quality"},
		{"short hash", "0,100," + refHash[:63] + ",0.000\n", 0, "64 hexadecimal"},
		{"non-hex hash", "0,100," + strings.Replace(refHash, "e", "g", 1) + ",0.000\n", 0, "64 hexadecimal"},
		{"NaN time", "0,100," + refHash + ",NaN\n", 0, "timestamp"},
		{"exponent time", "0,100," + refHash + ",1e3\n", 0, "timestamp"},
		{"negative time", "0,100," + refHash + ",-0.5\n", 0, "timestamp"},
		{"frame repeats", "0,100," + refHash + ",0.000\n0,100," + refHash + ",0.000\n", 0, "line 2: frame number 0 does not follow 0"},
		{"time goes back", "0,100," + refHash + ",1.000\n1,100," + refHash + ",0.500\n", 0, "line 2: timestamp"},
		{"long line", "0,100," + refHash + "," + strings.Repeat("0", 2000) + "\n", 0, "line 1: longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReference(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseReference = %d frames, %v; want error containing %q", len(got), err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("ParseReference = %d frames, %v; want %d", len(got), err, tt.want)
			}
		})
	}
}

func TestParseReferenceValues(t *testing.T) {
	got, err := ParseReference(strings.NewReader("0,100," + refHash + ",0.000\n30,47," + refHash + ",1.000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f := got[1]; f.Index != 30 || f.Quality != 47 || f.Seconds != 1 || f.Hash.String() != refHash {
		t.Errorf("second frame = %+v, want index 30, quality 47, 1 s, %s", f, refHash)
	}
}

// TestParseReferenceSamples parses the four sample files in full.
func TestParseReferenceSamples(t *testing.T) {
	lines := map[string]int{"chair-20-sd-bar": 614, "chair-22-sd-sepia-bar": 673, "chair-22-with-large-logo-bar": 673, "pattern-hd-no-bar": 206}
	for _, name := range samples {
		got := reference(t, name)
		if len(got) != lines[name] {
			t.Errorf("%s: %d frames, want %d", name, len(got), lines[name])
		}
		for i, f := range got {
			if f.Index != i {
				t.Fatalf("%s: line %d holds frame %d", name, i+1, f.Index)
			}
		}
	}
}

// formatReference writes frames back in the reference format.
func formatReference(frames []Frame) string {
	var b strings.Builder
	for _, f := range frames {
		fmt.Fprintf(&b, "%d,%d,%s,%s\n", f.Index, f.Quality, f.Hash, strconv.FormatFloat(f.Seconds, 'f', -1, 64))
	}
	return b.String()
}

func FuzzParseReference(f *testing.F) {
	f.Add("0,100," + refHash + ",0.000\n1,98," + refHash + ",0.033\n")
	f.Add("0,100," + refHash + ",0.000\r\n")
	f.Add("0,49," + refHash + ",12")
	f.Add("0,100," + refHash + "\n")
	f.Add("\n")
	f.Add("99999999999,100," + refHash + ",0\n")
	f.Fuzz(func(t *testing.T, in string) {
		frames, err := ParseReference(strings.NewReader(in))
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n") || !strings.Contains(err.Error(), "line ") {
				t.Errorf("error %q is not one line naming the line", err)
			}
			return
		}
		// What parses must survive a round trip unchanged.
		again, err := ParseReference(strings.NewReader(formatReference(frames)))
		if err != nil {
			t.Fatalf("reparse of %q: %v", formatReference(frames), err)
		}
		if len(again) != len(frames) {
			t.Fatalf("round trip: %d frames, then %d", len(frames), len(again))
		}
		for i := range frames {
			if again[i] != frames[i] {
				t.Errorf("round trip frame %d: %+v, then %+v", i, frames[i], again[i])
			}
		}
	})
}
