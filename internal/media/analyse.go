// SPDX-License-Identifier: Apache-2.0

// Package media analyses originals so that investigators can find every
// copy of a photo or video: perceptual hashes (PDQ for images, vPDQ for
// video, plus groundtruth's extra hashes for letterboxed, framed and
// cropped copies), the metadata the file carries (EXIF, ffprobe) and
// scene-change keyframes for reverse-image search. It also matches an
// analysis against everything already analysed.
//
// Analysis never changes an original: it reads the bytes from the locker,
// and its results can be recomputed at any time.
package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"groundtruth/internal/media/match"
	"groundtruth/internal/media/pdq"
	"groundtruth/internal/media/photo"
	"groundtruth/internal/media/video"
	"groundtruth/internal/store"
)

// Kinds of media.
const (
	Image = "image"
	Video = "video"
	Other = "other"
)

// MaxImageBytes bounds the images read into memory for hashing.
const MaxImageBytes = 256 << 20

// Analysis is what groundtruth derives from one original.
type Analysis struct {
	Kind     string
	Metadata map[string]any // EXIF or ffprobe summary, and notes
	Probe    []byte         // ffprobe JSON, verbatim
	Tools    string
	// Hashes are what is stored and searched for this original: for an
	// image the plain PDQ hash first, then groundtruth's extra hashes; for
	// a video one plain PDQ hash per sampled frame.
	Hashes []store.MediaHash
	// Keyframes are files in the work directory, to be kept as derived
	// files.
	Keyframes []video.Keyframe

	probes []match.Probe // an image's query hashes
	img    image.Image   // an image, upright, at most photo.WorkSide a side, for the crop stage
	thumb  []byte        // an image's thumbnail, encoded
	frames []video.Frame // a video's frames
	mirror []video.Frame // the same frames mirrored, for querying
	// halves are the hashes of each frame's halves, by kind (see
	// match.Halves), to find copies under a large overlay.
	halves map[string][]video.Frame
}

// Analyse examines the file at path. mediaType is the type sniffed from
// its bytes, name the file name it arrived with (only used to point out an
// extension that does not fit the content). Keyframes of a video are
// written into workdir. An error with an analysis means the file could not
// be analysed, and the caller records that on the item; an error without
// one (the file unreadable, a tool missing) is the machine's, and nothing
// is recorded. The original is never touched.
func Analyse(ctx context.Context, path, mediaType, name, workdir string) (*Analysis, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	a := &Analysis{Kind: KindOf(mediaType), Metadata: map[string]any{}}
	a, err = analyse(ctx, a, fi, path, mediaType, name, workdir)
	if errors.Is(err, exec.ErrNotFound) {
		// A missing tool is this machine's problem, not the file's: no
		// analysis is returned, so none is recorded, and the original is
		// analysed once the tool is installed (groundtruth analyse --all).
		return nil, err
	}
	if err != nil && name != "" {
		// Errors name the file as the investigator knows it, not by its
		// place in the locker.
		err = errors.New(strings.ReplaceAll(err.Error(), path, filepath.Base(name)))
	}
	return a, err
}

func analyse(ctx context.Context, a *Analysis, fi os.FileInfo, path, mediaType, name, workdir string) (*Analysis, error) {
	if note := extensionNote(name, mediaType); note != "" {
		a.Metadata["extension_mismatch"] = note
	}
	switch {
	case fi.Size() == 0:
		return a, errors.New("the file is empty: there is nothing to analyse")
	case a.Kind == Other:
		if claimed := KindOf(typeByExtension(name)); claimed != Other {
			return a, fmt.Errorf("the name %s says %s but the content is not a %s groundtruth recognises (sniffed %s)", filepath.Base(name), claimed, claimed, mediaType)
		}
		return a, nil
	case a.Kind == Image:
		if fi.Size() > MaxImageBytes {
			return a, fmt.Errorf("image of %d bytes is larger than the %d bytes groundtruth decodes", fi.Size(), MaxImageBytes)
		}
		return a, a.image(path)
	default:
		return a, a.video(ctx, path, workdir)
	}
}

func (a *Analysis) image(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	// Hashing needs a copy of at most photo.WorkSide pixels a side, which
	// is all that is decoded: a small file declaring 50 megapixels of
	// 16-bit colour costs that copy, not 400 MB (see docs/media.md).
	img, info, err := photo.DecodeReduced(data, photo.DefaultMaxPixels, photo.WorkSide)
	if err != nil {
		return err
	}
	a.Metadata["format"] = info.Format
	a.Metadata["width"], a.Metadata["height"] = info.Width, info.Height
	if info.Orientation > 1 {
		a.Metadata["orientation"] = info.Orientation
	}
	if ex, err := photo.ReadEXIF(data); err != nil {
		a.Metadata["exif_error"] = err.Error()
	} else if ex != nil {
		a.Metadata["exif"] = ex
	}
	a.Tools = "groundtruth pdq"
	for _, h := range match.Stored(img) {
		a.Hashes = append(a.Hashes, store.MediaHash{Kind: h.Kind, Hash: h.Hash, Quality: h.Quality})
	}
	a.probes = match.Query(img)
	a.img = img
	if a.thumb, err = match.Thumbnail(img).MarshalBinary(); err != nil {
		return fmt.Errorf("media: thumbnail: %w", err)
	}
	return nil
}

func (a *Analysis) video(ctx context.Context, path, workdir string) error {
	md, raw, err := video.Probe(ctx, path)
	if err != nil {
		return err
	}
	a.Metadata["video"] = md
	a.Probe = raw
	ver, _ := video.Version(ctx)
	a.Tools = strings.TrimSpace(ver)
	a.halves = map[string][]video.Frame{}
	frames, err := video.Hash(ctx, path, video.Options{
		OnFrame: func(f video.Frame, img *image.NRGBA) error {
			d, _ := pdq.Dihedral(img)
			m := f
			m.Hash = d[mirrorVariant]
			a.mirror = append(a.mirror, m)
			for _, h := range match.Halves(img) {
				a.halves[h.Kind] = append(a.halves[h.Kind], video.Frame{Index: f.Index, Seconds: f.Seconds, Hash: h.Hash, Quality: h.Quality})
			}
			return nil
		},
	})
	if err != nil {
		// A damaged or truncated copy is still evidence worth matching: the
		// frames decoded before ffmpeg gave up are kept, and the damage
		// noted. A file with no decodable frame is a failed analysis.
		if !errors.Is(err, video.ErrDamaged) || len(frames) == 0 {
			return err
		}
		a.Metadata["damaged"] = OneLine(err.Error())
	}
	a.frames = frames
	for _, f := range frames {
		a.Hashes = append(a.Hashes, store.MediaHash{Kind: match.KindPDQ, Frame: true, Seconds: f.Seconds, Hash: f.Hash, Quality: f.Quality})
	}
	for _, k := range match.HalfKinds {
		for _, f := range a.halves[k] {
			a.Hashes = append(a.Hashes, store.MediaHash{Kind: k, Frame: true, Seconds: f.Seconds, Hash: f.Hash, Quality: f.Quality})
		}
	}
	if workdir != "" {
		kf, err := video.Keyframes(ctx, path, workdir, 0)
		if err != nil {
			// Hashes matter more than keyframes: keep the analysis and say
			// what is missing.
			a.Metadata["keyframes_error"] = err.Error()
		}
		a.Keyframes = kf
	}
	return nil
}

// Record returns the store row for the analysis of original sum; err is
// the analysis error, if any.
func (a *Analysis) Record(sum string, err error, at time.Time) store.Media {
	m := store.Media{SHA256: sum, Kind: a.Kind, Status: store.MediaAnalysed, Probe: a.Probe, Tools: a.Tools, Thumb: a.thumb, AnalysedAt: at}
	if err != nil {
		m.Status, m.Error, m.Thumb = store.MediaFailed, OneLine(err.Error()), nil
	}
	m.Metadata, _ = json.Marshal(a.Metadata)
	return m
}

// OneLine makes a message fit one line of a record or a report: spaces
// collapsed, at most 500 bytes, never cut inside a character.
func OneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "") + "…"
	}
	return s
}

// KindOf maps a sniffed media type to image, video or other. Only the
// formats groundtruth decodes count as images.
func KindOf(mediaType string) string {
	switch {
	case mediaType == "image/jpeg", mediaType == "image/png", mediaType == "image/gif", mediaType == "image/webp":
		return Image
	case strings.HasPrefix(mediaType, "video/"):
		return Video
	}
	return Other
}

var extensions = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
	".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
	".mkv": "video/x-matroska", ".avi": "video/x-msvideo", ".3gp": "video/3gpp",
}

func typeByExtension(name string) string { return extensions[strings.ToLower(filepath.Ext(name))] }

// extensionNote says when a file's name claims another type than its
// content: a sign of renaming, sometimes of a platform's processing.
func extensionNote(name, mediaType string) string {
	claimed := typeByExtension(name)
	if claimed == "" || claimed == mediaType || KindOf(claimed) == KindOf(mediaType) && KindOf(mediaType) == Video {
		return ""
	}
	return fmt.Sprintf("the name ends in %s but the content is %s", strings.ToLower(filepath.Ext(name)), mediaType)
}

// mirrorVariant is the left-right mirror among pdq.Dihedral's eight
// hashes (FlipY), the flip most often applied to re-uploaded video.
const mirrorVariant = 5
