// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRenderBar(t *testing.T) {
	for _, c := range []struct {
		name        string
		done, total int
		elapsed     time.Duration
		file        string
		want        string
	}{
		{"start", 0, 200, 0, "a.jpg", "ingest [..........] 0/200 a.jpg"},
		{"half", 100, 200, 10 * time.Second, "b.jpg", "ingest [#####.....] 100/200 10.0/s b.jpg"},
		{"done", 200, 200, 20 * time.Second, "", "ingest [##########] 200/200 10.0/s"},
		{"long name", 1, 3, time.Second, strings.Repeat("x", 60) + ".mp4", "ingest [###.......] 1/3 1.0/s …" + strings.Repeat("x", 35) + ".mp4"},
		{"zero total", 0, 0, 0, "", "ingest [..........] 0/1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := renderBar("ingest", c.done, c.total, c.elapsed, c.file, 10); got != c.want {
				t.Errorf("renderBar = %q, want %q", got, c.want)
			}
		})
	}
}

// A bar on something that is not a terminal draws nothing: logs and pipes
// get only the result lines.
func TestProgressBarSilentWhenNotATerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgressBar(&b, "ingest", 10)
	for range 10 {
		p.step("f")
	}
	p.clear()
	p.done()
	if b.Len() != 0 {
		t.Fatalf("wrote %q to a buffer", b.String())
	}
}
