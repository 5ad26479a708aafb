// SPDX-License-Identifier: Apache-2.0

package video

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"strconv"

	"groundtruth/internal/media/pdq"
)

// Frame is one sampled frame's PDQ hash.
type Frame struct {
	Index   int      // 0-based position among the sampled frames
	Seconds float64  // Index / FPS: time from the video's first frame
	Hash    pdq.Hash // PDQ hash of the (possibly reduced) frame
	Quality int      // PDQ quality, 0 to 100; below pdq.MinQuality the hash is not matched on
}

// Options tune [Hash]. The zero value hashes one frame per second, each
// reduced to at most 512 pixels per axis.
type Options struct {
	// FPS is the sampling rate in frames per second; 0 means 1. Sampled
	// frame n is the frame on screen at n/FPS seconds (ffmpeg's fps filter
	// with round=up), chosen by timestamp, so it also works for
	// variable-frame-rate phone video, where counting decoded frames drifts.
	// On constant-rate video it is the frame the reference's counter picks
	// (frame n·rate/FPS): checked against the 30 fps samples. The filter's
	// default rounding would take the frame half a period later instead.
	FPS float64

	// MaxSide caps each axis of a frame in pixels (ffmpeg scale with
	// flags=area, each axis separately: PDQ maps any shape to 64×64, so the
	// aspect ratio does not matter). 0 means 512; negative means full
	// resolution, as the C++ vPDQ reference hashes (slower: package pdq then
	// reduces the frame itself). On the samples, 512 lands closer to the
	// reference's full-resolution hashes than full resolution with pdq's
	// own reduction does (mean 4.9 against 9.0 bits on chair-20-sd-bar).
	MaxSide int

	// NoAutorotate hashes frames as stored, ignoring the container's
	// display rotation, as Meta's C++ vPDQ does. See the package comment.
	NoAutorotate bool

	// OnFrame, when set, is called with each sampled frame, in order, after
	// it is hashed, so that callers can compute other hashes of the same
	// picture (dihedral PDQ, a letterbox-cropped PDQ). img holds straight
	// (not premultiplied), opaque RGB; it is reused for the next frame, so
	// the callee must not keep it after returning. An error stops hashing
	// and is returned by Hash.
	OnFrame func(f Frame, img *image.NRGBA) error
}

// maxFrameSide bounds the width and height accepted from ffmpeg, so that a
// corrupt header cannot make us allocate without limit (16384² RGB is
// 768 MiB; 8K video is 7680×4320).
const maxFrameSide = 16384

// Hash decodes the first video stream of the file at path with ffmpeg and
// returns the PDQ hash of each sampled frame, low-quality frames included.
//
// Frames arrive from ffmpeg as a stream of binary PPM images (image2pipe,
// codec ppm) rather than raw RGB: each PPM carries its own width and
// height, so we need not predict the output size from ffprobe's dimensions,
// rotation and the scale expression, and a resolution change in mid-stream
// (which some phone and screen recordings have) is read correctly instead
// of shearing every later frame. The header costs about 15 bytes a frame.
//
// A file ffmpeg cannot decode, or one with no video frames, is an error
// quoting ffmpeg. A file that decodes only partly (a truncated download,
// corrupt packets) returns the frames ffmpeg produced together with an
// error wrapping [ErrDamaged] that quotes ffmpeg's first complaint: a
// damaged copy is still evidence worth matching, but the caller must know.
func Hash(ctx context.Context, path string, o Options) ([]Frame, error) {
	fps := o.FPS
	if fps == 0 {
		fps = 1
	}
	if !(fps > 0) || math.IsInf(fps, 0) || fps > 1000 {
		return nil, fmt.Errorf("video: hash %s: frame rate %v outside (0, 1000]", path, o.FPS)
	}
	maxSide := o.MaxSide
	if maxSide == 0 {
		maxSide = 512
	}
	filter := "fps=" + strconv.FormatFloat(fps, 'g', -1, 64) + ":round=up"
	if maxSide > 0 {
		filter += fmt.Sprintf(",scale='min(%d,iw)':'min(%d,ih)':flags=area", maxSide, maxSide)
	}
	args := []string{"-nostdin", "-v", "error", "-hide_banner"}
	if o.NoAutorotate {
		args = append(args, "-noautorotate")
	}
	args = append(args, inputArgs(path)...)
	args = append(args,
		"-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", filter,
		"-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "-")

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd, stderr, err := command(runCtx, "ffmpeg", args...)
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("video: hash %s: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("video: hash %s: start ffmpeg: %w", path, err)
	}

	frames, readErr := readFrames(bufio.NewReaderSize(stdout, 1<<20), fps, o.OnFrame)
	if readErr != nil {
		cancel() // kills ffmpeg's process group; Wait then reaps it
	}
	waitErr := cmd.Wait()
	switch {
	case readErr != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("video: hash %s: %w", path, ctx.Err())
	case readErr != nil && !errors.Is(readErr, errPPM):
		return nil, fmt.Errorf("video: hash %s: %w", path, readErr) // from OnFrame
	case waitErr != nil:
		return nil, runError(ctx, "ffmpeg", "hash", path, waitErr, stderr)
	case readErr != nil:
		return nil, fmt.Errorf("video: hash %s: reading ffmpeg output: %w", path, readErr)
	case len(frames) == 0:
		if msg := firstLine(stderr.String()); msg != "" {
			return nil, fmt.Errorf("video: hash %s: no video frames decoded: ffmpeg: %s", path, msg)
		}
		return nil, fmt.Errorf("video: hash %s: no video frames decoded", path)
	}
	if msg := firstLine(stderr.String()); msg != "" {
		return frames, fmt.Errorf("video: hash %s: %d frames hashed, more may be lost: ffmpeg: %s: %w", path, len(frames), msg, ErrDamaged)
	}
	return frames, nil
}

// ErrDamaged reports that ffmpeg decoded a file but complained about it
// (with -v error, only errors are printed): the results returned with it
// are usable but may be incomplete. Test with errors.Is.
var ErrDamaged = errors.New("damaged or truncated video")

// inputArgs names path as ffmpeg's input. The "file:" prefix stops a name
// such as "concat:a|b" or "http://…" from being read as a protocol, and the
// whitelist stops a playlist inside the file from fetching anything but
// local files.
func inputArgs(path string) []string {
	return []string{"-protocol_whitelist", "file", "-i", "file:" + path}
}

// readFrames hashes each PPM image in r until EOF.
func readFrames(r *bufio.Reader, fps float64, onFrame func(Frame, *image.NRGBA) error) ([]Frame, error) {
	var (
		frames []Frame
		img    *image.NRGBA
		row    []byte
	)
	for {
		w, h, err := readPPMHeader(r)
		if err == io.EOF {
			return frames, nil
		}
		if err != nil {
			return frames, err
		}
		if img == nil || img.Rect.Dx() != w || img.Rect.Dy() != h {
			img = image.NewNRGBA(image.Rect(0, 0, w, h))
			row = make([]byte, 3*w)
		}
		for y := range h {
			if _, err := io.ReadFull(r, row); err != nil {
				return frames, fmt.Errorf("%w: frame %d cut short: %v", errPPM, len(frames), err)
			}
			pix := img.Pix[y*img.Stride : y*img.Stride+4*w]
			for x := range w {
				pix[4*x], pix[4*x+1], pix[4*x+2], pix[4*x+3] = row[3*x], row[3*x+1], row[3*x+2], 0xff
			}
		}
		hash, q := pdq.FromImage(img)
		f := Frame{Index: len(frames), Seconds: float64(len(frames)) / fps, Hash: hash, Quality: q}
		frames = append(frames, f)
		if onFrame != nil {
			if err := onFrame(f, img); err != nil {
				return frames, fmt.Errorf("frame %d: %w", f.Index, err)
			}
		}
	}
}

// errPPM marks output from ffmpeg that is not the PPM stream we asked for.
var errPPM = errors.New("malformed PPM stream")

// readPPMHeader reads a binary PPM header ("P6", width, height, maxval 255,
// each separated by whitespace or # comments, then exactly one whitespace
// byte) and returns the size. It returns io.EOF only at a clean end, before
// any byte of a new header.
func readPPMHeader(r *bufio.Reader) (w, h int, err error) {
	magic := make([]byte, 2)
	if _, err := io.ReadFull(r, magic); err != nil {
		if err == io.EOF {
			return 0, 0, io.EOF
		}
		return 0, 0, fmt.Errorf("%w: header: %v", errPPM, err)
	}
	if magic[0] != 'P' || magic[1] != '6' {
		return 0, 0, fmt.Errorf("%w: magic %q, want \"P6\"", errPPM, magic)
	}
	var v [3]int
	for i := range v {
		if v[i], err = ppmNumber(r); err != nil {
			return 0, 0, err
		}
	}
	w, h, maxval := v[0], v[1], v[2]
	if w < 1 || h < 1 || w > maxFrameSide || h > maxFrameSide {
		return 0, 0, fmt.Errorf("%w: frame size %d×%d outside 1…%d", errPPM, w, h, maxFrameSide)
	}
	if maxval != 255 {
		return 0, 0, fmt.Errorf("%w: maxval %d, want 255", errPPM, maxval)
	}
	c, err := r.ReadByte()
	if err != nil || !isSpace(c) {
		return 0, 0, fmt.Errorf("%w: no whitespace after maxval", errPPM)
	}
	return w, h, nil
}

// ppmNumber skips whitespace and comments, at least one of them, then
// reads a decimal number of at most 9 digits, leaving the byte after it
// unread.
func ppmNumber(r *bufio.Reader) (int, error) {
	for sep := false; ; sep = true {
		c, err := r.ReadByte()
		if err != nil {
			return 0, fmt.Errorf("%w: header: %v", errPPM, err)
		}
		switch {
		case isSpace(c):
			continue
		case c == '#':
			if _, err := r.ReadSlice('\n'); err != nil {
				return 0, fmt.Errorf("%w: header comment: %v", errPPM, err)
			}
			continue
		case !sep:
			return 0, fmt.Errorf("%w: header byte %q, want whitespace", errPPM, c)
		case c < '0' || c > '9':
			return 0, fmt.Errorf("%w: header byte %q, want a digit", errPPM, c)
		}
		n := int(c - '0')
		for digits := 1; ; digits++ {
			c, err := r.ReadByte()
			if err != nil {
				return 0, fmt.Errorf("%w: header: %v", errPPM, err)
			}
			if c < '0' || c > '9' {
				_ = r.UnreadByte()
				return n, nil
			}
			if digits == 9 {
				return 0, fmt.Errorf("%w: header number too long", errPPM)
			}
			n = 10*n + int(c-'0')
		}
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
