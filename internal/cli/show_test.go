// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"testing"

	"groundtruth/internal/record"
)

func TestCountText(t *testing.T) {
	n := func(v int) *int { return &v }
	tests := []struct {
		c    *record.Count
		want string
	}{
		{nil, "not reported"},
		{&record.Count{}, "not reported"},
		{&record.Count{Best: n(0)}, "0"},
		{&record.Count{Best: n(10)}, "10"},
		{&record.Count{Low: n(100)}, "at least 100"},
		{&record.Count{High: n(5)}, "at most 5"},
		{&record.Count{Low: n(2), High: n(4)}, "2–4"},
		{&record.Count{Low: n(2), Best: n(3), High: n(4)}, "3 (range 2–4)"},
		{&record.Count{Best: n(3), High: n(4)}, "3 (range ?–4)"},
	}
	for _, tt := range tests {
		if got := countText(tt.c); got != tt.want {
			t.Errorf("countText(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
}
