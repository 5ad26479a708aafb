// SPDX-License-Identifier: Apache-2.0

package video

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeSamples(t *testing.T) {
	needFFmpeg(t)
	tests := []struct {
		name          string
		width, height int
		duration      float64
		bitRate       int64
		audio         string
	}{
		{"chair-20-sd-bar", 480, 720, 20.502, 917102, "aac"},
		{"chair-22-sd-sepia-bar", 480, 720, 0, 0, "aac"},
		{"chair-22-with-large-logo-bar", 480, 720, 0, 0, ""},
		{"pattern-hd-no-bar", 720, 1280, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, raw, err := Probe(t.Context(), samplePath(t, tt.name+".mp4"))
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(raw) || !strings.Contains(string(raw), `"streams"`) {
				t.Errorf("raw output is not ffprobe's JSON: %.200s", raw)
			}
			check := func(field string, got, want any) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %v, want %v", field, got, want)
				}
			}
			check("Format", md.Format, "mov,mp4,m4a,3gp,3g2,mj2")
			check("Width", md.Width, tt.width)
			check("Height", md.Height, tt.height)
			check("Rotation", md.Rotation, 0)
			check("VideoCodec", md.VideoCodec, "h264")
			check("FrameRate", md.FrameRate, "30/1")
			check("VariableFrameRate", md.VariableFrameRate, false)
			check("Location", md.Location, "")
			if md.Duration < 6 || md.Duration > 23 {
				t.Errorf("Duration = %v, want 6 to 23 s", md.Duration)
			}
			if tt.duration != 0 && math.Abs(md.Duration-tt.duration) > 1e-9 {
				t.Errorf("Duration = %v, want %v", md.Duration, tt.duration)
			}
			if tt.bitRate != 0 {
				check("BitRate", md.BitRate, tt.bitRate)
			}
			if tt.audio != "" {
				check("AudioCodec", md.AudioCodec, tt.audio)
			}
			if tt.name == "chair-20-sd-bar" {
				check("MajorBrand", md.MajorBrand, "isom")
				check("CompatibleBrands", md.CompatibleBrands, "isomiso2avc1mp41")
				check("Encoder", md.Encoder, "Lavf56.40.101")
				check("Remuxed", md.Remuxed, true)
				check("AvgFrameRate", md.AvgFrameRate, "30/1")
				check("Tags[stream0:handler_name]", md.Tags["stream0:handler_name"], "VideoHandler")
				check("Tags[minor_version]", md.Tags["minor_version"], "512")
				if _, ok := md.Tags["encoder"]; ok {
					t.Error("Tags repeats encoder, which has its own field")
				}
			}
			t.Logf("%+v", *md)
		})
	}
}

// TestProbeGenerated checks that creation time, location and rotation
// written by ffmpeg come back, and that Hash applies the rotation unless
// told not to.
func TestProbeGenerated(t *testing.T) {
	dir := t.TempDir()
	plain, rotated := filepath.Join(dir, "plain.mp4"), filepath.Join(dir, "rotated.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=2",
		"-f", "lavfi", "-i", "sine=duration=2",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", plain)
	// ffmpeg 5.1 writes a display matrix from the rotate tag when
	// remuxing; newer versions also offer -display_rotation. Keys other
	// than the standard ones (make, model) need use_metadata_tags.
	ffmpeg(t, "-i", plain, "-map", "0", "-c", "copy", "-metadata:s:v:0", "rotate=90",
		"-metadata", "creation_time=2020-10-27T10:00:00Z",
		"-metadata", "location=+51.5000-000.1000/",
		"-metadata", "make=TestCam", "-metadata", "model=T1",
		"-metadata", "title=witness statement",
		"-movflags", "use_metadata_tags",
		rotated)

	md, raw, err := Probe(t.Context(), rotated)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(md.CreationTime, "2020-10-27T10:00:00") {
		t.Errorf("CreationTime = %q, want 2020-10-27T10:00:00…", md.CreationTime)
	}
	if md.Location != "+51.5000-000.1000/" {
		t.Errorf("Location = %q, want +51.5000-000.1000/", md.Location)
	}
	if md.Rotation != 90 && md.Rotation != -90 {
		t.Errorf("Rotation = %d, want ±90\n%s", md.Rotation, raw)
	}
	if md.Make != "TestCam" || md.Model != "T1" {
		t.Errorf("Make, Model = %q, %q; want TestCam, T1", md.Make, md.Model)
	}
	if md.Tags["title"] != "witness statement" {
		t.Errorf("Tags[title] = %q, want the title", md.Tags["title"])
	}
	if _, ok := md.Tags["location-eng"]; ok {
		t.Error("Tags repeats location-eng, which equals Location")
	}
	if !md.Remuxed || md.AudioCodec != "aac" || md.Width != 320 || md.Height != 240 {
		t.Errorf("Remuxed %v, AudioCodec %q, size %d×%d; want true, aac, 320×240", md.Remuxed, md.AudioCodec, md.Width, md.Height)
	}
	t.Logf("rotation %d, %+v", md.Rotation, *md)

	for _, tt := range []struct {
		o    Options
		w, h int
	}{
		{Options{}, 240, 320},
		{Options{NoAutorotate: true}, 320, 240},
	} {
		_, err := Hash(t.Context(), rotated, Options{NoAutorotate: tt.o.NoAutorotate, OnFrame: func(f Frame, img *image.NRGBA) error {
			if b := img.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
				t.Errorf("NoAutorotate %v: frame %d is %v, want %d×%d", tt.o.NoAutorotate, f.Index, b, tt.w, tt.h)
			}
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestProbeBadInput(t *testing.T) {
	for name, path := range badInputs(t) {
		if name == "audio only" {
			continue // a valid file; Probe describes it
		}
		t.Run(name, func(t *testing.T) {
			md, raw, err := Probe(t.Context(), path)
			if err == nil {
				t.Fatalf("Probe(%s) = %+v, want an error", name, md)
			}
			if md != nil || raw != nil {
				t.Errorf("Probe(%s) returned results with an error", name)
			}
			checkOneLine(t, err, "ffprobe: ")
		})
	}
}

func TestParseProbe(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		check   func(*Metadata) bool
		wantErr bool
	}{
		{"not JSON", `{"format":`, nil, true},
		{"no format", `{"streams":[]}`, nil, true},
		{"bad duration", `{"format":{"duration":"x"}}`, nil, true},
		{"negative bit rate", `{"format":{"bit_rate":"-5"}}`, nil, true},
		{"minimal", `{"format":{}}`, func(m *Metadata) bool { return m.Format == "" && len(m.Tags) == 0 }, false},
		{"legacy rotate tag", `{"format":{},"streams":[{"codec_type":"video","tags":{"rotate":"90"}}]}`,
			func(m *Metadata) bool { return m.Rotation == -90 }, false},
		{"display matrix wins", `{"format":{},"streams":[{"codec_type":"video","tags":{"rotate":"90"},"side_data_list":[{"side_data_type":"Display Matrix","rotation":-90.0}]}]}`,
			func(m *Metadata) bool { return m.Rotation == -90 }, false},
		{"rotation 270 normalised", `{"format":{},"streams":[{"codec_type":"video","side_data_list":[{"rotation":270}]}]}`,
			func(m *Metadata) bool { return m.Rotation == -90 }, false},
		{"cover art skipped", `{"format":{},"streams":[{"index":0,"codec_type":"video","codec_name":"mjpeg","disposition":{"attached_pic":1}},{"index":1,"codec_type":"video","codec_name":"hevc","width":1080,"height":1920}]}`,
			func(m *Metadata) bool { return m.VideoCodec == "hevc" && m.Width == 1080 }, false},
		{"variable frame rate", `{"format":{},"streams":[{"codec_type":"video","r_frame_rate":"30/1","avg_frame_rate":"3003/100"}]}`,
			func(m *Metadata) bool { return m.VariableFrameRate }, false},
		{"equal rates as fractions", `{"format":{},"streams":[{"codec_type":"video","r_frame_rate":"30/1","avg_frame_rate":"60/2"}]}`,
			func(m *Metadata) bool { return !m.VariableFrameRate }, false},
		{"unknown rate", `{"format":{},"streams":[{"codec_type":"video","r_frame_rate":"30/1","avg_frame_rate":"0/0"}]}`,
			func(m *Metadata) bool { return !m.VariableFrameRate }, false},
		{"apple", `{"format":{"tags":{"major_brand":"qt  ","com.apple.quicktime.make":"Apple","com.apple.quicktime.model":"iPhone 12","com.apple.quicktime.software":"16.1","com.apple.quicktime.location.ISO6709":"+50.4501+030.5234+150.000/","com.apple.quicktime.creationdate":"2022-03-01T10:00:00+0200"}}}`,
			func(m *Metadata) bool {
				return m.MajorBrand == "qt  " && m.Make == "Apple" && m.Model == "iPhone 12" && m.Software == "16.1" &&
					m.Location == "+50.4501+030.5234+150.000/" && m.Tags["com.apple.quicktime.creationdate"] == "2022-03-01T10:00:00+0200" && !m.Remuxed
			}, false},
		{"android", `{"format":{"tags":{"com.android.version":"13","location":"+48.8584+002.2945/","encoder":"Lavf60.3.100"}}}`,
			func(m *Metadata) bool { return m.Software == "13" && m.Location == "+48.8584+002.2945/" && m.Remuxed }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := parseProbe([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Errorf("parseProbe = %+v, want an error", md)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(md) {
				t.Errorf("parseProbe = %+v, fails the check", *md)
			}
		})
	}
}

func FuzzParseProbe(f *testing.F) {
	f.Add([]byte(`{"format":{"duration":"1.5","bit_rate":"100","tags":{"encoder":"Lavf58"}},"streams":[{"index":0,"codec_type":"video","width":2,"height":2,"r_frame_rate":"30000/1001","avg_frame_rate":"30/1","side_data_list":[{"rotation":-90}],"tags":{"rotate":"270"}}]}`))
	f.Add([]byte(`{"format":{},"streams":[{"codec_type":"audio","codec_name":"opus"}]}`))
	f.Add([]byte(`{"format":{"tags":{"location":"x","location-eng":"x"}}}`))
	f.Add([]byte(`{"format":{},"streams":[{"codec_type":"video","side_data_list":[{"rotation":1e300}],"r_frame_rate":"9223372036854775807/1"}]}`))
	f.Add([]byte(`null`))
	// ffprobe 5.1's output for a sample, made in testdata/pdq/video
	// with: ffprobe -v error -print_format json -show_format -show_streams
	// -show_chapters -show_programs chair-20-sd-bar.mp4
	if raw, err := os.ReadFile(filepath.Join("testdata", "chair-20-sd-bar.ffprobe.json")); err == nil {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := parseProbe(data)
		if err != nil {
			return
		}
		if md.Tags == nil {
			t.Error("Tags is nil")
		}
		if md.Rotation <= -180 || md.Rotation > 180 {
			t.Errorf("Rotation %d outside (−180, 180]", md.Rotation)
		}
		if md.Duration < 0 || math.IsNaN(md.Duration) || md.BitRate < 0 {
			t.Errorf("Duration %v, BitRate %d", md.Duration, md.BitRate)
		}
	})
}
