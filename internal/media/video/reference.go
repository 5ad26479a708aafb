// SPDX-License-Identifier: Apache-2.0

package video

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"groundtruth/internal/media/pdq"
)

// Limits on reference files, so that a hostile file cannot exhaust memory.
const (
	maxReferenceLine   = 1024    // bytes per line; a valid line has about 80
	maxReferenceFrames = 1 << 22 // about 39 hours of 30 fps video, every frame
)

// ParseReference reads per-frame hashes in the text format of Meta's vPDQ
// tools (vpdq/sample-hashes), one frame per line:
//
//	FrameNumber,Quality,PDQHash,Timestamp
//	0,100,e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54,0.000
//
// FrameNumber is the 0-based count of decoded frames (strictly increasing
// here), Quality is 0 to 100, PDQHash is 64 hex digits and Timestamp is
// seconds from the start (not decreasing). The result's Index and Seconds
// are FrameNumber and Timestamp. Lines may end in "\n" or "\r\n"; the last
// newline is optional. Anything else, blank lines included, is an error
// naming the line.
func ParseReference(r io.Reader) ([]Frame, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxReferenceLine)
	var frames []Frame
	line := 0
	for sc.Scan() {
		line++
		if len(frames) == maxReferenceFrames {
			return nil, fmt.Errorf("video: reference line %d: more than %d frames", line, maxReferenceFrames)
		}
		f, err := parseReferenceLine(strings.TrimSuffix(sc.Text(), "\r"))
		if err != nil {
			return nil, fmt.Errorf("video: reference line %d: %w", line, err)
		}
		if n := len(frames); n > 0 {
			if f.Index <= frames[n-1].Index {
				return nil, fmt.Errorf("video: reference line %d: frame number %d does not follow %d", line, f.Index, frames[n-1].Index)
			}
			if f.Seconds < frames[n-1].Seconds {
				return nil, fmt.Errorf("video: reference line %d: timestamp %.3f goes back from %.3f", line, f.Seconds, frames[n-1].Seconds)
			}
		}
		frames = append(frames, f)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("video: reference line %d: longer than %d bytes", line+1, maxReferenceLine)
		}
		return nil, fmt.Errorf("video: reference line %d: %w", line+1, err)
	}
	return frames, nil
}

func parseReferenceLine(s string) (Frame, error) {
	var f Frame
	fields := strings.Split(s, ",")
	if len(fields) != 4 {
		return f, fmt.Errorf("%d comma-separated fields, want 4 (frame,quality,hash,seconds)", len(fields))
	}
	n, err := strconv.ParseUint(fields[0], 10, 31)
	if err != nil || !digits(fields[0]) {
		return f, fmt.Errorf("frame number %q is not a non-negative integer", fields[0])
	}
	q, err := strconv.ParseUint(fields[1], 10, 8)
	if err != nil || q > 100 || !digits(fields[1]) {
		return f, fmt.Errorf("quality %q is not an integer from 0 to 100", fields[1])
	}
	h, err := pdq.Parse(fields[2])
	if err != nil {
		return f, err
	}
	sec, err := strconv.ParseFloat(fields[3], 64)
	if err != nil || !decimal(fields[3]) || math.IsInf(sec, 0) {
		return f, fmt.Errorf("timestamp %q is not a non-negative decimal number of seconds", fields[3])
	}
	return Frame{Index: int(n), Seconds: sec, Hash: h, Quality: int(q)}, nil
}

// digits reports whether s is one or more ASCII digits: ParseUint alone
// would accept "0x1f" with base 0 and "_" separators in some forms.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decimal reports whether s is digits with at most one '.' between digits,
// rejecting the signs, exponents, "Inf" and "NaN" ParseFloat accepts.
func decimal(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	return digits(whole) && (!dot || digits(frac))
}
