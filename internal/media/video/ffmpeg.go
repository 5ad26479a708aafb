// SPDX-License-Identifier: Apache-2.0

package video

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// stderrLimit bounds how much of a tool's stderr is kept; ffmpeg can print
// one line per damaged packet, without end on a long corrupt file.
const stderrLimit = 64 << 10

// waitDelay is how long a killed tool may take to close its pipes.
const waitDelay = 5 * time.Second

// tool returns the absolute path of ffmpeg or ffprobe, or an error saying
// how to install it.
func tool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("video: %s not found in PATH: install the Debian package ffmpeg (apt-get install ffmpeg): %w", name, err)
	}
	return p, nil
}

// command prepares name with args: its own process group, killed whole
// when ctx ends, stdin closed, stderr captured up to stderrLimit.
func command(ctx context.Context, name string, args ...string) (*exec.Cmd, *limitedBuffer, error) {
	p, err := tool(name)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, p, args...)
	setProcessGroup(cmd)
	cmd.WaitDelay = waitDelay
	stderr := &limitedBuffer{limit: stderrLimit}
	cmd.Stderr = stderr
	return cmd, stderr, nil
}

// limitedBuffer keeps the first limit bytes written to it and drops the
// rest; it never fails a write, so the tool is never blocked on stderr.
type limitedBuffer struct {
	buf     bytes.Buffer
	limit   int
	dropped int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.limit - b.buf.Len(); room < len(p) {
		b.dropped += len(p) - max(room, 0)
		p = p[:max(room, 0)]
	}
	b.buf.Write(p)
	return n, nil
}

func (b *limitedBuffer) String() string { return b.buf.String() }

// addressRE matches the context addresses ffmpeg prints in log prefixes,
// "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d1c0a3b2c0]", which differ between runs.
var addressRE = regexp.MustCompile(` @ 0x[0-9a-f]+\]`)

// firstLine returns the first non-empty line of a tool's stderr, without
// the varying context address, shortened to 200 bytes, or "" if none.
func firstLine(stderr string) string {
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(make([]byte, 0, 4096), stderrLimit)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		line = addressRE.ReplaceAllString(line, "]")
		if len(line) > 200 {
			line = line[:200] + "…"
		}
		return line
	}
	return ""
}

// runError turns a failed run into a one-line error: what failed, on which
// file, and the tool's own first stderr line; a cancelled run reports the
// context's error instead, since the tool was killed.
func runError(ctx context.Context, name, what, path string, err error, stderr *limitedBuffer) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("video: %s %s: %w", what, path, ctxErr)
	}
	if msg := firstLine(stderr.String()); msg != "" {
		// "file:/x.mp4: No such file or directory" names the file twice.
		msg = strings.TrimPrefix(msg, "file:"+path+": ")
		return fmt.Errorf("video: %s %s: %s: %s: %w", what, path, name, msg, err)
	}
	return fmt.Errorf("video: %s %s: %s: %w", what, path, name, err)
}

// Version returns the first line of `ffmpeg -version`, such as
// "ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg
// developers", to be recorded beside hashes and probe output: decoder and
// scaler versions change hashes by a few bits.
func Version(ctx context.Context) (string, error) {
	cmd, stderr, err := command(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-version")
	if err != nil {
		return "", err
	}
	out, err := cmd.Output()
	if err != nil {
		return "", runError(ctx, "ffmpeg", "run", "-version", err, stderr)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "ffmpeg version ") {
		return "", fmt.Errorf("video: ffmpeg -version printed %q, not a version line", line)
	}
	return line, nil
}
