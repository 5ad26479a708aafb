// SPDX-License-Identifier: Apache-2.0

package video

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// maxProbeOutput bounds ffprobe's JSON; a file with thousands of streams or
// chapters is refused rather than buffered without limit.
const maxProbeOutput = 16 << 20

// Metadata is the part of ffprobe's report that investigators read first.
// Strings are copied from ffprobe without interpretation; absent values are
// zero. Width, Height, codecs and frame rates describe the first video
// stream (cover art excluded), AudioCodec the first audio stream.
type Metadata struct {
	Format           string  // container, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	MajorBrand       string  // ISO BMFF brand: "qt  " suggests Apple, "isom"/"mp42" are generic
	CompatibleBrands string  // e.g. "isomiso2avc1mp41"
	Duration         float64 // seconds, from the container
	Width, Height    int     // stored picture size, before Rotation is applied
	// Rotation is the display rotation in degrees as ffprobe reports it
	// (libavutil's display-matrix convention, counterclockwise, in
	// (−180, 180]); portrait phone video commonly shows −90 or 90. 0 when
	// absent. Older ffprobe versions gave only a clockwise "rotate" tag,
	// which is negated into the same convention.
	Rotation          int
	VideoCodec        string // ffprobe codec_name, e.g. "h264", "hevc"
	AudioCodec        string
	FrameRate         string // r_frame_rate, a fraction such as "30/1"
	AvgFrameRate      string // avg_frame_rate
	VariableFrameRate bool   // FrameRate and AvgFrameRate differ as numbers: typical of phone capture
	BitRate           int64  // bits per second, whole file
	// CreationTime is the container's creation_time (mvhd, UTC). Platforms
	// often reset it to the time they re-muxed the file, or drop it.
	CreationTime string
	Encoder      string // container encoder tag, e.g. "Lavf58.76.100"
	// Remuxed reports an Encoder of the form "Lavf…": the file was last
	// written by FFmpeg's libavformat (a platform, an editor or a converter),
	// not by the camera.
	Remuxed bool
	// Make, Model and Software identify the recording device, from Apple
	// (com.apple.quicktime.*) or Android (com.android.*) tags, or plain
	// make/model tags.
	Make, Model, Software string
	// Location is an ISO 6709 string such as "+51.5000-000.1000/", from
	// Apple's com.apple.quicktime.location.ISO6709 or the "location" tag
	// Android writes. It can place a witness: handle it as personal data.
	Location string
	// Tags holds every other tag: format tags by their name, stream tags as
	// "stream<index>:<name>", e.g. "stream0:handler_name".
	Tags map[string]string
}

// Probe runs ffprobe on the file at path and returns its digest and the
// verbatim JSON (-show_format -show_streams -show_chapters -show_programs),
// which should be stored with the file's SHA-256 and [Version]: the digest
// is a convenience, the JSON is the record.
func Probe(ctx context.Context, path string) (*Metadata, []byte, error) {
	args := []string{"-v", "error", "-hide_banner",
		"-print_format", "json", "-show_format", "-show_streams", "-show_chapters", "-show_programs"}
	args = append(args, inputArgs(path)...)
	// ffprobe takes the input without -i; inputArgs puts "-i" before it,
	// which ffprobe also accepts.
	cmd, stderr, err := command(ctx, "ffprobe", args...)
	if err != nil {
		return nil, nil, err
	}
	stdout := &limitedBuffer{limit: maxProbeOutput}
	cmd.Stdout = stdout
	if err := cmd.Run(); err != nil {
		return nil, nil, runError(ctx, "ffprobe", "probe", path, err, stderr)
	}
	if stdout.dropped > 0 {
		return nil, nil, fmt.Errorf("video: probe %s: ffprobe output larger than %d bytes", path, maxProbeOutput)
	}
	raw := stdout.buf.Bytes()
	md, err := parseProbe(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("video: probe %s: %w", path, err)
	}
	return md, raw, nil
}

// probeJSON is the part of ffprobe's JSON that parseProbe reads. ffprobe
// writes most numbers as strings ("duration": "20.502000").
type probeJSON struct {
	Streams []struct {
		Index        int               `json:"index"`
		CodecName    string            `json:"codec_name"`
		CodecType    string            `json:"codec_type"`
		Width        int               `json:"width"`
		Height       int               `json:"height"`
		RFrameRate   string            `json:"r_frame_rate"`
		AvgFrameRate string            `json:"avg_frame_rate"`
		Disposition  map[string]int    `json:"disposition"`
		Tags         map[string]string `json:"tags"`
		SideDataList []struct {
			Type     string   `json:"side_data_type"`
			Rotation *float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Format *struct {
		FormatName string            `json:"format_name"`
		Duration   string            `json:"duration"`
		BitRate    string            `json:"bit_rate"`
		Tags       map[string]string `json:"tags"`
	} `json:"format"`
}

// Tag names read into Metadata fields, in order of preference.
var (
	makeTags     = []string{"com.apple.quicktime.make", "com.android.manufacturer", "make"}
	modelTags    = []string{"com.apple.quicktime.model", "com.android.model", "model"}
	softwareTags = []string{"com.apple.quicktime.software", "com.android.version", "software"}
	locationTags = []string{"com.apple.quicktime.location.ISO6709", "location", "location-eng"}
)

// parseProbe turns ffprobe's JSON into Metadata. It checks types, not
// plausibility: values are evidence to be shown, not trusted.
func parseProbe(data []byte) (*Metadata, error) {
	var p probeJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode ffprobe JSON: %w", err)
	}
	if p.Format == nil {
		return nil, fmt.Errorf("ffprobe JSON has no format section")
	}
	md := &Metadata{Format: p.Format.FormatName, Tags: map[string]string{}}
	if p.Format.Duration != "" {
		d, err := strconv.ParseFloat(p.Format.Duration, 64)
		if err != nil || d < 0 || math.IsInf(d, 0) || math.IsNaN(d) {
			return nil, fmt.Errorf("ffprobe duration %q is not a number of seconds", p.Format.Duration)
		}
		md.Duration = d
	}
	if p.Format.BitRate != "" {
		b, err := strconv.ParseInt(p.Format.BitRate, 10, 64)
		if err != nil || b < 0 {
			return nil, fmt.Errorf("ffprobe bit_rate %q is not a number", p.Format.BitRate)
		}
		md.BitRate = b
	}

	tags := p.Format.Tags
	used := map[string]bool{}
	take := func(names ...string) string {
		for _, n := range names {
			if v, ok := tags[n]; ok {
				used[n] = true
				return v
			}
		}
		return ""
	}
	md.MajorBrand = take("major_brand")
	md.CompatibleBrands = take("compatible_brands")
	md.CreationTime = take("creation_time")
	md.Encoder = take("encoder")
	md.Remuxed = strings.HasPrefix(md.Encoder, "Lavf")
	md.Make = take(makeTags...)
	md.Model = take(modelTags...)
	md.Software = take(softwareTags...)
	md.Location = take(locationTags...)
	for _, n := range locationTags { // the same place, often written twice
		if tags[n] == md.Location {
			used[n] = true
		}
	}
	for k, v := range tags {
		if !used[k] {
			md.Tags[k] = v
		}
	}

	video, audio := false, false
	for _, s := range p.Streams {
		for k, v := range s.Tags {
			md.Tags["stream"+strconv.Itoa(s.Index)+":"+k] = v
		}
		switch {
		case s.CodecType == "video" && !video && s.Disposition["attached_pic"] == 0:
			video = true
			md.VideoCodec = s.CodecName
			md.Width, md.Height = s.Width, s.Height
			md.FrameRate, md.AvgFrameRate = s.RFrameRate, s.AvgFrameRate
			md.VariableFrameRate = variableRate(s.RFrameRate, s.AvgFrameRate)
			md.Rotation = rotation(s.Tags["rotate"])
			for _, sd := range s.SideDataList {
				if sd.Rotation != nil && !math.IsNaN(*sd.Rotation) {
					md.Rotation = normalizeDegrees(*sd.Rotation)
				}
			}
		case s.CodecType == "audio" && !audio:
			audio = true
			md.AudioCodec = s.CodecName
		}
	}
	return md, nil
}

// variableRate reports whether two ffprobe frame rates ("30000/1001")
// differ as numbers. "0/0" (unknown) and unparsable rates never count as a
// difference.
func variableRate(r, avg string) bool {
	a, ok1 := rate(r)
	b, ok2 := rate(avg)
	return ok1 && ok2 && a.Cmp(b) != 0
}

func rate(s string) (*big.Rat, bool) {
	num, den, ok := strings.Cut(s, "/")
	if !ok || len(s) > 40 {
		return nil, false
	}
	n, err1 := strconv.ParseInt(num, 10, 64)
	d, err2 := strconv.ParseInt(den, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return nil, false
	}
	return big.NewRat(n, d), true
}

// rotation converts the legacy clockwise "rotate" tag to the
// display-matrix convention; anything unparsable is 0.
func rotation(tag string) int {
	if tag == "" {
		return 0
	}
	v, err := strconv.ParseFloat(tag, 64)
	if err != nil || math.IsNaN(v) {
		return 0
	}
	return normalizeDegrees(-v)
}

// normalizeDegrees rounds d to whole degrees in (−180, 180].
func normalizeDegrees(d float64) int {
	if math.IsInf(d, 0) || math.Abs(d) > 1e9 {
		return 0
	}
	n := int(math.Round(d)) % 360
	switch {
	case n > 180:
		n -= 360
	case n <= -180:
		n += 360
	}
	return n
}
